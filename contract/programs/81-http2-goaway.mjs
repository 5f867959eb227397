export const title = "node:http2: a session's request, then the server's session.goaway(): the client sees 'goaway' with the code and last stream id, then closes";
export default async function (t) {
  const server = t.serverHttp2.createServer();
  server.on('stream', (stream, headers) => {
    t.log('server', 'stream', headers[':method'], headers[':path']);
    stream.respond({ ':status': 200 });
    stream.end('hi');
  });
  let ss;
  server.on('session', (s) => { ss = s; t.log('server', "'session'"); });
  const port = await t.listen(server);
  const session = t.http2.connect(`http://${t.serverHost}:${port}`);
  session.on('connect', () => t.log('client', "'connect'"));
  session.on('goaway', (code, last) => t.log('client', "'goaway'", code, last));
  session.on('close', () => t.log('client', "session 'close'"));
  session.on('error', (e) => t.log('client', 'session error', e));
  const req = session.request({ ':path': '/x' });
  let body = '';
  req.setEncoding('utf8');
  req.on('response', (h) => t.log('client', 'status', h[':status']));
  req.on('data', (d) => (body += d));
  await t.once(req, 'end');
  t.log('client', 'body', body);
  await t.sleep(20);
  ss.goaway(0, 1);
  await t.sleep(50);
  t.log('client', 'closed', session.closed, 'destroyed', session.destroyed);
  t.log('server', 'session closed', ss.closed, 'destroyed', ss.destroyed);
  ss.on('close', () => t.log('server', "session 'close'"));
  ss.close();
  await t.sleep(20);
  server.close(() => t.log('server', 'close callback'));
  await t.once(server, 'close');
}
