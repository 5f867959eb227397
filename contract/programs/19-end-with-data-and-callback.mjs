export const title = 'end(data, cb): the data goes, the callback comes at finish';
export default async function (t) {
  let got = 0;
  const server = t.serverNet.createServer((s) => {
    s.on('data', (d) => { got += d.length; });
    s.on('end', () => { t.log('server', 'got', got); s.end(); });
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.resume();
  c.end('last words', () => t.log('client', 'end cb', 'writableFinished', c.writableFinished));
  await t.once(c, 'close');
  server.close();
}
