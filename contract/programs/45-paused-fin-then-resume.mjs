export const title = 'pause() before connect: afterConnect does not start reading, the peer\'s data and FIN wait in the kernel; resume() reads them, end last';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { t.watch('server', s); s.resume(); s.end('y'.repeat(2000)); });
  const port = await t.listen(server);
  const c = t.net.connect({ port, host: t.serverHost, allowHalfOpen: true });
  t.watch('client', c);
  c.pause();
  await t.once(c, 'connect');
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
