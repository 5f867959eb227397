export const title = 'resetAndDestroy() while connecting waits for the connection, then resets it: connect comes, the peer gets ECONNRESET';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { t.watch('server', s); s.resume(); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  t.log('client', 'connecting', c.connecting, 'returns the socket', c.resetAndDestroy() === c, 'destroyed', c.destroyed);
  await t.once(c, 'close');
  t.log('client', 'destroyed', c.destroyed, 'readyState', c.readyState);
  await t.sleep(20);
  server.close();
}
