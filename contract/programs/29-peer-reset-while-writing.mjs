export const title = 'the peer resets while we write: ECONNRESET (or EPIPE) as error, then close(true)';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.on('data', () => s.resetAndDestroy()); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  c.on('error', (e) => t.log('client', 'error code', e.code));
  c.on('close', (hadError) => t.log('client', 'close', hadError));
  const closed = t.once(c, 'close');
  await t.once(c, 'connect');
  c.write('ping');
  await t.sleep(50);
  if (!c.destroyed) c.write('more', (err) => t.log('client', 'write cb has error', !!err));
  await closed;
  server.close();
}
