export const title = 'allowHalfOpen true: the server answers after the client\'s FIN, then ends';
export default async function (t) {
  const server = t.serverNet.createServer({ allowHalfOpen: true }, (s) => {
    t.watch('server', s);
    let req = 0;
    s.on('data', (d) => { req += d.length; });
    s.on('end', () => {
      t.log('server', 'request', req, 'writable', s.writable);
      s.end('reply'.repeat(10));
    });
  });
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  t.watch('client', c);
  let got = 0;
  c.on('data', (d) => { got += d.length; });
  c.end('request');
  await t.once(c, 'close');
  t.log('client', 'reply', got);
  server.close();
}
