// TIME_WAIT (RFC 9293 §3.10.7.4, RFC 1337, RFC 6191; Linux keeps a timewait minisocket:
// tcp_time_wait, tcp_timewait_state_process, tcp_v4_timewait_ack, inet_twsk_schedule). The
// fixture timeWait(): the server closed first (our FIN e.finSeq acknowledged, e.lSeq =
// finSeq + 1), then the peer's FIN (h.rSeq = 1000002 after it) was ACKed at t = 1 s. The
// listener on :80 is still open.
//
// Observed (docs/linux-observations.md Q3, Q3b, Q6 f, Summary 3-5): 60 s fixed; TW counted
// when the entry is made; a retransmitted FIN is ACKed (old ts_recent echoed) and restarts the
// 60 s; a bare in-window ACK gets no reply but restarts it (and updates ts_recent); any
// out-of-window segment gets an ACK and restarts it; a RST at rcv_nxt kills the entry
// (tcp_rfc1337 = 0) with no counter, another RST is ignored; with tcp_rfc1337 = 1 both are
// ignored; a SYN above rcv_nxt or with a newer TS opens a new connection whose ISN is exactly
// tw_snd_nxt + 65537; an old SYN without TS is ACKed and does not restart the timer.
//
// Cases this state shares with others are rows of the tables in shared-segments.test.ts,
// shared-timers.test.ts and shared-calls.test.ts (the tests are named after the state).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linuxSynOptions } from '../../src/wire/tcp.ts';
import type { HostConfig } from '../../src/base/config.ts';
import {
  ACK, FIN, PSH, RST, SYN, bytes, errCode, establishedClient, expectOne, expectSeg, ourTs, peer, row, tableState, timeWait, tsOf,
  type Closing, type Est, WIN,
} from '../helpers/harness.ts';

const twTimer = (ms: number) => ({ kind: 'timewait', expiresMs: ms, retrans: 0 });
/** The ACK a TIME_WAIT entry sends (tcp_v4_timewait_ack): SND.NXT, RCV.NXT, last window, TS. */
const twAck = (e: Closing, ecr: number) => ({ flags: '.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr } });

test('TIME_WAIT: the fixture: an entry owned by nobody (ss: timer:(timewait,60sec,0), ino 0), TW counted at creation', () => {
  const e = timeWait();
  const r = row(e.h)!;
  assert.deepEqual([r.state, r.stateNum, r.orphan, r.recvQ, r.sendQ, r.timer], ['TIME_WAIT', 6, true, 0, 0, twTimer(60000)]);
  assert.deepEqual([e.h.counter('TcpExtTW'), e.h.counter('TcpExtTWKilled')], [1, 0]);
  // The application's socket (it used shutdown) is closed: EOF and EPIPE.
  assert.equal(e.sock.state, 'CLOSED');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  assert.equal(errCode(() => e.sock.send(bytes(1))), 'EPIPE');
});

test('TIME_WAIT timer: the orphan path (close() first) gives the same 60 s entry', () => {
  const e = timeWait({ orphan: true });
  assert.deepEqual([tableState(e.h), row(e.h)!.timer], ['TIME_WAIT', twTimer(60000)]);
  e.h.advance(60_000_000);
  assert.equal(tableState(e.h), '');
});

test('TIME_WAIT: a bare ACK at RCV.NXT -> no reply; the 60 s restart; its TS becomes ts_recent', () => {
  const e = timeWait();
  e.h.advance(4_000_000);
  peer(e, ACK);
  e.h.none();
  assert.deepEqual(row(e.h)!.timer, twTimer(60000));
  const ecr = e.h.peerTs;
  e.h.advance(3_000_000);
  peer(e, FIN | ACK, { seq: e.h.rSeq - 1 });
  expectOne(e.h, twAck(e, ecr));
});

// Segments answered with the TIME_WAIT ACK (echoing the old ts_recent), restarting the 60 s
// (Q3): seq is the segment's sequence number from RCV.NXT, len its data.
const TW_ACKED: Array<{ what: string; wait: number; flags: number; seq: number; len: number }> = [
  { what: 'a retransmitted FIN', wait: 10_000_000, flags: FIN | ACK, seq: -1, len: 0 },
  { what: 'data beyond the window', wait: 3_000_000, flags: ACK | PSH, seq: 100_000, len: 10 },
  { what: 'old data', wait: 3_000_000, flags: ACK | PSH, seq: -3, len: 2 },
  { what: 'data at RCV.NXT (not a bare ACK; nothing accepted)', wait: 5_000_000, flags: ACK | PSH, seq: 0, len: 4 },
  { what: 'a SYN-ACK (an ACK-bearing SYN never reopens the 4-tuple)', wait: 5_000_000, flags: SYN | ACK, seq: 1000, len: 0 },
];

for (const r of TW_ACKED) {
  test(`TIME_WAIT: ${r.what} -> ACK seq=SND.NXT ack=RCV.NXT (old ts_recent echoed), and the 60 s restart`, () => {
    const e = timeWait();
    const ecr = e.h.peerTs;
    e.h.advance(r.wait);
    const syn = r.flags & SYN ? { window: 64240, options: e.h.synOptions() } : {};
    peer(e, r.flags, { seq: e.h.rSeq + r.seq, payload: bytes(r.len), ...syn });
    expectOne(e.h, twAck(e, ecr));
    assert.deepEqual([tableState(e.h), row(e.h)!.timer], ['TIME_WAIT', twTimer(60000)]);
    assert.equal(e.h.counter('TcpOutRsts'), 0);
  });
}

test('TIME_WAIT: out-of-window ACKs without data are rate-limited to one per 500 ms (TCPACKSkippedTimeWait)', () => {
  const e = timeWait();
  const ecr = e.h.peerTs;
  peer(e, FIN | ACK, { seq: e.h.rSeq - 1 });
  expectOne(e.h, twAck(e, ecr));
  peer(e, FIN | ACK, { seq: e.h.rSeq - 1 });
  e.h.none();
  assert.equal(e.h.counter('TcpExtTCPACKSkippedTimeWait'), 1);
  e.h.advance(500_000);
  peer(e, FIN | ACK, { seq: e.h.rSeq - 1 });
  expectOne(e.h, twAck(e, ecr));
});

test('TIME_WAIT: RST at RCV.NXT kills the entry (tcp_rfc1337 = 0), no reply, no counter (Q3: no TWKilled)', () => {
  const e = timeWait();
  e.h.inject({ flags: RST, seq: e.h.rSeq });
  e.h.none();
  assert.equal(tableState(e.h), '');
  assert.deepEqual([e.h.counter('TcpExtTWKilled'), e.h.counter('TcpExtTW'), e.h.counter('TcpOutRsts')], [0, 1, 0]);
});

// RSTs that neither kill the entry nor restart its timer: seq from RCV.NXT.
const TW_RST_IGNORED: Array<{ what: string; config: Partial<HostConfig>; rsts: Array<[number, number]> }> = [
  { what: 'a RST elsewhere (RCV.NXT+1), a RST|ACK at RCV.NXT-1', config: {}, rsts: [[RST, 1], [RST | ACK, -1]] },
  { what: 'with tcp_rfc1337 = 1, RST and RST|ACK at RCV.NXT (Q3)', config: { tcp_rfc1337: 1 }, rsts: [[RST, 0], [RST | ACK, 0]] },
];

for (const r of TW_RST_IGNORED) {
  test(`TIME_WAIT: ${r.what}: ignored, no reply, the timer not restarted`, () => {
    const e = timeWait({ config: r.config });
    e.h.advance(4_000_000);
    for (const [flags, off] of r.rsts) e.h.inject({ flags, seq: e.h.rSeq + off, ack: flags & ACK ? e.lSeq : 0 });
    e.h.none();
    assert.deepEqual([tableState(e.h), row(e.h)!.timer], ['TIME_WAIT', twTimer(56000)]);
  });
}

test('TIME_WAIT: a SYN above RCV.NXT with a newer TS opens a new connection: SYN-ACK with ISN = tw SND.NXT + 65537 (Q3)', () => {
  const e = timeWait();
  e.h.advance(2_000_000);
  e.h.inject({ flags: SYN, seq: e.h.rSeq + 1000, window: 64240, options: e.h.synOptions() });
  const sa = e.h.one();
  expectSeg(sa, {
    flags: 'S.', seq: e.lSeq + 65537, ack: e.h.rSeq + 1001, win: 65160,
    options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: tsOf(sa)!.val, ecr: e.h.peerTs }, wscale: 7 }),
  });
  assert.equal(tableState(e.h), 'SYN_RECV');
  assert.deepEqual(['TcpExtTWRecycled', 'TcpExtTWKilled', 'TcpExtTW'].map((n) => e.h.counter(n)), [0, 0, 1]);
});

test('TIME_WAIT: a SYN below RCV.NXT is accepted too when its TS is newer than ts_recent (Q3)', () => {
  const e = timeWait();
  e.h.inject({ flags: SYN, seq: e.h.rSeq - 1000, window: 64240, options: e.h.synOptions() });
  const sa = e.h.one();
  assert.deepEqual([sa.flags, sa.tcp.seq, sa.tcp.ack], ['S.', (e.lSeq + 65537) >>> 0, (e.h.rSeq - 999) >>> 0]);
  assert.equal(tableState(e.h), 'SYN_RECV');
});

test('TIME_WAIT: an old SYN (below RCV.NXT) without TS is treated as a duplicate: ACK, the timer is not restarted (Q3)', () => {
  const e = timeWait();
  const ecr = e.h.peerTs;
  e.h.advance(2_000_000);
  e.h.inject({ flags: SYN, seq: e.h.rSeq - 1000, window: 64240, options: [{ kind: 'mss', value: 1460 }] });
  expectOne(e.h, twAck(e, ecr));
  assert.deepEqual([tableState(e.h), row(e.h)!.timer], ['TIME_WAIT', twTimer(58000)]);
});

// ---- the active opener's TIME_WAIT (no listener on its port)

/** The client closes first, the server answers with its FIN: TIME_WAIT on the client's ephemeral port. */
function clientTimeWait(config: Partial<HostConfig> = {}): Est {
  const e = establishedClient(config);
  e.sock.close();
  const fin = e.h.one();
  e.lSeq = (fin.tcp.seq + 1) >>> 0;
  peer(e, FIN | ACK);
  e.h.rSeq += 1;
  const a = e.h.one();
  if (a.flags !== '.' || tableState(e.h) !== 'TIME_WAIT') throw new Error('expected TIME_WAIT on the client');
  return e;
}

test('TIME_WAIT (client side): a new SYN for the 4-tuple finds no listener: it is answered with the TIME_WAIT ACK', () => {
  const e = clientTimeWait();
  const ecr = e.h.peerTs;
  e.h.inject({ flags: SYN, seq: e.h.rSeq + 5000, window: 64240, options: e.h.synOptions() });
  expectOne(e.h, { flags: '.', seq: e.lSeq, ack: e.h.rSeq, win: 502, ts: { val: ourTs(e), ecr } });
  assert.equal(tableState(e.h), 'TIME_WAIT');
});

test('TIME_WAIT (client side): a new connect() to the same server uses another ephemeral port while the entry lives', () => {
  const e = clientTimeWait();
  e.h.advance(2_000_000);
  const s = e.h.host.socket();
  s.connect(e.h.remote, 80);
  const syn = e.h.one();
  assert.notEqual(syn.tcp.srcPort, e.h.localPort);
  assert.equal(e.h.counter('TcpExtTWRecycled'), 0);
  assert.equal(tableState(e.h), 'TIME_WAIT');
});

test('TIME_WAIT (client side): the only ephemeral port in TIME_WAIT, tcp_tw_reuse 2 (loopback only) on a LAN address: connect() EADDRNOTAVAIL', () => {
  const e = clientTimeWait({ ip_local_port_range: [40000, 40000] });
  e.h.advance(2_000_000);
  const s = e.h.host.socket();
  assert.equal(errCode(() => s.connect(e.h.remote, 80)), 'EADDRNOTAVAIL');
  e.h.none();
});

test('TIME_WAIT (client side): tcp_tw_reuse 1 and the last TS older than 1 s: connect() takes the 4-tuple over (TWRecycled), ISN = tw SND.NXT + 65537', () => {
  const e = clientTimeWait({ ip_local_port_range: [40000, 40000], tcp_tw_reuse: 1 });
  e.h.advance(500_000);
  assert.equal(errCode(() => e.h.host.socket().connect(e.h.remote, 80)), 'EADDRNOTAVAIL', 'not within tcp_tw_reuse_delay (1 s)');
  e.h.advance(1_000_000);
  const s = e.h.host.socket();
  s.connect(e.h.remote, 80);
  const syn = e.h.one();
  assert.deepEqual([syn.flags, syn.tcp.srcPort, syn.tcp.seq], ['S', 40000, (e.lSeq + 65537) >>> 0]);
  assert.equal(e.h.counter('TcpExtTWRecycled'), 1);
  assert.equal(tableState(e.h), 'SYN_SENT');
});

// ---- application calls on the socket that reached TIME_WAIT through shutdown()

test('TIME_WAIT: close() of the owning socket sends nothing and leaves the entry (even with SO_LINGER {1,0})', () => {
  const e = timeWait();
  e.sock.setsockopt('SO_LINGER', { on: true, seconds: 0 });
  e.sock.close();
  e.h.none();
  assert.deepEqual([tableState(e.h), row(e.h)!.timer], ['TIME_WAIT', twTimer(60000)]);
  assert.equal(e.h.counter('TcpOutRsts'), 0);
});

test('TIME_WAIT: shutdown() on the owning socket is ENOTCONN; keepalive options change nothing', () => {
  const e = timeWait();
  assert.equal(errCode(() => e.sock.shutdown('SHUT_RDWR')), 'ENOTCONN');
  e.sock.setsockopt('SO_KEEPALIVE', 1);
  e.sock.setsockopt('TCP_KEEPIDLE', 1);
  e.h.advance(30_000_000);
  e.h.none();
  assert.equal(tableState(e.h), 'TIME_WAIT');
});

test('TIME_WAIT: dup() + close() of the owning socket: nothing sent; the entry is independent of descriptors', () => {
  const e = timeWait();
  const other = e.sock.dup();
  e.sock.close();
  other.close();
  e.h.none();
  assert.equal(tableState(e.h), 'TIME_WAIT');
});
