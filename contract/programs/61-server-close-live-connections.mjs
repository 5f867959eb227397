export const title = 'server.close() with a live connection: not listening at once, new connections refused, the connection goes on, close when it ends';
export default async function (t) {
  let srv;
  const server = t.serverNet.createServer((s) => { srv = s; s.on('data', (d) => s.write(d)); s.on('end', () => s.end()); });
  server.on('close', () => t.log('server', 'close event'));
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  await t.once(c, 'connect');
  await t.sleep(10);
  server.close(() => t.log('server', 'close cb'));
  t.log('server', 'listening', server.listening, 'address', server.address());
  const late = t.net.connect(port, t.serverHost);
  late.on('error', (e) => t.log('late', 'error', e.code));
  await t.once(late, 'close');
  let echoed = 0;
  c.on('data', (d) => { echoed += d.length; });
  c.write('still served');
  await t.sleep(20);
  t.log('client', 'echoed', echoed, 'server socket destroyed', srv.destroyed);
  c.end();
  await t.once(server, 'close');
  await t.sleep(10);
}
