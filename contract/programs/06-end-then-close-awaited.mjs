export const title = 'await once(end) then await once(close): close comes on a later tick than end';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.end('bye'); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  c.resume();
  await t.once(c, 'end');
  t.log('client', 'end seen');
  await t.once(c, 'close');
  t.log('client', 'close seen');
  server.close();
}
