export const title = 'a server never listening: address() null, listening false, ref()/unref() return it, close(cb) emits close and gives the callback ERR_SERVER_NOT_RUNNING';
export default async function (t) {
  const server = t.serverNet.createServer();
  t.log('server', 'address', server.address(), 'listening', server.listening, 'ref', server.ref() === server, 'unref', server.unref() === server);
  server.on('close', () => t.log('server', 'close event'));
  t.log('server', 'close() returns the server', server.close((err) => t.log('server', 'close cb', err)) === server);
  await t.sleep(10);
  const s2 = t.serverNet.createServer();
  s2.on('close', () => t.log('second', 'close event'));
  s2.on('error', (e) => t.log('second', 'error event', e));
  s2.close();
  await t.sleep(10);
  t.log('second', 'maxConnections', s2.maxConnections);
}
