// Topic F, blind in-window attacks (RFC 5961) on a live upload: the facts each scenario states.
// The engine's rules are pinned against Linux 6.18 in test/tcp/rfc5961.test.ts and
// test/drill/rfc5961/ (drill --both: same).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../src/lab/runner.ts';
import { toJson, type LabJson } from '../../src/lab/export.ts';

const run = async (id: string, set: Record<string, string> = {}): Promise<LabJson> => toJson(await runScenario(id, { seed: 1, set }));
const ev = (t: LabJson, kind: string, f: Record<string, unknown> = {}) => t.events.filter((e) => e.kind === kind && Object.entries(f).every(([k, v]) => e[k] === v));
const cnt = (t: LabJson, host: string, name: string): number => t.counters[host]?.[name] ?? 0;
const notes = (t: LabJson) => ev(t, 'call', { call: 'note' }).map((e) => `${e['host']}: ${e['args']}`);
const path = (t: LabJson, host: string) => ev(t, 'state', { host }).filter((e) => e['socket'] !== '0.0.0.0:80').map((e) => e['to']);

test('blind-rst: 150 guessed in-window RSTs, 3 challenge ACKs 500 ms apart, the upload completes intact', async () => {
  const t = await run('blind-rst');
  const rsts = ev(t, 'segment', { host: 'server', dir: 'in', flags: 'R' });
  assert.equal(rsts.length, 150);
  assert.ok(rsts.every((e) => e['src'] === (rsts[0]!['src'] as string) && (e['src'] as string).startsWith('10.0.0.1:')), 'forged from the client\'s address');
  // The client never sent them: it sent no RST at all.
  assert.equal(ev(t, 'segment', { host: 'client', dir: 'out' }).filter((e) => (e['flags'] as string).includes('R')).length, 0);
  const challenges = ev(t, 'segment', { host: 'server', dir: 'out', note: 'challenge ACK' });
  assert.deepEqual(challenges.map((e) => e['t_ms']), [100, 600, 1100]);
  // Each reached the real client, acknowledging the server's RCV.NXT (what a real RST must carry).
  for (const c of challenges) assert.ok(ev(t, 'segment', { host: 'client', dir: 'in', ack: c['ack'], seq: c['seq'] }).length >= 1);
  assert.deepEqual([cnt(t, 'server', 'TcpExtTCPChallengeACK'), cnt(t, 'server', 'TcpExtTCPACKSkippedChallenge'), cnt(t, 'server', 'TcpEstabResets')], [3, 147, 0]);
  assert.equal(ev(t, 'error').length, 0);
  assert.deepEqual(path(t, 'server'), ['SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  assert.deepEqual(notes(t), ['server: the server read 1000000 bytes: exactly the bytes the client wrote']);
});

test('blind-rst: invalid_ratelimit_ms=0 (no per-socket limit): every guess gets its challenge ACK', async () => {
  const t = await run('blind-rst', { invalid_ratelimit_ms: '0' });
  assert.deepEqual([cnt(t, 'server', 'TcpExtTCPChallengeACK'), cnt(t, 'server', 'TcpExtTCPACKSkippedChallenge')], [150, 0]);
  assert.equal(ev(t, 'error').length, 0);
});

test('blind-rst: exact_guess=10: the 10th RST is at RCV.NXT and resets; both ends see ECONNRESET', async () => {
  const t = await run('blind-rst', { exact_guess: '10' });
  const rsts = ev(t, 'segment', { host: 'server', dir: 'in', flags: 'R' });
  assert.equal(rsts[9]!['t_ms'], 190);
  assert.deepEqual(ev(t, 'error').map((e) => [e['host'], e['code']]), [['server', 'ECONNRESET'], ['client', 'ECONNRESET']]);
  assert.equal(ev(t, 'error', { host: 'server' })[0]!['t_ms'], 190);
  assert.deepEqual([cnt(t, 'server', 'TcpEstabResets'), cnt(t, 'server', 'TcpExtTCPChallengeACK'), cnt(t, 'server', 'TcpExtTCPACKSkippedChallenge')], [1, 1, 8]);
  // The client's data in flight meets no socket: RSTs from the server's stack (tcp_v4_send_reset).
  assert.ok(cnt(t, 'server', 'TcpOutRsts') > 0);
  assert.deepEqual(path(t, 'server'), ['SYN_RECV', 'ESTABLISHED', 'CLOSED']);
});

test('blind-data-injection: 60 forged segments at RCV.NXT with unacceptable ACKs: dropped, 3 challenge ACKs, the stream unchanged', async () => {
  const t = await run('blind-data-injection');
  const forged = ev(t, 'segment', { host: 'server', dir: 'in', len: 100 });
  assert.equal(forged.length, 60);
  const challenges = ev(t, 'segment', { host: 'server', dir: 'out', note: 'challenge ACK' });
  assert.deepEqual(challenges.map((e) => e['t_ms']), [100, 600, 1100]);
  // A challenge ACK does not acknowledge the forged bytes: its ACK is the forged segment's SEQ.
  assert.equal(challenges[0]!['ack'], forged[0]!['seq']);
  assert.deepEqual([cnt(t, 'server', 'TcpExtTCPChallengeACK'), cnt(t, 'server', 'TcpExtTCPACKSkippedChallenge')], [3, 57]);
  assert.equal(ev(t, 'error').length, 0);
  assert.deepEqual(notes(t), ['server: the server read 1000000 bytes: exactly the bytes the client wrote']);
});

// slowloris runs Node's own node:http server (src/lab/node).
const runNode = async (id: string, set: Record<string, string> = {}): Promise<LabJson> => {
  const { nodeEnv } = await import('../../src/lab/node/index.ts');
  return toJson(await runScenario(id, { seed: 1, set, env: nodeEnv() }));
};

test('slowloris: 50 slow clients each get a 408 and a FIN 10-11 s after their first byte; the legitimate requests get 200', async () => {
  const t = await runNode('slowloris');
  const h = (f: Record<string, unknown>) => ev(t, 'http', f);
  const slow = h({ host: 'client', phase: 'response', status: 408 });
  assert.equal(slow.length, 50);
  assert.ok(slow.every((e) => e['detail'] === 'after 11 header bytes'), 'a byte a second for 11 s');
  // headersTimeout 10 s, checked every 1 s: the first 408s at the 11th check, the last at the 15th.
  assert.deepEqual([slow[0]!['t_ms'], slow[49]!['t_ms']], [11005, 15005]);
  const legit = h({ host: 'client', phase: 'response', status: 200 });
  assert.equal(legit.length, 13);
  assert.equal(h({ host: 'server', phase: 'request' }).length, 13, 'the slow requests never reach the handler');
  assert.equal(h({ phase: 'error' }).length, 0);
  // The 408 is on the wire, followed by the server's FIN; no reset anywhere.
  const out408 = ev(t, 'segment', { host: 'server', dir: 'out' }).filter((e) => e['len'] === 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n'.length);
  assert.equal(out408.length, 50);
  for (const r of out408) {
    const fin = ev(t, 'segment', { host: 'server', dir: 'out', socket: r['socket'], flags: 'F.' });
    assert.deepEqual(fin.map((e) => [e['t_ms'], e['seq']]), [[r['t_ms'], ((r['seq'] as number) + 51) >>> 0]], 'the FIN right after the 408');
  }
  assert.equal(t.events.filter((e) => e.kind === 'segment' && (e['flags'] as string).includes('R')).length, 0);
  assert.equal(ev(t, 'error').length, 0);
});

test('slowloris: headers_timeout_ms=0: no 408, the slow clients hold their connections to the end', async () => {
  const t = await runNode('slowloris', { headers_timeout_ms: '0' });
  assert.equal(ev(t, 'http', { phase: 'response', status: 408 }).length, 0);
  assert.equal(ev(t, 'http', { host: 'client', phase: 'response', status: 200 }).length, 13);
  assert.equal(t.sockets['server']!.filter((s) => s['state'] === 'ESTABLISHED').length, 50);
});
