export const title = 'connect() again on a socket after its close: a new connection, the same object, events again, counters from zero';
export default async function (t) {
  let n = 0;
  const server = t.serverNet.createServer((s) => { n++; s.resume(); s.end(`reply ${n}`); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.resume();
  await t.once(c, 'close');
  t.log('client', 'first: destroyed', c.destroyed, 'bytesRead', c.bytesRead, 'pending', c.pending);
  c.connect(port, t.serverHost);
  t.log('client', 'again: destroyed', c.destroyed, 'connecting', c.connecting, 'readyState', c.readyState);
  await t.once(c, 'close');
  t.log('client', 'second: bytesRead', c.bytesRead, 'bytesWritten', c.bytesWritten);
  server.close();
}
