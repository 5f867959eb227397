export const title = 'node:http: a request with Connection: close; the server closes after the response, the Agent opens a new connection next time';
export default async function (t) {
  const server = t.serverHttp.createServer((req, res) => res.end('x'));
  server.on('connection', (s) => t.watch('server-socket', s));
  const port = await t.listen(server);
  const agent = new t.http.Agent({ keepAlive: true });
  for (const headers of [{ connection: 'close' }, {}]) {
    await new Promise((resolve) => {
      const req = t.http.get({ host: t.serverHost, port, path: '/', agent, headers }, (res) => {
        t.log('client', 'response', res.statusCode, 'connection', res.headers.connection, 'reused', req.reusedSocket);
        // Not the client socket's events: whether it reads the server's FIN ('end') before its
        // own destroySoon() completes is a race on the kernel (the FIN leaves a loop turn after
        // the response), and in virtual time both leave at the same instant.
        res.resume();
        res.on('end', resolve);
      });
    });
    await t.sleep(50);
  }
  agent.destroy();
  await t.sleep(50);
  server.close();
  await t.once(server, 'close');
}
