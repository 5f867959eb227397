export const title = 'connect by host name (a lookup function) to a port nobody listens on: the lookup event, then ECONNREFUSED with the address, not the name';
export default async function (t) {
  const port = await t.closedPort();
  // Answers a microtask later (a resolved promise), so the listeners added after connect() see the lookup event.
  const lookup = (name, opts, cb) => Promise.resolve().then(() => (opts.all ? cb(null, [{ address: t.serverHost, family: 4 }]) : cb(null, t.serverHost, 4)));
  for (const family of [4, undefined]) {
    const c = t.net.connect({ port, host: 'the-server.test', lookup, family });
    const tag = `family ${family}`;
    c.on('lookup', (err, address, fam, host) => t.log(tag, 'lookup', err, address, fam, host));
    t.watch(tag, c);
    await t.once(c, 'close');
    t.log(tag, 'pending', c.pending, 'connecting', c.connecting);
  }
}
