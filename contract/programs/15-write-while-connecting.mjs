export const title = 'writes queued while connecting: bytesWritten counts them, the callback comes after connect';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.resume(); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.write('abc', () => t.log('client', 'write cb', 'connecting', c.connecting));
  t.log('client', 'bytesWritten while connecting', c.bytesWritten, 'connecting', c.connecting, 'pending', c.pending);
  await t.once(c, 'connect');
  c.end();
  await t.once(c, 'close');
  t.log('client', 'bytesWritten', c.bytesWritten);
  server.close();
}
