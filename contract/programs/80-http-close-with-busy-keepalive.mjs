export const title = 'node:http: server.close() while a keep-alive request is in flight: the response still arrives, then the connection closes and the server emits close';
export default async function (t) {
  let respond;
  const server = t.serverHttp.createServer((req, res) => {
    t.log('server', 'request', req.url);
    respond = () => res.end('late');
  });
  server.keepAliveTimeout = 300;
  server.on('connection', (s) => t.watch('server-socket', s));
  const port = await t.listen(server);
  const agent = new t.http.Agent({ keepAlive: true });
  const done = new Promise((resolve) => {
    const req = t.http.get({ host: t.serverHost, port, path: '/slow', agent }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => { t.log('client', 'response', res.statusCode, b, 'connection', res.headers.connection); resolve(req.socket); });
    });
    req.on('error', (e) => t.log('client', 'error', e));
  });
  await t.sleep(50);
  server.close(() => t.log('server', 'close callback'));
  t.log('server', 'listening after close()', server.listening);
  await t.sleep(50);
  respond();
  const s = await done;
  t.watch('client-socket', s);
  await t.once(server, 'close');
  await t.sleep(50);
  agent.destroy();
}
