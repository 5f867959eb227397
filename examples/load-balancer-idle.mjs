// A load balancer's idle timeout in front of a node:http app. The balancer (linger's L4 proxy
// with an F5-like TCP profile: idle connections are reset after idleTimeoutMs) sits between a
// keep-alive client pool and the app. Clients that leave a pooled connection idle longer than
// the balancer's timeout see it reset; the count is printed. Then the fix: the pool's idle
// timeout below the balancer's.
//
//   node load-balancer-idle.mjs [--lb-idle MS] [--gap MS] [--clients N] [--seed N]
// Exit 0 only when the clients saw resets without the fix and none with it.
import { parseArgs } from 'node:util';
import { Network, Host, Runtime, bindNet, L4Proxy } from 'linger';
import { bindHttp } from 'linger/http';

const { values } = parseArgs({
  options: {
    'lb-idle': { type: 'string', default: '4000' },
    gap: { type: 'string', default: '6000' },
    clients: { type: 'string', default: '5' },
    seed: { type: 'string', default: '1' },
  },
});
const lbIdle = Number(values['lb-idle']);
const gap = Number(values.gap);
const clients = Number(values.clients);
const seed = Number(values.seed);
for (const [name, v] of [['--lb-idle', lbIdle], ['--gap', gap], ['--clients', clients], ['--seed', seed]]) {
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`load-balancer-idle: ${name} takes a positive integer`);
    process.exit(2);
  }
}
const REQUESTS = 4;

async function run(agentTimeout) {
  const net = new Network({ seed });
  const rt = new Runtime(net);
  const client = rt.addHost(new Host({ name: 'client', addresses: ['10.0.0.1'], clock: net.clock, seed }));
  const lb = rt.addHost(new Host({ name: 'lb', addresses: ['10.0.1.1'], clock: net.clock, seed: seed + 1 }));
  const app = rt.addHost(new Host({ name: 'app', addresses: ['10.0.2.1'], clock: net.clock, seed: seed + 2 }));
  net.link('client', 'lb', { latencyUs: 2_000 });
  net.link('lb', 'app', { latencyUs: 500 });

  const server = bindHttp(bindNet(app, rt)).createServer((req, res) => res.end(`hello ${req.url}`));
  server.keepAliveTimeout = 65_000; // longer than the balancer's idle timeout, as is usual
  server.listen(80);
  new L4Proxy(lb, {
    listen: { addr: '0.0.0.0', port: 80 },
    upstream: { addr: '10.0.2.1', port: 80 },
    profile: { idleTimeoutMs: lbIdle, idleAction: 'rst' },
    scheduler: { setTimer: (us, fn) => { const t = rt.timer(us, fn); return { cancel: () => { t.cancelled = true; } }; } },
  });

  const http = bindHttp(bindNet(client, rt));
  let resets = 0;
  let failed = 0;
  const one = async (c) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1, ...(agentTimeout ? { timeout: agentTimeout } : {}) });
    // A pooled socket reset by the balancer while idle: the pool drops it and counts nothing.
    agent.on('free', (s) => s.on('error', (e) => { if (e.code === 'ECONNRESET') resets++; }));
    for (let i = 0; i < REQUESTS; i++) {
      await new Promise((resolve) => {
        const req = http.get({ host: '10.0.1.1', port: 80, path: `/c${c}/r${i}`, agent }, (res) => { res.resume(); res.on('end', resolve); });
        req.on('error', (e) => { failed++; if (e.code === 'ECONNRESET') resets++; resolve(); });
      });
      await new Promise((resolve) => setTimeout(resolve, gap + c * 10));
    }
    agent.destroy();
  };
  await rt.wait(Promise.all(Array.from({ length: clients }, (_, c) => one(c))));
  const clientRsts = client.counters.get('EstabResets');
  server.close();
  rt.dispose();
  return { resets, failed, clientRsts };
}

const plain = await run(0);
console.log(`balancer idle timeout ${lbIdle} ms, ${clients} clients pausing ${gap} ms between ${REQUESTS} requests: ${plain.resets} resets seen by the clients (${plain.failed} requests failed; TcpEstabResets ${plain.clientRsts})`);
const fixTimeout = Math.max(100, lbIdle - 1000);
const fixed = await run(fixTimeout);
console.log(`the fix, the pool's idle timeout ${fixTimeout} ms: ${fixed.resets} resets (${fixed.failed} requests failed; TcpEstabResets ${fixed.clientRsts})`);
process.exit(plain.resets > 0 && fixed.resets === 0 ? 0 : 1);
