export const title = 'write() after destroy(): ERR_STREAM_DESTROYED to the callback, no error event';
export default async function (t) {
  const server = t.serverNet.createServer((s) => s.resume());
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  await t.once(c, 'connect');
  c.destroy();
  c.write('x', (err) => t.log('client', 'write cb', err));
  t.log('client', 'writable', c.writable, 'destroyed', c.destroyed);
  await t.sleep(20);
  server.close();
}
