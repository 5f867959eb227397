export const title = 'allowHalfOpen on either side, four combinations: the client ends first; who ends automatically, who can still write, the events on both sides';
export default async function (t) {
  for (const [srvHalf, cliHalf] of [[false, false], [false, true], [true, false], [true, true]]) {
    const tag = `s=${srvHalf} c=${cliHalf}`;
    const server = t.serverNet.createServer({ allowHalfOpen: srvHalf }, (s) => {
      t.watch(`server ${tag}`, s);
      s.resume();
      s.on('end', () => {
        t.log(`server ${tag}`, 'after end: writable', s.writable, 'readyState', s.readyState);
        if (s.writable) s.end('late reply');
      });
    });
    const port = await t.listen(server);
    const c = t.net.connect({ port, host: t.serverHost, allowHalfOpen: cliHalf });
    t.watch(`client ${tag}`, c);
    let got = 0;
    c.on('data', (d) => { got += d.length; });
    await t.once(c, 'connect');
    c.end('request');
    await t.once(c, 'close');
    t.log(`client ${tag}`, 'got', got);
    server.close();
    await t.once(server, 'close');
  }
}
