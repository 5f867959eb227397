import { finished } from 'node:stream';
export const title = 'stream.finished() on a socket the peer resets: the callback gets ECONNRESET; on a clean close it gets nothing';
export default async function (t) {
  const server = t.serverNet.createServer(async (s) => {
    s.resume();
    await t.sleep(20);
    if (s.remotePort === resetPort) s.resetAndDestroy();
    else s.end();
  });
  const port = await t.listen(server);
  let resetPort = -1;
  for (const name of ['reset', 'clean']) {
    const c = t.net.connect(port, t.serverHost);
    c.on('error', () => {});
    await t.once(c, 'connect');
    if (name === 'reset') resetPort = c.localPort;
    c.resume();
    c.on('end', () => c.end());
    await new Promise((r) => finished(c, (err) => { t.log(name, 'finished cb', err, 'destroyed', c.destroyed); r(); }));
    await t.sleep(10);
  }
  server.close();
}
