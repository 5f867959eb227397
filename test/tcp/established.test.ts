// ESTABLISHED (RFC 9293 §3.10.7.4; Linux tcp_rcv_established, tcp_validate_incoming, tcp_ack,
// tcp_data_queue, __tcp_ack_snd_check, the timers of tcp_timer.c). The fixture
// (establishedServer): the host accepted a connection on :80 from 10.0.0.2:40000 at t = 1 s;
// the peer's ISN is 1000000 (h.rSeq = 1000001), its last TS val 5001; no data yet.
//
// Windows: the child's first window is ALIGN(65160, 128) >> 7 = 510 (Linux showed 64 with
// wscale 10: docs/linux-observations.md Q1). Observations cited are in that file (Q2
// keepalive, Q4 aborts, Q10 challenge ACKs, Q14 delayed ACK, Q1 zero-window probes).
//
// Cases this state shares with others are rows of the tables in shared-segments.test.ts,
// shared-timers.test.ts and shared-calls.test.ts (the tests are named after the state).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, FIN, PSH, RST, SYN, bytes, errCode, establishedClient, establishedServer, expectOne, expectSeg, ourTs, ourTsAt, peer,
  recordEvents, row, tableState, type Est, giveUpAt, WIN, ackNow,
} from '../helpers/harness.ts';

/** The peer sends n bytes in order and the test's view of RCV.NXT advances. */
function data(e: Est, n: number, flags = ACK | PSH): void {
  peer(e, flags, { payload: bytes(n) });
  e.h.rSeq = (e.h.rSeq + n) >>> 0;
}

/**
 * The window of an ACK sent while received data sits unread: the memory each segment is
 * charged (truesize) comes off the free space, and 65280 >> 7 = 510 becomes 509 (seen on 6.18
 * after one unread 10-byte segment and after 21 of 100 bytes, drill --both).
 */
const WIN_UNREAD = 509;

function fresh(): Est {
  return establishedServer();
}

test('ESTABLISHED: the fixture: accepted socket, socket table ESTABLISHED, no timer, CurrEstab 1', () => {
  const e = fresh();
  assert.equal(e.sock.state, 'ESTABLISHED');
  const r = row(e.h)!;
  assert.deepEqual([r.state, r.stateNum, r.recvQ, r.sendQ, r.timer, r.orphan], ['ESTABLISHED', 1, 0, 0, null, false]);
  assert.equal(e.h.counter('TcpCurrEstab'), 1);
  e.h.advance(3600_000_000);
  e.h.none();
});

// ---- challenge ACKs (RFC 5961 §5; Q10)

test('ESTABLISHED: challenge ACKs share a 500 ms per-socket limit (TCPACKSkippedChallenge), then resume', () => {
  const e = fresh();
  const ecr = e.h.peerTs;
  peer(e, SYN, { seq: e.h.rSeq + 100 });
  expectOne(e.h, ackNow(e, ecr));
  e.h.advance(100_000);
  e.h.inject({ flags: RST, seq: e.h.rSeq + 200 });
  e.h.none();
  assert.equal(e.h.counter('TcpExtTCPACKSkippedChallenge'), 1);
  e.h.advance(400_000);
  e.h.inject({ flags: RST, seq: e.h.rSeq + 200 });
  expectOne(e.h, ackNow(e, ecr));
  assert.equal(e.h.counter('TcpExtTCPChallengeACK'), 2);
});

// ---- ACK

test('ESTABLISHED: ACK for data never sent -> challenge ACK (observed, Q10); the segment\'s data is discarded', () => {
  const e = fresh();
  const ecr = e.h.peerTs;
  peer(e, ACK | PSH, { ack: e.lSeq + 1000, payload: bytes(10) });
  expectOne(e.h, ackNow(e, ecr));
  assert.equal(e.h.counter('TcpExtTCPChallengeACK'), 1);
  assert.equal(e.sock.recv(), null);
});

test('ESTABLISHED: ACK far below SND.UNA (older than the bytes ever acknowledged) -> challenge ACK (RFC 5961 §5.2, Q10)', () => {
  const e = fresh();
  e.sock.send(bytes(100));
  e.h.take();
  e.lSeq += 100;
  peer(e, ACK);
  const ecr = e.h.peerTs;
  // tcp_ack: max_window = min(max_window, bytes_acked) = 100; ack < snd_una - 100 is too old.
  peer(e, ACK, { ack: e.lSeq - (1 << 30) });
  expectOne(e.h, ackNow(e, ecr));
  e.h.advance(600_000);
  peer(e, ACK, { ack: e.lSeq - 101 });
  expectOne(e.h, ackNow(e, ecr));
  assert.equal(e.h.counter('TcpExtTCPChallengeACK'), 2);
});

test('ESTABLISHED: a slightly old ACK (within the bytes acknowledged) is ignored, its data is still accepted', () => {
  const e = fresh();
  e.sock.send(bytes(100));
  e.h.take();
  e.lSeq += 100;
  peer(e, ACK);
  peer(e, ACK | PSH, { ack: e.lSeq - 50, payload: bytes(10) });
  e.h.rSeq += 10;
  // tcp_ack's old_ack path returns before tcp_replace_ts_recent: the echo stays the previous TS.
  expectOne(e.h, ackNow(e, e.h.peerTs - 1));
  assert.deepEqual(e.sock.recv(), bytes(10));
  assert.equal(e.h.counter('TcpExtTCPChallengeACK'), 0);
});

// ---- data

test('ESTABLISHED: delayed ACK (Q14): 1 + 16 quick ACKs around a pause longer than the RTO, then ACKs 40 ms late (DelayedACKs)', () => {
  const e = fresh();
  data(e, 100);
  expectOne(e.h, ackNow(e, e.h.peerTs, { win: WIN_UNREAD }));
  e.h.advance(500_000); // longer than the RTO: quickack mode re-entered with 16 (tcp_event_data_recv)
  for (let i = 2; i <= 21; i++) {
    const t = e.h.clock.now();
    data(e, 100);
    e.h.advance(100_000);
    const a = e.h.one();
    const delay = a.t - t;
    if (i <= 17) assert.equal(delay, 0, `segment #${i} ACKed at once`);
    else assert.equal(delay, 40_000, `segment #${i} ACKed by the 40 ms delayed-ACK timer`);
    expectSeg(a, { flags: '.', seq: e.lSeq, ack: e.h.rSeq, win: WIN_UNREAD, ts: { ecr: e.h.peerTs } }, `ACK #${i}`);
  }
  assert.equal(e.h.counter('TcpExtDelayedACKs'), 4);
});

test('ESTABLISHED: after quickack mode, a full-sized segment that lets the window grow is ACKed at once (tcp_grow_window: quickack)', () => {
  const e = fresh();
  for (let i = 0; i < 16; i++) data(e, 100);
  e.h.take();
  // Seen on 6.18 (drill --both): after 16 segments of 100 bytes, a 1448-byte one is ACKed at
  // once with the window grown to 532 << 7 (rcv_ssthresh rises, and tcp_grow_window asks for
  // a quick ACK, inet_csk(sk)->icsk_ack.quick |= 1). The 100-byte segments coalesce into the
  // tailroom of the skb before them (tcp_try_coalesce, no charge), as the kernel's did.
  data(e, 1448);
  const a = e.h.one();
  expectSeg(a, { flags: '.', seq: e.lSeq, ack: e.h.rSeq, win: 532, ts: { ecr: e.h.peerTs } });
  assert.equal(a.t, e.h.clock.now());
});

test('ESTABLISHED: out-of-order data -> immediate ACK with a SACK block (TCPOFOQueue); filling the gap -> immediate ACK, no SACK', () => {
  const e = fresh();
  const hole = e.h.rSeq;
  peer(e, ACK | PSH, { seq: hole + 100, payload: bytes(50) });
  expectOne(e.h, ackNow(e, e.h.peerTs - 1, { sack: [[hole + 100, hole + 150]] }));
  assert.equal(e.h.counter('TcpExtTCPOFOQueue'), 1);
  peer(e, ACK | PSH, { seq: hole + 200, payload: bytes(10) });
  // Two blocks, the newest first (observed: test/fixtures/linux/ipv4-sack.pcap packet 9).
  expectOne(e.h, ackNow(e, e.h.peerTs - 2, { sack: [[hole + 200, hole + 210], [hole + 100, hole + 150]] }));
  data(e, 100);
  e.h.rSeq = hole + 150;
  expectOne(e.h, ackNow(e, e.h.peerTs, { win: WIN_UNREAD, sack: [[hole + 200, hole + 210]] }));
  assert.equal(e.sock.recv()!.length, 150);
});

test('ESTABLISHED: a duplicate (already received) segment -> immediate ACK with a D-SACK block (Q10: DelayedACKLost, TCPDSACKOldSent)', () => {
  const e = fresh();
  data(e, 10);
  e.h.take();
  const start = e.h.rSeq - 3;
  peer(e, ACK | PSH, { seq: start, payload: bytes(3) });
  // The duplicate starts below RCV.WUP, so its TS becomes ts_recent and is echoed.
  expectOne(e.h, ackNow(e, e.h.peerTs, { win: WIN_UNREAD, sack: [[start, start + 3]] }));
  assert.equal(e.h.counter('TcpExtDelayedACKLost'), 1);
  assert.equal(e.h.counter('TcpExtTCPDSACKOldSent'), 1);
  assert.equal(e.sock.recv()!.length, 10, 'nothing new queued');
});

test('ESTABLISHED: a D-SACK block is sent once: the next ACK carries no SACK option', () => {
  const e = fresh();
  data(e, 10);
  e.h.take();
  peer(e, ACK | PSH, { seq: e.h.rSeq - 10, payload: bytes(10) });
  expectOne(e.h, ackNow(e, e.h.peerTs, { win: WIN_UNREAD, sack: [[e.h.rSeq - 10, e.h.rSeq]] }));
  data(e, 5);
  expectOne(e.h, ackNow(e, e.h.peerTs, { win: WIN_UNREAD }));
});

test('ESTABLISHED: a very old duplicate (below RCV.WUP) gets a D-SACK dup ACK and re-enters quickack mode (tcp_send_dupack)', () => {
  const e = fresh();
  for (let i = 0; i < 16; i++) data(e, 100);
  e.h.take();
  data(e, 100);
  e.h.advance(40_000);
  assert.equal(e.h.one().t, e.h.clock.now(), 'quickack exhausted: this one was delayed 40 ms');
  const old = e.h.rSeq - 300;
  peer(e, ACK | PSH, { seq: old, payload: bytes(100) });
  expectOne(e.h, ackNow(e, e.h.peerTs - 1, { win: WIN_UNREAD, sack: [[old, old + 100]] }));
  assert.equal(e.h.counter('TcpExtDelayedACKLost'), 1);
  data(e, 100);
  expectOne(e.h, ackNow(e, e.h.peerTs, { win: WIN_UNREAD }), 'ACKed at once again');
});

test('ESTABLISHED: a segment overlapping RCV.NXT: the new part is queued, the old part D-SACKed', () => {
  const e = fresh();
  for (let i = 0; i < 16; i++) data(e, 10);
  e.h.take();
  const start = e.h.rSeq - 4;
  peer(e, ACK | PSH, { seq: start, payload: bytes(10) });
  e.h.rSeq = start + 10;
  e.h.advance(40_000);
  expectOne(e.h, ackNow(e, e.h.peerTs, { win: WIN_UNREAD, sack: [[start, start + 4]] }));
  assert.equal(e.sock.recv()!.length, 166);
});

test('ESTABLISHED: a pure ACK outside the window gets one duplicate ACK per 500 ms (TCPACKSkippedSeq)', () => {
  const e = fresh();
  const ecr = e.h.peerTs;
  peer(e, ACK, { seq: e.h.rSeq + 10_000_000 });
  expectOne(e.h, ackNow(e, ecr));
  peer(e, ACK, { seq: e.h.rSeq + 10_000_000 });
  e.h.none();
  assert.equal(e.h.counter('TcpExtTCPACKSkippedSeq'), 1);
});

test('ESTABLISHED: data without the ACK bit is dropped silently (Q10)', () => {
  const e = fresh();
  peer(e, PSH, { payload: bytes(10) });
  e.h.none();
  assert.equal(e.sock.recv(), null);
});

// ---- FIN

test('ESTABLISHED: FIN in order -> CLOSE_WAIT, EOF after the queue; the ACK is delayed (pingpong; no data yet: next jiffy)', () => {
  const e = fresh();
  const ev = recordEvents(e.sock);
  peer(e, FIN | ACK);
  e.h.rSeq += 1;
  e.h.none();
  assert.equal(e.sock.state, 'CLOSE_WAIT');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  assert.deepEqual(ev, ['readable']);
  e.h.advance(4_000);
  const a = e.h.one();
  expectSeg(a, { flags: '.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTsAt(e, a.t), ecr: e.h.peerTs } });
  // Observed (Q14 e1): 2.6 ms when no data was ever received.
  assert.ok(a.t > 1_000_000 && a.t <= 1_004_000);
  assert.equal(e.h.counter('TcpCurrEstab'), 1);
});

test('ESTABLISHED: FIN after data -> the data ACKed at once, the FIN 40 ms later (Q14 e2: 41.2 ms)', () => {
  const e = fresh();
  data(e, 4);
  expectOne(e.h, ackNow(e, e.h.peerTs));
  e.h.advance(500_000);
  peer(e, FIN | ACK);
  e.h.rSeq += 1;
  e.h.advance(39_999);
  e.h.none();
  e.h.advance(1);
  expectOne(e.h, ackNow(e, e.h.peerTs));
  assert.deepEqual(e.sock.recv(), bytes(4));
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
});

// ---- RST

test('ESTABLISHED: RST|ACK at RCV.NXT with unread data: the data is still readable before ECONNRESET (Q4)', () => {
  const e = fresh();
  data(e, 6);
  e.h.take();
  e.h.inject({ flags: RST | ACK, seq: e.h.rSeq, ack: e.lSeq });
  e.h.none();
  assert.deepEqual(e.sock.recv(), bytes(6));
  assert.equal(errCode(() => e.sock.recv()), 'ECONNRESET');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
});

// ---- timers: retransmission

test('ESTABLISHED timer: RTO doubles from ~200 ms up to 120 s; 15 retransmissions; ETIMEDOUT at 924.6 s, no RST (tcp_retries2)', () => {
  const e = fresh();
  const ev = recordEvents(e.sock);
  const t0 = e.h.clock.now();
  e.sock.send(bytes(100));
  e.h.take();
  const rto0 = Math.round(row(e.h)!.rtoMs! * 1000);
  // Linux: srtt + max(rttvar, 200 ms), rounded up to jiffies (204 ms at HZ=250, observed).
  assert.ok(rto0 >= 200_000 && rto0 <= 204_000, `initial RTO ${rto0} µs`);
  // Linux checks the 924.6 s budget when the RTO fires; with 204 ms jiffy-rounded RTOs the
  // 16th expiry (928.7 s after the send) is the first past it.
  const g = giveUpAt(rto0, 924_600_000);
  assert.equal(g.retransmissions, 15);
  e.h.advance(g.at - 1);
  const q = e.h.take();
  assert.equal(q.length, 15);
  let t = t0;
  q.forEach((o, k) => {
    t += Math.min(rto0 * 2 ** k, 120_000_000);
    expectSeg(o, { flags: 'P.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, len: 100, ts: { val: ourTsAt(e, o.t), ecr: e.h.peerTs }, at: t }, `retransmission ${k + 1}`);
  });
  assert.equal(e.sock.state, 'ESTABLISHED');
  e.h.advance(1);
  e.h.none();
  assert.equal(e.sock.state, 'CLOSED');
  assert.deepEqual(ev, ['error:ETIMEDOUT', 'close']);
  assert.deepEqual(['TcpRetransSegs', 'TcpExtTCPTimeouts', 'TcpExtTCPAbortOnTimeout', 'TcpOutRsts', 'TcpEstabResets'].map((n) => e.h.counter(n)), [15, 16, 1, 0, 1]);
  assert.equal(errCode(() => e.sock.recv()), 'ETIMEDOUT');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  assert.equal(errCode(() => e.sock.send(bytes(1))), 'EPIPE');
});

test('ESTABLISHED timer: an ACK after two retransmissions resets the backoff: new data gets the base RTO again', () => {
  const e = fresh();
  e.sock.send(bytes(100));
  e.h.take();
  const rto0 = Math.round(row(e.h)!.rtoMs! * 1000);
  e.h.advance(Math.ceil(rto0 * 3));
  assert.equal(e.h.take().length, 2);
  e.lSeq += 100;
  peer(e, ACK);
  assert.equal(row(e.h)!.timer, null);
  e.sock.send(bytes(10));
  e.h.take();
  const r = row(e.h)!;
  assert.equal(r.timer!.kind, 'on');
  assert.ok(r.timer!.expiresMs <= 1000 && r.timer!.retrans === 0, `timer ${JSON.stringify(r.timer)}`);
});

test('ESTABLISHED timer: TCP_USER_TIMEOUT 1000 ms ends retransmission exactly 1 s after the first retransmission (retrans_stamp; RTO clamped to it)', () => {
  // Linux 6.x: retrans_stamp is the head's timestamp once resent (seen on 6.18: ETIMEDOUT 1.216 s
  // after the first send, 1.0 s after the first retransmission at +212 ms).
  const e = fresh();
  e.sock.setsockopt('TCP_USER_TIMEOUT', 1000);
  e.sock.send(bytes(100));
  e.h.take();
  e.h.advance(300_000);
  const first = e.h.take();
  assert.equal(first.length, 1, 'the first retransmission');
  const t1 = first[0]!.t;
  e.h.advance(t1 + 1_000_000 - 1 - e.h.clock.now());
  assert.equal(e.h.take().length, 1, 'the second retransmission; the third RTO is clamped to the user timeout');
  assert.equal(e.sock.state, 'ESTABLISHED');
  e.h.advance(1);
  assert.equal(e.sock.state, 'CLOSED', `closed at +${e.h.clock.now() - t1} µs after the first retransmission`);
  assert.equal(errCode(() => e.sock.recv()), 'ETIMEDOUT');
});

// ---- timers: keepalive (Q2: IDLE 2, INTVL 1, CNT 3)

function keepalive(e: Est, idle = 2, intvl = 1, cnt = 3): void {
  e.sock.setsockopt('SO_KEEPALIVE', 1);
  e.sock.setsockopt('TCP_KEEPIDLE', idle);
  e.sock.setsockopt('TCP_KEEPINTVL', intvl);
  e.sock.setsockopt('TCP_KEEPCNT', cnt);
}

test('ESTABLISHED timer: keepalive probes [.] seq=SND.NXT-1 len 0; answered ones restart the idle time; 3 unanswered -> [R.] and ETIMEDOUT', () => {
  const e = fresh();
  const ev = recordEvents(e.sock);
  keepalive(e);
  const t0 = e.h.clock.now();
  const probe = () => ({ flags: '.', seq: e.lSeq - 1, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  e.h.advance(2_000_000);
  expectOne(e.h, { ...probe(), at: t0 + 2_000_000 });
  // A Linux peer answers with a pure ACK; the probe's TS is below RCV.NXT, so the answer's
  // ecr is the old ts_recent (observed). The idle time restarts from this answer.
  peer(e, ACK);
  e.h.advance(2_000_000);
  expectOne(e.h, { ...probe(), at: t0 + 4_000_000 });
  peer(e, ACK);
  // Now silence: probes every KEEPINTVL, then a reset when the next one would go out.
  e.h.advance(2_000_000);
  expectOne(e.h, { ...probe(), at: t0 + 6_000_000 });
  e.h.advance(1_000_000);
  expectOne(e.h, { ...probe(), at: t0 + 7_000_000 });
  e.h.advance(1_000_000);
  expectOne(e.h, { ...probe(), at: t0 + 8_000_000 });
  assert.deepEqual(row(e.h)!.timer, { kind: 'keepalive', expiresMs: 1000, retrans: 3 });
  e.h.advance(1_000_000);
  expectOne(e.h, { flags: 'R.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs }, at: t0 + 9_000_000 });
  assert.equal(e.sock.state, 'CLOSED');
  assert.deepEqual(ev, ['error:ETIMEDOUT', 'close']);
  // Observed counters: TCPKeepAlive 5 (every probe), TCPAbortOnTimeout 1, OutRsts 1, EstabResets 1.
  assert.deepEqual(['TcpExtTCPKeepAlive', 'TcpExtTCPAbortOnTimeout', 'TcpOutRsts', 'TcpEstabResets'].map((n) => e.h.counter(n)), [5, 1, 1, 1]);
  assert.equal(errCode(() => e.sock.recv()), 'ETIMEDOUT');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  assert.equal(errCode(() => e.sock.send(bytes(1))), 'EPIPE');
});

test('ESTABLISHED timer: keepalive with the defaults: first probe after 7200 s idle, 9 probes 75 s apart, reset at 7875 s', () => {
  const e = fresh();
  e.sock.setsockopt('SO_KEEPALIVE', 1);
  const t0 = e.h.clock.now();
  e.h.advance(7875_000_000 - 1);
  const q = e.h.take();
  assert.deepEqual(q.map((o) => (o.t - t0) / 1e6), [7200, 7275, 7350, 7425, 7500, 7575, 7650, 7725, 7800]);
  assert.ok(q.every((o) => o.flags === '.' && o.tcp.seq === ((e.lSeq - 1) >>> 0) && o.tcp.payload.length === 0));
  e.h.advance(1);
  assert.equal(e.h.one().flags, 'R.');
  assert.equal(e.sock.state, 'CLOSED');
});

test('ESTABLISHED timer: a keepalive probe answered by a reset (rebooted peer, [R] seq=probe.ack) -> ECONNRESET (Q2)', () => {
  const e = fresh();
  keepalive(e);
  e.h.advance(2_000_000);
  e.h.one();
  e.h.inject({ flags: RST, seq: e.h.rSeq });
  e.h.none();
  assert.equal(e.sock.state, 'CLOSED');
  assert.equal(errCode(() => e.sock.recv()), 'ECONNRESET');
  assert.equal(e.h.counter('TcpExtTCPKeepAlive'), 1);
  assert.equal(e.h.counter('TcpEstabResets'), 1);
});

test('ESTABLISHED timer: keepalive idle counts from the last segment received; data arriving postpones the probe', () => {
  const e = fresh();
  keepalive(e, 10, 1, 3);
  e.h.advance(6_000_000);
  data(e, 5);
  e.h.take();
  e.h.advance(9_999_999);
  e.h.none();
  e.h.advance(1);
  expectOne(e.h, { flags: '.', seq: e.lSeq - 1, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
});

test('ESTABLISHED timer: no keepalive probe while data is in flight (the retransmission timer is the liveness check)', () => {
  const e = fresh();
  keepalive(e, 1, 1, 1);
  e.sock.send(bytes(10));
  e.h.take();
  e.h.advance(1_500_000);
  assert.ok(e.h.take().every((o) => o.tcp.payload.length === 10), 'only retransmissions');
  assert.equal(e.h.counter('TcpExtTCPKeepAlive'), 0);
});

test('ESTABLISHED timer: SO_KEEPALIVE off again cancels the probes', () => {
  const e = fresh();
  keepalive(e);
  e.h.advance(1_000_000);
  e.sock.setsockopt('SO_KEEPALIVE', 0);
  e.h.advance(100_000_000);
  e.h.none();
});

// ---- timers: zero-window probe (tcp_probe_timer; Q1)

test('ESTABLISHED timer: zero window: data waits; probes [.] seq=SND.UNA-1 len 0 at the RTO, doubling; an open window releases the data', () => {
  const e = fresh();
  peer(e, ACK, { window: 0 });
  e.sock.send(bytes(100));
  e.h.none();
  assert.equal(row(e.h)!.timer!.kind, 'persist');
  const t0 = e.h.clock.now();
  const rto0 = Math.round(row(e.h)!.rtoMs! * 1000);
  const probe = () => ({ flags: '.', seq: e.lSeq - 1, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  e.h.advance(Math.ceil(rto0));
  expectOne(e.h, probe(), 'probe 1');
  peer(e, ACK, { window: 0 }); // the receiver answers: still zero
  e.h.advance(Math.ceil(2 * rto0));
  expectOne(e.h, probe(), 'probe 2');
  peer(e, ACK, { window: 0 });
  e.h.advance(Math.ceil(4 * rto0));
  expectOne(e.h, probe(), 'probe 3');
  assert.ok(e.h.clock.now() - t0 >= 7 * rto0);
  // The window opens: the data goes out at once.
  peer(e, ACK, { window: 502 });
  expectOne(e.h, { flags: 'P.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, len: 100, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  assert.equal(e.sock.state, 'ESTABLISHED');
});

test('ESTABLISHED timer: zero-window probes answered late: each next probe is timed from the answer (tcp_ack_probe), one TCPWinProbe each (Q16 a)', () => {
  // Observed on 6.18 (docs/experiments/q16_probe_overflow.py), answers 150 ms after each probe:
  // probes at 0.206, 0.790, 1.782, 3.574 s; probe - previous answer 0.425, 0.839, 1.634 s (the
  // backed-off RTO 408, 816, 1632 ms plus timer slack); TCPWinProbe +4 for 4 probes.
  const e = fresh();
  peer(e, ACK, { window: 0 });
  e.sock.send(bytes(100));
  const rto0 = Math.round(row(e.h)!.rtoMs! * 1000);
  const probe = () => ({ flags: '.', seq: e.lSeq - 1, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  e.h.advance(Math.ceil(rto0));
  expectOne(e.h, probe(), 'probe 1');
  for (const [n, backoff] of [[2, 2], [3, 4], [4, 8]] as const) {
    e.h.advance(150_000);
    peer(e, ACK, { window: 0 }); // the answer, 150 ms late: the timer starts again from here
    e.h.advance(backoff * rto0 - 1_000);
    e.h.none(); // no probe before the answer + the backed-off RTO
    e.h.advance(1_000);
    expectOne(e.h, probe(), `probe ${n} at the answer + ${backoff} RTO`);
  }
  assert.equal(e.h.counter('TcpExtTCPWinProbe'), 4);
});

test('ESTABLISHED timer: zero-window probes answered by the peer never give up', () => {
  const e = fresh();
  peer(e, ACK, { window: 0 });
  e.sock.send(bytes(100));
  for (let i = 0; i < 40; i++) {
    e.h.advance(120_000_000);
    for (const _ of e.h.take()) peer(e, ACK, { window: 0 });
  }
  assert.equal(e.sock.state, 'ESTABLISHED');
});

test('ESTABLISHED timer: unanswered zero-window probes: after tcp_retries2 (15) probes -> ETIMEDOUT', () => {
  const e = fresh();
  peer(e, ACK, { window: 0 });
  e.sock.send(bytes(100));
  e.h.advance(4000_000_000);
  const q = e.h.take();
  assert.equal(q.length, 15);
  assert.ok(q.every((o) => o.flags === '.' && o.tcp.seq === ((e.lSeq - 1) >>> 0)));
  assert.equal(e.sock.state, 'CLOSED');
  assert.equal(errCode(() => e.sock.recv()), 'ETIMEDOUT');
  assert.equal(e.h.counter('TcpExtTCPAbortOnTimeout'), 1);
});

// ---- application calls

test('ESTABLISHED: Nagle: a second small send waits for the ACK of the first, then goes out', () => {
  const e = fresh();
  e.sock.send(bytes(20));
  e.h.take();
  e.sock.send(bytes(30));
  e.h.none();
  e.lSeq += 20;
  peer(e, ACK);
  expectOne(e.h, { flags: 'P.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, len: 30, ts: { val: ourTs(e), ecr: e.h.peerTs } });
});

test('ESTABLISHED: TCP_NODELAY sends the second small segment at once', () => {
  const e = fresh();
  e.sock.setsockopt('TCP_NODELAY', 1);
  e.sock.send(bytes(20));
  e.sock.send(bytes(30));
  const q = e.h.take();
  assert.deepEqual(q.map((o) => [o.flags, o.tcp.seq, o.tcp.payload.length]), [['P.', e.lSeq, 20], ['P.', e.lSeq + 20, 30]]);
});

test('ESTABLISHED: after shutdown(SHUT_RD) (recv() EOF), data arriving later is still accepted and readable', () => {
  const e = fresh();
  e.sock.shutdown('SHUT_RD');
  e.h.none();
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  // Observed on 6.18 (python3): after SHUT_RD, data sent by the peer is returned by recv().
  data(e, 5);
  expectOne(e.h, ackNow(e, e.h.peerTs));
  assert.deepEqual(e.sock.recv(), bytes(5));
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
});

test('ESTABLISHED: SO_LINGER {1,0} with data sent but unacknowledged: the reset carries SND.NXT after that data', () => {
  const e = fresh();
  e.sock.send(bytes(6));
  e.h.take();
  e.sock.setsockopt('SO_LINGER', { on: true, seconds: 0 });
  e.sock.close();
  expectOne(e.h, { flags: 'R.', seq: e.lSeq + 6, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
});

test('ESTABLISHED: setsockopt TCP_KEEPIDLE on a keepalive socket takes effect from the last receive time', () => {
  const e = fresh();
  e.sock.setsockopt('SO_KEEPALIVE', 1);
  e.h.advance(5_000_000);
  e.sock.setsockopt('TCP_KEEPIDLE', 8);
  e.h.advance(2_999_999);
  e.h.none();
  e.h.advance(1);
  assert.equal(e.h.one().tcp.seq, (e.lSeq - 1) >>> 0);
  assert.deepEqual([e.sock.getsockopt('TCP_KEEPIDLE'), e.sock.getsockopt('TCP_KEEPINTVL'), e.sock.getsockopt('TCP_KEEPCNT')], [8, 75, 9]);
});

test('ESTABLISHED (active side): the client\'s close() sends FIN with its own window (502) and TS echo', () => {
  const e = establishedClient();
  e.sock.close();
  expectOne(e.h, { flags: 'F.', seq: e.lSeq, ack: e.h.rSeq, win: 502, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  assert.equal(tableState(e.h), 'FIN_WAIT1');
});
