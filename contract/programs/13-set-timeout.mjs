export const title = 'setTimeout(ms): a timeout event on idle, socket.timeout reads it back, 0 turns it off';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.resume(); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.setTimeout(50);
  t.log('client', 'timeout', c.timeout);
  await t.once(c, 'timeout');
  c.setTimeout(0);
  t.log('client', 'timeout after 0', c.timeout);
  c.destroy();
  await t.once(c, 'close');
  server.close();
}
