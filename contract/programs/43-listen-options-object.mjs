export const title = 'listen({ port: 0, host, backlog }, cb): the callback is a listening listener; listening and address() in it';
export default async function (t) {
  const server = t.serverNet.createServer((s) => s.end());
  server.on('listening', () => t.log('server', 'listening event'));
  const ret = server.listen({ port: 0, host: t.serverHost, backlog: 5 }, () => {
    const a = server.address();
    t.log('server', 'listen cb', server.listening, a.address, a.family, a.port > 0);
  });
  t.log('server', 'listen() returns the server', ret === server, 'listening at once', server.listening);
  await t.once(server, 'listening');
  const c = t.net.connect(server.address().port, t.serverHost);
  t.watch('client', c);
  c.resume();
  await t.once(c, 'close');
  server.close();
}
