// The keep-alive race, with your own settings: a node:http server closes an idle keep-alive
// connection after keepAliveTimeout while the client's pooled socket (http.Agent keepAlive) is
// reused for a new request at that very moment: the server's kernel answers the request with a
// RST and the client gets ECONNRESET ("socket hang up") on a reused socket. Then the fix: an
// Agent whose free-socket timeout is shorter than the server's keepAliveTimeout.
//
//   node keepalive-race.mjs [--server-keepalive MS] [--agent-timeout MS] [--requests N] [--seed N]
// Exit 0 only when the race happened with no Agent timeout and never with the fix.
import { parseArgs } from 'node:util';
import { Network, Host, Runtime, bindNet } from 'linger';
import { bindHttp } from 'linger/http';

const { values } = parseArgs({
  options: {
    'server-keepalive': { type: 'string', default: '5000' },
    'agent-timeout': { type: 'string', default: '' },
    requests: { type: 'string', default: '40' },
    seed: { type: 'string', default: '1' },
  },
});
const serverKeepAlive = Number(values['server-keepalive']);
const requests = Number(values.requests);
const seed = Number(values.seed);
// The fix: the side that reuses a connection times out first (a second below the server here).
const fixTimeout = values['agent-timeout'] ? Number(values['agent-timeout']) : Math.max(100, serverKeepAlive - 1000);
for (const [name, v] of [['--server-keepalive', serverKeepAlive], ['--agent-timeout', fixTimeout], ['--requests', requests], ['--seed', seed]]) {
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`keepalive-race: ${name} takes a positive integer`);
    process.exit(2);
  }
}
const LATENCY_MS = 5;

/** One run: `requests` POSTs one after another, separated by gaps that often land on the server's close. */
async function run(agentTimeout) {
  const net = new Network({ seed });
  const rt = new Runtime(net);
  const client = rt.addHost(new Host({ name: 'client', addresses: ['10.0.0.1'], clock: net.clock, seed }));
  const server = rt.addHost(new Host({ name: 'server', addresses: ['10.0.0.2'], clock: net.clock, seed: seed + 1 }));
  net.link('client', 'server', { latencyUs: LATENCY_MS * 1000 });
  const app = bindHttp(bindNet(server, rt)).createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  app.keepAliveTimeout = serverKeepAlive;
  app.listen(80);
  const http = bindHttp(bindNet(client, rt));
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1, ...(agentTimeout ? { timeout: agentTimeout } : {}) });
  // Node 20's server destroys an idle socket keepAliveTimeout + 1 s after its response (the
  // socket timer's buffer); the client has the response one latency later.
  const closeAt = serverKeepAlive + 1000 - LATENCY_MS;
  let x = seed >>> 0;
  const gap = (i) => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return i % 2 ? closeAt - 20 + (x % 41) : x % closeAt;
  };
  const post = (path) => new Promise((resolve) => {
    const req = http.request({ host: 'server', port: 80, path, method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: true }));
    });
    req.on('error', (e) => resolve({ ok: false, code: e.code, reused: req.reusedSocket }));
    req.end('payload');
  });
  const failures = [];
  await rt.wait((async () => {
    for (let i = 0; i < requests; i++) {
      const r = await post(`/${i + 1}`);
      if (!r.ok) failures.push(`request ${i + 1}: ${r.code}${r.reused ? ' on a reused socket' : ''}`);
      await new Promise((resolve) => setTimeout(resolve, gap(i))); // virtual: the Runtime fakes timers
    }
  })());
  const seconds = rt.now / 1e6;
  agent.destroy();
  app.close();
  await rt.runFor(2_000_000);
  const resets = server.counters.get('OutRsts');
  rt.dispose();
  return { failures, seconds, resets };
}

const race = await run(0);
console.log(`server keepAliveTimeout ${serverKeepAlive} ms, Agent keepAlive with no timeout: ${race.failures.length} of ${requests} requests failed in ${race.seconds.toFixed(1)} virtual s (the server sent ${race.resets} RST)`);
for (const f of race.failures) console.log(`  ${f}`);
const fixed = await run(fixTimeout);
console.log(`the fix, Agent timeout ${fixTimeout} ms: ${fixed.failures.length} of ${requests} requests failed (the server sent ${fixed.resets} RST)`);
for (const f of fixed.failures) console.log(`  ${f}`);
process.exit(race.failures.length > 0 && fixed.failures.length === 0 ? 0 : 1);
