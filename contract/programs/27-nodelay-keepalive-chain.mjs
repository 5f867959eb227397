export const title = 'setNoDelay, setKeepAlive and setTimeout return the socket (chainable), before and after connect';
export default async function (t) {
  const server = t.serverNet.createServer((s) => s.resume());
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.log('client', 'chain before connect', c.setNoDelay(true) === c, c.setKeepAlive(true, 1000) === c, c.setTimeout(0) === c);
  await t.once(c, 'connect');
  t.log('client', 'chain after connect', c.setNoDelay(false) === c, c.setKeepAlive(false) === c);
  c.destroy();
  await t.once(c, 'close');
  server.close();
}
