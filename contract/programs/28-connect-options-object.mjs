export const title = 'connect({ port, host, noDelay, keepAlive }) and the connect callback';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.end('hi'); });
  const port = await t.listen(server);
  const c = t.net.connect({ port, host: t.serverHost, noDelay: true, keepAlive: true, keepAliveInitialDelay: 5000 }, () => t.log('client', 'connect cb', c.remotePort === port));
  t.watch('client', c);
  c.resume();
  await t.once(c, 'close');
  server.close();
}
