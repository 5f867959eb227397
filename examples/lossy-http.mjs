// An HTTP client and server over a lossy 50 ms link, in virtual time: Node's own node:http on
// both ends, linger's TCP (Linux's loss recovery) in between. Prints the requests done, the
// virtual seconds they took and the segments retransmitted; the same seed prints the same.
//
//   node lossy-http.mjs [seed] [loss-percent]
// Exit 0 only when every request succeeded and the link did lose packets (recovery happened).
import { Network, Host, Runtime, bindNet } from 'linger';
import { bindHttp } from 'linger/http';

const seed = Number(process.argv[2] ?? 1);
const lossPct = Number(process.argv[3] ?? 2);
if (!Number.isInteger(seed) || !(lossPct >= 0 && lossPct < 100)) {
  console.error('usage: node lossy-http.mjs [seed (integer)] [loss-percent (0..99)]');
  process.exit(2);
}

const net = new Network({ seed });
const rt = new Runtime(net); // virtual time for sockets and for setTimeout, Date, performance.now
const client = rt.addHost(new Host({ name: 'client', addresses: ['10.0.0.1'], clock: net.clock, seed }));
const server = rt.addHost(new Host({ name: 'server', addresses: ['10.0.0.2'], clock: net.clock, seed: seed + 1 }));
net.link('client', 'server', { latencyUs: 25_000, loss: lossPct / 100 }); // 50 ms round trip

const body = Buffer.alloc(64 * 1024, 'x');
const app = bindHttp(bindNet(server, rt)).createServer((req, res) => res.end(body));
app.listen(80);

const http = bindHttp(bindNet(client, rt));
const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
const get = (path) => new Promise((resolve) => {
  const req = http.get({ host: 'server', port: 80, path, agent }, (res) => {
    let n = 0;
    res.on('data', (d) => (n += d.length));
    res.on('end', () => resolve(res.statusCode === 200 && n === body.length));
  });
  req.on('error', () => resolve(false));
});

const N = 40;
const t0 = rt.now;
const results = await rt.wait(Promise.all(Array.from({ length: N }, (_, i) => get(`/item/${i}`))));
const took = (rt.now - t0) / 1e6;
const ok = results.filter(Boolean).length;
const retrans = server.counters.get('RetransSegs') + client.counters.get('RetransSegs');
const lost = net.stats.lost;
console.log(`${ok} of ${N} requests done in ${took.toFixed(3)} virtual seconds over a 50 ms link losing ${lossPct}%: ${lost} packets lost, ${retrans} segments retransmitted`);

agent.destroy();
app.close();
await rt.runFor(1_000_000);
rt.dispose();
process.exit(ok === N && (lossPct === 0 || retrans > 0) ? 0 : 1);
