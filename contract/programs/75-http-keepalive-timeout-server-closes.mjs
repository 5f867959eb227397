export const title = 'node:http: keepAliveTimeout closes an idle keep-alive connection from the server side (FIN), not before';
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => res.end('ok'));
  server.keepAliveTimeout = 400;
  server.on('connection', (s) => t.watch('server-socket', s));
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  let got = '';
  c.setEncoding('latin1');
  c.on('data', (d) => (got += d));
  await t.once(c, 'connect');
  c.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await t.sleep(200);
  t.log('client', 'at 200 ms', JSON.stringify(got.replace(/Date: [^\r]*\r\n/, '')), 'readyState', c.readyState);
  await t.once(c, 'close');
  t.log('client', 'closed; readyState', c.readyState);
  server.close();
  await t.once(server, 'close');
}
