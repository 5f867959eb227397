// CLOSE_WAIT (RFC 9293 §3.10.7.4; Linux tcp_rcv_state_process: step 7 ignores new data after
// the peer's FIN, tcp_reset gives EPIPE in this state, tcp_reset_check accepts a RST at
// RCV.NXT-1). The fixture closeWait(): the established server connection received the peer's
// FIN at t = 1 s (h.rSeq = 1000002) and ACKed it by the delayed-ACK timer.
//
// Observed (docs/linux-observations.md Q5, Q14): the FIN's ACK is delayed (1-3 ms when no data
// came before); send() in CLOSE_WAIT works; a RST then sets EPIPE (not ECONNRESET) and recv()
// keeps returning 0; EstabResets counts it (CLOSE_WAIT is "established" for the MIB).
//
// Cases this state shares with others are rows of the tables in shared-segments.test.ts,
// shared-timers.test.ts and shared-calls.test.ts (the tests are named after the state).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RST, bytes, closeWait, closeWaitWithData, errCode, row,
} from '../helpers/harness.ts';

test('CLOSE_WAIT: the fixture: state CLOSE_WAIT (CurrEstab counts it), no timer, recv() EOF', () => {
  const e = closeWait();
  assert.equal(e.sock.state, 'CLOSE_WAIT');
  assert.deepEqual([row(e.h)!.state, row(e.h)!.stateNum, row(e.h)!.timer], ['CLOSE_WAIT', 8, null]);
  assert.equal(e.h.counter('TcpCurrEstab'), 1);
  assert.equal(e.h.counter('TcpExtDelayedACKs'), 1, 'the FIN was ACKed by the delayed-ACK timer');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  e.h.advance(3600_000_000);
  e.h.none();
});

// ---- segments

test('CLOSE_WAIT: RST with unread data: the data is still read first, then EOF; send() EPIPE (Q5 "unread" case)', () => {
  const e = closeWaitWithData(6);
  assert.equal(e.sock.send(bytes(4)), 4);
  e.h.take();
  e.h.inject({ flags: RST, seq: e.h.rSeq });
  e.h.none();
  assert.deepEqual(e.sock.recv(), bytes(6));
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  assert.equal(errCode(() => e.sock.send(bytes(1))), 'EPIPE');
});

// ---- timers

test('CLOSE_WAIT timer: data sent in CLOSE_WAIT is retransmitted with backoff like in ESTABLISHED', () => {
  const e = closeWait();
  e.sock.send(bytes(4));
  e.h.take();
  const rto0 = Math.round(row(e.h)!.rtoMs! * 1000);
  e.h.advance(Math.ceil(rto0 + 2 * rto0 + 1));
  const q = e.h.take();
  assert.equal(q.length, 2);
  for (const o of q) assert.deepEqual([o.flags, o.tcp.seq, o.tcp.ack, o.tcp.payload.length], ['P.', e.lSeq, e.h.rSeq, 4]);
  assert.equal(q[1]!.t - q[0]!.t, Math.min(2 * rto0, 120e6));
});
