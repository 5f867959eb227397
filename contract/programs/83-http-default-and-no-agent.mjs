export const title = "node:http: requests with no agent option use the global agent (keep-alive in Node 20, its socket reused), and agent: false gets a fresh connection with Connection: close";
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => res.end(`${req.headers.connection}`));
  server.keepAliveTimeout = 3000;
  let conns = 0;
  server.on('connection', () => t.log('server', 'connection', ++conns));
  const port = await t.listen(server);
  const get = (opts) => new Promise((resolve) => {
    const req = t.http.get({ host: t.serverHost, port, path: '/', ...opts }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => { t.log('client', 'request connection header', b, 'response', res.headers.connection, 'reused', req.reusedSocket); resolve(); });
    });
  });
  await get({});
  await get({});
  await get({ agent: false });
  await t.sleep(20);
  t.log('client', 'globalAgent keepAlive', t.http.globalAgent.keepAlive, 'free', Object.values(t.http.globalAgent.freeSockets).flat().length);
  t.http.globalAgent.destroy();
  await t.sleep(50);
  server.close();
  await t.once(server, 'close');
}
