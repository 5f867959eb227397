export const title = "node:http: requestTimeout with no 'clientError' listener: node:http's own 408 for a body that never completes, then the socket is destroyed";
export default async function (t) {
  const server = t.serverHttp.createServer({ headersTimeout: 200, requestTimeout: 400, connectionsCheckingInterval: 50 }, (req, res) => {
    t.log('server', 'request', req.method, req.url, 'content-length', req.headers['content-length']);
    req.on('data', (d) => t.log('server', 'body bytes', d.length));
    req.on('error', (e) => t.log('server', 'req error', e));
    req.on('aborted', () => t.log('server', "req 'aborted'"));
    req.on('close', () => t.log('server', "req 'close'", 'complete', req.complete));
    res.on('close', () => t.log('server', "res 'close'", 'headersSent', res.headersSent));
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  let got = '';
  c.setEncoding('latin1');
  c.on('data', (d) => (got += d));
  await t.once(c, 'connect');
  c.write('POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc');
  await t.once(c, 'close');
  t.log('client', 'received', JSON.stringify(got));
  server.close();
  await t.once(server, 'close');
}
