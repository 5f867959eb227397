export const title = 'allowHalfOpen false: a write after the automatic end (the peer\'s FIN) is EPIPE';
export default async function (t) {
  const server = t.serverNet.createServer((s) => {
    t.watch('server', s);
    s.resume();
    s.on('end', () => {
      t.log('server', 'writable after end', s.writable);
      s.write('too late', (err) => t.log('server', 'write cb', err));
    });
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  c.resume();
  c.end();
  await t.once(c, 'close');
  await t.sleep(20);
  server.close();
}
