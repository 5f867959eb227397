export const title = "node:http: 'listening', a keep-alive Agent reusing its socket, then server.close() closing the idle connection";
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => {
    t.log('server', 'request', req.method, req.url, 'httpVersion', req.httpVersion);
    res.end(`hello ${req.url}`);
  });
  server.on('listening', () => t.log('server', "'listening'", 'listening', server.listening));
  server.on('close', () => t.log('server', "'close'"));
  const port = await t.listen(server);
  const agent = new t.http.Agent({ keepAlive: true });
  const get = (path) => new Promise((resolve) => {
    const req = t.http.get({ host: t.serverHost, port, path, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        t.log('client', 'response', res.statusCode, body, 'connection', res.headers.connection, 'keep-alive', res.headers['keep-alive'], 'reusedSocket', req.reusedSocket);
        resolve(req.socket);
      });
    });
    req.on('error', (e) => { t.log('client', 'error', e); resolve(null); });
  });
  const s1 = await get('/a');
  t.watch('client-socket', s1);
  await get('/b');
  await t.sleep(20);
  t.log('client', 'free sockets', Object.values(agent.freeSockets).flat().length);
  server.close((err) => t.log('server', 'close callback', err));
  await t.once(server, 'close');
  await t.sleep(50);
  t.log('client', 'free sockets', Object.values(agent.freeSockets).flat().length);
  agent.destroy();
}
