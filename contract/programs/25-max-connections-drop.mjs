export const title = 'maxConnections 1: the second connection is dropped (the drop event), the first served';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { t.log('server', 'connection'); s.resume(); });
  server.maxConnections = 1;
  server.on('drop', (d) => t.log('server', 'drop', d && typeof d === 'object' ? Object.keys(d).sort().join(',') : d));
  const port = await t.listen(server);
  const a = t.net.connect(port, t.serverHost);
  await t.once(a, 'connect');
  await t.sleep(20);
  const b = t.net.connect(port, t.serverHost);
  t.watch('second', b);
  b.resume();
  await t.once(b, 'close');
  a.destroy();
  await t.sleep(20);
  server.close();
}
