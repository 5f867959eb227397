export const title = 'node:http: closeAllConnections() destroys a connection whose response is still being written; the client sees a reset or hang-up';
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => {
    t.log('server', 'request', req.url);
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial ');
    // Never ended: the connection stays busy.
  });
  const port = await t.listen(server);
  const agent = new t.http.Agent({ keepAlive: true });
  const req = t.http.get({ host: t.serverHost, port, path: '/busy', agent }, (res) => {
    t.log('client', 'response', res.statusCode);
    res.on('data', (d) => t.log('client', 'data', d.length));
    res.on('aborted', () => t.log('client', "res 'aborted'"));
    res.on('error', (e) => t.log('client', 'res error', e));
    res.on('close', () => t.log('client', "res 'close'"));
  });
  req.on('error', (e) => t.log('client', 'req error', e));
  req.on('close', () => t.log('client', "req 'close'"));
  await t.sleep(100);
  server.closeIdleConnections();
  await t.sleep(50);
  t.log('server', 'after closeIdleConnections: still busy, nothing closed');
  server.closeAllConnections();
  server.close((e) => t.log('server', 'close callback', e));
  await t.once(server, 'close');
  await t.sleep(50);
  agent.destroy();
}
