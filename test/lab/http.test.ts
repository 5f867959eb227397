// The HTTP lifecycle scenarios (issue: sockets and HTTP): Node's own http and http2 modules on
// linger sockets, with the TCP-level facts each scenario states.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../src/lab/runner.ts';
import { toJson, type JsonEvent, type LabJson } from '../../src/lab/export.ts';
import { nodeEnv } from '../../src/lab/node/index.ts';

const run = async (id: string, set: Record<string, string> = {}): Promise<LabJson> => toJson(await runScenario(id, { seed: 1, set, env: nodeEnv() }));
const ev = (t: LabJson, kind: string, f: Record<string, unknown> = {}): JsonEvent[] =>
  t.events.filter((e) => e.kind === kind && Object.entries(f).every(([k, v]) => e[k] === v));
const syns = (t: LabJson) => ev(t, 'segment', { host: 'client', dir: 'out', flags: 'S' }).length;
const tw = (t: LabJson, host: string) => ev(t, 'state', { host, to: 'TIME_WAIT' }).length;
/** Which side sent the first FIN of each connection (by the client's 4-tuple label). */
function firstFin(t: LabJson): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of ev(t, 'segment', { dir: 'out' })) {
    if (!(e['flags'] as string).includes('F')) continue;
    const key = e['host'] === 'client' ? `${e['src']}` : `${e['dst']}`;
    out[key] ??= e['host'] as string;
  }
  return out;
}

test('http10-close: one connection per request, the server closes first and holds every TIME_WAIT', async () => {
  const t = await run('http10-close');
  assert.equal(syns(t), 3);
  assert.deepEqual(Object.values(firstFin(t)), ['server', 'server', 'server']);
  assert.equal(tw(t, 'server'), 3);
  assert.equal(tw(t, 'client'), 0);
  assert.equal(ev(t, 'http', { host: 'client', phase: 'response', status: 200 }).length, 3);
});

test('http10-keepalive: one connection for all requests, the client closes it', async () => {
  const t = await run('http10-keepalive');
  assert.equal(syns(t), 1);
  assert.equal(ev(t, 'http', { host: 'server', phase: 'request' }).length, 3);
  assert.deepEqual(Object.values(firstFin(t)), ['client']);
  assert.equal(tw(t, 'client'), 1);
  assert.equal(tw(t, 'server'), 0);
});

test('http11-keepalive: 100 requests per connection, the client closes after max, the server after idle', async () => {
  const t = await run('http11-keepalive');
  assert.equal(syns(t), 2);
  const reqs = ev(t, 'http', { host: 'client', phase: 'request' });
  assert.equal(reqs.length, 150);
  const conns = [...new Set(reqs.map((e) => e['connection']))];
  assert.equal(conns.length, 2);
  assert.equal(reqs.filter((e) => e['connection'] === conns[0]).length, 100);
  assert.equal(reqs.filter((e) => e['reusedSocket']).length, 148, 'all but the first on each connection');
  const fins = firstFin(t);
  assert.equal(fins[conns[0] as string ? (conns[0] as string).split('>')[0]! : ''], 'client', 'after Connection: close the agent closes');
  assert.equal(fins[(conns[1] as string).split('>')[0]!], 'server', 'the idle connection is closed by the server');
  // Node 20 closes the idle connection keepAliveTimeout + 1 s after the last response.
  const lastResp = ev(t, 'http', { host: 'client', phase: 'response' }).pop()!;
  const srvFin = ev(t, 'segment', { host: 'server', dir: 'out' }).filter((e) => (e['flags'] as string).includes('F')).pop()!;
  assert.equal((srvFin['t_ms'] as number) - ((lastResp['t_ms'] as number) - 5), 6000);
  assert.equal(ev(t, 'http', { phase: 'error' }).length, 0);
});

test('http11-connection-close: the client\'s FIN goes first, so TIME_WAIT moves to the client', async () => {
  const t = await run('http11-connection-close');
  assert.equal(syns(t), 3);
  assert.equal(tw(t, 'client'), 3);
  assert.equal(tw(t, 'server'), 0);
  // Without the half-close the server (which must close after Connection: close) holds them.
  const u = await run('http11-connection-close', { client_half_close: '0' });
  assert.equal(tw(u, 'client'), 0);
  assert.equal(tw(u, 'server'), 3);
});

test('http11-keepalive-race: requests fail with ECONNRESET on reused sockets; the fixed pool has none', async () => {
  const t = await run('http11-keepalive-race');
  const errs = ev(t, 'http', { host: 'client', phase: 'error' });
  assert.ok(errs.length > 50, `failures: ${errs.length}`);
  for (const e of errs) {
    assert.equal(e['error'], 'ECONNRESET');
    assert.equal(e['reusedSocket'], true, 'only reused sockets fail');
  }
  assert.equal(ev(t, 'http', { host: 'client', phase: 'response' }).length + errs.length, 1000);
  // The server resets the late request: data arriving after its close() (TCPAbortOnData).
  assert.equal(t.counters['server']!['TcpExtTCPAbortOnData'], errs.length);
  const f = await run('http11-keepalive-race-fixed');
  assert.equal(ev(f, 'http', { phase: 'error' }).length, 0);
  assert.equal(ev(f, 'error').length, 0);
  assert.equal(ev(f, 'http', { host: 'client', phase: 'response' }).length, 1000);
  assert.equal(f.counters['server']!['TcpExtTCPAbortOnData'] ?? 0, 0);
});

test('http2-multiplex-idle: 100 streams on one connection, GOAWAY then FIN, exactly one TIME_WAIT', async () => {
  const t = await run('http2-multiplex-idle');
  assert.equal(syns(t), 1);
  const resp = ev(t, 'http', { host: 'client', phase: 'response', status: 200 });
  assert.equal(resp.length, 100);
  assert.deepEqual([...new Set(resp.map((e) => e['connection']))], [ev(t, 'state', { host: 'client', to: 'SYN_SENT' })[0]!['socket']]);
  assert.equal(ev(t, 'state', { to: 'TIME_WAIT' }).length, 1);
  assert.equal(tw(t, 'server'), 1);
  assert.deepEqual(Object.values(firstFin(t)), ['server']);
});

test('short-connections-port-exhaustion: EADDRNOTAVAIL at (ports)/(rate) seconds; tw_reuse=1 or a server that closes first avoid it', async () => {
  const t = await run('short-connections-port-exhaustion');
  const errs = ev(t, 'error', { host: 'client', code: 'EADDRNOTAVAIL' });
  assert.equal(errs.length, 200, 'the 400 attempts of which 200 find every port in TIME_WAIT');
  assert.equal(errs[0]!['t_ms'], 20001, 'the 201st connection, 20 s in: 200 ports / 10 per second');
  assert.equal(tw(t, 'client'), 200);
  const r = await run('short-connections-port-exhaustion', { tw_reuse: '1' });
  assert.equal(ev(r, 'error').length, 0);
  // connect() takes the first usable port in its scan order, a free one or a TIME_WAIT over
  // 1 s old, so reuse starts before the range is exhausted: 300 of the 400.
  assert.equal(r.counters['client']!['TcpExtTWRecycled'], 300);
  const s = await run('short-connections-port-exhaustion', { server_closes_first: '1' });
  assert.equal(ev(s, 'error').length, 0);
  assert.equal(tw(s, 'client'), 0);
  assert.equal(tw(s, 'server'), 400);
});

test('close-wait-leak: the server\'s sockets stay in CLOSE_WAIT, the clients\' FIN_WAIT2 die after 60 s', async () => {
  const t = await run('close-wait-leak');
  assert.deepEqual(t.sockets['server']!.filter((s) => s.state !== 'LISTEN').map((s) => s.state), new Array(20).fill('CLOSE_WAIT'));
  assert.equal(t.sockets['client']!.length, 0);
  // Each client closed after its response: orphan FIN_WAIT2 entries that expire (FIN_WAIT2 -> CLOSED).
  assert.equal(ev(t, 'state', { host: 'client', from: 'FIN_WAIT2', to: 'CLOSED' }).length, 20);
});

test('http-versions-compared: 100 requests cost 100 connections (1.0), one (1.1), one with all streams concurrent (2)', async () => {
  const t = await run('http-versions-compared');
  const phase = (prefix: string) => {
    const reqs = ev(t, 'http', { host: 'client', phase: 'request' }).filter((e) => (e['path'] as string).startsWith(prefix));
    const resps = ev(t, 'http', { host: 'client', phase: 'response', status: 200 }).filter((e) => (e['path'] as string).startsWith(prefix));
    const conns = new Set(resps.map((e) => e['connection'] as string));
    // TIME_WAIT entries of this phase's connections, on each side (the server's label is the mirror).
    const mirror = (l: string) => l.split('>').reverse().join('>');
    const twOf = (host: string, labels: Set<string>) => ev(t, 'state', { host, to: 'TIME_WAIT' }).filter((e) => labels.has(e['socket'] as string)).length;
    const ms = (resps.at(-1)!['t_ms'] as number) - (reqs[0]!['t_ms'] as number);
    return { requests: reqs.length, responses: resps.length, connections: conns.size, twClient: twOf('client', conns), twServer: twOf('server', new Set([...conns].map(mirror))), ms };
  };
  // 5 ms each way: a handshake and a request-response are one RTT (10 ms) each.
  assert.deepEqual(phase('/10/'), { requests: 100, responses: 100, connections: 100, twClient: 0, twServer: 100, ms: 2000 - 10 });
  assert.deepEqual(phase('/11/'), { requests: 100, responses: 100, connections: 1, twClient: 1, twServer: 0, ms: 1010 - 10 });
  // HTTP/2: the handshake, then the preface, SETTINGS and all 100 HEADERS frames in one flight: two RTTs.
  assert.deepEqual(phase('/2/'), { requests: 100, responses: 100, connections: 1, twClient: 1, twServer: 0, ms: 20 });
  assert.equal(t.counters['client']!['TcpActiveOpens'], 102);
  assert.equal(t.counters['server']!['TcpExtTW'], 100);
});
