export const title = 'the order of write callbacks, end(cb), prefinish, finish and close; write() return values; writableFinished along the way';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.resume(); s.on('end', () => s.end()); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  await t.once(c, 'connect');
  c.resume();
  for (const ev of ['prefinish', 'finish', 'end', 'close']) c.on(ev, () => t.log('client', ev, 'writableFinished', c.writableFinished));
  for (const w of ['a', 'b', 'c']) t.log('client', 'write', w, 'returned', c.write(w, (err) => t.log('client', 'write cb', w, err)));
  c.end('d', () => t.log('client', 'end cb', 'writableFinished', c.writableFinished));
  t.log('client', 'after end(): writableEnded', c.writableEnded, 'writableFinished', c.writableFinished);
  await t.once(c, 'close');
  server.close();
}
