export const title = 'pause() after connect: the peer\'s data and FIN are read into the stream (readableLength), end waits for resume() and comes after the data';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { t.watch('server', s); s.resume(); s.end('y'.repeat(2000)); });
  const port = await t.listen(server);
  const c = t.net.connect({ port, host: t.serverHost, allowHalfOpen: true });
  t.watch('client', c);
  await t.once(c, 'connect');
  c.pause();
  await t.sleep(30);
  t.log('client', 'paused: readableLength', c.readableLength, 'readableEnded', c.readableEnded, 'readyState', c.readyState);
  let got = 0;
  c.on('data', (d) => { got += d.length; });
  c.on('end', () => t.log('client', 'end after', got));
  c.resume();
  await t.once(c, 'end');
  t.log('client', 'readyState', c.readyState);
  c.end();
  await t.once(c, 'close');
  server.close();
}
