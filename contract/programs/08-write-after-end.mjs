export const title = 'write() after end(): ERR_STREAM_WRITE_AFTER_END to the callback and as error';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.resume(); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.resume();
  await t.once(c, 'connect');
  c.end();
  c.write('late', (err) => t.log('client', 'write cb', err));
  await t.once(c, 'close');
  server.close();
}
