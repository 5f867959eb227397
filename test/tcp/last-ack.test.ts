// LAST_ACK (RFC 9293 §3.10.7.4; Linux tcp_rcv_state_process case TCP_LAST_ACK: the ACK of
// our FIN ends the connection with tcp_done, no TIME_WAIT). The fixture lastAck(): the peer's
// FIN arrived at t = 1 s (h.rSeq = 1000002) and was ACKed; then shutdown(SHUT_WR) — or
// close() with { orphan: true } — sent our FIN (e.finSeq, e.lSeq = finSeq + 1) at ~1.04 s.
//
// Cases this state shares with others are rows of the tables in shared-segments.test.ts,
// shared-timers.test.ts and shared-calls.test.ts (the tests are named after the state).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, FIN, bytes, errCode, establishedServer, expectOne, expectSeg, lastAck, ourTs, peer, recordEvents, row, tableState, WIN,
} from '../helpers/harness.ts';

test('LAST_ACK: the fixture: [F.] seq=SND.NXT ack=RCV.NXT (after their FIN); LAST_ACK, timer on, not in CurrEstab', () => {
  const e = lastAck();
  expectSeg(e.fin, { flags: 'F.', seq: e.finSeq, ack: e.h.rSeq, win: WIN, ts: { val: e.lastTs, ecr: e.h.peerTs } });
  assert.equal(e.sock.state, 'LAST_ACK');
  assert.deepEqual([row(e.h)!.state, row(e.h)!.stateNum, row(e.h)!.timer!.kind], ['LAST_ACK', 9, 'on']);
  assert.equal(e.h.counter('TcpCurrEstab'), 0);
});

test('LAST_ACK: the ACK of our FIN -> CLOSED at once (no TIME_WAIT), nothing sent; no EstabResets', () => {
  const e = lastAck();
  const ev = recordEvents(e.sock);
  peer(e, ACK);
  e.h.none();
  assert.equal(tableState(e.h), '');
  assert.equal(e.sock.state, 'CLOSED');
  assert.deepEqual(ev, ['close']);
  assert.deepEqual(['TcpEstabResets', 'TcpExtTW'].map((n) => e.h.counter(n)), [0, 0]);
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  assert.equal(errCode(() => e.sock.send(bytes(1))), 'EPIPE');
  // A late retransmission of their FIN meets no socket.
  peer(e, FIN | ACK, { seq: e.h.rSeq - 1 });
  expectOne(e.h, { flags: 'R', seq: e.lSeq, ack: 0, win: 0, ts: null, options: [] });
});

test('LAST_ACK (orphan): the ACK of our FIN frees everything', () => {
  const e = lastAck({ orphan: true });
  peer(e, ACK);
  e.h.none();
  assert.deepEqual(e.h.host.sockets().filter((r) => r.state !== 'LISTEN'), []);
});

// ---- application calls

test('LAST_ACK: SO_LINGER {1,0} + close() while our FIN still waits behind a zero window -> [R.] seq=SND.NXT (snd_nxt != write_seq)', () => {
  const e = establishedServer();
  peer(e, FIN | ACK, { window: 0 });
  e.h.rSeq += 1;
  e.h.advance(40_000);
  e.h.take();
  e.sock.shutdown('SHUT_WR');
  e.h.none();
  assert.equal(e.sock.state, 'LAST_ACK', 'LAST_ACK at once, the FIN not sent yet');
  e.sock.setsockopt('SO_LINGER', { on: true, seconds: 0 });
  e.sock.close();
  expectOne(e.h, { flags: 'R.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  assert.equal(tableState(e.h), '');
});
