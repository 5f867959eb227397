// CLOSE_WAIT (RFC 9293 §3.10.7.4; Linux tcp_rcv_state_process: step 7 ignores new data after
// the peer's FIN, tcp_reset gives EPIPE in this state, tcp_reset_check accepts a RST at
// RCV.NXT-1). The fixture closeWait(): the established server connection received the peer's
// FIN at t = 1 s (h.rSeq = 1000002) and ACKed it by the delayed-ACK timer.
//
// Observed (docs/linux-observations.md Q5, Q14): the FIN's ACK is delayed (1-3 ms when no data
// came before); send() in CLOSE_WAIT works; a RST then sets EPIPE (not ECONNRESET) and recv()
// keeps returning 0; EstabResets counts it (CLOSE_WAIT is "established" for the MIB).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, FIN, PSH, RST, bytes, closeWait, errCode, establishedServer, expectOne, ourTs, peer, recordEvents, row, tableState, type Est,
  WIN,
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

test('CLOSE_WAIT: ACK of our data clears the retransmission timer', () => {
  const e = closeWait();
  e.sock.send(bytes(4));
  expectOne(e.h, { flags: 'P.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, len: 4, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  e.lSeq += 4;
  peer(e, ACK);
  e.h.none();
  assert.equal(row(e.h)!.timer, null);
});

/** CLOSE_WAIT with n unread bytes that arrived with the FIN. */
function closeWaitWithData(n: number): Est {
  const e = establishedServer();
  peer(e, FIN | ACK | PSH, { payload: bytes(n) });
  e.h.rSeq += n + 1;
  e.h.advance(40_000);
  const a = e.h.one();
  if (a.flags !== '.' || a.tcp.ack !== e.h.rSeq) throw new Error('expected the ACK of data and FIN');
  return e;
}

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

test('CLOSE_WAIT: close() with unread data -> [R.] seq=SND.NXT ack=RCV.NXT (data and FIN included); TCPAbortOnClose', () => {
  const e = closeWaitWithData(6);
  e.sock.close();
  expectOne(e.h, { flags: 'R.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  assert.equal(tableState(e.h), '');
  assert.deepEqual(['TcpExtTCPAbortOnClose', 'TcpEstabResets', 'TcpOutRsts'].map((n) => e.h.counter(n)), [1, 1, 1]);
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

// ---- application calls

test('CLOSE_WAIT: send() works: [P.] seq=SND.NXT ack=RCV.NXT (after the FIN)', () => {
  const e = closeWait();
  assert.equal(e.sock.send(bytes(9)), 9);
  expectOne(e.h, { flags: 'P.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, len: 9, ts: { val: ourTs(e), ecr: e.h.peerTs } });
});

test('CLOSE_WAIT: shutdown(SHUT_WR) -> FIN [F.] seq=SND.NXT, LAST_ACK, still owned; send() EPIPE', () => {
  const e = closeWait();
  e.sock.shutdown('SHUT_WR');
  expectOne(e.h, { flags: 'F.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  assert.equal(e.sock.state, 'LAST_ACK');
  assert.equal(row(e.h)!.orphan, false);
  assert.equal(errCode(() => e.sock.send(bytes(1))), 'EPIPE');
  assert.equal(e.h.counter('TcpCurrEstab'), 0);
});

test('CLOSE_WAIT: shutdown(SHUT_RD) sends nothing; recv() EOF; state unchanged', () => {
  const e = closeWait();
  e.sock.shutdown('SHUT_RD');
  e.h.none();
  assert.equal(e.sock.state, 'CLOSE_WAIT');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
});

test('CLOSE_WAIT: close() -> FIN, an orphan in LAST_ACK', () => {
  const e = closeWait();
  e.sock.close();
  expectOne(e.h, { flags: 'F.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  assert.deepEqual([row(e.h)!.state, row(e.h)!.orphan], ['LAST_ACK', true]);
});

test('CLOSE_WAIT: close() with data queued behind a zero window: LAST_ACK at once, the FIN follows the data', () => {
  const e = closeWait();
  peer(e, ACK, { window: 0 });
  e.sock.send(bytes(5));
  e.sock.close();
  e.h.none();
  assert.equal(tableState(e.h), 'LAST_ACK');
  peer(e, ACK, { window: 502 });
  expectOne(e.h, { flags: 'FP.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, len: 5, ts: { val: ourTs(e), ecr: e.h.peerTs } });
});

test('CLOSE_WAIT: SO_LINGER {1,0} + close() -> [R.] seq=SND.NXT ack=RCV.NXT, window, TS; TCPAbortOnData, EstabResets', () => {
  const e = closeWait();
  e.sock.setsockopt('SO_LINGER', { on: true, seconds: 0 });
  e.sock.close();
  expectOne(e.h, { flags: 'R.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  assert.equal(tableState(e.h), '');
  assert.deepEqual(['TcpExtTCPAbortOnData', 'TcpEstabResets'].map((n) => e.h.counter(n)), [1, 1]);
});

test('CLOSE_WAIT: SO_LINGER {1,N} + close(): FIN, and "close" once the FIN is acknowledged (the socket is gone then)', () => {
  const e = closeWait();
  const ev = recordEvents(e.sock);
  e.sock.setsockopt('SO_LINGER', { on: true, seconds: 3 });
  e.sock.close();
  const fin = e.h.one();
  assert.equal(fin.flags, 'F.');
  assert.deepEqual(ev, []);
  e.lSeq += 1;
  e.h.advance(50_000);
  peer(e, ACK);
  assert.deepEqual(ev, ['close']);
  assert.equal(tableState(e.h), '');
});

test('CLOSE_WAIT: dup() + close() of one descriptor sends nothing; the other can still send and close', () => {
  const e = closeWait();
  const other = e.sock.dup();
  e.sock.close();
  e.h.none();
  assert.equal(other.send(bytes(2)), 2);
  const d = e.h.one();
  assert.deepEqual([d.flags, d.tcp.seq], ['P.', e.lSeq]);
  other.close();
  const f = e.h.one();
  assert.deepEqual([f.flags, f.tcp.seq, f.t], ['F.', e.lSeq + 2, e.h.clock.now()]);
});
