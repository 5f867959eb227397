export const title = 'listen(0) with no host: a dual-stack \'::\' listener; an IPv4 peer appears v4-mapped (::ffff:a.b.c.d), family IPv6, on the server\'s side only';
export default async function (t) {
  const server = t.serverNet.createServer((s) => {
    t.log('server', 'remote', s.remoteAddress, s.remoteFamily, 'local', s.localAddress, s.localFamily, 'address()', s.address().address, s.address().family);
    s.end('hi');
  });
  const port = await t.listen(server, 0);
  t.log('server', 'address()', server.address());
  const c = t.net.connect(port, t.serverHost);
  await t.once(c, 'connect');
  t.log('client', 'remote', c.remoteAddress, c.remoteFamily, 'local', c.localAddress, c.localFamily);
  c.resume();
  await t.once(c, 'close');
  server.close();
  await t.once(server, 'close');
}
