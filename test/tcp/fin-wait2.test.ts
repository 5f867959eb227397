// FIN_WAIT2 (RFC 9293 §3.10.7.4; Linux tcp_rcv_state_process / tcp_fin for a full socket,
// and for an orphan the FIN_WAIT2 "timewait" minisocket: tcp_time_wait(sk, TCP_FIN_WAIT2,
// tmo), tcp_timewait_state_process). The fixture finWait2(): our FIN (e.finSeq) was sent at
// t = 1 s after shutdown(SHUT_WR) and acknowledged by the peer (e.lSeq = finSeq + 1); the
// peer (h.rSeq) has not closed. With { orphan: true } the application called close() instead.
//
// Observed (docs/linux-observations.md Q6, Q7): an owned FIN_WAIT2 has no timer and lasts
// forever; an orphan is a timewait entry (`FIN-WAIT-2 ... timer:(timewait,59sec,0) ino:0`)
// that vanishes after tcp_fin_timeout with nothing on the wire, TW counted at creation
// (TWKilled when the timeout is 4 s or less); data to it gets `[R] seq=SEG.ACK`, a FIN gets
// an ACK and TIME_WAIT; TCP_LINGER2 > 60 s keeps a full socket with a keepalive timer first.
//
// Cases this state shares with others are rows of the tables in shared-segments.test.ts,
// shared-timers.test.ts and shared-calls.test.ts (the tests are named after the state).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, RST, SYN, expectOne, finWait2, ourTs, peer, row, tableState, WIN, ackNow,
} from '../helpers/harness.ts';

// ---- the owned FIN_WAIT2 (shutdown(SHUT_WR))

test('FIN_WAIT2: the fixture: owned, no timer, no CurrEstab; it stays for an hour (no tcp_fin_timeout for an owned socket)', () => {
  const e = finWait2();
  assert.equal(e.sock.state, 'FIN_WAIT2');
  assert.deepEqual([row(e.h)!.state, row(e.h)!.stateNum, row(e.h)!.orphan, row(e.h)!.timer], ['FIN_WAIT2', 5, false, null]);
  e.h.advance(3600_000_000);
  e.h.none();
  assert.equal(e.sock.state, 'FIN_WAIT2');
});

test('FIN_WAIT2: close() -> nothing sent, the orphan becomes a FIN_WAIT2 timewait entry for tcp_fin_timeout (__tcp_close)', () => {
  const e = finWait2();
  e.sock.close();
  e.h.none();
  const r = row(e.h)!;
  assert.deepEqual([r.state, r.orphan, r.timer], ['FIN_WAIT2', true, { kind: 'timewait', expiresMs: 60000, retrans: 0 }]);
  assert.equal(e.h.counter('TcpExtTW'), 1);
});

test('FIN_WAIT2: close() with TCP_LINGER2 < 0 -> [R.] seq=SND.NXT ack=RCV.NXT with window and TS; TCPAbortOnLinger (Q6 c)', () => {
  const e = finWait2();
  e.sock.setsockopt('TCP_LINGER2', -1);
  e.sock.close();
  expectOne(e.h, { flags: 'R.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  assert.equal(tableState(e.h), '');
  assert.deepEqual(['TcpExtTCPAbortOnLinger', 'TcpExtTCPAbortOnData', 'TcpOutRsts'].map((n) => e.h.counter(n)), [1, 0, 1]);
});

// ---- the orphaned FIN_WAIT2: a timewait entry

test('FIN_WAIT2 (orphan) timer: tcp_fin_timeout 3 -> a 3 s entry, counted TWKilled (timeout of 4 s or less, Q6 f)', () => {
  const e = finWait2({ orphan: true, config: { tcp_fin_timeout: 3 } });
  assert.deepEqual(row(e.h)!.timer, { kind: 'timewait', expiresMs: 3000, retrans: 0 });
  assert.deepEqual([e.h.counter('TcpExtTWKilled'), e.h.counter('TcpExtTW')], [1, 0]);
  e.h.advance(3_000_000);
  assert.equal(tableState(e.h), '');
});

test('FIN_WAIT2 (orphan): a duplicate pure ACK is consumed silently (Q7), the timer is unchanged', () => {
  const e = finWait2({ orphan: true });
  e.h.advance(5_000_000);
  peer(e, ACK);
  e.h.none();
  assert.deepEqual(row(e.h)!.timer, { kind: 'timewait', expiresMs: 55000, retrans: 0 });
});

test('FIN_WAIT2 (orphan): a RST inside the window kills the entry silently', () => {
  const e = finWait2({ orphan: true });
  e.h.inject({ flags: RST, seq: e.h.rSeq + 5 });
  e.h.none();
  assert.equal(tableState(e.h), '');
});

test('FIN_WAIT2 (orphan): a segment outside the window (old data) is answered with an ACK; at most one per 500 ms', () => {
  const e = finWait2({ orphan: true });
  const ecr = e.h.peerTs;
  peer(e, ACK, { seq: e.h.rSeq - 100 });
  expectOne(e.h, ackNow(e, ecr));
  peer(e, ACK, { seq: e.h.rSeq - 100 });
  e.h.none();
  assert.equal(e.h.counter('TcpExtTCPACKSkippedTimeWait'), 1);
  assert.equal(tableState(e.h), 'FIN_WAIT2');
});

test('FIN_WAIT2 (orphan): a SYN inside the window kills the entry with a reset ([R.] seq 0 ack=SEQ+1)', () => {
  const e = finWait2({ orphan: true });
  e.h.inject({ flags: SYN, seq: e.h.rSeq + 100, options: e.h.synOptions() });
  expectOne(e.h, { flags: 'R.', seq: 0, ack: e.h.rSeq + 101, win: 0, ts: null, options: [] });
  assert.equal(tableState(e.h), '');
});

test('FIN_WAIT2 (orphan) with TCP_LINGER2 100: a full socket for 40 s (keepalive timer), then a timewait entry for the remaining 40 s (Q6 e)', () => {
  const e = finWait2({ orphan: true, before: (est) => est.sock.setsockopt('TCP_LINGER2', 100) });
  assert.deepEqual(row(e.h)!.timer, { kind: 'keepalive', expiresMs: 40000, retrans: 0 });
  e.h.advance(40_000_000);
  e.h.none();
  // tcp_keepalive_timer: tcp_time_wait(sk, TCP_FIN_WAIT2, tcp_fin_time(sk) - TCP_TIMEWAIT_LEN).
  assert.deepEqual([tableState(e.h), row(e.h)!.timer], ['FIN_WAIT2', { kind: 'timewait', expiresMs: 40000, retrans: 0 }]);
  e.h.advance(40_000_000);
  assert.equal(tableState(e.h), '');
});
