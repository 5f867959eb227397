import { Buffer } from 'node:buffer';
export const title = 'setEncoding(utf8) with a multi-byte character split across two writes: the decoder holds the partial bytes, no replacement character';
export default async function (t) {
  const bytes = Buffer.from('a€b✓c', 'utf8'); // € and ✓ are three bytes each
  const server = t.serverNet.createServer(async (s) => {
    s.write(bytes.subarray(0, 2)); // 'a' and the first byte of €
    await t.sleep(30);
    s.write(bytes.subarray(2, 6)); // the rest of €, 'b', the first byte of ✓
    await t.sleep(30);
    s.end(bytes.subarray(6));
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  c.setEncoding('utf8');
  t.log('client', 'readableEncoding', c.readableEncoding);
  const chunks = [];
  c.on('data', (d) => chunks.push(d));
  await t.once(c, 'end');
  t.log('client', 'chunks', chunks, 'text', chunks.join(''), 'bytesRead', c.bytesRead);
  server.close();
}
