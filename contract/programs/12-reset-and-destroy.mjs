export const title = 'resetAndDestroy(): the peer gets ECONNRESET';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { t.watch('server', s); s.resume(); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  await t.once(c, 'connect');
  await t.sleep(20);
  c.resetAndDestroy();
  await t.sleep(100);
  server.close();
}
