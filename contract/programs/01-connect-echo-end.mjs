export const title = 'connect, write, echo, end: the events on both sides, addresses and byte counts';
export default async function (t) {
  const server = t.serverNet.createServer((s) => {
    t.watch('server', s);
    t.log('server', 'remote', s.remoteFamily);
    let n = 0;
    s.on('data', (d) => { n += d.length; s.write(d); });
    s.on('end', () => { t.log('server', 'read', n); s.end(); });
    s.on('close', () => t.log('server', 'bytesRead', s.bytesRead, 'bytesWritten', s.bytesWritten));
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  await t.once(c, 'connect');
  t.log('client', 'remoteAddress', c.remoteAddress, 'remotePort', c.remotePort, 'remoteFamily', c.remoteFamily, 'readyState', c.readyState);
  let got = 0;
  c.on('data', (d) => { got += d.length; });
  c.end('hello');
  t.log('client', 'readyState after end()', c.readyState);
  await t.once(c, 'close');
  t.log('client', 'echoed', got, 'bytesRead', c.bytesRead, 'bytesWritten', c.bytesWritten, 'destroyed', c.destroyed);
  server.close();
  await t.once(server, 'close');
}
