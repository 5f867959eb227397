/* global setTimeout */
export const title = 'client end() with allowHalfOpen on the server: the client still reads the reply after its own FIN';
export default async function (t) {
  const server = t.serverNet.createServer({ allowHalfOpen: true }, (s) => {
    s.resume();
    s.on('end', async () => { await new Promise((r) => setTimeout(r, 30)); s.end('late reply'); });
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  let got = '';
  c.setEncoding('utf8');
  c.on('data', (d) => { got += d; });
  c.end();
  await t.once(c, 'close');
  t.log('client', 'reply', got);
  server.close();
}
