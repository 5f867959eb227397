export const title = 'connect({ localPort }): the connection uses it; a port with a listener gives bind EADDRINUSE with the local address in the message';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { t.log('server', 'remotePort is the chosen one', s.remotePort === free); s.end(); });
  const port = await t.listen(server);
  // A port free on the client's host: one it listened on, then closed.
  const tmp = t.net.createServer();
  tmp.listen(0);
  await t.once(tmp, 'listening');
  const free = tmp.address().port;
  tmp.close();
  await t.once(tmp, 'close');
  const c = t.net.connect({ port, host: t.serverHost, localPort: free });
  await t.once(c, 'connect');
  t.log('client', 'localPort is the chosen one', c.localPort === free);
  c.resume();
  await t.once(c, 'close');

  // A port a listener holds on the client's host.
  const busy = t.net.createServer();
  busy.listen(0);
  await t.once(busy, 'listening');
  const held = busy.address().port;
  const d = t.net.connect({ port, host: t.serverHost, localPort: held });
  d.on('error', (e) => t.log('second', 'error', e.code, e.errno, e.syscall, e.port === held, e.message.replace(String(held), 'HELD')));
  d.on('close', (h) => t.log('second', 'close', h));
  await t.once(d, 'close');
  busy.close();
  server.close();
}
