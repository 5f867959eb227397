// The lab catalogue, scenario by scenario: each test runs a scenario (seed 1) and asserts the key
// facts its `explain` and `notice` name, exactly, from the JSON trace: state paths, flags, sequence
// numbers, times that follow from Linux's timers, errno codes and nstat counters.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../src/lab/runner.ts';
import { toJson, type JsonEvent, type LabJson } from '../../src/lab/export.ts';

type Filter = Record<string, unknown>;

const run = async (id: string, set: Record<string, string> = {}): Promise<LabJson> => toJson(await runScenario(id, { seed: 1, set }));
const of = (t: LabJson, kind: string, f: Filter = {}) => t.events.filter((e) => e.kind === kind && Object.entries(f).every(([k, v]) => e[k] === v));
const segs = (t: LabJson, f: Filter = {}) => of(t, 'segment', f);
const states = (t: LabJson, f: Filter = {}) => of(t, 'state', f);
const errors = (t: LabJson, f: Filter = {}) => of(t, 'error', f);
const calls = (t: LabJson, f: Filter = {}) => of(t, 'call', f);
const timers = (t: LabJson, f: Filter = {}) => of(t, 'timer', f);
const ms = (e: JsonEvent | undefined): number => {
  assert.ok(e, 'event missing');
  return e.t_ms;
};
const num = (e: JsonEvent | undefined, k: string): number => {
  assert.ok(e, `event missing (wanted ${k})`);
  return e[k] as number;
};
const str = (e: JsonEvent | undefined, k: string): string => {
  assert.ok(e, `event missing (wanted ${k})`);
  return e[k] as string;
};
const has = (flag: string) => (e: JsonEvent) => (e['flags'] as string).includes(flag);
const ctr = (t: LabJson, host: string, name: string): number => t.counters[host]?.[name] ?? 0;
/** The states one socket (4-tuple label) went through, in order. */
const path = (t: LabJson, host: string, socket: string) => states(t, { host, socket }).map((e) => e['to']);
/** The client sockets, in the order of their first SYN. */
const clientConns = (t: LabJson, host = 'client') => [...new Set(segs(t, { host, dir: 'out', flags: 'S' }).map((e) => e['socket'] as string))];
/** The peer's label for a connection: a>b becomes b>a. */
const flip = (label: string) => label.split('>').reverse().join('>');
const flagsOut = (t: LabJson, host: string, socket: string) => segs(t, { host, dir: 'out', socket }).map((e) => e['flags']);
const results = (t: LabJson, f: Filter) => calls(t, f).map((e) => e['result']);
const notes = (t: LabJson, host: string) => calls(t, { host, call: 'note' }).map((e) => e['args'] as string);
const diffs = (xs: number[]) => xs.slice(1).map((x, i) => x - xs[i]!);

// ---- Topic A: opening ----

test('simultaneous-open: crossed SYNs, both sides SYN_SENT -> SYN_RECV -> ESTABLISHED, no listener', async () => {
  const t = await run('simultaneous-open');
  const a = '10.0.0.1:5000>10.0.0.2:6000';
  const b = flip(a);
  assert.deepEqual(states(t, { host: 'client' }).map((e) => [e['socket'], e['from'], e['to']]), [
    [a, 'CLOSED', 'SYN_SENT'], [a, 'SYN_SENT', 'SYN_RECV'], [a, 'SYN_RECV', 'ESTABLISHED'],
  ]);
  assert.deepEqual(states(t, { host: 'server' }).map((e) => [e['socket'], e['from'], e['to']]), [
    [b, 'CLOSED', 'SYN_SENT'], [b, 'SYN_SENT', 'SYN_RECV'], [b, 'SYN_RECV', 'ESTABLISHED'],
  ]);
  // Each side's SYN arrives one latency later (6 ms), the SYN-ACKs another latency later (11 ms).
  for (const h of ['client', 'server']) {
    assert.equal(ms(states(t, { host: h, to: 'SYN_RECV' })[0]), 6);
    assert.equal(ms(states(t, { host: h, to: 'ESTABLISHED' })[0]), 11);
  }
  const withSyn = segs(t, { dir: 'out' }).filter(has('S'));
  assert.deepEqual(withSyn.map((e) => `${e.host} ${e['flags']}`), ['client S', 'server S', 'server S.', 'client S.']);
  const [synA] = segs(t, { host: 'client', dir: 'out', flags: 'S' });
  const [synB] = segs(t, { host: 'server', dir: 'out', flags: 'S' });
  const [saA] = segs(t, { host: 'client', dir: 'out', flags: 'S.' });
  const [saB] = segs(t, { host: 'server', dir: 'out', flags: 'S.' });
  // tcp_send_synack on a full socket resends its own SYN (same ISN) with ACK set: ack = peer ISN + 1.
  assert.equal(num(saA, 'seq'), num(synA, 'seq'));
  assert.equal(num(saA, 'ack'), (num(synB, 'seq') + 1) >>> 0);
  assert.equal(num(saB, 'seq'), num(synB, 'seq'));
  assert.equal(num(saB, 'ack'), (num(synA, 'seq') + 1) >>> 0);
  for (const [h, sock, peerIsn] of [['client', a, num(synB, 'seq')], ['server', b, num(synA, 'seq')]] as const) {
    assert.deepEqual(flagsOut(t, h, sock), ['S', 'S.', '.', 'P.', '.']);
    // Linux (since 'tcp: Don't drop SYN+ACK for simultaneous connect()', 2024) lets the SYN-ACK through in SYN_RECV;
    // its SYN was already received, so it is a duplicate: immediate ACK with a D-SACK of the peer's ISN (DelayedACKLost).
    const ack = segs(t, { host: h, dir: 'out', socket: sock, flags: '.' })[0]!;
    assert.equal(ms(ack), 11);
    assert.match(str(ack, 'options'), new RegExp(`sack 1 \\{${peerIsn}:${(peerIsn + 1) >>> 0}\\}`));
    assert.equal(ctr(t, h, 'TcpActiveOpens'), 1, 'both sides opened actively');
    assert.equal(ctr(t, h, 'TcpPassiveOpens'), 0, 'no listener anywhere');
    assert.equal(ctr(t, h, 'TcpExtDelayedACKLost'), 1);
    assert.deepEqual(results(t, { host: h, call: 'read' }), ['21'], 'the one connection carries data both ways');
    assert.deepEqual(t.sockets[h]!.map((s) => s.state), ['ESTABLISHED']);
  }
  assert.equal(segs(t, {}).filter(has('R')).length, 0);
});

test('connect-refused: R. seq 0 ack SYN+1 from the closed port, ECONNREFUSED one RTT later', async () => {
  for (const port of [81, 443]) {
    const t = await run('connect-refused', { port: String(port) });
    const [c] = clientConns(t);
    assert.ok(c!.endsWith(`>10.0.0.2:${port}`));
    const syn = segs(t, { host: 'client', dir: 'out', flags: 'S' });
    assert.equal(syn.length, 1, 'no retransmission: the RST ends it');
    const out = segs(t, { host: 'server', dir: 'out' });
    assert.equal(out.length, 1);
    // RFC 9293 §3.10.7.1 / tcp_v4_send_reset: the SYN had no ACK, so RST|ACK with seq 0, ack = SEG.SEQ + SEG.LEN (+1 for SYN).
    assert.equal(out[0]!['flags'], 'R.');
    assert.equal(num(out[0], 'seq'), 0);
    assert.equal(num(out[0], 'ack'), (num(syn[0], 'seq') + 1) >>> 0);
    assert.equal(num(out[0], 'win'), 0);
    assert.equal(states(t, { host: 'server' }).length, 0, 'no socket on the server at all');
    const err = errors(t, { host: 'client' });
    assert.deepEqual(err.map((e) => [e['code'], e['errno']]), [['ECONNREFUSED', 111]]);
    assert.equal(ms(err[0]) - ms(syn[0]), 10, 'one round trip (2 x 5 ms)');
    assert.deepEqual(path(t, 'client', c!), ['SYN_SENT', 'CLOSED']);
    assert.deepEqual(results(t, { host: 'client', call: 'read' }), ['ECONNREFUSED']);
    // tcp_done in SYN_SENT counts AttemptFails; tcp_v4_send_reset counts OutRsts.
    assert.equal(ctr(t, 'client', 'TcpAttemptFails'), 1);
    assert.equal(ctr(t, 'client', 'TcpActiveOpens'), 1);
    assert.equal(ctr(t, 'server', 'TcpOutRsts'), 1);
    assert.equal(t.sockets['client']!.length + t.sockets['server']!.length, 0);
  }
});

test('syn-to-dead-host: SYN retries (linear then exponential), then ETIMEDOUT', async () => {
  const cases: { set: Record<string, string>; at: number[]; giveUp: number }[] = [
    // Linux 6.x: tcp_syn_linear_timeouts (4) retries 1 s apart, then tcp_syn_retries (6) with doubling RTO.
    { set: {}, at: [0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67], giveUp: 131 },
    // The classic schedule: 1 + 2 + 4 + ... + 64 s.
    { set: { linear_timeouts: '0' }, at: [0, 1, 3, 7, 15, 31, 63], giveUp: 127 },
    { set: { linear_timeouts: '0', syn_retries: '2' }, at: [0, 1, 3], giveUp: 7 },
  ];
  for (const { set, at, giveUp } of cases) {
    const t = await run('syn-to-dead-host', set);
    const syns = segs(t, { host: 'client', dir: 'out' });
    assert.ok(syns.every((e) => e['flags'] === 'S' && e['seq'] === syns[0]!['seq']), 'the same SYN every time');
    assert.deepEqual(syns.map((e) => ms(e)), at.map((s) => s * 1000), JSON.stringify(set));
    assert.deepEqual(syns.slice(1).map((e) => e['note']), syns.slice(1).map(() => 'SYN retransmission'));
    assert.equal(of(t, 'drop').length, at.length, 'every SYN is lost');
    const err = errors(t, { host: 'client' });
    assert.deepEqual(err.map((e) => [e['code'], e['errno'], ms(e)]), [['ETIMEDOUT', 110, giveUp * 1000]]);
    const [c] = clientConns(t);
    assert.deepEqual(path(t, 'client', c!), ['SYN_SENT', 'CLOSED']);
    assert.equal(ms(states(t, { host: 'client', to: 'CLOSED' })[0]), giveUp * 1000);
    assert.equal(ctr(t, 'client', 'TcpExtTCPSynRetrans'), at.length - 1);
    assert.equal(ctr(t, 'client', 'TcpRetransSegs'), at.length - 1);
    // tcp_write_err counts TCPAbortOnTimeout in any state; tcp_done in SYN_SENT counts AttemptFails.
    assert.equal(ctr(t, 'client', 'TcpExtTCPAbortOnTimeout'), 1);
    assert.equal(ctr(t, 'client', 'TcpAttemptFails'), 1);
    assert.equal(Object.keys(t.counters['server']!).length, 0, 'the server never heard anything');
  }
});

// ---- Topic B: closing ----

test('close-vs-shutdown: close() draws R on the response (server EPIPE); shutdown(SHUT_WR) reads it all', async () => {
  for (const delay of [100, 1]) {
    const t = await run('close-vs-shutdown', { response_delay_ms: String(delay) });
    const [c1, c2] = clientConns(t);
    // Client 1: close() after the request. FIN, then the response data meets a closed socket: R.
    assert.deepEqual(path(t, 'client', c1!), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSED']);
    assert.deepEqual(flagsOut(t, 'client', c1!), ['S', '.', 'P.', 'F.', 'R']);
    const resp = segs(t, { host: 'client', dir: 'in', socket: c1, flags: 'P.' })[0]!;
    const rst = segs(t, { host: 'client', dir: 'out', socket: c1, flags: 'R' })[0]!;
    assert.equal(ms(rst), ms(resp), 'the reset answers the response at once');
    // The RST is built from the offending segment (tcp_v4_send_reset): seq = its ACK, no ACK bit.
    assert.equal(num(rst, 'seq'), num(resp, 'ack'));
    assert.equal(ctr(t, 'client', 'TcpOutRsts'), 1);
    if (delay === 100) {
      // The response comes after FIN_WAIT2: the orphan was already a FIN_WAIT2 timewait minisock
      // (tcp_fin_timeout 60 s <= TCP_TIMEWAIT_LEN), which answers new data with TCP_TW_RST and
      // counts no TCPAbortOnData. TW counts both minisocks at creation (this one and c2's TIME_WAIT).
      assert.equal(ctr(t, 'client', 'TcpExtTCPAbortOnData'), 0);
      assert.equal(ctr(t, 'client', 'TcpExtTW'), 2);
    } else {
      // The response carries the ACK of the FIN and arrives in FIN_WAIT1 on the full socket:
      // tcp_rcv_state_process sees data after close(), counts TCPAbortOnData and resets.
      assert.equal(ctr(t, 'client', 'TcpExtTCPAbortOnData'), 1);
      assert.equal(ctr(t, 'client', 'TcpExtTW'), 1);
      assert.equal(ms(states(t, { host: 'client', socket: c1, to: 'FIN_WAIT2' })[0]), ms(resp));
    }
    // The server: the RST finds it in CLOSE_WAIT, so tcp_reset reports EPIPE, and its next write fails with EPIPE.
    const s1 = flip(c1!);
    assert.deepEqual(path(t, 'server', s1), ['SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'CLOSED']);
    assert.deepEqual(errors(t, { host: 'server', socket: s1 }).map((e) => [e['code'], e['errno'], ms(e)]), [['EPIPE', 32, ms(rst) + 5]]);
    assert.deepEqual(results(t, { host: 'server', socket: s1, call: 'write' }), ['16', 'EPIPE']);
    assert.equal(ctr(t, 'server', 'TcpEstabResets'), 1, 'CLOSE_WAIT -> CLOSE counts EstabResets');
    // Client 2: shutdown(SHUT_WR). Its FIN goes out, it still reads both parts of the response, then EOF.
    assert.deepEqual(path(t, 'client', c2!), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED']);
    assert.deepEqual(results(t, { host: 'client', socket: c2, call: 'read' }), ['16', '16', '0 (EOF)']);
    assert.deepEqual(path(t, 'server', flip(c2!)), ['SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
    assert.equal(segs(t, { socket: c2 }).concat(segs(t, { socket: flip(c2!) })).filter(has('R')).length, 0, 'no reset on connection 2');
    const tw = states(t, { host: 'client', socket: c2, to: 'TIME_WAIT' })[0]!;
    assert.equal(ms(states(t, { host: 'client', socket: c2, from: 'TIME_WAIT' })[0]) - ms(tw), 60_000);
    assert.equal(errors(t, { host: 'client' }).length, 0);
  }
});

test('shared-socket: close() by one of two owners sends nothing; shutdown() sends the FIN at once', async () => {
  const t = await run('shared-socket');
  const [c1, c2] = clientConns(t);
  const fins = (c: string) => segs(t, { host: 'client', dir: 'out', socket: c }).filter(has('F'));
  // Connection 1: dup() at 100 ms, close() at 200 ms drops one reference only.
  const firstClose = calls(t, { host: 'client', socket: c1, call: 'close' });
  assert.equal(ms(firstClose[0]), 200);
  assert.match(str(firstClose[0], 'result'), /^refs=1: other owners remain, nothing sent$/);
  const out1 = segs(t, { host: 'client', dir: 'out', socket: c1 });
  assert.equal(out1.filter((e) => ms(e) >= 200 && ms(e) < 300).length, 0, 'nothing on the wire at the first close()');
  assert.equal(out1.filter((e) => ms(e) === 300 && e['flags'] === 'P.' && e['len'] === 24).length, 1, 'the other owner still writes');
  assert.deepEqual(fins(c1!).map((e) => ms(e)), [400], 'the FIN leaves at the last owner\'s close()');
  assert.equal(ms(states(t, { host: 'client', socket: c1, to: 'FIN_WAIT1' })[0]), 400);
  assert.deepEqual(path(t, 'client', c1!), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED']);
  assert.deepEqual(results(t, { host: 'server', socket: flip(c1!), call: 'read' }), ['24', '0 (EOF)']);
  // Connection 2: shutdown(SHUT_WR) at 1200 ms acts on the socket although another owner holds it.
  assert.equal(ms(calls(t, { host: 'client', socket: c2, call: 'shutdown' })[0]), 1200);
  assert.deepEqual(fins(c2!).map((e) => ms(e)), [1200]);
  assert.equal(ms(states(t, { host: 'client', socket: c2, to: 'FIN_WAIT1' })[0]), 1200);
  assert.equal(ms(states(t, { host: 'server', socket: flip(c2!), to: 'CLOSE_WAIT' })[0]), 1205, 'the server sees EOF while both owners still hold it');
  assert.equal(segs(t, { host: 'client', dir: 'out', socket: c2 }).filter((e) => ms(e) >= 1300).length, 0, 'the closes at 1300 ms add nothing');
  assert.equal(segs(t, {}).filter(has('R')).length, 0);
  assert.equal(ctr(t, 'client', 'TcpExtTW'), 2);
});

test('close-behind-zero-window: FIN_WAIT1 at close(), window probes with backoff, every byte then the FIN', async () => {
  for (const readAt of [10_000, 2_000]) {
    const t = await run('close-behind-zero-window', { read_after_ms: String(readAt) });
    const [c] = clientConns(t);
    const s = flip(c!);
    const close = calls(t, { host: 'server', socket: s, call: 'close' })[0]!;
    assert.equal(ms(states(t, { host: 'server', socket: s, to: 'FIN_WAIT1' })[0]), ms(close), 'FIN_WAIT1 at the close() call');
    assert.ok(ms(close) < 100);
    assert.deepEqual(path(t, 'server', s), ['SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED']);
    const out = segs(t, { host: 'server', dir: 'out', socket: s });
    const fins = out.filter(has('F'));
    assert.equal(fins.length, 1);
    assert.ok(ms(fins[0]) > readAt && ms(fins[0]) < readAt + 100, 'the FIN waits until the reader opens the window');
    // The client's receive buffer fills: it advertises a zero window (TCPToZeroWindowAdv) and reopens it later.
    const zero = segs(t, { host: 'client', dir: 'out', socket: c, win: 0 });
    assert.ok(zero.length > 0 && ms(zero[0]) < 1000);
    assert.equal(ctr(t, 'client', 'TcpExtTCPToZeroWindowAdv'), 1);
    assert.equal(ctr(t, 'client', 'TcpExtTCPFromZeroWindowAdv'), 1);
    // First persist expiry: the last advertised window still had room (win 6 << 7 = 768 bytes:
    // the client's window follows its 32768-byte tcp_rmem[1] less the truesize charged for the
    // unread segments, as 6.18's does): tcp_write_wakeup sends what fits, with PSH.
    const dataProbe = out.filter((e) => e['note'] === 'window probe with data');
    assert.equal(dataProbe.length, 1);
    assert.equal(dataProbe[0]!['flags'], 'P.');
    assert.equal(num(dataProbe[0], 'len'), 768);
    // Then zero-window probes: bare ACKs with SEQ = SND.UNA - 1, at growing intervals (backoff).
    const probes = out.filter((e) => e['note'] === 'window probe');
    const sndUna = (num(dataProbe[0], 'seq') + 768) >>> 0;
    for (const p of probes) {
      assert.equal(p['flags'], '.');
      assert.equal(p['len'], 0);
      assert.equal(num(p, 'seq'), (sndUna - 1) >>> 0);
    }
    const at = probes.map((e) => ms(e));
    assert.equal(probes.length, readAt === 10_000 ? 5 : 3);
    // tcp_xmit_probe_skb(..., LINUX_MIB_TCPWINPROBE): each bare probe counts, the data probe does not.
    assert.equal(ctr(t, 'server', 'TcpExtTCPWinProbe'), probes.length);
    assert.ok(at.every((x) => x < readAt));
    assert.ok(diffs(at).every((d, i, a) => i === 0 || d > a[i - 1]!), `growing intervals: ${at}`);
    // Every byte arrives, none retransmitted, and the FIN follows the last byte.
    const [synack] = segs(t, { host: 'server', dir: 'out', socket: s, flags: 'S.' });
    const data = out.filter((e) => num(e, 'len') > 0);
    assert.equal(data.reduce((n, e) => n + num(e, 'len'), 0), 200_000);
    assert.equal((num(fins[0], 'seq') + num(fins[0], 'len')) >>> 0, (num(synack, 'seq') + 1 + 200_000) >>> 0);
    const reads = results(t, { host: 'client', socket: c, call: 'read' });
    assert.equal(reads.reduce((n: number, r) => n + (/^\d+$/.test(r as string) ? Number(r) : 0), 0), 200_000);
    assert.equal(reads[reads.length - 1], '0 (EOF)');
    assert.equal(ctr(t, 'server', 'TcpRetransSegs'), 0);
    assert.equal(segs(t, {}).filter(has('R')).length, 0);
  }
});

test('close-behind-zero-window: an ACK answering a zero-window probe re-arms the probe timer (tcp_ack_probe)', async () => {
  const t = await run('close-behind-zero-window');
  const probes = segs(t, { host: 'server', dir: 'out', note: 'window probe' }).map((e) => ms(e));
  // RTO 216 ms (SRTT from an RTT sample on every ACK of the 200 kB, delayed ACKs included, as
  // tcp_clean_rtx_queue takes them). The data probe's answer arrives at 302 -> the first bare
  // probe at 302 + 216 = 518 (backoff -> 1); its answer arrives at 528 -> re-armed to 528 + 432 = 960.
  // The client's answer to that one is rate-limited (tcp_invalid_ratelimit, 500 ms since 523): no
  // re-arm, 960 + 864 = 1824. Answer arrives 1834 -> 1834 + 1728 = 3562; answer 3572 -> 3572 + 3456 = 7028.
  assert.deepEqual(probes, [518, 960, 1824, 3562, 7028]);
});

test('linger-n: SO_LINGER {1,N} close() returns when all is ACKed, or after exactly N s and the orphan goes on', async () => {
  // Reachable: close() returns when the socket leaves FIN_WAIT1 (sk_stream_wait_close).
  {
    const t = await run('linger-n');
    const [c] = clientConns(t);
    const close = calls(t, { host: 'client', socket: c, call: 'close' });
    assert.equal(close.length, 2, 'the call, then its return');
    assert.equal(close[1]!['result'], '0, returns: everything acknowledged (FIN_WAIT2)');
    assert.equal(ms(close[1]), ms(states(t, { host: 'client', socket: c, to: 'FIN_WAIT2' })[0]));
    assert.ok(ms(close[1]) - ms(close[0]) < 5000);
    assert.equal(timers(t, { timer: 'linger' }).length, 0);
    const fin = segs(t, { host: 'client', dir: 'out', socket: c }).filter(has('F'));
    assert.equal(fin.length, 1);
    assert.equal(fin[0]!['flags'], 'FP.', 'the FIN rides on the last data segment');
    const got = results(t, { host: 'server', call: 'read' }).reduce((n: number, r) => n + (/^\d+$/.test(r as string) ? Number(r) : 0), 0);
    assert.equal(got, 100_000);
    assert.deepEqual(path(t, 'client', c!), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED']);
  }
  // Unreachable: close() returns after exactly N s; the orphan keeps retransmitting in FIN_WAIT1.
  for (const n of [5, 2]) {
    const t = await run('linger-n', { unreachable: '1', seconds: String(n) });
    const [c] = clientConns(t);
    const close = calls(t, { host: 'client', socket: c, call: 'close' });
    assert.equal(close.length, 2);
    assert.equal(ms(close[1]) - ms(close[0]), n * 1000);
    assert.equal(close[1]!['result'], '0, returns: SO_LINGER timeout, the FIN handshake goes on as an orphan');
    assert.deepEqual(timers(t, { timer: 'linger' }).map((e) => ms(e)), [ms(close[0]) + n * 1000]);
    // A tail loss probe first, 2 x SRTT + 2 jiffies after the last transmission at close() (many
    // packets out), then the RTO from the probe (212 ms), doubling.
    const probe = timers(t, { host: 'client', timer: 'loss-probe' }).map((e) => ms(e));
    assert.deepEqual(probe, [ms(close[0]) + 28]);
    const rto = timers(t, { host: 'client', timer: 'retransmit' }).map((e) => ms(e));
    assert.deepEqual(diffs([ms(close[0]), ...rto]), [240, 424, 848, 1696, 3392, 6784, 13568, 27136]);
    assert.ok(rto.filter((x) => x > ms(close[1])).length >= 4, 'retransmissions go on after close() returned');
    const [sock] = t.sockets['client']!;
    assert.equal(sock!.state, 'FIN_WAIT1');
    assert.equal(sock!.orphan, true);
    assert.equal(states(t, { host: 'client', socket: c }).at(-1)!['to'], 'FIN_WAIT1');
    assert.equal(errors(t, { host: 'client' }).length, 0, 'nobody is left to hear an error');
  }
});

test('listener-close-pending: close() of a listener resets the 3 queued connections, drops the half-open one', async () => {
  const t = await run('listener-close-pending');
  const cs = ['10.0.0.1:50000', '10.0.0.1:50001', '10.0.0.1:50002', '10.0.0.1:50003'].map((a) => `${a}>10.0.0.2:80`);
  assert.equal(of(t, 'drop').length, 1, 'client 4\'s last handshake ACK is lost');
  const lclose = states(t, { host: 'server', socket: '0.0.0.0:80', to: 'CLOSED' })[0]!;
  assert.equal(ms(lclose), 500);
  const rsts = segs(t, { host: 'server', dir: 'out' }).filter(has('R'));
  // inet_csk_listen_stop -> tcp_disconnect: RST|ACK at SND.NXT/RCV.NXT to each unaccepted child.
  assert.deepEqual(rsts.filter((e) => ms(e) === 500).map((e) => [e['dst'], e['flags']]), cs.slice(0, 3).map((c) => [c.split('>')[0], 'R.']));
  for (const c of cs.slice(0, 3)) {
    const sa = segs(t, { host: 'server', dir: 'out', socket: flip(c), flags: 'S.' })[0]!;
    const syn = segs(t, { host: 'client', dir: 'out', socket: c, flags: 'S' })[0]!;
    const r = segs(t, { host: 'server', dir: 'out', socket: flip(c), flags: 'R.' })[0]!;
    assert.equal(num(r, 'seq'), (num(sa, 'seq') + 1) >>> 0);
    assert.equal(num(r, 'ack'), (num(syn, 'seq') + 1) >>> 0);
    assert.deepEqual(path(t, 'server', flip(c)), ['SYN_RECV', 'ESTABLISHED', 'CLOSED']);
    assert.deepEqual(path(t, 'client', c), ['SYN_SENT', 'ESTABLISHED', 'CLOSED']);
    assert.deepEqual(errors(t, { host: 'client', socket: c }).map((e) => [e['code'], ms(e)]), [['ECONNRESET', 505]]);
  }
  // The half-open one: nothing at the close; it never became ESTABLISHED on the server.
  const s4 = flip(cs[3]!);
  assert.ok(!path(t, 'server', s4).includes('ESTABLISHED'));
  assert.equal(segs(t, { host: 'server', dir: 'out', socket: s4 }).filter((e) => ms(e) >= 500 && ms(e) < 800).length, 0, 'nothing to client 4 at the close');
  assert.equal(errors(t, { host: 'client', socket: cs[3] }).filter((e) => ms(e) < 800).length, 0, 'client 4 believes it is connected');
  // It learns when it sends: no socket for the 4-tuple any more -> RST built from its segment (seq = its ACK, no ACK bit).
  const data = segs(t, { host: 'client', dir: 'out', socket: cs[3], flags: 'P.' })[0]!;
  assert.equal(ms(data), 800);
  const late = rsts.filter((e) => ms(e) > 500);
  assert.equal(late.length, 1);
  assert.equal(late[0]!['flags'], 'R');
  assert.equal(num(late[0], 'seq'), num(data, 'ack'));
  assert.equal(ms(late[0]), 805);
  assert.deepEqual(errors(t, { host: 'client', socket: cs[3] }).map((e) => [e['code'], ms(e)]), [['ECONNRESET', 810]]);
  assert.deepEqual(path(t, 'client', cs[3]!), ['SYN_SENT', 'ESTABLISHED', 'CLOSED']);
  assert.equal(ctr(t, 'server', 'TcpPassiveOpens'), 3, 'only completed handshakes create a child');
  assert.equal(ctr(t, 'server', 'TcpOutRsts'), 4);
  assert.equal(ctr(t, 'server', 'TcpEstabResets'), 3);
  assert.equal(ctr(t, 'server', 'TcpExtTCPAbortOnClose') + ctr(t, 'server', 'TcpExtTCPAbortOnData'), 0, 'tcp_disconnect counts no abort');
  assert.equal(ctr(t, 'client', 'TcpEstabResets'), 4);
  assert.equal(t.sockets['server']!.length + t.sockets['client']!.length, 0);
});

test('listener-close-pending: the dropped half-open request counts no TcpAttemptFails', async () => {
  const t = await run('listener-close-pending');
  assert.equal(ctr(t, 'server', 'TcpAttemptFails'), 0);
});

test('abnormal-close: write after the peer\'s FIN draws R (EPIPE); with peer_reset the first call gets ECONNRESET', async () => {
  for (const withData of [1, 0]) {
    for (const peerReset of [0, 1]) {
      const label = `with_data=${withData} peer_reset=${peerReset}`;
      const t = await run('abnormal-close', { with_data: String(withData), peer_reset: String(peerReset) });
      const [c] = clientConns(t);
      const s = flip(c!);
      const sOut = segs(t, { host: 'server', dir: 'out', socket: s });
      const late = (f: Filter) => calls(t, { host: 'client', socket: c, ...f }).filter((e) => ms(e) >= 300).map((e) => [ms(e), e['result']]);
      const reads = withData ? [[400, '8'], [400, '0 (EOF)']] : [[400, '0 (EOF)']];
      if (!withData) assert.deepEqual(results(t, { host: 'client', socket: c, call: 'read' })[0], '8', 'the greeting was read early');
      if (peerReset === 0) {
        const fin = sOut.filter(has('F'));
        assert.deepEqual(fin.map((e) => [ms(e), e['flags']]), [[116, 'F.']], label);
        assert.deepEqual(path(t, 'client', c!), ['SYN_SENT', 'ESTABLISHED', 'CLOSE_WAIT', 'CLOSED']);
        // The server socket is an orphan FIN_WAIT2 minisock: the client's data gets TCP_TW_RST (R, seq = its ACK).
        assert.deepEqual(path(t, 'server', s), ['SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSED']);
        const wr = segs(t, { host: 'client', dir: 'out', socket: c, flags: 'P.' }).find((e) => ms(e) === 300)!;
        const rst = sOut.filter(has('R'));
        assert.deepEqual(rst.map((e) => [ms(e), e['flags']]), [[305, 'R']], label);
        assert.equal(num(rst[0], 'seq'), num(wr, 'ack'));
        // tcp_reset in CLOSE_WAIT reports EPIPE, not ECONNRESET: end-of-stream came first.
        assert.deepEqual(errors(t, { host: 'client' }).map((e) => [e['code'], e['errno'], ms(e)]), [['EPIPE', 32, 310]], label);
        assert.deepEqual(late({ call: 'write' }), [[300, '15'], [500, 'EPIPE']], label);
        assert.deepEqual(late({ call: 'read' }), reads, label);
        assert.equal(ctr(t, 'server', 'TcpOutRsts'), 1);
        assert.equal(ctr(t, 'server', 'TcpExtTW'), 1, 'the orphan FIN_WAIT2 minisock');
        assert.equal(ctr(t, 'server', 'TcpExtTCPAbortOnData'), 0, 'timewait minisocks count no abort');
        assert.equal(ctr(t, 'client', 'TcpEstabResets'), 1, 'CLOSE_WAIT -> CLOSE');
      } else {
        // close() with the request unread: RST|ACK at SND.NXT / RCV.NXT instead of a FIN (TCPAbortOnClose).
        assert.equal(sOut.filter(has('F')).length, 0, label);
        const rst = sOut.filter(has('R'));
        assert.deepEqual(rst.map((e) => [ms(e), e['flags']]), [[116, 'R.']], label);
        const greet = sOut.find((e) => e['flags'] === 'P.')!;
        const req = segs(t, { host: 'client', dir: 'out', socket: c, flags: 'P.' })[0]!;
        assert.equal(num(rst[0], 'seq'), (num(greet, 'seq') + 8) >>> 0);
        assert.equal(num(rst[0], 'ack'), (num(req, 'seq') + 8) >>> 0);
        assert.deepEqual(path(t, 'server', s), ['SYN_RECV', 'ESTABLISHED', 'CLOSED']);
        assert.deepEqual(path(t, 'client', c!), ['SYN_SENT', 'ESTABLISHED', 'CLOSED']);
        assert.equal(ctr(t, 'server', 'TcpExtTCPAbortOnClose'), 1);
        assert.equal(ctr(t, 'server', 'TcpEstabResets'), 1);
        assert.deepEqual(errors(t, { host: 'client' }).filter((e) => e['code'] === 'ECONNRESET').map((e) => ms(e)), [121]);
        // sk_err is reported once, to the first call (the write at 300 ms); later writes see a closed socket: EPIPE.
        assert.deepEqual(late({ call: 'write' }), [[300, 'ECONNRESET'], [500, 'EPIPE']], label);
        // tcp_reset does not purge the receive queue: unread data is still readable, then 0.
        assert.deepEqual(late({ call: 'read' }), reads, label);
        assert.equal(segs(t, { host: 'client', dir: 'out', socket: c }).filter((e) => ms(e) > 116).length, 0, 'nothing more is sent');
      }
    }
  }
});

test('peer-process-killed: the kernel closes for the dead process: F. on the idle connection, R. on the unread one', async () => {
  const t = await run('peer-process-killed');
  const [idle, busy] = clientConns(t);
  const fin = segs(t, { host: 'server', dir: 'out', socket: flip(idle!) }).filter(has('F'));
  const rst = segs(t, { host: 'server', dir: 'out', socket: flip(busy!) }).filter(has('R'));
  assert.deepEqual(fin.map((e) => [ms(e), e['flags']]), [[1000, 'F.']]);
  assert.deepEqual(rst.map((e) => [ms(e), e['flags']]), [[1000, 'R.']], 'same instant');
  assert.equal(segs(t, { host: 'server', dir: 'out', socket: flip(busy!) }).filter(has('F')).length, 0);
  const req = segs(t, { host: 'client', dir: 'out', socket: busy, flags: 'P.' })[0]!;
  assert.equal(num(rst[0], 'ack'), (num(req, 'seq') + num(req, 'len')) >>> 0, 'the unread request was ACKed, then discarded');
  // The client: EOF on the idle one (and it closes too), ECONNRESET on the other.
  assert.deepEqual(calls(t, { host: 'client', socket: idle, call: 'read' }).map((e) => [ms(e), e['result']]), [[1005, '0 (EOF)']]);
  assert.deepEqual(errors(t, { host: 'client' }).map((e) => [e['socket'], e['code'], ms(e)]), [[busy, 'ECONNRESET', 1005]]);
  assert.deepEqual(path(t, 'client', idle!), ['SYN_SENT', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  assert.deepEqual(path(t, 'client', busy!), ['SYN_SENT', 'ESTABLISHED', 'CLOSED']);
  assert.deepEqual(path(t, 'server', flip(idle!)), ['SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED']);
  assert.deepEqual(path(t, 'server', flip(busy!)), ['SYN_RECV', 'ESTABLISHED', 'CLOSED']);
  assert.equal(ctr(t, 'server', 'TcpExtTCPAbortOnClose'), 1);
  assert.equal(ctr(t, 'server', 'TcpOutRsts'), 1);
  assert.equal(ctr(t, 'server', 'TcpEstabResets'), 1);
  assert.equal(ctr(t, 'client', 'TcpEstabResets'), 1);
});

// ---- Topic C: TIME_WAIT and friends ----

test('time-wait-last-ack-lost: TIME_WAIT re-ACKs the retransmitted FIN; without it the FIN draws R and ECONNRESET', async () => {
  {
    const t = await run('time-wait-last-ack-lost');
    const [c] = clientConns(t);
    const s = flip(c!);
    const drops = of(t, 'drop');
    assert.deepEqual(drops.map((e) => [e.host, ms(e)]), [['client', 31]], 'the last ACK of the close');
    const fins = segs(t, { host: 'server', dir: 'out', socket: s }).filter(has('F'));
    assert.deepEqual(fins.map((e) => ms(e)), [26, 238], 'FIN, then again 212 ms later');
    assert.equal(fins[1]!['seq'], fins[0]!['seq']);
    // A lone FIN in flight: the tail loss probe (2 x SRTT + 200 ms, capped by the RTO) resends it
    // at the RTO's time (seen on 6.18: FIN at 12 ms, again at 227 ms, then +216 ms, drill --kernel).
    assert.equal(fins[1]!['note'], 'tail loss probe');
    const reack = segs(t, { host: 'client', dir: 'out', socket: c }).filter((e) => ms(e) === 243);
    assert.deepEqual(reack.map((e) => [e['flags'], e['note']]), [['.', 'TIME_WAIT ACK']]);
    assert.equal(num(reack[0], 'ack'), (num(fins[0], 'seq') + 1) >>> 0);
    assert.deepEqual(path(t, 'server', s), ['SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
    assert.equal(ms(states(t, { host: 'server', socket: s, to: 'CLOSED' })[0]), 248);
    assert.deepEqual(path(t, 'client', c!), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED']);
    assert.equal(ms(states(t, { host: 'client', to: 'TIME_WAIT' })[0]), 31);
    // tcp_timewait_state_process: an ACK-bearing segment in TIME_WAIT reschedules the 60 s timer.
    assert.equal(ms(states(t, { host: 'client', from: 'TIME_WAIT' })[0]), 243 + 60_000);
    assert.equal(errors(t, {}).length, 0);
    assert.equal(segs(t, {}).filter(has('R')).length, 0);
    assert.equal(ctr(t, 'client', 'TcpExtTW'), 1);
    assert.equal(ctr(t, 'server', 'TcpRetransSegs'), 1);
  }
  {
    const t = await run('time-wait-last-ack-lost', { time_wait_ms: '0' });
    const [c] = clientConns(t);
    const s = flip(c!);
    assert.deepEqual(states(t, { host: 'client', socket: c }).slice(-2).map((e) => [e['to'], ms(e)]), [['TIME_WAIT', 31], ['CLOSED', 31]]);
    // __inet_twsk_schedule: a timeout of 4 s or less counts TWKilled, not TW.
    assert.equal(ctr(t, 'client', 'TcpExtTWKilled'), 1);
    assert.equal(ctr(t, 'client', 'TcpExtTW'), 0);
    const fin2 = segs(t, { host: 'server', dir: 'out', socket: s }).filter(has('F'))[1]!;
    assert.equal(ms(fin2), 238);
    // No socket: the FIN carries an ACK, so the RST takes seq = its ACK and has no ACK bit.
    const rst = segs(t, { host: 'client', dir: 'out' }).filter(has('R'));
    assert.deepEqual(rst.map((e) => [ms(e), e['flags']]), [[243, 'R']]);
    assert.equal(num(rst[0], 'seq'), num(fin2, 'ack'));
    assert.deepEqual(errors(t, {}).map((e) => [e.host, e['code'], ms(e)]), [['server', 'ECONNRESET', 248]]);
    assert.deepEqual(states(t, { host: 'server', socket: s }).slice(-1).map((e) => [e['from'], e['to'], e['cause']]), [['LAST_ACK', 'CLOSED', 'rcv RST']]);
    assert.equal(ctr(t, 'client', 'TcpOutRsts'), 1);
    assert.equal(ctr(t, 'server', 'TcpEstabResets'), 0, 'LAST_ACK -> CLOSE is no EstabReset');
  }
});

test('old-duplicate-no-time-wait: the old "AAAA" corrupts the reused 4-tuple; TIME_WAIT or PAWS stop it', async () => {
  const conn = '10.0.0.1:40000>10.0.0.2:80';
  const reads = (t: LabJson) => notes(t, 'server').map((n) => /reads "(\w+)"/.exec(n)?.[1]);
  {
    const t = await run('old-duplicate-no-time-wait');
    const syns = segs(t, { host: 'client', dir: 'out', flags: 'S' });
    assert.deepEqual(syns.map((e) => [e['socket'], e['seq'], ms(e)]), [[conn, 1_000_000, 1], [conn, 1_000_000, 200]], 'the same 4-tuple and ISN twice');
    assert.deepEqual(states(t, { host: 'client', socket: conn, from: 'TIME_WAIT' }).map((e) => ms(e)), [71, 520]);
    const est2 = ms(states(t, { host: 'server', socket: flip(conn), to: 'ESTABLISHED' })[1]);
    // The delayed copy lands exactly at RCV.NXT of the new connection and is accepted as data.
    const old = segs(t, { host: 'server', dir: 'in', socket: flip(conn) }).find((e) => ms(e) === 411)!;
    assert.equal(num(old, 'seq'), 1_000_001);
    assert.equal(num(old, 'len'), 4);
    assert.ok(est2 < 411);
    assert.deepEqual(calls(t, { host: 'server', call: 'note' }).map((e) => ms(e)), [16, 411]);
    // The real "BBBB" has the same sequence numbers: it is a duplicate now (D-SACK), never delivered.
    assert.deepEqual(reads(t), ['AAAA', 'AAAA'], 'the application reads AAAA instead of BBBB');
    const bbbb = segs(t, { host: 'client', dir: 'out', socket: conn, flags: 'P.' }).find((e) => ms(e) === 510)!;
    assert.equal(num(bbbb, 'seq'), 1_000_001);
    const dsack = segs(t, { host: 'server', dir: 'out', socket: flip(conn) }).find((e) => ms(e) === 515 && e['flags'] === '.')!;
    assert.equal(dsack['note'], 'duplicate data');
    assert.match(str(dsack, 'options'), /sack 1 \{1000001:1000005\}/);
    assert.equal(ctr(t, 'server', 'TcpExtTCPDSACKOldSent'), 1);
    assert.equal(ctr(t, 'server', 'TcpExtPAWSEstab'), 0, 'no timestamps, no PAWS');
    assert.equal(ctr(t, 'client', 'TcpExtTWKilled'), 2, 'two zero-length TIME_WAITs');
  }
  {
    // tcp_timestamps=1: the old copy carries an older TSval than ts_recent: PAWS drops it and dup-ACKs RCV.NXT.
    const t = await run('old-duplicate-no-time-wait', { timestamps: '1' });
    const rej = segs(t, { host: 'server', dir: 'out', socket: flip(conn), note: 'PAWS reject' });
    assert.deepEqual(rej.map((e) => [ms(e), e['flags'], e['ack']]), [[411, '.', 1_000_001]]);
    assert.equal(ctr(t, 'server', 'TcpExtPAWSEstab'), 1);
    assert.deepEqual(reads(t), ['AAAA', 'BBBB']);
    assert.equal(ms(calls(t, { host: 'server', call: 'note' })[1]), 515);
  }
  {
    // 60 s TIME_WAIT: the only local port is held, connect() fails; the old copy meets no server socket.
    const t = await run('old-duplicate-no-time-wait', { time_wait_ms: '60000' });
    assert.deepEqual(errors(t, {}).map((e) => [e.host, e['code'], e['errno'], ms(e)]), [['client', 'EADDRNOTAVAIL', 99, 200]]);
    assert.equal(segs(t, { host: 'client', dir: 'out', flags: 'S' }).length, 1);
    assert.equal(ctr(t, 'client', 'TcpActiveOpens'), 1);
    const rst = segs(t, { host: 'server', dir: 'out' }).filter(has('R'));
    assert.deepEqual(rst.map((e) => [ms(e), e['flags'], e['seq']]), [[411, 'R', 7_000_001]]);
    assert.deepEqual(reads(t), ['AAAA'], 'nothing is corrupted');
    // The RST (seq 7000001) is not at RCV.NXT (7000002) of the TIME_WAIT: ignored, the entry stays.
    assert.deepEqual(t.sockets['client']!.map((s) => [s.state, s.local]), [['TIME_WAIT', '10.0.0.1:40000']]);
    assert.equal(ctr(t, 'client', 'TcpExtTW'), 1);
  }
});

test('time-wait-pileup: TIME_WAIT plateaus at rate x 60; tcp_max_tw_buckets caps it and counts TCPTimeWaitOverflow', async () => {
  const samples = (t: LabJson) => of(t, 'stats', { host: 'client' }).map((e) => [ms(e), (e['byState'] as Record<string, number>)['TIME_WAIT'] ?? 0] as const);
  for (const rate of [20, 10]) {
    const t = await run('time-wait-pileup', { rate: String(rate), seconds: rate === 20 ? '90' : '70' });
    const n = rate * (rate === 20 ? 90 : 70);
    const s = samples(t);
    // One entry per close, each lasting exactly 60 s.
    for (const [at, tw] of s) {
      if (at <= 60_000) assert.equal(tw, rate * Math.floor(at / 1000), `t=${at}`);
      else if (at <= (rate === 20 ? 90_000 : 70_000)) assert.equal(tw, rate * 60, `plateau at t=${at}`);
    }
    assert.equal(Math.max(...s.map(([, tw]) => tw)), rate * 60);
    assert.equal(s.at(-1)![1], 0, 'all expired at the end');
    assert.equal(ctr(t, 'client', 'TcpActiveOpens'), n);
    assert.equal(ctr(t, 'client', 'TcpExtTW'), n);
    assert.equal(ctr(t, 'client', 'TcpExtTCPTimeWaitOverflow'), 0);
    const tw = states(t, { host: 'client', to: 'TIME_WAIT' });
    const end = states(t, { host: 'client', from: 'TIME_WAIT' });
    assert.equal(tw.length, n);
    assert.equal(end.length, n);
    assert.ok(end.every((e, i) => e['socket'] === tw[i]!['socket'] && ms(e) - ms(tw[i]) === 60_000));
    assert.equal(ctr(t, 'server', 'TcpExtTW'), 0, 'the client closes first and holds them all');
  }
  {
    const t = await run('time-wait-pileup', { max_tw_buckets: '500' });
    const s = samples(t);
    assert.ok(s.every(([, tw]) => tw <= 500));
    // inet_twsk_alloc refuses past the limit; no expiries before 60 s, so the table stays full.
    for (const [at, tw] of s) if (at >= 26_000 && at <= 56_000) assert.equal(tw, 500, `t=${at}`);
    // 500 entries made by 25 s, 500 more as the first ones expire (60-85 s); the other 800 closes get none.
    assert.equal(ctr(t, 'client', 'TcpExtTW'), 1000);
    assert.equal(ctr(t, 'client', 'TcpExtTCPTimeWaitOverflow'), 800);
    const over = states(t, { host: 'client', to: 'CLOSED' }).filter((e) => String(e['cause']).includes('TCPTimeWaitOverflow'));
    assert.equal(over.length, 800);
    assert.ok(over.every((e) => ms(e) > 25_000));
  }
});

test('time-wait-pileup: a close over tcp_max_tw_buckets never shows TIME_WAIT', async () => {
  const t = await run('time-wait-pileup', { max_tw_buckets: '0', rate: '2', seconds: '1' });
  for (const c of clientConns(t)) assert.deepEqual(path(t, 'client', c), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSED']);
});

test('fin-wait2-orphan: the orphan FIN_WAIT2 dies silently after tcp_fin_timeout; the server stays in CLOSE_WAIT', async () => {
  for (const fin of [60, 30, 90]) {
    const t = await run('fin-wait2-orphan', { fin_timeout: String(fin) });
    const [c] = clientConns(t);
    const fw2 = states(t, { host: 'client', socket: c, to: 'FIN_WAIT2' })[0]!;
    assert.equal(ms(fw2), 123);
    const end = states(t, { host: 'client', socket: c, from: 'FIN_WAIT2', to: 'CLOSED' });
    assert.equal(end.length, 1);
    assert.equal(end[0]!['cause'], 'tcp_fin_timeout');
    // fin_timeout <= 60 s: tcp_time_wait(FIN_WAIT2, fin_timeout) at once. Above 60 s Linux first keeps the
    // full socket for fin_timeout - 60 s (keepalive timer), then a minisock for fin_timeout - 60 s more:
    // 90 s gives 30 + 30 = 60 s, not 90.
    const life = fin <= 60 ? fin * 1000 : 2 * (fin - 60) * 1000;
    assert.equal(ms(end[0]) - ms(fw2), life, `fin_timeout=${fin}`);
    assert.deepEqual(timers(t, { host: 'client', timer: 'fin-wait2' }).map((e) => ms(e) - ms(fw2)), fin <= 60 ? [life] : [life / 2, life]);
    assert.deepEqual(path(t, 'client', c!), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSED']);
    assert.equal(segs(t, { host: 'client', dir: 'out' }).filter((e) => ms(e) > ms(fw2)).length, 0, 'nothing on the wire');
    assert.equal(segs(t, {}).filter(has('R')).length, 0);
    assert.equal(ctr(t, 'client', 'TcpExtTW'), 1, 'the FIN_WAIT2 minisock counts as a timewait entry');
    assert.deepEqual(t.sockets['server']!.filter((s) => s.state !== 'LISTEN').map((s) => s.state), ['CLOSE_WAIT']);
    assert.deepEqual(path(t, 'server', flip(c!)), ['SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT']);
    const at30 = of(t, 'stats', { host: 'client' }).find((e) => ms(e) === 30_000)!;
    assert.deepEqual(at30['byState'], { FIN_WAIT2: 1 });
    assert.equal(t.sockets['client']!.length, 0);
  }
  {
    const t = await run('fin-wait2-orphan', { shutdown_only: '1' });
    const [c] = clientConns(t);
    // Not an orphan: no FIN_WAIT2 timer at all, it waits for the peer's FIN forever.
    assert.deepEqual(path(t, 'client', c!), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2']);
    assert.equal(timers(t, { timer: 'fin-wait2' }).length, 0);
    assert.deepEqual(t.sockets['client']!.map((s) => [s.state, s.orphan]), [['FIN_WAIT2', false]]);
    assert.equal(ctr(t, 'client', 'TcpExtTW'), 0);
    assert.deepEqual(t.sockets['server']!.filter((s) => s.state !== 'LISTEN').map((s) => s.state), ['CLOSE_WAIT']);
  }
});

test('connection-statistics: per-remote counts point at 10.0.0.12 (CLOSE_WAIT) and 10.0.0.11 (ESTABLISHED); no server TIME_WAIT', async () => {
  const t = await run('connection-statistics');
  const stats = of(t, 'stats', { host: 'server' });
  assert.deepEqual(stats.map((e) => ms(e)), [10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120].map((s) => s * 1000));
  for (const e of stats) {
    const at = ms(e) / 1000;
    // A leaky client from 10.0.0.12 every 3 s (20 of them), each closing 50 ms after its answer.
    const cw = Math.min(20, Math.floor((at - 0.1) / 3) + 1);
    assert.deepEqual(e['byState'], { LISTEN: 1, ESTABLISHED: 5, CLOSE_WAIT: cw }, `t=${at}`);
    assert.deepEqual(e['byRemote'], { '10.0.0.11': 5, '10.0.0.12': cw }, 'the short clients from 10.0.0.1 leave nothing on the server');
  }
  assert.equal(states(t, { host: 'server', to: 'TIME_WAIT' }).length, 0);
  assert.equal(ctr(t, 'server', 'TcpExtTW'), 0);
  // The client holds 60 TIME_WAITs (short) and 20 orphan FIN_WAIT2 minisocks (leaky).
  assert.equal(states(t, { host: 'client', to: 'TIME_WAIT' }).length, 60);
  assert.equal(ctr(t, 'client', 'TcpExtTW'), 80);
  assert.equal(ctr(t, 'server', 'TcpPassiveOpens'), 85);
  // RFC 1213 tcpCurrEstab counts ESTABLISHED and CLOSE_WAIT.
  assert.equal(ctr(t, 'server', 'TcpCurrEstab'), 25);
});

// ---- Topic D/E: middleboxes, keepalive, connection reuse ----

test('nat-idle-timeout: the forgotten flow eats the request until ETIMEDOUT; keepalive below the NAT timeout saves it', async () => {
  {
    const t = await run('nat-idle-timeout');
    const [c] = clientConns(t);
    const late = segs(t, { host: 'client', dir: 'out', socket: c }).filter((e) => ms(e) >= 600_000);
    assert.equal(ms(late[0]), 600_000);
    assert.ok(late.every((e) => e['flags'] === 'P.' && e['len'] === 10 && e['seq'] === late[0]!['seq']));
    assert.equal(late.length, 17, 'the request, a tail loss probe and 15 retransmissions (tcp_retries2)');
    assert.equal(of(t, 'drop').length, 17, 'all dropped by the middlebox');
    // The tail loss probe first (one packet out: 2 x SRTT + 200 ms, capped by the RTO, so at the
    // RTO's 212 ms; it does not back off), then the RTO: 212 ms doubling, capped at TCP_RTO_MAX
    // 120 s. Seen on 6.18 for a lone FIN: probe +215 ms, RTO +216 ms after it (drill --kernel).
    const at = late.map((e) => ms(e));
    assert.equal(late[1]!['note'], 'tail loss probe');
    assert.deepEqual(diffs(at), [212, 212, 424, 848, 1696, 3392, 6784, 13568, 27136, 54272, 108544, 120000, 120000, 120000, 120000, 120000]);
    // retries2 = 15 means a give-up budget of 924.6 s (tcp_model_timeout) from the first RTO
    // retransmission (retrans_stamp; the probe sets none); the first RTO expiry past it is 937.088 s.
    const err = errors(t, { host: 'client' });
    assert.deepEqual(err.map((e) => [e['code'], e['errno']]), [['ETIMEDOUT', 110]]);
    assert.equal(ms(err[0]) - 600_000, 937_088);
    assert.deepEqual(path(t, 'client', c!).slice(-1), ['CLOSED']);
    assert.equal(ctr(t, 'client', 'TcpRetransSegs'), 16, 'the probe counts as a retransmission (__tcp_retransmit_skb)');
    assert.equal(ctr(t, 'client', 'TcpExtTCPLossProbes'), 1);
    assert.equal(ctr(t, 'client', 'TcpExtTCPAbortOnTimeout'), 1);
    assert.deepEqual(results(t, { host: 'server', call: 'read' }), ['4'], 'the server never sees the second request');
    assert.deepEqual(t.sockets['server']!.filter((s) => s.state !== 'LISTEN').map((s) => s.state), ['ESTABLISHED'], 'nor learns anything');
  }
  {
    const t = await run('nat-idle-timeout', { keepalive_s: '120' });
    const [c] = clientConns(t);
    const probes = segs(t, { host: 'client', dir: 'out', socket: c, note: 'keepalive probe' });
    const before = probes.filter((e) => ms(e) < 600_000);
    // TCP_KEEPIDLE 120 s after the last segment received (21 ms); each probe is answered, so the next
    // comes 120 s after that answer arrived (keepalive_time_elapsed counts from the last receive).
    assert.deepEqual(before.map((e) => ms(e)), [120_021, 240_031, 360_041, 480_051]);
    for (const p of probes) {
      assert.equal(p['flags'], '.');
      assert.equal(p['len'], 0);
      const ans = segs(t, { host: 'server', dir: 'out', socket: flip(c!) }).find((e) => ms(e) === ms(p) + 5)!;
      assert.equal(num(ans, 'ack'), (num(p, 'seq') + 1) >>> 0, 'the server\'s kernel answers with RCV.NXT');
    }
    assert.equal(of(t, 'drop').length, 0, 'the middlebox never forgets the flow');
    assert.deepEqual(results(t, { host: 'server', call: 'read' }), ['4', '10']);
    assert.equal(notes(t, 'client').filter((n) => n === 'the client gets "pong"').length, 2);
    assert.equal(errors(t, {}).length, 0);
    assert.equal(ctr(t, 'client', 'TcpExtTCPKeepAlive'), probes.length);
    assert.equal(probes.length, 12);
  }
  {
    // Keepalive above the NAT timeout: the first probe (400 s) is already dropped; same fate as without.
    const t = await run('nat-idle-timeout', { keepalive_s: '400' });
    const probes = segs(t, { host: 'client', dir: 'out', note: 'keepalive probe' });
    assert.deepEqual(probes.map((e) => ms(e)), [400_021]);
    assert.equal(of(t, 'drop').filter((e) => ms(e) === 400_021).length, 1);
    assert.deepEqual(errors(t, { host: 'client' }).map((e) => [e['code'], ms(e)]), [['ETIMEDOUT', 600_000 + 937_088]]);
  }
});

test('heartbeat-vs-keepalive: the hung process\'s kernel ACKs pings and probes; only the heartbeat notices', async () => {
  for (const hang of [30, 100]) {
    const t = await run('heartbeat-vs-keepalive', { hang_at_s: String(hang) });
    const [hb, ka] = clientConns(t);
    const pings = segs(t, { host: 'client', dir: 'out', socket: hb, flags: 'P.' }).map((e) => ms(e));
    const pongs = segs(t, { host: 'server', dir: 'out', socket: flip(hb!), flags: 'P.' }).map((e) => ms(e));
    // A ping at connect (11 ms), then every 10 s; a pong for each ping before the hang.
    assert.deepEqual(pings, Array.from({ length: hang / 10 + 3 }, (_, i) => 11 + i * 10_000));
    assert.deepEqual(pongs, pings.filter((p) => p < hang * 1000).map((p) => p + 5));
    // After the hang every ping is still ACKed by the server's kernel.
    for (const p of pings.filter((x) => x > hang * 1000)) {
      const ack = segs(t, { host: 'server', dir: 'out', socket: flip(hb!), flags: '.' }).find((e) => ms(e) > p && ms(e) < p + 100);
      assert.ok(ack, `ping at ${p} ACKed`);
      assert.equal(num(ack, 'ack'), ((segs(t, { host: 'client', dir: 'out', socket: hb }).find((e) => ms(e) === p && e['flags'] === 'P.')!['seq'] as number) + 4) >>> 0);
    }
    // Three missed pongs: the client declares the application dead and closes, 30 s after the hang.
    const close = calls(t, { host: 'client', socket: hb, call: 'close' });
    assert.deepEqual(close.map((e) => ms(e)), [hang * 1000 + 30_011]);
    assert.ok(notes(t, 'client').includes('heartbeat: 3 pongs missed, the server application is dead: closing'));
    assert.deepEqual(t.sockets['server']!.filter((s) => s.remote === hb!.split('>')[0]).map((s) => [s.state, s.recvQ]), [['CLOSE_WAIT', 12]], 'three unread pings');
    // Keepalive (60 s idle) on the other connection: every probe answered, so one per 60 s, forever ESTABLISHED.
    const probes = segs(t, { host: 'client', dir: 'out', socket: ka, note: 'keepalive probe' });
    assert.deepEqual(probes.map((e) => ms(e)), [60_012, 120_022, 180_032, 240_042, 300_052].filter((x) => x < hang * 1000 + 200_000));
    for (const p of probes) assert.ok(segs(t, { host: 'server', dir: 'out', socket: flip(ka!) }).some((e) => ms(e) === ms(p) + 5 && e['flags'] === '.'));
    assert.equal(t.sockets['client']!.find((s) => s.local === ka!.split('>')[0])!.state, 'ESTABLISHED');
    assert.deepEqual(path(t, 'client', ka!), ['SYN_SENT', 'ESTABLISHED']);
    assert.equal(errors(t, {}).length, 0, 'TCP never reports anything');
    assert.equal(ctr(t, 'client', 'TcpExtTCPKeepAlive'), probes.length);
  }
});

test('long-vs-short-connections: 200 requests cost 2n+5 segments on one connection, 10n and n TIME_WAITs on short ones', async () => {
  for (const n of [200, 10]) {
    const t = await run('long-vs-short-connections', { requests: String(n) });
    const ns = notes(t, 'client');
    // Long: handshake (3), the quick ACKs of the first exchange (2), then request and response per exchange
    // (each request carries the ACK of the previous response: pingpong mode). One RTT per request.
    assert.equal(ns[0], `long connection: ${n} requests, ${2 * n + 5} segments, 1 handshake, ${n * 10 + 10} ms`);
    // Short: S, S., ., request, quick ACK, response, quick ACK, F., F., last ACK = 10 per request; two RTTs each.
    assert.equal(ns[1], `short connections: ${n} requests, ${10 * n} segments, ${n} handshakes, ${n} new TIME_WAITs, ${n * 20} ms`);
    const conns = clientConns(t);
    assert.equal(conns.length, n + 1);
    for (const c of conns.slice(1, 3)) {
      assert.deepEqual(flagsOut(t, 'client', c), ['S', '.', 'P.', '.', 'F.', '.']);
      assert.deepEqual(flagsOut(t, 'server', flip(c)), ['S.', '.', 'P.', 'F.']);
      assert.deepEqual(path(t, 'client', c), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED']);
    }
    assert.equal(ctr(t, 'client', 'TcpActiveOpens'), n + 1);
    assert.equal(ctr(t, 'client', 'TcpExtTW'), n + 1, 'the client closes first every time');
    assert.equal(ctr(t, 'server', 'TcpExtTW'), 0);
    // Every TIME_WAIT lasts 60 s.
    const tw = states(t, { host: 'client', to: 'TIME_WAIT' });
    for (const e of tw) assert.equal(ms(states(t, { host: 'client', socket: e['socket'], from: 'TIME_WAIT' })[0]) - ms(e), 60_000);
  }
});

test('lb-tcp-profile: keepalives to both sides don\'t stop the idle timeout; RST both (or FIN, 2 s TIME_WAIT); new connection', async () => {
  {
    const t = await run('lb-tcp-profile');
    const front = '10.0.0.3:80>10.0.0.1:37840';
    const back = segs(t, { host: 'proxy', dir: 'out', flags: 'S' })[0]!['socket'] as string;
    assert.ok(back.endsWith('>10.0.0.2:80'));
    // Keep-alive interval 60 s: probes to both sides at 60, 120, 180, 240 s, each answered.
    for (const [sock, peer, lastRx] of [[back, 'server', 35], [front, 'client', 45]] as const) {
      const probes = segs(t, { host: 'proxy', dir: 'out', socket: sock, note: 'keepalive probe' }).filter((e) => ms(e) < 300_000);
      assert.deepEqual(probes.map((e) => Math.floor(ms(e) / 60_000)), [1, 2, 3, 4], sock);
      // 60 s after the last segment received, then 60 s after each answer (which arrives 10 ms after the probe).
      assert.deepEqual(probes.map((e) => ms(e)), [0, 1, 2, 3].map((i) => lastRx + 60_000 + i * 60_010), sock);
      for (const p of probes) {
        assert.equal(num(p, 'len'), 0);
        assert.ok(segs(t, { host: peer, dir: 'out', socket: flip(sock) }).some((e) => ms(e) === ms(p) + 5 && e['flags'] === '.'), 'answered');
      }
    }
    // The idle timer counts data only: it fires 300 s after the response went through (35 ms).
    const rst = segs(t, { host: 'proxy', dir: 'out' }).filter(has('R'));
    assert.deepEqual(rst.map((e) => [e['socket'], e['flags'], ms(e)]).sort(), [[front, 'R.', 300_035], [back, 'R.', 300_035]].sort());
    assert.equal(segs(t, { dir: 'out' }).filter(has('F')).length, 0, 'no FIN anywhere');
    assert.deepEqual(errors(t, {}).map((e) => [e.host, e['code'], ms(e)]).sort(), [['client', 'ECONNRESET', 300_040], ['server', 'ECONNRESET', 300_040]]);
    // Reset on Timeout is close() with SO_LINGER {1,0}: Linux counts it as TCPAbortOnData.
    assert.equal(ctr(t, 'proxy', 'TcpExtTCPAbortOnData'), 2);
    assert.equal(ctr(t, 'proxy', 'TcpOutRsts'), 2);
    assert.equal(ctr(t, 'proxy', 'TcpEstabResets'), 2);
    assert.equal(states(t, { to: 'TIME_WAIT' }).length, 0);
    const http = of(t, 'http');
    assert.deepEqual(http.map((e) => [e['phase'], e['path'], ms(e)]), [['request', '/1', 10], ['response', '/1', 40], ['request', '/2', 400_011], ['response', '/2', 400_041]]);
    assert.notEqual(http[2]!['connection'], http[0]!['connection'], 'the second request needs a new connection');
    assert.equal(ctr(t, 'client', 'TcpActiveOpens'), 2);
  }
  {
    const t = await run('lb-tcp-profile', { reset_on_timeout: '0' });
    assert.equal(segs(t, {}).filter(has('R')).length, 0, 'no reset anywhere');
    const fins = segs(t, { host: 'proxy', dir: 'out' }).filter(has('F'));
    assert.deepEqual(fins.map((e) => [e['flags'], ms(e)]), [['F.', 300_035], ['F.', 300_035]]);
    // The proxy closed first: its two sockets hold TIME_WAIT, for the profile's 2 s instead of 60 s.
    const tw = states(t, { host: 'proxy', to: 'TIME_WAIT' });
    assert.equal(tw.length, 2);
    for (const e of tw) {
      assert.equal(ms(e), 300_045);
      assert.equal(ms(states(t, { host: 'proxy', socket: e['socket'], from: 'TIME_WAIT', to: 'CLOSED' })[0]) - ms(e), 2000);
    }
    // __inet_twsk_schedule: a timeout of 4 s or less counts TWKilled, not TW.
    assert.equal(ctr(t, 'proxy', 'TcpExtTWKilled'), 2);
    assert.equal(ctr(t, 'proxy', 'TcpExtTW'), 0);
    assert.equal(states(t, { host: 'client', to: 'TIME_WAIT' }).length + states(t, { host: 'server', to: 'TIME_WAIT' }).length, 0, 'the peers close second (LAST_ACK)');
    assert.deepEqual(calls(t, { host: 'client', call: 'read' }).filter((e) => ms(e) > 300_000 && ms(e) < 400_000).map((e) => [ms(e), e['result']]), [[300_040, '0 (EOF)']]);
    assert.equal(errors(t, {}).length, 0);
    const http = of(t, 'http');
    assert.deepEqual(http.map((e) => [e['phase'], e['path']]), [['request', '/1'], ['response', '/1'], ['request', '/2'], ['response', '/2']]);
    assert.notEqual(http[2]!['connection'], http[0]!['connection']);
  }
});
