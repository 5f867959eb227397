export const title = 'node:http: an Agent with maxSockets 1 queues three concurrent requests on one keep-alive connection, in order';
export default async function (t) {
  let conns = 0;
  const server = t.serverHttp.createServer((req, res) => {
    t.log('server', 'request', req.url);
    res.end(req.url);
  });
  server.on('connection', () => t.log('server', 'connection', ++conns));
  const port = await t.listen(server);
  const agent = new t.http.Agent({ keepAlive: true, maxSockets: 1 });
  const one = (path) => new Promise((resolve) => {
    const req = t.http.get({ host: t.serverHost, port, path, agent }, (res) => {
      let b = '';
      res.on('data', (d) => (b += d));
      res.on('end', () => { t.log('client', 'response', b, 'reused', req.reusedSocket); resolve(); });
    });
    t.log('client', 'queued', path, 'requests waiting', Object.values(agent.requests).flat().length);
  });
  await Promise.all([one('/a'), one('/b'), one('/c')]);
  t.log('client', 'sockets', Object.values(agent.sockets).flat().length, 'free', Object.values(agent.freeSockets).flat().length);
  agent.destroy();
  server.close();
  await t.once(server, 'close');
}
