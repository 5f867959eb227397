export const title = 'write() returns false past the high-water mark; drain comes; every byte arrives';
export default async function (t) {
  let got = 0;
  const server = t.serverNet.createServer((s) => { s.on('data', (d) => { got += d.length; }); s.on('end', () => { t.log('server', 'got', got); s.end(); }); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  await t.once(c, 'connect');
  const chunk = new Uint8Array(64 * 1024);
  let sent = 0;
  let falses = 0;
  while (sent < 4 * 1024 * 1024) {
    sent += chunk.length;
    if (!c.write(chunk)) {
      falses++;
      await t.once(c, 'drain');
    }
  }
  t.log('client', 'write() returned false at least once', falses > 0);
  c.end();
  c.resume();
  await t.once(c, 'close');
  server.close();
}
