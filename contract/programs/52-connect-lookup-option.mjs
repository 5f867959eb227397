export const title = 'connect({ host: name, lookup, family: 4 }): the custom lookup is called at once with the name (an answer in the same tick comes before any listener); an asynchronous one: the lookup event gets (err, address, family, host)';
export default async function (t) {
  const server = t.serverNet.createServer((s) => { s.end(); });
  const port = await t.listen(server);
  const lookup = (name, opts, cb) => {
    t.log('lookup fn', 'name', name, 'family', opts.family, 'all', !!opts.all);
    if (opts.all) cb(null, [{ address: t.serverHost, family: 4 }]);
    else cb(null, t.serverHost, 4);
  };
  const c = t.net.connect({ port, host: 'the-server.test', family: 4, lookup });
  t.watch('client', c);
  c.on('lookup', (err, address, family, host) => t.log('client', 'lookup args', err, address, family, host));
  c.resume();
  await t.once(c, 'close');

  const later = (name, opts, cb) => Promise.resolve().then(() => cb(null, t.serverHost, 4));
  const e = t.net.connect({ port, host: 'the-server.test', family: 4, lookup: later });
  t.watch('async', e);
  e.on('lookup', (err, address, family, host) => t.log('async', 'lookup args', err, address, family, host));
  e.resume();
  await t.once(e, 'close');

  const bad = (name, opts, cb) => cb(Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: name }));
  const d = t.net.connect({ port, host: 'nowhere.test', family: 4, lookup: bad });
  t.watch('failing', d);
  d.on('lookup', (err, address, family, host) => t.log('failing', 'lookup args', err && err.code, address, family, host));
  await t.once(d, 'close');
  server.close();
}
