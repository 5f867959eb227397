export const title = 'a paused socket still reads from the kernel: the peer\'s data waits in the stream, its reset is seen at once (ECONNRESET)';
export default async function (t) {
  const server = t.serverNet.createServer(async (s) => {
    s.write('x'.repeat(3000));
    await t.sleep(30);
    s.resetAndDestroy();
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  await t.once(c, 'connect');
  c.pause();
  await t.sleep(15);
  t.log('client', 'paused, readableLength', c.readableLength, 'isPaused', c.isPaused());
  await t.once(c, 'close');
  t.log('client', 'destroyed', c.destroyed, 'readyState', c.readyState, 'readableLength', c.readableLength);
  server.close();
}
