export const title = 'createServer({ pauseOnConnect: true }): the accepted socket reads nothing until resume(), then every byte and end';
export default async function (t) {
  let srv;
  const server = t.serverNet.createServer({ pauseOnConnect: true }, (s) => { srv = s; t.watch('server', s); });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.end('z'.repeat(3000));
  await t.sleep(30);
  t.log('server', 'paused: isPaused', srv.isPaused(), 'readableFlowing', srv.readableFlowing, 'readableLength', srv.readableLength, 'bytesRead', srv.bytesRead);
  let got = 0;
  srv.on('data', (d) => { got += d.length; });
  t.log('server', 'after a data listener: readableFlowing', srv.readableFlowing);
  srv.resume();
  await t.once(srv, 'end');
  t.log('server', 'got', got);
  await t.once(c, 'close');
  server.close();
}
