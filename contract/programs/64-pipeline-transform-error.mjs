import { pipeline, Transform, Writable } from 'node:stream';
export const title = 'stream.pipeline(socket, Transform that fails, sink): the callback gets the error, the socket is destroyed, the peer sees it close';
export default async function (t) {
  const server = t.serverNet.createServer(async (s) => {
    t.watch('server', s);
    s.resume();
    s.write('first line\n');
    await t.sleep(20);
    s.write('bad line\n');
    await t.sleep(20);
    if (!s.destroyed) s.end('never read\n');
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  let lines = 0;
  const upper = new Transform({
    transform(chunk, enc, cb) {
      if (String(chunk).includes('bad')) cb(Object.assign(new Error('bad input'), { code: 'EBAD' }));
      else cb(null, String(chunk).toUpperCase());
    },
  });
  const sink = new Writable({ write(chunk, enc, cb) { lines++; cb(); } });
  const done = new Promise((r) => pipeline(c, upper, sink, (err) => { t.log('client', 'pipeline cb', err, 'lines', lines, 'socket destroyed', c.destroyed); r(); }));
  await done;
  await t.sleep(50);
  server.close();
}
