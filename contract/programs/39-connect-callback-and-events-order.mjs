export const title = 'the connect callback runs before other connect listeners added later, ready after connect';
export default async function (t) {
  const server = t.serverNet.createServer((s) => s.resume());
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost, () => t.log('client', 'callback'));
  c.on('connect', () => t.log('client', 'listener'));
  c.on('ready', () => t.log('client', 'ready'));
  await t.once(c, 'ready');
  c.destroy();
  await t.once(c, 'close');
  server.close();
}
