export const title = 'connect() to a port nobody listens on: ECONNREFUSED, then close(true)';
export default async function (t) {
  const port = await t.closedPort();
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  await t.once(c, 'close');
  t.log('client', 'destroyed', c.destroyed, 'readyState', c.readyState);
}
