export const title = 'server.getConnections and close(cb) waiting for the live connection';
export default async function (t) {
  const conns = [];
  const server = t.serverNet.createServer((s) => { conns.push(s); s.resume(); });
  const port = await t.listen(server);
  const c1 = t.net.connect(port, t.serverHost);
  const c2 = t.net.connect(port, t.serverHost);
  await Promise.all([t.once(c1, 'connect'), t.once(c2, 'connect')]);
  await t.sleep(20);
  const n = await new Promise((r) => server.getConnections((e, k) => r(e ?? k)));
  t.log('server', 'connections', n);
  server.close((e) => t.log('server', 'close cb', e));
  t.log('server', 'listening', server.listening);
  c1.end();
  c2.end();
  await t.once(server, 'close');
  t.log('server', 'closed');
}
