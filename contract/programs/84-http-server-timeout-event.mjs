export const title = "node:http: server.setTimeout(200, cb): an idle request's socket gets the server's 'timeout' callback (no automatic destroy), then the app answers";
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => {
    t.log('server', 'request', req.url);
    t.sleep(300).then(() => res.end('late'));
  });
  server.setTimeout(200, (s) => t.log('server', "'timeout'", 'destroyed', s.destroyed));
  const port = await t.listen(server);
  const agent = new t.http.Agent({ keepAlive: false });
  await new Promise((resolve) => {
    const req = t.http.get({ host: t.serverHost, port, path: '/t', agent }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => { t.log('client', 'response', res.statusCode, b); resolve(); });
    });
    req.on('error', (e) => { t.log('client', 'error', e); resolve(); });
  });
  await t.sleep(50);
  server.close();
  await t.once(server, 'close');
}
