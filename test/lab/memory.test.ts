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

const rsts = (t: LabJson) => ev(t, 'segment', { host: 'client', dir: 'out' }).filter((e) => String(e['flags']).startsWith('R'));
const port = (e: Record<string, unknown>) => String(e['src']).split(':')[1];

test('orphan-flood: 48 clients close with data queued behind a zero window; tcp_max_orphans 16: 36 reset (28 at close, 8 at their probes), 12 orphans stay', async () => {
  const t = await run('orphan-flood');
  const closes = ev(t, 'call', { call: 'close', host: 'client' });
  assert.equal(closes.length, 48);
  const r = rsts(t);
  assert.equal(r.length, 36);
  assert.ok(r.every((e) => e['note'] === 'too many orphaned sockets' && e['flags'] === 'R.'));
  // The orphan cache (tcp_orphan_update, every 100 ms) first sees more than 16 at 600 ms (20 closed
  // 400-590 ms): from then each close() resets at once (tcp_close -> tcp_check_oom).
  const closedAt = new Map(closes.map((e) => [String(e['socket']).split('>')[0]!.split(':')[1], e['t_ms']]));
  const atClose = r.filter((e) => closedAt.get(port(e)) === e['t_ms']);
  assert.equal(atClose.length, 28);
  assert.deepEqual([atClose[0]!['t_ms'], atClose.at(-1)!['t_ms']], [600, 870]);
  // The 8 oldest orphans are reset by their zero-window probe timers (tcp_out_of_resources), still
  // reading the 800 ms copy (20), until the 900 ms copy sees 12.
  const atProbe = r.filter((e) => closedAt.get(port(e)) !== e['t_ms']);
  assert.deepEqual(atProbe.map((e) => e['t_ms']), [828, 838, 848, 858, 868, 878, 888, 898]);
  assert.deepEqual(atProbe.map((e) => closedAt.get(port(e))), [400, 410, 420, 430, 440, 450, 460, 470]);
  assert.deepEqual([cnt(t, 'client', 'TcpExtTCPAbortOnMemory'), cnt(t, 'client', 'TcpOutRsts')], [36, 36]);
  assert.equal(ev(t, 'error', { host: 'server', code: 'ECONNRESET' }).length, 36);
  // net_info_ratelimited: 10 lines, the first 10 resets'.
  const lines = ev(t, 'drop', { host: 'client' });
  assert.equal(lines.length, 10);
  assert.ok(lines.every((e) => e['reason'] === 'kernel: TCP: too many orphaned sockets'));
  assert.deepEqual(notes(t).at(-1), '5000 client: orphans 12 (as tcp_max_orphans sees them: 12, limit 16); TCPAbortOnMemory 36; sockets: FIN_WAIT1 12');
});

test('orphan-flood: max_orphans at its default (131072): none reset, all 48 orphans stay in FIN_WAIT1 probing', async () => {
  const t = await run('orphan-flood', { max_orphans: '131072' });
  assert.equal(rsts(t).length, 0);
  assert.equal(cnt(t, 'client', 'TcpExtTCPAbortOnMemory'), 0);
  assert.deepEqual(notes(t).at(-1), '5000 client: orphans 48 (as tcp_max_orphans sees them: 48, limit 131072); TCPAbortOnMemory 0; sockets: FIN_WAIT1 48');
});

test('sack-abuse: MSS 1 floored to 48 (tcp_min_snd_mss); crafted SACK blocks inside segments mark nothing; the queue stays within the send buffer; 200000 bytes arrive', async () => {
  const t = await run('sack-abuse');
  const data = ev(t, 'segment', { host: 'server', dir: 'out' }).filter((e) => (e['len'] as number) > 0 && !String(e['flags']).includes('F'));
  assert.ok(data.length > 100);
  assert.ok(data.every((e) => e['len'] === 48), 'every data segment 48 bytes');
  // The client's ACKs carry the crafted blocks: [seq + 1, end - 1) of each of the last 4 segments.
  const acks = ev(t, 'segment', { host: 'server', dir: 'in', flags: '.' }).filter((e) => String(e['options']).includes('sack'));
  assert.ok(acks.length > 50);
  // The first three: still at the first data byte, a block inside each segment received (newest first).
  const d0 = data[0]!['seq'] as number;
  const inside = (k: number) => `{${(d0 + 48 * k + 1) >>> 0}:${(d0 + 48 * k + 47) >>> 0}}`;
  assert.deepEqual(acks.slice(0, 3).map((e) => [e['ack'], e['options']]), [
    [d0, `nop,nop,sack 1 ${inside(0)}`],
    [d0, `nop,nop,sack 2 ${inside(1)}${inside(0)}`],
    [d0, `nop,nop,sack 3 ${inside(2)}${inside(1)}${inside(0)}`],
  ]);
  // 200000 / 48 = 4166.67: 4167 data segments, no retransmission; the handshake's ACK, 4167 ACKs and the FIN in; SYN-ACK, data, FIN out.
  assert.deepEqual([cnt(t, 'server', 'TcpOutSegs'), cnt(t, 'server', 'TcpInSegs'), cnt(t, 'server', 'TcpRetransSegs')], [4169, 4169, 0]);
  assert.equal(cnt(t, 'server', 'TcpExtTCPWqueueTooBig'), 0);
  assert.equal(cnt(t, 'server', 'TcpExtTCPSACKDiscard'), 0, 'the blocks are valid: they lie between SND.UNA and SND.NXT');
  assert.deepEqual(notes(t), [
    '1000 server: retransmission queue 117 segments, 5616 bytes in flight; send queue 134624 of 239616 bytes; MSS 48; client received 65952',
    '2000 server: retransmission queue 188 segments, 9024 bytes in flight; send queue 66416 of 385024 bytes; MSS 48; client received 134160',
    '3000 server: retransmission queue 0 segments, 0 bytes in flight; send queue 0 of 526336 bytes; MSS 48; client received 200000',
    '4000 server: retransmission queue 0 segments, 0 bytes in flight; send queue 0 of 526336 bytes; MSS 48; client received 200000',
    '5000 server: retransmission queue 0 segments, 0 bytes in flight; send queue 0 of 526336 bytes; MSS 48; client received 200000',
    '6000 server: retransmission queue 0 segments, 0 bytes in flight; send queue 0 of 526336 bytes; MSS 48; client received 200000',
    '6999.999 server: the client received 200000 bytes in order of 200000',
  ]);
  assert.deepEqual(ev(t, 'state', { host: 'server' }).map((e) => e['to']), ['LISTEN', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT']);
});

test('sack-abuse: mss=536 is taken as announced: 536-byte segments', async () => {
  const t = await run('sack-abuse', { mss: '536' });
  const data = ev(t, 'segment', { host: 'server', dir: 'out' }).filter((e) => (e['len'] as number) > 0 && !String(e['flags']).includes('F'));
  assert.ok(data.length > 10 && data.every((e) => e['len'] === 536));
  assert.equal(notes(t).at(-1), `${t.events.filter((e) => e.kind === 'call' && e['call'] === 'note').at(-1)!['t_ms']} server: the client received 200000 bytes in order of 200000`);
});
