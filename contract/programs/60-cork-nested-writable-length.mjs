export const title = 'cork() twice, uncork() once then again: writableCorked counts, writableLength counts a string\'s characters, callbacks only after the last uncork';
export default async function (t) {
  let got = 0;
  const server = t.serverNet.createServer((s) => {
    s.on('data', (d) => { got += d.length; });
    s.on('end', () => { t.log('server', 'got', got); s.end(); });
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  await t.once(c, 'connect');
  c.cork();
  c.cork();
  c.write('héllo ✓', () => t.log('client', 'cb 1'));
  c.write(new Uint8Array(4), () => t.log('client', 'cb 2'));
  t.log('client', 'writableCorked', c.writableCorked, 'writableLength', c.writableLength, 'bytesWritten', c.bytesWritten);
  c.uncork();
  t.log('client', 'after one uncork: writableCorked', c.writableCorked, 'writableLength', c.writableLength);
  await t.sleep(10);
  t.log('client', 'still corked after 10 ms, writableLength', c.writableLength);
  c.uncork();
  t.log('client', 'after the second uncork: writableCorked', c.writableCorked);
  c.end();
  c.resume();
  await t.once(c, 'close');
  t.log('client', 'bytesWritten', c.bytesWritten);
  server.close();
}
