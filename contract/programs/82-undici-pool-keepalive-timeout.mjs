export const title = "undici: a Pool's keepAliveTimeout (300 ms) closes its idle connection from the client side; the server sees the FIN; the next request connects again";
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => res.end(`u ${req.url}`));
  server.keepAliveTimeout = 10_000;
  server.on('connection', (s) => { t.log('server', 'connection'); t.watch('server-socket', s); });
  const port = await t.listen(server);
  const origin = `http://${t.serverHost}:${port}`;
  const pool = t.undiciPool(origin, { connections: 2, keepAliveTimeout: 300, keepAliveMaxTimeout: 300 });
  pool.on('connect', () => t.log('client', "pool 'connect'"));
  pool.on('disconnect', (o, c, err) => t.log('client', "pool 'disconnect'", err && err.code));
  const r1 = await pool.request({ path: '/1', method: 'GET' });
  t.log('client', r1.statusCode, await r1.body.text());
  await t.sleep(500);
  const r2 = await pool.request({ path: '/2', method: 'GET' });
  t.log('client', r2.statusCode, await r2.body.text());
  await pool.close();
  await t.sleep(50);
  server.close();
  await t.once(server, 'close');
}
