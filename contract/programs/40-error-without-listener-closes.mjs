export const title = 'a socket\'s error with close listeners only: close(true) follows; connect refused seen through close alone';
export default async function (t) {
  const port = await t.closedPort();
  const c = t.net.connect(port, t.serverHost);
  c.on('error', () => {});
  const [hadError] = await t.once(c, 'close');
  t.log('client', 'close hadError', hadError, 'errored', !!c.errored, 'code', c.errored && c.errored.code);
}
