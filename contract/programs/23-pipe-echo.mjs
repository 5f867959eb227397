import { Buffer } from 'node:buffer';
export const title = 'socket.pipe(socket): an echo server; the client sends 100 kB and reads it back';
export default async function (t) {
  const server = t.serverNet.createServer((s) => s.pipe(s));
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  let got = 0;
  c.on('data', (d) => { got += d.length; });
  c.end(Buffer.alloc(100_000, 7));
  await t.once(c, 'close');
  t.log('client', 'echoed', got);
  server.close();
}
