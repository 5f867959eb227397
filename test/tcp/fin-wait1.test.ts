// FIN_WAIT1 (RFC 9293 §3.10.7.4; Linux tcp_rcv_state_process case TCP_FIN_WAIT1 and the
// step-7 RCV_SHUTDOWN check, tcp_fin, tcp_write_timeout / tcp_orphan_retries). The fixture
// finWait1(): the established server connection (peer ISN 1000000, h.rSeq = 1000001) sent its
// FIN (seq e.finSeq = ISS+1, e.lSeq = ISS+2) at t = 1 s after shutdown(SHUT_WR) — or after
// close() with { orphan: true }, which leaves no owner (sock_orphan).
//
// Observations cited: docs/linux-observations.md Q6 (TCP_LINGER2), Q7 (data to orphans,
// CLOSING), Q4 (aborts), Q11 (simultaneous close), Q14 (delayed ACK).
//
// Cases this state shares with others are rows of the tables in shared-segments.test.ts,
// shared-timers.test.ts and shared-calls.test.ts (the tests are named after the state).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, FIN, PSH, RST, bytes, errCode, establishedServer, expectOne, expectSeg, finWait1, ourTs, peer, row, tableState,
  type Closing, WIN, ackNow,
} from '../helpers/harness.ts';

/** Our FIN (re)sent now. */
const finNow = (e: Closing) => ({ flags: 'F.', seq: e.finSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });

test('FIN_WAIT1: the fixture: [F.] seq=SND.NXT, state FIN_WAIT1, retransmission timer on; an orphan after close()', () => {
  const e = finWait1();
  expectSeg(e.fin, { flags: 'F.', seq: e.finSeq, ack: e.h.rSeq, win: WIN, ts: { val: e.lastTs, ecr: e.h.peerTs }, at: 1_000_000 });
  assert.equal(e.sock.state, 'FIN_WAIT1');
  assert.deepEqual([row(e.h)!.state, row(e.h)!.orphan, row(e.h)!.timer!.kind], ['FIN_WAIT1', false, 'on']);
  const o = finWait1({ orphan: true });
  assert.deepEqual([row(o.h)!.state, row(o.h)!.orphan], ['FIN_WAIT1', true]);
  assert.equal(o.h.counter('TcpCurrEstab'), 0, 'FIN_WAIT1 is not counted in CurrEstab');
});

// ---- ACK

test('FIN_WAIT1: the ACK of our FIN -> FIN_WAIT2, nothing sent; with an owner there is no FIN_WAIT2 timer at all (Q6 d)', () => {
  const e = finWait1();
  peer(e, ACK);
  e.h.none();
  assert.equal(e.sock.state, 'FIN_WAIT2');
  assert.equal(row(e.h)!.timer, null);
  e.h.advance(3600_000_000);
  e.h.none();
  assert.equal(e.sock.state, 'FIN_WAIT2');
});

test('FIN_WAIT1 (orphan): the ACK of our FIN -> a FIN_WAIT2 timewait entry for tcp_fin_timeout (60 s), TW counted at creation (Q6 a, f)', () => {
  const e = finWait1({ orphan: true });
  peer(e, ACK);
  e.h.none();
  const r = row(e.h)!;
  assert.deepEqual([r.state, r.stateNum, r.orphan, r.timer], ['FIN_WAIT2', 5, true, { kind: 'timewait', expiresMs: 60000, retrans: 0 }]);
  assert.equal(e.h.counter('TcpExtTW'), 1);
});

test('FIN_WAIT1: an old ACK below SND.UNA (nothing was ever acknowledged) -> challenge ACK', () => {
  const e = finWait1();
  const ecr = e.h.peerTs;
  peer(e, ACK, { ack: e.finSeq - 1 });
  expectOne(e.h, ackNow(e, ecr));
  assert.equal(e.sock.state, 'FIN_WAIT1');
});

// ---- FIN

test('FIN_WAIT1: the peer\'s FIN without the ACK of ours -> immediate ACK, CLOSING (Q7 vi, Q11)', () => {
  const e = finWait1();
  peer(e, FIN | ACK, { ack: e.finSeq });
  e.h.rSeq += 1;
  expectOne(e.h, ackNow(e, e.h.peerTs));
  assert.equal(e.sock.state, 'CLOSING');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
});

// ---- data

test('FIN_WAIT1 after shutdown(SHUT_RDWR): new data -> reset; the owner gets ECONNRESET (RCV_SHUTDOWN, RFC 1122 4.2.2.13)', () => {
  const e = finWait1();
  e.sock.shutdown('SHUT_RD');
  peer(e, ACK | PSH, { ack: e.finSeq, payload: bytes(4) });
  expectOne(e.h, { flags: 'R', seq: e.finSeq, ack: 0, win: 0, ts: null, options: [] });
  assert.equal(e.sock.state, 'CLOSED');
  assert.equal(errCode(() => e.sock.recv()), 'ECONNRESET');
  assert.equal(e.h.counter('TcpExtTCPAbortOnData'), 1);
});

test('FIN_WAIT1 (orphan): a pure ACK or a retransmission of old data is not "new data": no reset', () => {
  const e = finWait1({ orphan: true });
  peer(e, ACK, { ack: e.finSeq });
  e.h.none();
  peer(e, ACK | PSH, { seq: e.h.rSeq - 5, ack: e.finSeq, payload: bytes(5) });
  expectOne(e.h, ackNow(e, e.h.peerTs, { sack: [[e.h.rSeq - 5, e.h.rSeq]] }));
  assert.equal(tableState(e.h), 'FIN_WAIT1');
});

// ---- RST

test('FIN_WAIT1 (orphan): RST at RCV.NXT silently ends the orphan', () => {
  const e = finWait1({ orphan: true });
  e.h.inject({ flags: RST, seq: e.h.rSeq });
  e.h.none();
  assert.equal(tableState(e.h), '');
  e.h.advance(200_000_000);
  e.h.none();
});

// ---- timers

test('FIN_WAIT1 timer: the FIN is retransmitted at ~200 ms, doubling; the second one acknowledges data that arrived meanwhile', () => {
  const e = finWait1();
  const rto0 = Math.round(row(e.h)!.rtoMs! * 1000);
  e.h.advance(Math.ceil(rto0));
  expectOne(e.h, finNow(e));
  peer(e, ACK | PSH, { ack: e.finSeq, payload: bytes(2) });
  e.h.rSeq += 2;
  e.h.take();
  e.h.advance(Math.ceil(2 * rto0));
  expectOne(e.h, finNow(e), 'the retransmitted FIN acknowledges the new data');
  assert.equal(e.h.counter('TcpRetransSegs'), 2);
});

test('FIN_WAIT1 timer: the FIN waits behind a zero window: FIN_WAIT1 at once, window probes, the FIN goes out when the window opens', () => {
  const e = establishedServer();
  peer(e, ACK, { window: 0 });
  e.sock.shutdown('SHUT_WR');
  // tcp_snd_wnd_test: even a bare FIN needs one byte of window.
  e.h.none();
  assert.equal(e.sock.state, 'FIN_WAIT1');
  assert.equal(row(e.h)!.timer!.kind, 'persist');
  const rto0 = Math.round(row(e.h)!.rtoMs! * 1000);
  e.h.advance(Math.ceil(rto0));
  expectOne(e.h, { flags: '.', seq: e.lSeq - 1, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } }, 'window probe');
  peer(e, ACK, { window: 502 });
  expectOne(e.h, { flags: 'F.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
});

// ---- TCP_LINGER2 (what the ACK of our FIN leaves for an orphan)

test('FIN_WAIT1 (orphan) with TCP_LINGER2 < 0: the ACK of our FIN is answered [R] seq=SEG.ACK; TCPAbortOnData (Q6 b)', () => {
  const e = finWait1({ orphan: true, before: (est) => est.sock.setsockopt('TCP_LINGER2', -1) });
  peer(e, ACK);
  expectOne(e.h, { flags: 'R', seq: e.lSeq, ack: 0, win: 0, ts: null, options: [] });
  assert.equal(tableState(e.h), '');
  assert.deepEqual(['TcpExtTCPAbortOnData', 'TcpExtTCPAbortOnLinger', 'TcpOutRsts'].map((n) => e.h.counter(n)), [1, 0, 1]);
});

test('FIN_WAIT1 (orphan) with TCP_LINGER2 100 (> 60 s): the ACK of our FIN leaves a full FIN_WAIT2 socket with a 40 s keepalive timer (Q6 e)', () => {
  const e = finWait1({ orphan: true, before: (est) => est.sock.setsockopt('TCP_LINGER2', 100) });
  peer(e, ACK);
  e.h.none();
  const r = row(e.h)!;
  assert.deepEqual([r.state, r.orphan, r.timer], ['FIN_WAIT2', true, { kind: 'keepalive', expiresMs: 40000, retrans: 0 }]);
  assert.equal(e.h.counter('TcpExtTW'), 0, 'no timewait entry yet');
});
