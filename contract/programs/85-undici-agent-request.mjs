export const title = 'undici: requests through an Agent dispatcher keep one connection alive per origin; closing the agent closes it';
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => res.end(`a ${req.url}`));
  server.keepAliveTimeout = 10_000;
  server.on('connection', (s) => { t.log('server', 'connection'); t.watch('server-socket', s); });
  const port = await t.listen(server);
  const agent = t.undiciAgent({ keepAliveTimeout: 5000 });
  agent.on('connect', () => t.log('client', "agent 'connect'"));
  agent.on('disconnect', (o, c, err) => t.log('client', "agent 'disconnect'", err && err.code));
  for (const p of ['/1', '/2', '/3']) {
    const r = await agent.request({ origin: `http://${t.serverHost}:${port}`, path: p, method: 'GET' });
    t.log('client', r.statusCode, await r.body.text());
  }
  await agent.close();
  await t.sleep(50);
  server.close();
  await t.once(server, 'close');
}
