export const title = 'the peer resets: the error, then destroyed, writable, readable and readyState; a later write gets ERR_STREAM_DESTROYED in its callback';
export default async function (t) {
  const server = t.serverNet.createServer(async (s) => { s.resume(); await t.sleep(20); s.resetAndDestroy(); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  c.on('error', (e) => t.log('client', 'error', e, 'destroyed', c.destroyed, 'writable', c.writable, 'readable', c.readable, 'readyState', c.readyState));
  c.on('close', (h) => t.log('client', 'close', h, 'errored', c.errored && c.errored.code));
  await t.once(c, 'connect');
  t.log('client', 'connected: writable', c.writable, 'readable', c.readable, 'readyState', c.readyState);
  await t.once(c, 'close');
  c.write('late', (err) => t.log('client', 'late write cb', err));
  await t.sleep(10);
  server.close();
}
