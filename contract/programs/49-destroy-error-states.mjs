export const title = 'destroy(err) never connected, while connecting, connected: the same error, then close(true); errored and destroyed';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { t.watch('server', s); s.resume(); });
  const port = await t.listen(server);
  const mk = (m) => Object.assign(new Error(m), { code: 'EMINE' });

  const a = new t.net.Socket();
  t.watch('never', a);
  a.destroy(mk('never connected'));
  t.log('never', 'destroyed', a.destroyed, 'errored', a.errored && a.errored.message);
  await t.once(a, 'close');

  const b = t.net.connect(port, t.serverHost);
  t.watch('connecting', b);
  b.destroy(mk('while connecting'));
  t.log('connecting', 'connecting', b.connecting, 'pending', b.pending, 'readyState', b.readyState);
  await t.once(b, 'close');
  await t.sleep(20);

  const c = t.net.connect(port, t.serverHost);
  t.watch('connected', c);
  await t.once(c, 'connect');
  await t.sleep(10);
  c.destroy(mk('connected'));
  await t.once(c, 'close');
  t.log('connected', 'readyState', c.readyState, 'writable', c.writable, 'readable', c.readable);
  await t.sleep(20);
  server.close();
}
