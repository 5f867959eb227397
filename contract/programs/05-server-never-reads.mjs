export const title = 'a server that never reads still sees the peer\'s FIN: end, then close (no CLOSE_WAIT leak)';
export default async function (t) {
  const server = t.serverNet.createServer((s) => {
    t.watch('server', s);
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.end('unread data');
  await t.sleep(200);
  t.log('client', 'readyState', c.readyState);
  server.close();
  c.destroy();
}
