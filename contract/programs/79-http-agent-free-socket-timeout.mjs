export const title = "node:http: the Agent's free-socket timeout (timeout: 300) closes an idle connection from the client side; the server sees the FIN";
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => res.end('x'));
  server.keepAliveTimeout = 10_000;
  server.on('connection', (s) => t.watch('server-socket', s));
  const port = await t.listen(server);
  const agent = new t.http.Agent({ keepAlive: true, timeout: 300 });
  const sock = await new Promise((resolve) => {
    const req = t.http.get({ host: t.serverHost, port, path: '/', agent }, (res) => {
      t.log('client', 'keep-alive', res.headers['keep-alive']);
      res.resume();
      res.on('end', () => resolve(req.socket));
    });
  });
  t.watch('client-socket', sock);
  await t.sleep(150);
  t.log('client', 'at 150 ms free', Object.values(agent.freeSockets).flat().length);
  await t.sleep(300);
  t.log('client', 'at 450 ms free', Object.values(agent.freeSockets).flat().length);
  server.close();
  await t.once(server, 'close');
}
