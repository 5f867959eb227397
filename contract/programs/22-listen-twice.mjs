export const title = 'listen() twice without close(): ERR_SERVER_ALREADY_LISTEN; close() of a server not running: ERR_SERVER_NOT_RUNNING';
export default async function (t) {
  const server = t.serverNet.createServer();
  await t.listen(server);
  try {
    server.listen(0);
    t.log('server', 'no throw');
  } catch (e) {
    t.log('server', 'threw', e);
  }
  server.close();
  await t.once(server, 'close');
  server.close((err) => t.log('server', 'second close cb', err));
  await t.sleep(10);
}
