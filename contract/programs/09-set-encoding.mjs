export const title = 'setEncoding(utf8): data arrives as strings, multi-byte characters intact';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.end('héllo wörld ✓'); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  c.setEncoding('utf8');
  let text = '';
  c.on('data', (d) => { t.log('client', 'type', typeof d); text += d; });
  await t.once(c, 'end');
  t.log('client', 'text', text, 'bytesRead', c.bytesRead);
  server.close();
}
