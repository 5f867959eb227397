export const title = 'node:http: a keepAliveTimeout under 1 s is advertised as Keep-Alive: timeout=0, and the Agent does not keep that socket (it closes it at once)';
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => res.end('ok'));
  server.keepAliveTimeout = 300;
  server.on('connection', (s) => t.watch('server-socket', s));
  const port = await t.listen(server);
  const agent = new t.http.Agent({ keepAlive: true });
  const sock = await new Promise((resolve) => {
    const req = t.http.get({ host: t.serverHost, port, path: '/', agent }, (res) => {
      t.log('client', 'response', res.statusCode, 'keep-alive', res.headers['keep-alive']);
      res.resume();
      res.on('end', () => resolve(req.socket));
    });
  });
  t.watch('client-socket', sock);
  await t.sleep(150);
  t.log('client', 'free sockets at 150 ms', Object.values(agent.freeSockets).flat().length, 'destroyed', sock.destroyed);
  await t.sleep(400);
  t.log('client', 'free sockets at 550 ms', Object.values(agent.freeSockets).flat().length, 'destroyed', sock.destroyed);
  server.close();
  await t.once(server, 'close');
  agent.destroy();
}
