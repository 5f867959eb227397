// CLOSING (RFC 9293 §3.10.7.4, simultaneous close; Linux tcp_fin in FIN_WAIT1 sends the ACK
// and enters CLOSING; tcp_rcv_state_process case TCP_CLOSING moves to TIME_WAIT on the ACK of
// our FIN). The fixture closing(): our FIN (e.finSeq) went out at t = 1 s (shutdown(SHUT_WR),
// or close() with { orphan: true }); the peer's FIN then arrived without acknowledging ours and
// was ACKed at once (h.rSeq = 1000002, e.lSeq = finSeq + 1).
//
// Observed (docs/linux-observations.md Q7 vi, Q11): the peer's FIN in FIN_WAIT1 is ACKed at
// once; `CLOSING ... timer:(on,,1)`; our FIN is retransmitted by its RTO carrying the new ACK;
// the ACK of our FIN -> TIME-WAIT (59 s left), TW counted.
//
// Cases this state shares with others are rows of the tables in shared-segments.test.ts,
// shared-timers.test.ts and shared-calls.test.ts (the tests are named after the state).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, FIN, closing, peer, row, tableState,
} from '../helpers/harness.ts';

test('CLOSING: the fixture: the peer\'s FIN was ACKed at once; state CLOSING with our FIN still on the retransmission timer', () => {
  const e = closing();
  assert.equal(e.sock.state, 'CLOSING');
  assert.deepEqual([row(e.h)!.state, row(e.h)!.stateNum, row(e.h)!.timer!.kind], ['CLOSING', 11, 'on']);
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  assert.equal(e.h.counter('TcpCurrEstab'), 0);
});

test('CLOSING: the ACK of our FIN -> TIME_WAIT for 60 s, nothing sent; TW counted (Q7 vi)', () => {
  const e = closing();
  peer(e, ACK);
  e.h.none();
  assert.deepEqual([tableState(e.h), row(e.h)!.timer], ['TIME_WAIT', { kind: 'timewait', expiresMs: 60000, retrans: 0 }]);
  assert.equal(e.h.counter('TcpExtTW'), 1);
  assert.equal(e.sock.state, 'CLOSED');
});

test('CLOSING (orphan): the ACK of our FIN -> TIME_WAIT as well', () => {
  const e = closing({ orphan: true });
  assert.equal(row(e.h)!.orphan, true);
  peer(e, ACK);
  e.h.none();
  assert.equal(tableState(e.h), 'TIME_WAIT');
});

test('CLOSING: their FIN retransmitted together with the ACK of ours -> TIME_WAIT, nothing sent (tcp_time_wait; goto consume)', () => {
  const e = closing();
  peer(e, FIN | ACK, { seq: e.h.rSeq - 1 });
  e.h.none();
  assert.equal(tableState(e.h), 'TIME_WAIT');
});
