export const title = 'listen(port, \'::\') and listen({ host: \'::\' }): IPv6 any address, IPv4 peers accepted and v4-mapped';
export default async function (t) {
  for (const how of ['args', 'options']) {
    const server = t.serverNet.createServer((s) => {
      t.log('server', how, 'remote', s.remoteAddress, s.remoteFamily, 'local', s.localAddress);
      s.destroy();
    });
    if (how === 'args') server.listen(0, '::');
    else server.listen({ port: 0, host: '::' });
    await t.once(server, 'listening');
    const { address, family, port } = server.address();
    t.log('server', how, 'address', address, family, typeof port);
    const c = t.net.connect(port, t.serverHost);
    c.resume();
    await t.once(c, 'close');
    server.close();
    await t.once(server, 'close');
  }
}
