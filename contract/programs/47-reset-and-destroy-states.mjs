export const title = 'resetAndDestroy() before connect (ERR_SOCKET_CLOSED), after destroy() (nothing), after end() (error reset EINVAL, no close: the shutdown is under way), returning the socket';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { t.watch('server', s); s.resume(); });
  const port = await t.listen(server);

  const a = new t.net.Socket();
  t.watch('never connected', a);
  t.log('never connected', 'returns the socket', a.resetAndDestroy() === a, 'destroyed', a.destroyed);
  await t.once(a, 'close');

  const b = t.net.connect(port, t.serverHost);
  t.watch('destroyed first', b);
  await t.once(b, 'connect');
  b.destroy();
  t.log('destroyed first', 'returns the socket', b.resetAndDestroy() === b);
  await t.once(b, 'close');
  await t.sleep(20);

  const c = t.net.connect(port, t.serverHost);
  t.watch('ended first', c);
  await t.once(c, 'connect');
  await t.sleep(10);
  c.end();
  c.resetAndDestroy();
  t.log('ended first', 'destroyed', c.destroyed, 'readyState', c.readyState);
  // The reset fails (the handle is shutting down) and net.Socket drops the handle unclosed: no
  // 'close' ever comes, and the connection ends with the FIN that end() sent.
  await t.sleep(50);
  t.log('ended first', 'pending', c.pending);
  server.close();
}
