export const title = 'destroySoon(): ends the writable side and destroys once finished';
export default async function (t) {
  let got = 0;
  const server = t.serverNet.createServer((s) => { s.on('data', (d) => { got += d.length; }); s.on('end', () => { t.log('server', 'got', got); s.end(); }); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  await t.once(c, 'connect');
  c.write('some data');
  c.destroySoon();
  await t.once(c, 'close');
  t.log('client', 'destroyed', c.destroyed);
  await t.sleep(20);
  server.close();
}
