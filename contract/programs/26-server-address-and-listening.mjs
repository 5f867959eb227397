export const title = 'server.listening, address() before and after listen and close';
export default async function (t) {
  const server = t.serverNet.createServer();
  t.log('server', 'listening', server.listening, 'address', server.address());
  const port = await t.listen(server);
  const a = server.address();
  t.log('server', 'listening', server.listening, 'family', a.family, 'port', a.port === port);
  server.close();
  t.log('server', 'listening after close()', server.listening);
  await t.once(server, 'close');
  t.log('server', 'address after close', server.address());
}
