export const title = 'cork, three writes, uncork: every byte arrives, the callbacks in order';
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
  for (const w of ['one', 'two', 'three']) c.write(w, () => t.log('client', 'cb', w));
  t.log('client', 'writableCorked', c.writableCorked, 'writableLength', c.writableLength);
  c.uncork();
  c.end();
  c.resume();
  await t.once(c, 'close');
  server.close();
}
