export const title = 'a write queued while connecting to a closed port: its callback gets an error, then error and close';
export default async function (t) {
  const port = await t.closedPort();
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  c.write('lost', (err) => t.log('client', 'write cb', err));
  await t.once(c, 'close');
  t.log('client', 'bytesWritten', c.bytesWritten);
}
