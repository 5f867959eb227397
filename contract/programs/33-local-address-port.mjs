export const title = 'localAddress, localPort and localFamily on both ends; server.address() port equals the client\'s remotePort';
export default async function (t) {
  let srv;
  const server = t.serverNet.createServer((s) => { srv = s; s.resume(); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  await t.once(c, 'connect');
  await t.sleep(10);
  t.log('client', 'localFamily', c.localFamily, 'remotePort is the listener', c.remotePort === port, 'localPort is a number', typeof c.localPort);
  t.log('server', 'localPort is the listener', srv.localPort === port, 'remotePort is the client\'s', srv.remotePort === c.localPort, 'remoteFamily', srv.remoteFamily);
  c.destroy();
  await t.once(c, 'close');
  server.close();
}
