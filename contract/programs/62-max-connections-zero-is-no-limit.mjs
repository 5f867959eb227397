export const title = 'maxConnections 0 is no limit (onconnection tests it for truth); maxConnections 1 on a \'::\' listener: the drop event has v4-mapped addresses';
export default async function (t) {
  for (const max of [0, 1]) {
    const server = t.serverNet.createServer((s) => { t.log(`max ${max}`, 'connection'); s.resume(); });
    server.maxConnections = max;
    server.on('drop', (d) => t.log(`max ${max}`, 'drop', d.localAddress, d.localFamily, d.remoteAddress, d.remoteFamily, d.localPort === port));
    const port = await t.listen(server, 0);
    const first = t.net.connect(port, t.serverHost);
    await t.once(first, 'connect');
    await t.sleep(10);
    const second = t.net.connect(port, t.serverHost);
    t.watch(`max ${max} second`, second);
    second.resume();
    await t.sleep(30);
    const n = await new Promise((r) => server.getConnections((e, k) => r(e ?? k)));
    t.log(`max ${max}`, 'connections', n);
    first.destroy();
    second.destroy();
    server.close();
    await t.once(server, 'close');
  }
}
