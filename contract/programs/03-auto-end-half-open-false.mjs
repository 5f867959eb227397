export const title = 'allowHalfOpen false (the default): the peer\'s FIN ends our side too';
export default async function (t) {
  const server = t.serverNet.createServer((s) => {
    t.watch('server', s);
    s.resume();
    s.on('end', () => t.log('server', 'writableEnded', s.writableEnded, 'readyState', s.readyState));
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.resume();
  await t.once(c, 'connect');
  c.end();
  await t.once(c, 'close');
  server.close();
}
