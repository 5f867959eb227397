import { Buffer } from 'node:buffer';
export const title = 'for await (const chunk of socket): every byte, the loop ends at the peer\'s FIN';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.end(Buffer.alloc(50_000, 1)); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  let got = 0;
  for await (const chunk of c) got += chunk.length;
  t.log('client', 'got', got, 'destroyed', c.destroyed);
  server.close();
}
