export const title = 'a server that closed its connection first (TIME_WAIT on its port) listens again on the same port: allowed (libuv sets SO_REUSEADDR)';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.resume(); s.end('bye'); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  c.resume();
  c.on('end', () => c.end());
  await t.once(c, 'close');
  await t.sleep(20);
  server.close();
  await t.once(server, 'close');
  const again = t.serverNet.createServer((s) => { t.log('again', 'connection'); s.end(); });
  again.on('error', (e) => t.log('again', 'error', e));
  again.listen(port, t.serverHost);
  await Promise.race([t.once(again, 'listening'), t.once(again, 'error')]);
  t.log('again', 'listening', again.listening, 'same port', again.listening && again.address().port === port);
  if (again.listening) {
    const d = t.net.connect(port, t.serverHost);
    d.resume();
    await t.once(d, 'close');
    again.close();
  }
}
