// Topic F, the memory bounds under attack (src/lab/scenarios/memory.ts): the facts each scenario
// states. The rules themselves are pinned against Linux 6.18 in test/tcp/memory*.test.ts and
// test/drill (832 bytes charged per 1-byte out-of-order segment, seen with ss -tm on 6.18).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../src/lab/runner.ts';
import { toJson, type LabJson } from '../../src/lab/export.ts';

const run = async (id: string, set: Record<string, string> = {}): Promise<LabJson> => toJson(await runScenario(id, { seed: 1, set }));
const ev = (t: LabJson, kind: string, f: Record<string, unknown> = {}) => t.events.filter((e) => e.kind === kind && Object.entries(f).every(([k, v]) => e[k] === v));
const cnt = (t: LabJson, host: string, name: string): number => t.counters[host]?.[name] ?? 0;
const notes = (t: LabJson) => ev(t, 'call', { call: 'note' }).map((e) => `${e['t_ms']} ${e['host']}: ${e['args']}`);

test('ofo-flood: 30,000 forged 1-byte segments; the receive memory never exceeds sk_rcvbuf; prunes and drops counted; the upload arrives byte-exact', async () => {
  const t = await run('ofo-flood');
  // 449 one-byte segments x 832 bytes = 373568 = sk_rcvbuf: the peak is the bound itself, never above.
  assert.deepEqual(notes(t), [
    '1000 server: receive memory 366080 (peak 373568) of sk_rcvbuf 373568 bytes, 440 out-of-order ranges; forged so far 9010, PruneCalled 124, OfoPruned 117, TCPOFODrop 7',
    '2000 server: receive memory 373568 (peak 373568) of sk_rcvbuf 373568 bytes, 449 out-of-order ranges; forged so far 19010, PruneCalled 693, OfoPruned 504, TCPOFODrop 189',
    '3000 server: receive memory 366080 (peak 373568) of sk_rcvbuf 373568 bytes, 440 out-of-order ranges; forged so far 29010, PruneCalled 1096, OfoPruned 807, TCPOFODrop 289',
    '4000 server: receive memory 0 (peak 373568) of sk_rcvbuf 373568 bytes, 0 out-of-order ranges; forged so far 30000, PruneCalled 1167, OfoPruned 866, TCPOFODrop 301',
    '5000 server: receive memory 0 (peak 373568) of sk_rcvbuf 667238 bytes, 0 out-of-order ranges; forged so far 30000, PruneCalled 1167, OfoPruned 866, TCPOFODrop 301',
    '5903.437 server: the server read 2000000 bytes: exactly the bytes the client wrote',
  ]);
  assert.deepEqual(
    ['TcpExtTCPOFOQueue', 'TcpExtPruneCalled', 'TcpExtOfoPruned', 'TcpExtTCPOFODrop', 'TcpExtRcvPruned'].map((n) => cnt(t, 'server', n)),
    [29699, 1167, 866, 301, 301],
  );
  // The flood never reaches the client as data; it sees the SACK blocks of the forged bytes beyond its SND.NXT and discards them.
  assert.equal(cnt(t, 'client', 'TcpRetransSegs'), 0);
  assert.equal(cnt(t, 'client', 'TcpOutSegs'), 1385);
  assert.ok(cnt(t, 'client', 'TcpExtTCPSACKDiscard') > 0);
  assert.equal(ev(t, 'error').length, 0);
  // None of the flood in the trace: no 1-byte segment, no SACK block.
  assert.equal(ev(t, 'segment').filter((e) => e['len'] === 1 || String(e['options']).includes('sack')).length, 0);
  assert.deepEqual(ev(t, 'state', { host: 'server' }).filter((e) => e['socket'] !== '0.0.0.0:80').map((e) => e['to']), ['SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
});

test('ofo-flood: forged=0 is the plain upload: no prune at all, done in 3.3 s where the flooded one took 5.9 s (the window clamped at each prune)', async () => {
  const t = await run('ofo-flood', { forged: '0' });
  assert.equal(cnt(t, 'client', 'TcpOutSegs'), 1385, 'as many segments as under the flood: none of the flood\'s drops was the client\'s');
  assert.deepEqual(['TcpExtTCPOFOQueue', 'TcpExtPruneCalled', 'TcpExtOfoPruned', 'TcpExtTCPOFODrop'].map((n) => cnt(t, 'server', n)), [0, 0, 0, 0]);
  assert.equal(notes(t).at(-1), '3331.259 server: the server read 2000000 bytes: exactly the bytes the client wrote');
});
