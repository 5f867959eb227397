export const title = 'server.close(cb) with an earlier close listener: both run, the listener first';
export default async function (t) {
  const server = t.serverNet.createServer();
  await t.listen(server);
  server.on('close', () => t.log('server', 'listener'));
  server.close((err) => t.log('server', 'callback', err));
  await t.sleep(20);
}
