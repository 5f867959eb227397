export const title = 'destroy() of a socket paused before connect, with data waiting: afterConnect starts no read, the data stays in the kernel, so the peer sees a reset (a socket paused after connect reads on: 44, 46)';
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
