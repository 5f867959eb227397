export const title = 'a socket\'s error with close listeners only: close(true) follows; connect refused seen through close alone';
export default async function (t) {
  const server = t.serverNet.createServer();
  const port = await t.listen(server);
  server.close();
  await t.once(server, 'close');
  const c = t.net.connect(port, t.serverHost);
  c.on('error', () => {});
  const [hadError] = await t.once(c, 'close');
  t.log('client', 'close hadError', hadError, 'errored', !!c.errored, 'code', c.errored && c.errored.code);
}
