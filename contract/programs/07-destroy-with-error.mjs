export const title = 'destroy(err): error then close(true) locally; the peer sees a FIN';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { t.watch('server', s); s.resume(); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  await t.once(c, 'connect');
  c.destroy(new Error('boom'));
  await t.once(c, 'close');
  await t.sleep(100);
  server.close();
}
