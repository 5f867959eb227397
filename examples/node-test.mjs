// linger in a node:test suite: each test builds its own simulated network, runs ordinary
// node:http code on it in virtual time and asserts what happened at the TCP level.
//
//   node --test node-test.mjs     (or plain: node node-test.mjs)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network, Host, Runtime, bindNet } from 'linger';
import { bindHttp } from 'linger/http';

/** A client and a server host 10 ms apart; disposed after the test. */
function world(t, seed = 1) {
  const net = new Network({ seed });
  const rt = new Runtime(net);
  const client = rt.addHost(new Host({ name: 'client', addresses: ['10.0.0.1'], clock: net.clock, seed }));
  const server = rt.addHost(new Host({ name: 'server', addresses: ['10.0.0.2'], clock: net.clock, seed: seed + 1 }));
  net.link('client', 'server', { latencyUs: 5_000 });
  t.after(() => rt.dispose());
  return { net, rt, client, server, http: bindHttp(bindNet(client, rt)), serverHttp: bindHttp(bindNet(server, rt)) };
}

const get = (http, agent, path) => new Promise((resolve, reject) => {
  const req = http.get({ host: 'server', port: 80, path, agent }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => resolve({ body, reused: req.reusedSocket }));
  });
  req.on('error', reject);
});

test('an idle keep-alive connection is closed by the server after keepAliveTimeout, and the server holds the TIME_WAIT', async (t) => {
  const w = world(t);
  const app = w.serverHttp.createServer((req, res) => res.end('hi'));
  app.keepAliveTimeout = 30_000;
  app.listen(80);
  const agent = new w.http.Agent({ keepAlive: true });
  const r = await w.rt.wait(get(w.http, agent, '/'));
  assert.equal(r.body, 'hi');
  await w.rt.runFor(29_000_000); // 29 virtual seconds, a few real milliseconds
  assert.equal(w.server.sockets().filter((s) => s.state === 'ESTABLISHED').length, 1);
  await w.rt.runFor(3_000_000); // Node 20 closes at keepAliveTimeout + 1 s
  assert.deepEqual(w.server.sockets().filter((s) => s.state !== 'LISTEN').map((s) => s.state), ['TIME_WAIT']);
  assert.equal(w.client.sockets().length, 0);
  agent.destroy();
  app.close();
});

test('a request after 2 virtual hours of idle reuses nothing: the pool timed out first', async (t) => {
  const w = world(t);
  const app = w.serverHttp.createServer((req, res) => res.end(req.url));
  app.keepAliveTimeout = 5_000;
  app.listen(80);
  const agent = new w.http.Agent({ keepAlive: true, timeout: 4_000 });
  assert.equal((await w.rt.wait(get(w.http, agent, '/a'))).reused, false);
  await w.rt.runFor(7_200_000_000);
  const r = await w.rt.wait(get(w.http, agent, '/b'));
  assert.deepEqual(r, { body: '/b', reused: false });
  assert.equal(w.client.counters.get('ActiveOpens'), 2);
  agent.destroy();
  app.close();
});
