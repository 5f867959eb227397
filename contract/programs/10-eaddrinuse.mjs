export const title = 'listen() on a port in use: EADDRINUSE on the second server';
export default async function (t) {
  const a = t.serverNet.createServer();
  const port = await t.listen(a);
  const b = t.serverNet.createServer();
  b.on('error', (e) => t.log('server', 'error', e, 'listening', b.listening));
  b.listen(port, t.serverHost);
  await t.once(b, 'error');
  a.close();
}
