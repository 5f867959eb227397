/* global setInterval, clearInterval */
export const title = 'setTimeout: activity (data) restarts the idle timer; timeout fires only after a quiet period';
export default async function (t) {
  const server = t.serverNet.createServer((s) => {
    let n = 0;
    const iv = setInterval(() => { s.write('x'); if (++n === 5) clearInterval(iv); }, 30);
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  c.resume();
  let got = 0;
  c.on('data', (d) => { got += d.length; });
  c.setTimeout(100, () => { t.log('client', 'timeout after bytes', got); c.destroy(); });
  await t.once(c, 'close');
  server.close();
}
