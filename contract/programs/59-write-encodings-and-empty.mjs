export const title = 'write(string, encoding) for hex, base64, latin1 and utf8, write(\'\') and an empty buffer with callbacks: bytes counted as encoded';
export default async function (t) {
  let got = 0;
  let text = '';
  const server = t.serverNet.createServer((s) => {
    s.setEncoding('latin1');
    s.on('data', (d) => { got += d.length; text += d; });
    s.on('end', () => { t.log('server', 'got', got, 'text', text); s.end(); });
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  await t.once(c, 'connect');
  t.log('client', 'hex', c.write('68656c6c6f', 'hex', () => t.log('client', 'cb hex')));
  t.log('client', 'empty string', c.write('', () => t.log('client', 'cb empty string')));
  t.log('client', 'base64', c.write('IHdvcmxk', 'base64', () => t.log('client', 'cb base64')));
  t.log('client', 'empty buffer', c.write(new Uint8Array(0), () => t.log('client', 'cb empty buffer')));
  t.log('client', 'latin1', c.write(' \xe9', 'latin1', () => t.log('client', 'cb latin1')));
  c.end(' é', 'utf8');
  c.resume();
  await t.once(c, 'close');
  t.log('client', 'bytesWritten', c.bytesWritten);
  server.close();
}
