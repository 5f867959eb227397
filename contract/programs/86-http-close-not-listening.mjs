export const title = "node:http: close(cb) on a server never listening: 'close' is emitted and the callback gets ERR_SERVER_NOT_RUNNING; listening false, address() null";
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => res.end());
  server.on('close', () => t.log('server', "'close'"));
  t.log('server', 'listening', server.listening, 'address', server.address());
  server.close((err) => t.log('server', 'close callback', err));
  await t.sleep(20);
  const port = await t.listen(server);
  t.log('server', 'listening after listen', server.listening, 'port is a number', typeof port === 'number');
  server.close((err) => t.log('server', 'second close callback', err));
  await t.once(server, 'close');
  t.log('server', 'listening after close', server.listening);
}
