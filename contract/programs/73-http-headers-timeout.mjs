export const title = 'node:http: headersTimeout, checked every connectionsCheckingInterval: a request whose headers never end gets 408 and the connection is closed';
export default async function (t) {
  const server = t.serverHttp.createServer({ headersTimeout: 300, requestTimeout: 1000, connectionsCheckingInterval: 50 }, (req, res) => {
    t.log('server', 'request (never)', req.url);
    res.end();
  });
  server.on('clientError', (e, s) => {
    t.log('server', "'clientError'", e);
    if (s.writable) s.end('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n');
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  let got = '';
  c.setEncoding('latin1');
  c.on('data', (d) => (got += d));
  await t.once(c, 'connect');
  c.write('GET /slow HTTP/1.1\r\nHost: x\r\n');
  await t.sleep(150);
  c.write('X-One: 1\r\n');
  await t.sleep(100);
  t.log('client', 'at 250 ms received', JSON.stringify(got));
  await t.once(c, 'close');
  t.log('client', 'received', JSON.stringify(got));
  server.close();
  await t.once(server, 'close');
}
