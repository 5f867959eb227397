// CLOSING (RFC 9293 §3.10.7.4, simultaneous close; Linux tcp_fin in FIN_WAIT1 sends the ACK
// and enters CLOSING; tcp_rcv_state_process case TCP_CLOSING moves to TIME_WAIT on the ACK of
// our FIN). The fixture closing(): our FIN (e.finSeq) went out at t = 1 s (shutdown(SHUT_WR),
// or close() with { orphan: true }); the peer's FIN then arrived without acknowledging ours and
// was ACKed at once (h.rSeq = 1000002, e.lSeq = finSeq + 1).
//
// Observed (docs/linux-observations.md Q7 vi, Q11): the peer's FIN in FIN_WAIT1 is ACKed at
// once; `CLOSING ... timer:(on,,1)`; our FIN is retransmitted by its RTO carrying the new ACK;
// the ACK of our FIN -> TIME-WAIT (59 s left), TW counted.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, FIN, PSH, bytes, closing, errCode, expectOne, ourTs, peer, recordEvents, row, tableState, type Closing,
  WIN,
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

// ---- timers

// ---- application calls

test('CLOSING: send() EPIPE, recv() EOF, shutdown() again sends nothing', () => {
  const e = closing();
  assert.equal(errCode(() => e.sock.send(bytes(1))), 'EPIPE');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  e.sock.shutdown('SHUT_RDWR');
  e.h.none();
});

test('CLOSING: close() makes it an orphan and sends nothing', () => {
  const e = closing();
  e.sock.close();
  e.h.none();
  assert.deepEqual([row(e.h)!.state, row(e.h)!.orphan], ['CLOSING', true]);
});

test('CLOSING: SO_LINGER {1,0} + close() with our FIN already sent: no reset (tcp_disconnect), socket gone; TCPAbortOnData', () => {
  const e = closing();
  e.sock.setsockopt('SO_LINGER', { on: true, seconds: 0 });
  e.sock.close();
  e.h.none();
  assert.equal(tableState(e.h), '');
  assert.equal(e.h.counter('TcpExtTCPAbortOnData'), 1);
});

test('CLOSING: close() with data received before their FIN still unread -> [R.] seq=SND.NXT; TCPAbortOnClose', () => {
  const f = closingWithData(3);
  f.sock.close();
  expectOne(f.h, { flags: 'R.', seq: f.lSeq, ack: f.h.rSeq, win: WIN, ts: { val: ourTs(f), ecr: f.h.peerTs } });
  assert.equal(tableState(f.h), '');
  assert.equal(f.h.counter('TcpExtTCPAbortOnClose'), 1);
});

test('CLOSING: SO_LINGER {1,N} + close(): "close" once our FIN is acknowledged', () => {
  const e = closing();
  const ev = recordEvents(e.sock);
  e.sock.setsockopt('SO_LINGER', { on: true, seconds: 9 });
  e.sock.close();
  assert.deepEqual(ev, []);
  peer(e, ACK);
  assert.deepEqual(ev, ['close']);
  assert.equal(tableState(e.h), 'TIME_WAIT');
});

test('CLOSING: dup() + close() of one descriptor: nothing sent, still owned', () => {
  const e = closing();
  const other = e.sock.dup();
  e.sock.close();
  e.h.none();
  assert.equal(row(e.h)!.orphan, false);
  assert.equal(other.state, 'CLOSING');
});

/** CLOSING with n unread bytes received in FIN_WAIT1 before the peer's FIN. */
function closingWithData(n: number): Closing {
  const e = closing({
    before: (est) => {
      est.h.inject({ flags: ACK | PSH, seq: est.h.rSeq, ack: est.lSeq, window: 502, payload: bytes(n), options: est.h.ts(est.lastTs) });
      est.h.rSeq += n;
      est.h.take();
    },
  });
  return e;
}
