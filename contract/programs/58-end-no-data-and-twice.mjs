export const title = 'end() with no data, then end() again before and after finish: the callbacks (ERR_STREAM_ALREADY_FINISHED after), no error event';
export default async function (t) {
  const server = t.serverNet.createServer({ allowHalfOpen: true }, (s) => { t.watch('server', s); s.resume(); });
  const port = await t.listen(server);
  const c = t.net.connect({ port, host: t.serverHost, allowHalfOpen: true });
  t.watch('client', c);
  await t.once(c, 'connect');
  t.log('client', 'end() returns the socket', c.end() === c);
  c.end(() => t.log('client', 'second end cb'));
  await t.once(c, 'finish');
  c.end((err) => t.log('client', 'third end cb', err));
  await t.sleep(20);
  t.log('client', 'bytesWritten', c.bytesWritten, 'readyState', c.readyState);
  c.destroy();
  await t.sleep(20);
  server.close();
}
