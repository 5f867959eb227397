export const title = 'destroy() of a paused socket with data waiting: Node keeps reading into the stream, so the peer sees a FIN, not a reset';
export default async function (t) {
  const server = t.serverNet.createServer((s) => {
    t.watch('server', s);
    s.resume();
    s.write('x'.repeat(1000));
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.pause();
  await t.once(c, 'connect');
  await t.sleep(50);
  t.log('client', 'readableLength', c.readableLength, 'isPaused', c.isPaused());
  c.destroy();
  await t.sleep(50);
  server.close();
}
