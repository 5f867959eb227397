export const title = 'destroy() while connecting: close(false), no error, no connect';
export default async function (t) {
  const server = t.serverNet.createServer((s) => s.resume());
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.destroy();
  t.log('client', 'destroyed', c.destroyed, 'connecting', c.connecting);
  await t.once(c, 'close');
  await t.sleep(20);
  server.close();
}
