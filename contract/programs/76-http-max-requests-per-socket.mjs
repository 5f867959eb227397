export const title = 'node:http: maxRequestsPerSocket 2: the second response says Connection: close, the third request goes on a new connection';
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => res.end(req.url));
  server.maxRequestsPerSocket = 2;
  let conns = 0;
  server.on('connection', () => t.log('server', 'connection', ++conns));
  const port = await t.listen(server);
  const agent = new t.http.Agent({ keepAlive: true, maxSockets: 1 });
  for (const path of ['/1', '/2', '/3']) {
    await new Promise((resolve) => {
      const req = t.http.get({ host: t.serverHost, port, path, agent }, (res) => {
        res.resume();
        res.on('end', () => {
          t.log('client', path, res.statusCode, 'connection', res.headers.connection, 'keep-alive', res.headers['keep-alive'], 'reused', req.reusedSocket);
          resolve();
        });
      });
      req.on('error', (e) => { t.log('client', path, e); resolve(); });
    });
    await t.sleep(20);
  }
  agent.destroy();
  server.close();
  await t.once(server, 'close');
}
