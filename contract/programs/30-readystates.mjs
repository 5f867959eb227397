export const title = 'readyState through a half-close: opening, open, writeOnly after the peer\'s FIN (allowHalfOpen), closed';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.resume(); s.end(); });
  const port = await t.listen(server);
  const c = t.net.connect({ port, host: t.serverHost, allowHalfOpen: true });
  t.log('client', 'at first', c.readyState);
  await t.once(c, 'connect');
  t.log('client', 'connected', c.readyState);
  c.resume();
  await t.once(c, 'end');
  t.log('client', 'after the peer\'s FIN', c.readyState);
  c.end();
  await t.once(c, 'close');
  t.log('client', 'after close', c.readyState);
  server.close();
}
