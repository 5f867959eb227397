export const title = 'listen(70000): a RangeError ERR_SOCKET_BAD_PORT, thrown at once';
export default async function (t) {
  const s = t.serverNet.createServer();
  s.on('error', (e) => t.log('server', 'error event', e));
  try {
    s.listen(70000);
    t.log('server', 'no throw');
  } catch (e) {
    t.log('server', 'threw', e);
  }
  await t.sleep(10);
}
