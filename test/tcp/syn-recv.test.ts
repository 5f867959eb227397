// SYN_RECV (RFC 9293 §3.10.7.4 for SYN-RECEIVED; Linux keeps a passive open as a request
// socket until the handshake completes: tcp_check_req, reqsk_timer_handler). The fixture: a
// listener on :80 received the peer's SYN (seq 1000000, Linux options) at t = 1 s and sent
// its SYN-ACK; nothing else.
//
// Observed on Linux 6.18 (private netns, scapy peer; see also docs/linux-observations.md Q8,
// Q12): dup SYN -> the SYN-ACK again (RetransSegs, TCPSynRetrans), a second one within 500 ms
// -> nothing (TCPACKSkippedSynRecv); ACK with ack = ISS+5 -> `[R] seq=ISS+5`, request kept;
// RST at rcv_nxt+10 -> challenge ACK `[.] seq=ISS+1 ack=rcv_nxt win=65160>>wscale`; RST at
// rcv_nxt -> request gone (EmbryonicRsts, AttemptFails); RST outside the window -> nothing;
// SYN at rcv_nxt+10 -> `[R.] seq 0 ack=SEQ+1`, request gone (EmbryonicRsts, AttemptFails);
// ACK far outside the window -> `[.] seq=ISS+1 ack=rcv_nxt`; data without ACK -> nothing;
// the final ACK with 5 bytes -> ESTAB, data ACKed at once; the final ACK with FIN ->
// CLOSE-WAIT, the FIN ACKed by the delayed-ACK timer; tcp_synack_retries=2 -> SYN-ACKs at 1
// and 3 s, gone at 7 s with nothing sent (TCPTimeouts 3, TCPSynRetrans 2, no AttemptFails).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linuxSynOptions } from '../../src/wire/tcp.ts';
import {
  ACK, FIN, PSH, RST, SYN, bytes, expectOne, expectSeg, ourTs, peer, row, synRecv, synSent, tableState, tsOf,
} from '../helpers/harness.ts';

/** The request's ACKs carry its SYN-ACK window shifted by the scale: 65160 >> 7 (tcp_v4_reqsk_send_ack). */
const REQ_WIN = 509;
/** The established child's first window: ALIGN(65160, 128) >> 7 (Linux showed 64 with wscale 10). */
const EST_WIN = 510;
const synAckOpts = (val: number, ecr: number) => linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val, ecr }, wscale: 7 });

test('SYN_RECV: the fixture: SYN-ACK seq=ISS ack=SEQ+1 win 65160, request listed with a 1 s timer', () => {
  const e = synRecv();
  expectSeg(e.synack, { flags: 'S.', seq: e.iss, ack: 1_000_001, win: 65160, options: synAckOpts(e.lastTs, e.h.peerTs), at: 1_000_000 });
  const r = row(e.h)!;
  assert.equal(r.state, 'SYN_RECV');
  assert.deepEqual(r.timer, { kind: 'on', expiresMs: 1000, retrans: 0 });
  assert.equal(e.listener.accept(), null);
});

test('SYN_RECV: the final ACK -> ESTABLISHED child in the accept queue; nothing sent; PassiveOpens, CurrEstab', () => {
  const e = synRecv();
  peer(e, ACK);
  e.h.none();
  assert.equal(tableState(e.h), 'ESTABLISHED');
  assert.equal(row(e.h)!.timer, null);
  assert.equal(e.h.counter('TcpPassiveOpens'), 1);
  assert.equal(e.h.counter('TcpCurrEstab'), 1);
  assert.equal(e.h.counter('TcpAttemptFails'), 0);
  const s = e.listener.accept()!;
  assert.equal(s.state, 'ESTABLISHED');
});

test('SYN_RECV: the final ACK carrying 5 bytes -> ESTABLISHED and the data ACKed at once (quickack)', () => {
  const e = synRecv();
  peer(e, ACK | PSH, { payload: bytes(5) });
  expectOne(e.h, { flags: '.', seq: e.iss + 1, ack: 1_000_006, win: EST_WIN, ts: { val: ourTs(e), ecr: e.h.peerTs }, at: 1_000_000 });
  assert.equal(tableState(e.h), 'ESTABLISHED');
  assert.equal(row(e.h)!.recvQ, 5);
  assert.deepEqual(e.listener.accept()!.recv(), bytes(5));
});

test('SYN_RECV: the final ACK carrying FIN -> CLOSE_WAIT; the FIN is ACKed by the delayed-ACK timer (no data yet: next jiffy)', () => {
  const e = synRecv();
  peer(e, FIN | ACK);
  e.h.none();
  assert.equal(tableState(e.h), 'CLOSE_WAIT');
  e.h.advance(4_000);
  const a = e.h.one();
  expectSeg(a, { flags: '.', seq: e.iss + 1, ack: 1_000_002, win: EST_WIN, ts: { ecr: e.h.peerTs } });
  assert.ok(a.t > 1_000_000 && a.t <= 1_004_000, `ACK of the FIN at +${a.t - 1_000_000} µs (observed: a few ms)`);
  assert.equal(e.h.counter('TcpExtDelayedACKs'), 1);
  assert.equal(e.h.counter('TcpCurrEstab'), 1, 'CLOSE_WAIT counts in CurrEstab');
  const s = e.listener.accept()!;
  assert.equal(s.state, 'CLOSE_WAIT');
  assert.deepEqual(s.recv(), new Uint8Array(0));
});

test('SYN_RECV: a retransmitted SYN -> the SYN-ACK again (RetransSegs, TCPSynRetrans), timer restarted; a second within 500 ms -> nothing', () => {
  const e = synRecv();
  e.h.advance(300_000);
  e.h.inject({ flags: SYN, seq: e.h.rIsn, options: e.h.synOptions(), window: 64240 });
  // tcp_check_req returns before it updates ts_recent: the SYN-ACK still echoes the first SYN.
  const firstSynTs = tsOf(e.synack)!.ecr;
  expectOne(e.h, { flags: 'S.', seq: e.iss, ack: 1_000_001, win: 65160, options: synAckOpts(ourTs(e), firstSynTs), at: 1_300_000 });
  assert.equal(e.h.counter('TcpRetransSegs'), 1);
  assert.equal(e.h.counter('TcpExtTCPSynRetrans'), 1);
  e.h.advance(100_000);
  e.h.inject({ flags: SYN, seq: e.h.rIsn, options: e.h.synOptions(), window: 64240 });
  e.h.none();
  assert.equal(e.h.counter('TcpExtTCPACKSkippedSynRecv'), 1);
  // The timer restarted at the dup SYN (mod_timer_pending to now + 1 s): no SYN-ACK at 2.0 s.
  e.h.advance(899_999);
  e.h.none();
  e.h.advance(1);
  expectOne(e.h, { flags: 'S.', seq: e.iss, ack: 1_000_001, win: 65160, options: synAckOpts(ourTs(e), firstSynTs), at: 2_300_000 });
  assert.equal(tableState(e.h), 'SYN_RECV');
});

for (const [name, delta] of [['ISS+5 (never sent)', 5], ['ISS (nothing acknowledged)', 0]] as const) {
  test(`SYN_RECV: an ACK with ack = ${name} -> <SEQ=SEG.ACK><CTL=RST>, the request stays`, () => {
    const e = synRecv();
    peer(e, ACK, { ack: e.iss + delta });
    expectOne(e.h, { flags: 'R', seq: e.iss + delta, ack: 0, win: 0, ts: null, options: [] });
    assert.equal(tableState(e.h), 'SYN_RECV');
    assert.equal(e.h.counter('TcpOutRsts'), 1);
    assert.equal(e.h.counter('TcpPassiveOpens'), 0);
  });
}

test('SYN_RECV: RST at exactly RCV.NXT drops the request silently (EmbryonicRsts, AttemptFails)', () => {
  const e = synRecv();
  e.h.inject({ flags: RST, seq: 1_000_001 });
  e.h.none();
  assert.equal(tableState(e.h), '');
  assert.equal(e.h.counter('TcpExtEmbryonicRsts'), 1);
  assert.equal(e.h.counter('TcpAttemptFails'), 1);
  // Its 4-tuple is free: the next SYN makes a fresh request.
  e.h.inject({ flags: SYN, seq: 2_000_000, options: e.h.synOptions() });
  assert.equal(e.h.one().tcp.ack, 2_000_001);
});

test('SYN_RECV: RST|ACK at RCV.NXT with the right ack also drops the request', () => {
  const e = synRecv();
  e.h.inject({ flags: RST | ACK, seq: 1_000_001, ack: e.iss + 1 });
  e.h.none();
  assert.equal(tableState(e.h), '');
});

test('SYN_RECV: an in-window RST that is not exact gets a challenge ACK (RFC 5961 §3.2); the request stays', () => {
  const e = synRecv();
  e.h.inject({ flags: RST, seq: 1_000_011 });
  expectOne(e.h, { flags: '.', seq: e.iss + 1, ack: 1_000_001, win: REQ_WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  assert.equal(tableState(e.h), 'SYN_RECV');
  assert.equal(e.h.counter('TcpExtTCPChallengeACK'), 1);
  assert.equal(e.h.counter('TcpExtEmbryonicRsts'), 0);
});

test('SYN_RECV: a RST outside the window is ignored', () => {
  const e = synRecv();
  e.h.inject({ flags: RST, seq: 1_000_001 + 1_000_000 });
  e.h.inject({ flags: RST, seq: 1_000_000 - 100 });
  e.h.none();
  assert.equal(tableState(e.h), 'SYN_RECV');
});

test('SYN_RECV: a SYN with another sequence number inside the window resets the request: [R.] seq 0 ack=SEQ+1', () => {
  const e = synRecv();
  e.h.inject({ flags: SYN, seq: 1_000_011, options: e.h.synOptions() });
  expectOne(e.h, { flags: 'R.', seq: 0, ack: 1_000_012, win: 0, ts: null, options: [] });
  assert.equal(tableState(e.h), '');
  assert.equal(e.h.counter('TcpExtEmbryonicRsts'), 1);
  assert.equal(e.h.counter('TcpAttemptFails'), 1);
  assert.equal(e.h.counter('TcpOutRsts'), 1);
});

test('SYN_RECV: a segment with the right ack but far outside the window gets an ACK (no reset), request kept', () => {
  const e = synRecv();
  peer(e, ACK, { seq: 1_000_001 + 1_000_000 });
  // Observed: `[.] seq=ISS+1 ack=rcv_nxt win=65160>>wscale`, TS ecr = the SYN's TS val (the
  // out-of-window segment's TS is not taken).
  expectOne(e.h, { flags: '.', seq: e.iss + 1, ack: 1_000_001, win: REQ_WIN, ts: { val: ourTs(e), ecr: e.h.peerTs - 1 } });
  assert.equal(tableState(e.h), 'SYN_RECV');
  // Those ACKs are rate-limited to one per 500 ms.
  peer(e, ACK, { seq: 1_000_001 + 1_000_000 });
  e.h.none();
  assert.equal(e.h.counter('TcpExtTCPACKSkippedSynRecv'), 1);
});

test('SYN_RECV: a SYN-ACK (seq = the peer\'s ISN, right ack) is outside the request\'s window: an ACK, the request kept', () => {
  const e = synRecv();
  e.h.inject({ flags: SYN | ACK, seq: e.h.rIsn, ack: e.iss + 1, window: 64240, options: e.h.synOptions() });
  expectOne(e.h, { flags: '.', seq: e.iss + 1, ack: 1_000_001, win: REQ_WIN, ts: { val: ourTs(e), ecr: tsOf(e.synack)!.ecr } });
  assert.equal(tableState(e.h), 'SYN_RECV');
});

test('SYN_RECV: data or FIN without the ACK bit is dropped silently', () => {
  const e = synRecv();
  e.h.inject({ flags: PSH, seq: 1_000_001, payload: bytes(5), options: e.h.ts(e.lastTs) });
  e.h.inject({ flags: FIN, seq: 1_000_001, options: e.h.ts(e.lastTs) });
  e.h.none();
  assert.equal(tableState(e.h), 'SYN_RECV');
});

// ---- timers: SYN-ACK retransmission (reqsk_timer_handler; not linear, unlike SYNs)

test('SYN_RECV timer: tcp_synack_retries 5: SYN-ACKs at 1, 3, 7, 15, 31 s, the request dropped silently at 63 s', () => {
  const e = synRecv();
  e.h.advance(63_000_000 - 1);
  const q = e.h.take();
  assert.deepEqual(q.map((o) => (o.t - 1_000_000) / 1e6), [1, 3, 7, 15, 31]);
  for (const o of q) expectSeg(o, { flags: 'S.', seq: e.iss, ack: 1_000_001, win: 65160, options: synAckOpts(e.lastTs + (o.t - 1_000_000) / 1000, e.h.peerTs) });
  assert.equal(tableState(e.h), 'SYN_RECV');
  e.h.advance(1);
  e.h.none();
  assert.equal(tableState(e.h), '');
  assert.deepEqual(['TcpRetransSegs', 'TcpExtTCPSynRetrans', 'TcpExtTCPTimeouts', 'TcpAttemptFails', 'TcpOutRsts'].map((n) => e.h.counter(n)), [5, 5, 6, 0, 0]);
});

test('SYN_RECV timer: tcp_synack_retries 2 (observed): SYN-ACKs at 1 and 3 s, gone at 7 s; the late ACK gets [R] seq=SEG.ACK', () => {
  const e = synRecv({ tcp_synack_retries: 2 });
  e.h.advance(7_000_000);
  assert.deepEqual(e.h.take().map((o) => (o.t - 1_000_000) / 1e6), [1, 3]);
  assert.equal(tableState(e.h), '');
  assert.equal(e.h.counter('TcpExtTCPTimeouts'), 3);
  assert.equal(e.h.counter('TcpExtTCPSynRetrans'), 2);
  e.h.advance(1_500_000);
  peer(e, ACK);
  expectOne(e.h, { flags: 'R', seq: e.iss + 1, ack: 0, win: 0, ts: null, options: [] });
});

test('SYN_RECV timer: the final ACK after SYN-ACK retransmissions completes the handshake and stops the timer', () => {
  const e = synRecv();
  e.h.advance(3_500_000);
  assert.equal(e.h.take().length, 2);
  const tsBefore = e.h.counter('TcpExtTCPTimeouts');
  peer(e, ACK);
  e.h.none();
  assert.equal(tableState(e.h), 'ESTABLISHED');
  e.h.advance(100_000_000);
  e.h.none();
  assert.equal(e.h.counter('TcpExtTCPTimeouts'), tsBefore);
});

test('SYN_RECV: accept queue full: the final ACK is dropped (ListenOverflows, ListenDrops), the SYN-ACK retransmits; after accept() the next ACK completes', () => {
  const e = synRecv();
  e.listener.listen(0); // backlog 0: the queue holds one connection
  // Fill the queue with another connection.
  e.h.remotePort = 40001;
  e.h.inject({ flags: SYN, seq: 5000, options: e.h.synOptions() });
  const sa2 = e.h.one();
  e.h.inject({ flags: ACK, seq: 5001, ack: sa2.tcp.seq + 1, window: 502, options: e.h.ts(tsOf(sa2)!.val) });
  e.h.none();
  e.h.remotePort = 40000;
  peer(e, ACK);
  // Observed (Q12 b): no reply; the request stays SYN-RECV and keeps retransmitting its SYN-ACK.
  e.h.none();
  assert.equal(tableState(e.h), 'SYN_RECV');
  assert.equal(e.h.counter('TcpExtListenOverflows'), 1);
  assert.equal(e.h.counter('TcpExtListenDrops'), 1);
  peer(e, ACK | PSH, { payload: bytes(3) });
  e.h.none();
  assert.equal(e.h.counter('TcpExtListenOverflows'), 2);
  e.h.advance(1_000_000);
  // The dropped segments were in window: tcp_check_req took their TS before the overflow.
  expectOne(e.h, { flags: 'S.', seq: e.iss, ack: 1_000_001, win: 65160, options: synAckOpts(ourTs(e), e.h.peerTs) });
  assert.ok(e.listener.accept());
  peer(e, ACK);
  e.h.none();
  assert.equal(tableState(e.h), 'ESTABLISHED');
  assert.equal(e.h.counter('TcpPassiveOpens'), 2);
});

test('SYN_RECV: the listener\'s close() drops the request without sending anything', () => {
  const e = synRecv();
  e.listener.close();
  e.h.none();
  e.h.advance(10_000_000);
  e.h.none();
  assert.equal(tableState(e.h), '');
});

// ---- a SYN_RECV owned by a socket: the simultaneous open (RFC 9293 §3.5 figure 8)

test('SYN_RECV (simultaneous open): send() and recv() would block; a bare ACK of our SYN completes the handshake', () => {
  const c = synSent();
  c.h.inject({ flags: SYN, seq: c.h.rIsn, window: 64240, options: c.h.synOptions() });
  c.h.take();
  assert.equal(c.sock.state, 'SYN_RECV');
  assert.equal(c.sock.send(bytes(3)), 0);
  assert.equal(c.sock.recv(), null);
  c.h.inject({ flags: ACK, seq: c.h.rIsn + 1, ack: c.iss + 1, window: 502, options: c.h.ts(c.lastTs) });
  c.h.none();
  assert.equal(c.sock.state, 'ESTABLISHED');
  assert.equal(c.h.counter('TcpPassiveOpens'), 0);
});

test('SYN_RECV (simultaneous open): another SYN is challenged (TCPSYNChallenge), not answered with a SYN-ACK', () => {
  const c = synSent();
  c.h.inject({ flags: SYN, seq: c.h.rIsn, window: 64240, options: c.h.synOptions() });
  c.h.take();
  c.h.inject({ flags: SYN, seq: c.h.rIsn, window: 64240, options: c.h.synOptions() });
  expectOne(c.h, { flags: '.', seq: c.iss + 1, ack: c.h.rIsn + 1, win: 502, ts: { ecr: c.h.peerTs - 1 } });
  assert.equal(c.h.counter('TcpExtTCPSYNChallenge'), 1);
  assert.equal(c.sock.state, 'SYN_RECV');
});
