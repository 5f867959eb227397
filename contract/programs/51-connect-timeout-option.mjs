export const title = 'connect({ timeout }): the idle timer set by the option, socket.timeout reads it, a timeout event when idle, nothing closed';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.resume(); });
  const port = await t.listen(server);
  const c = t.net.connect({ port, host: t.serverHost, timeout: 80 });
  t.watch('client', c);
  t.log('client', 'timeout at once', c.timeout);
  await t.once(c, 'connect');
  t.log('client', 'timeout after connect', c.timeout);
  await t.once(c, 'timeout');
  t.log('client', 'destroyed', c.destroyed, 'readyState', c.readyState);
  c.end();
  await t.once(c, 'close');
  server.close();
}
