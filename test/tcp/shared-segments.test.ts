// Segment cases that hold in several states (RFC 9293 §3.10.7.4; Linux tcp_validate_incoming,
// tcp_reset, tcp_reset_check, tcp_send_challenge_ack, step 7's RCV_SHUTDOWN check), written
// once: a table of rows (the state's fixture, the values that differ, the exact outcome) and
// one test per row, named after the state. What only one state does stays in its own file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, FIN, PSH, RST, SYN, bytes, closeWait, closing, establishedServer, expectOne, finWait1, finWait2, lastAck, outcome, peer,
  timeWait, recordEvents, row, sndUna, tableState, type Est, WIN, ackNow, ourTs,
} from '../helpers/harness.ts';

const counters = (e: Est, names: string[]): number[] => names.map((n) => e.h.counter(n));

// ---- RST (RFC 5961 §3: only an exact RST resets; Linux also takes RCV.NXT-1 after the peer's FIN)

const RST_AT_RCV_NXT: Array<{ state: string; make: () => Est; error: string; calls: string[]; estabResets: number }> = [
  // calls: recv(), recv(), send(), send() after the reset. tcp_reset: EPIPE in CLOSE_WAIT,
  // ECONNRESET elsewhere; once the peer's FIN is in, recv() reads EOF first (Q2, Q4, Q5).
  { state: 'ESTABLISHED', make: () => establishedServer(), error: 'ECONNRESET', calls: ['ECONNRESET', 'EOF', 'EPIPE', 'EPIPE'], estabResets: 1 },
  {
    // With data in flight: the peer's orphaned FIN_WAIT2 answers it `[R] seq=SEG.ACK` (= our RCV.NXT).
    state: 'CLOSE_WAIT',
    make: () => {
      const e = closeWait();
      assert.equal(e.sock.send(bytes(4)), 4);
      e.h.take();
      return e;
    },
    error: 'EPIPE', calls: ['EOF', 'EOF', 'EPIPE', 'EPIPE'], estabResets: 1,
  },
  { state: 'FIN_WAIT1', make: () => finWait1(), error: 'ECONNRESET', calls: ['ECONNRESET', 'EOF', 'EPIPE', 'EPIPE'], estabResets: 0 },
  { state: 'FIN_WAIT2', make: () => finWait2(), error: 'ECONNRESET', calls: ['ECONNRESET', 'EOF', 'EPIPE', 'EPIPE'], estabResets: 0 },
  { state: 'CLOSING', make: () => closing(), error: 'ECONNRESET', calls: ['EOF', 'EOF', 'ECONNRESET', 'EPIPE'], estabResets: 0 },
  { state: 'LAST_ACK', make: () => lastAck(), error: 'ECONNRESET', calls: ['EOF', 'EOF', 'ECONNRESET', 'EPIPE'], estabResets: 0 },
];

for (const r of RST_AT_RCV_NXT) {
  test(`${r.state}: RST at RCV.NXT -> CLOSED, nothing sent; ${r.error}; recv, recv, send, send: ${r.calls.join(', ')}; EstabResets ${r.estabResets}`, () => {
    const e = r.make();
    const ev = recordEvents(e.sock);
    e.h.inject({ flags: RST, seq: e.h.rSeq });
    e.h.none();
    assert.deepEqual([tableState(e.h), e.sock.state], ['', 'CLOSED']);
    assert.deepEqual(ev, [`error:${r.error}`, 'close']);
    const calls = [outcome(() => e.sock.recv()), outcome(() => e.sock.recv()), outcome(() => e.sock.send(bytes(1))), outcome(() => e.sock.send(bytes(1)))];
    assert.deepEqual(calls, r.calls);
    assert.deepEqual(counters(e, ['TcpEstabResets', 'TcpCurrEstab']), [r.estabResets, 0]);
  });
}

// tcp_reset_check: a RST at RCV.NXT-1 (the peer's FIN) is taken in CLOSE_WAIT, CLOSING, LAST_ACK;
// before the peer's FIN that number is outside the window and the RST is ignored (Q10).
const RST_AT_RCV_NXT_MINUS_1: Array<{ state: string; make: () => Est; after: string; soError: number }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), after: 'ESTABLISHED', soError: 0 },
  { state: 'FIN_WAIT1', make: () => finWait1(), after: 'FIN_WAIT1', soError: 0 },
  { state: 'FIN_WAIT2', make: () => finWait2(), after: 'FIN_WAIT2', soError: 0 },
  { state: 'CLOSE_WAIT', make: () => closeWait(), after: '', soError: 32 },
  { state: 'CLOSING', make: () => closing(), after: '', soError: 104 },
  { state: 'LAST_ACK', make: () => lastAck(), after: '', soError: 104 },
];

for (const r of RST_AT_RCV_NXT_MINUS_1) {
  test(`${r.state}: RST at RCV.NXT-1 -> ${r.after ? 'ignored' : 'accepted (tcp_reset_check)'}, nothing sent; SO_ERROR ${r.soError}`, () => {
    const e = r.make();
    e.h.inject({ flags: RST, seq: e.h.rSeq - 1 });
    e.h.none();
    assert.deepEqual([tableState(e.h), e.sock.getsockopt('SO_ERROR'), e.h.counter('TcpExtTCPChallengeACK')], [r.after, r.soError, 0]);
  });
}

// meanwhile: what the host sends in the 500 ms between the two challenge ACKs (the per-socket limit).
const RST_IN_WINDOW: Array<{ state: string; make: () => Est; off: number; meanwhile: string[] }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), off: 100, meanwhile: [] },
  { state: 'CLOSE_WAIT', make: () => closeWait(), off: 50, meanwhile: [] },
  { state: 'FIN_WAIT1', make: () => finWait1(), off: 5, meanwhile: ['F.'] },
  { state: 'FIN_WAIT2', make: () => finWait2(), off: 3, meanwhile: [] },
  { state: 'CLOSING', make: () => closing(), off: 30, meanwhile: ['F.'] },
  { state: 'LAST_ACK', make: () => lastAck(), off: 9, meanwhile: ['F.'] },
];

for (const r of RST_IN_WINDOW) {
  test(`${r.state}: RST (and RST|ACK) in the window but not at RCV.NXT -> challenge ACK; beyond the window -> ignored; no EstabResets`, () => {
    const e = r.make();
    const ecr = e.h.peerTs;
    e.h.inject({ flags: RST, seq: e.h.rSeq + r.off });
    expectOne(e.h, ackNow(e, ecr));
    e.h.inject({ flags: RST, seq: e.h.rSeq + 10_000_000 });
    e.h.none();
    assert.equal(e.h.counter('TcpExtTCPChallengeACK'), 1);
    e.h.advance(500_000);
    assert.deepEqual(e.h.take().map((o) => o.flags), r.meanwhile, 'meanwhile');
    e.h.inject({ flags: RST | ACK, seq: e.h.rSeq + r.off, ack: e.lSeq });
    expectOne(e.h, ackNow(e, ecr));
    assert.deepEqual(counters(e, ['TcpExtTCPChallengeACK', 'TcpEstabResets']), [2, 0]);
    assert.equal(e.sock.state, r.state);
  });
}

// ---- SYN (RFC 5961 §4: challenge ACK; TCPSYNChallenge; InErrs only in ESTABLISHED; Q10)

const SYN_STATES: Array<{ state: string; make: () => Est; inWindow: number; inErrs: number }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), inWindow: 100, inErrs: 1 },
  { state: 'CLOSE_WAIT', make: () => closeWait(), inWindow: 7, inErrs: 0 },
  { state: 'FIN_WAIT1', make: () => finWait1(), inWindow: 10, inErrs: 0 },
  { state: 'FIN_WAIT2', make: () => finWait2(), inWindow: 3, inErrs: 0 },
  { state: 'CLOSING', make: () => closing(), inWindow: 30, inErrs: 0 },
  { state: 'LAST_ACK', make: () => lastAck(), inWindow: 10, inErrs: 0 },
];

for (const r of SYN_STATES) {
  for (const [name, seqOff, flags] of [['in window', r.inWindow, SYN], ['old (below RCV.NXT)', -1000, SYN], ['SYN|ACK at RCV.NXT', 0, SYN | ACK]] as const) {
    test(`${r.state}: SYN ${name} -> challenge ACK; TCPSYNChallenge, TCPChallengeACK, InErrs ${r.inErrs}; again within 500 ms -> nothing`, () => {
      const e = r.make();
      const ecr = e.h.peerTs;
      peer(e, flags, { seq: e.h.rSeq + seqOff, options: e.h.synOptions() });
      // The challenge ACK echoes the old ts_recent (the SYN's TS is not taken).
      expectOne(e.h, ackNow(e, ecr));
      assert.deepEqual(counters(e, ['TcpExtTCPSYNChallenge', 'TcpExtTCPChallengeACK', 'TcpInErrs']), [1, 1, r.inErrs]);
      assert.equal(e.sock.state, r.state);
      peer(e, flags, { seq: e.h.rSeq + seqOff, options: e.h.synOptions() });
      e.h.none();
      assert.equal(e.h.counter('TcpExtTCPACKSkippedChallenge'), 1);
    });
  }
}

// ---- ACK

// An acceptable ACK of our data: nothing sent, the retransmission timer stops, Send-Q empties.
const ACK_OF_DATA: Array<{ state: string; make: () => Est }> = [
  { state: 'ESTABLISHED', make: () => establishedServer() },
  { state: 'CLOSE_WAIT', make: () => closeWait() },
];

for (const r of ACK_OF_DATA) {
  test(`${r.state}: the ACK of our data: nothing sent, the retransmission timer stops, Send-Q empties`, () => {
    const e = r.make();
    e.sock.send(bytes(100));
    expectOne(e.h, { flags: 'P.', seq: e.lSeq, ack: e.h.rSeq, win: WIN, len: 100, ts: { val: ourTs(e), ecr: e.h.peerTs } });
    assert.deepEqual([row(e.h)!.sendQ, row(e.h)!.timer?.kind], [100, 'on']);
    e.lSeq += 100;
    peer(e, ACK);
    e.h.none();
    assert.deepEqual([row(e.h)!.sendQ, row(e.h)!.timer], [0, null]);
    assert.equal(e.h.counter('TcpExtTCPOrigDataSent'), 1);
    e.h.advance(10_000_000);
    e.h.none();
  });
}

// recv: what recv() gives afterwards (EAGAIN before the peer's FIN, EOF after it).
const ACK_STATES: Array<{ state: string; make: () => Est; recv: string; timer: string | null }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), recv: 'EAGAIN', timer: null },
  { state: 'CLOSE_WAIT', make: () => closeWait(), recv: 'EOF', timer: null },
  { state: 'FIN_WAIT1', make: () => finWait1(), recv: 'EAGAIN', timer: 'on' },
  { state: 'FIN_WAIT2', make: () => finWait2(), recv: 'EAGAIN', timer: null },
  { state: 'CLOSING', make: () => closing(), recv: 'EOF', timer: 'on' },
  { state: 'LAST_ACK', make: () => lastAck(), recv: 'EOF', timer: 'on' },
];

for (const r of ACK_STATES) {
  test(`${r.state}: an ACK of nothing new (SEG.ACK = SND.UNA) is ignored, timer ${r.timer}; its TS becomes ts_recent`, () => {
    const e = r.make();
    peer(e, ACK, { ack: sndUna(e) });
    peer(e, ACK, { ack: sndUna(e) });
    e.h.none();
    assert.deepEqual([e.sock.state, row(e.h)!.timer?.kind ?? null, e.h.counter('TcpExtTCPChallengeACK')], [r.state, r.timer, 0]);
    // The next challenge ACK echoes the duplicate's TS.
    const ecr = e.h.peerTs;
    peer(e, ACK, { ack: e.lSeq + 10 });
    expectOne(e.h, ackNow(e, ecr));
  });
}

// off: how far beyond SND.NXT the ACK is.
const ACK_UNSENT: Array<{ state: string; make: () => Est; off: number }> = [
  { state: 'CLOSE_WAIT', make: () => closeWait(), off: 100 },
  { state: 'FIN_WAIT1', make: () => finWait1(), off: 100 },
  { state: 'FIN_WAIT2', make: () => finWait2(), off: 10 },
  { state: 'CLOSING', make: () => closing(), off: 3 },
  { state: 'LAST_ACK', make: () => lastAck(), off: 1 },
];

for (const r of ACK_UNSENT) {
  test(`${r.state}: an ACK for data never sent (SND.NXT+${r.off}) -> challenge ACK (tcp_rcv_state_process), segment dropped`, () => {
    const e = r.make();
    const ecr = e.h.peerTs;
    peer(e, ACK, { ack: e.lSeq + r.off });
    expectOne(e.h, ackNow(e, ecr));
    assert.equal(e.h.counter('TcpExtTCPChallengeACK'), 1);
    assert.equal(e.sock.state, r.state);
  });
}

// ---- data

for (const r of ACK_STATES) {
  test(`${r.state}: data beyond the window -> duplicate ACK without SACK (BeyondWindow), dropped; again -> again (data is not rate-limited); recv() ${r.recv}`, () => {
    const e = r.make();
    const ecr = e.h.peerTs;
    peer(e, ACK | PSH, { seq: e.h.rSeq + 10_000_000, payload: bytes(3) });
    expectOne(e.h, ackNow(e, ecr));
    assert.equal(e.h.counter('TcpExtBeyondWindow'), 1);
    peer(e, ACK | PSH, { seq: e.h.rSeq + 10_000_000, payload: bytes(3) });
    expectOne(e.h, ackNow(e, ecr));
    assert.equal(outcome(() => e.sock.recv()), r.recv);
    assert.equal(e.sock.state, r.state);
  });
}

// Step 7: once the peer's FIN is in, its new data is ignored, even by an orphan (no reset).
const DATA_AFTER_THEIR_FIN: Array<{ state: string; make: () => Est; recv: string }> = [
  { state: 'CLOSE_WAIT', make: () => closeWait(), recv: 'EOF' },
  { state: 'CLOSING', make: () => closing(), recv: 'EOF' },
  { state: 'CLOSING (orphan)', make: () => closing({ orphan: true }), recv: 'EBADF' },
  { state: 'LAST_ACK', make: () => lastAck(), recv: 'EOF' },
  { state: 'LAST_ACK (orphan)', make: () => lastAck({ orphan: true }), recv: 'EBADF' },
];

for (const r of DATA_AFTER_THEIR_FIN) {
  test(`${r.state}: data after their FIN is ignored (step 7): nothing sent, nothing readable, no reset`, () => {
    const e = r.make();
    const before = tableState(e.h);
    peer(e, ACK | PSH, { ack: sndUna(e), payload: bytes(5) });
    e.h.none();
    assert.equal(tableState(e.h), before);
    assert.equal(outcome(() => e.sock.recv()), r.recv);
  });
}

// ---- FIN

// tcp_data_queue: an old sequence -> immediate ACK with a D-SACK of it (DelayedACKLost).
const THEIR_FIN_AGAIN: Array<{ state: string; make: () => Est }> = [
  { state: 'CLOSE_WAIT', make: () => closeWait() },
  { state: 'CLOSING', make: () => closing() },
  { state: 'CLOSING (orphan)', make: () => closing({ orphan: true }) },
  { state: 'LAST_ACK', make: () => lastAck() },
  { state: 'LAST_ACK (orphan)', make: () => lastAck({ orphan: true }) },
];

for (const r of THEIR_FIN_AGAIN) {
  test(`${r.state}: their FIN retransmitted (not acknowledging ours) -> immediate ACK with a D-SACK of it; state unchanged`, () => {
    const e = r.make();
    const before = tableState(e.h);
    peer(e, FIN | ACK, { seq: e.h.rSeq - 1, ack: sndUna(e) });
    expectOne(e.h, ackNow(e, e.h.peerTs, { sack: [[e.h.rSeq - 1, e.h.rSeq]] }));
    assert.equal(e.h.counter('TcpExtDelayedACKLost'), 1);
    assert.equal(tableState(e.h), before);
  });
}

// The peer's FIN that also acknowledges ours ends in TIME_WAIT (tcp_time_wait), owned or not.
// wait: time spent in the state first (an orphan FIN_WAIT2's fin timeout does not carry over).
const FIN_TO_TIME_WAIT: Array<{ state: string; make: () => Est; wait: number; recv: string }> = [
  { state: 'FIN_WAIT1', make: () => finWait1(), wait: 0, recv: 'EOF' },
  { state: 'FIN_WAIT1 (orphan)', make: () => finWait1({ orphan: true }), wait: 0, recv: 'EBADF' },
  { state: 'FIN_WAIT2', make: () => finWait2(), wait: 10_000_000, recv: 'EOF' },
  { state: 'FIN_WAIT2 (orphan)', make: () => finWait2({ orphan: true }), wait: 10_000_000, recv: 'EBADF' },
];

for (const r of FIN_TO_TIME_WAIT) {
  test(`${r.state}: the peer's FIN acknowledging ours -> immediate ACK seq=SND.NXT ack=FIN+1, TIME_WAIT for 60 s (TW counted once), then gone`, () => {
    const e = r.make();
    e.h.advance(r.wait);
    peer(e, FIN | ACK);
    e.h.rSeq += 1;
    expectOne(e.h, ackNow(e, e.h.peerTs));
    assert.deepEqual([tableState(e.h), row(e.h)!.timer], ['TIME_WAIT', { kind: 'timewait', expiresMs: 60000, retrans: 0 }]);
    assert.equal(e.h.counter('TcpExtTW'), 1);
    assert.deepEqual([e.sock.state, outcome(() => e.sock.recv())], ['CLOSED', r.recv]);
    e.h.advance(60_000_000);
    e.h.none();
    assert.equal(tableState(e.h), '');
  });
}

// A FIN carrying data: the data, then EOF. ackDelay: tcp_fin's pingpong delays the ACK in
// ESTABLISHED; in FIN_WAIT2 it is immediate (tcp_time_wait).
const FIN_WITH_DATA: Array<{ state: string; make: () => Est; ackDelay: number; after: string }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), ackDelay: 40_000, after: 'CLOSE_WAIT' },
  { state: 'FIN_WAIT1', make: () => finWait1(), ackDelay: 0, after: 'CLOSING' },
  { state: 'FIN_WAIT2', make: () => finWait2(), ackDelay: 0, after: 'TIME_WAIT' },
];

for (const r of FIN_WITH_DATA) {
  test(`${r.state}: FIN carrying data -> the data and EOF, ACK${r.ackDelay ? ` after ${r.ackDelay / 1000} ms` : ''}, ${r.after}`, () => {
    const e = r.make();
    peer(e, FIN | ACK | PSH, { ack: sndUna(e), payload: bytes(5) });
    e.h.rSeq += 6;
    e.h.advance(r.ackDelay);
    expectOne(e.h, ackNow(e, e.h.peerTs));
    assert.equal(tableState(e.h), r.after);
    assert.deepEqual(e.sock.recv(), bytes(5));
    assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  });
}

// An out-of-order FIN is queued: ACK with a SACK block covering it (the echo stays the previous
// TS); filling the hole (gap bytes) -> immediate ACK, the state moves on. len: the FIN's data.
// staleSack: in FIN_WAIT1/2 tcp_fin sends its ACK before tcp_sack_reset, so the FIN's block is
// still in it (seen on 6.18: test/drill/dsack/fin-wait{1,2}-ofo-fin-filled.pkt).
const FIN_OUT_OF_ORDER: Array<{ state: string; make: () => Est; gap: number; len: number; after: string; staleSack: boolean }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), gap: 10, len: 5, after: 'CLOSE_WAIT', staleSack: false },
  { state: 'FIN_WAIT1', make: () => finWait1(), gap: 10, len: 0, after: 'CLOSING', staleSack: true },
  { state: 'FIN_WAIT2', make: () => finWait2(), gap: 5, len: 0, after: 'TIME_WAIT', staleSack: true },
];

for (const r of FIN_OUT_OF_ORDER) {
  test(`${r.state}: a FIN after a hole -> ACK with SACK, still ${r.state}; the missing data -> ACK, ${r.after}`, () => {
    const e = r.make();
    const hole = e.h.rSeq;
    const end = hole + r.gap + r.len + 1;
    peer(e, FIN | ACK | (r.len ? PSH : 0), { seq: hole + r.gap, ack: sndUna(e), payload: bytes(r.len) });
    expectOne(e.h, ackNow(e, e.h.peerTs - 1, { sack: [[hole + r.gap, end]] }));
    assert.equal(tableState(e.h), r.state);
    peer(e, ACK | PSH, { ack: sndUna(e), payload: bytes(r.gap) });
    e.h.rSeq = end;
    expectOne(e.h, ackNow(e, e.h.peerTs, r.staleSack ? { sack: [[hole + r.gap, end]] } : {}));
    assert.equal(tableState(e.h), r.after);
    assert.equal(e.sock.recv()!.length, r.gap + r.len);
    assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  });
}

// Before the peer's FIN, data is still received (shutdown(SHUT_WR) only), ACKed at once (quickack), readable.
// The ACK's window is the kernel's with the segment unread (truesize charged): 509 << 7 in
// ESTABLISHED, still 510 in FIN_WAIT1 (both seen on 6.18, drill --both).
const DATA_RECEIVED: Array<{ state: string; make: () => Est; n: number; win?: number }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), n: 10, win: 509 },
  { state: 'FIN_WAIT1', make: () => finWait1(), n: 8 },
  { state: 'FIN_WAIT2', make: () => finWait2(), n: 11 },
];

for (const r of DATA_RECEIVED) {
  test(`${r.state}: ${r.n} bytes of data -> ACKed at once, TS echo of the segment; "readable", Recv-Q ${r.n}, read, then EAGAIN`, () => {
    const e = r.make();
    const ev = recordEvents(e.sock);
    peer(e, ACK | PSH, { ack: sndUna(e), payload: bytes(r.n) });
    e.h.rSeq += r.n;
    expectOne(e.h, ackNow(e, e.h.peerTs, r.win ? { win: r.win } : {}));
    assert.deepEqual(ev, ['readable']);
    assert.equal(row(e.h)!.recvQ, r.n);
    assert.deepEqual(e.sock.recv(), bytes(r.n));
    assert.equal(e.sock.recv(), null);
    assert.equal(e.sock.state, r.state);
  });
}

// An orphan that gets new data answers `[R] seq=SEG.ACK` (no options, window 0) and is gone;
// the data's retransmission then meets no socket: the same reset (Q7). A full socket counts
// TCPAbortOnData, a FIN_WAIT2 timewait entry does not.
const ORPHAN_NEW_DATA: Array<{ state: string; what: string; make: () => Est; ackOurFin: boolean; abortOnData: number }> = [
  { state: 'FIN_WAIT1 (orphan)', what: 'new data', make: () => finWait1({ orphan: true }), ackOurFin: false, abortOnData: 1 },
  { state: 'FIN_WAIT1 (orphan)', what: 'new data that also acknowledges our FIN', make: () => finWait1({ orphan: true }), ackOurFin: true, abortOnData: 1 },
  { state: 'FIN_WAIT2 (orphan, a timewait entry)', what: 'new data', make: () => finWait2({ orphan: true }), ackOurFin: true, abortOnData: 0 },
  {
    state: 'FIN_WAIT2 (orphan, a full socket with TCP_LINGER2 100)', what: 'new data',
    make: () => finWait2({ orphan: true, before: (est) => est.sock.setsockopt('TCP_LINGER2', 100) }), ackOurFin: true, abortOnData: 1,
  },
];

for (const r of ORPHAN_NEW_DATA) {
  test(`${r.state}: ${r.what} -> [R] seq=SEG.ACK, gone; TCPAbortOnData ${r.abortOnData}, OutRsts, no EstabResets; its retransmission -> the same [R]`, () => {
    const e = r.make();
    const ack = r.ackOurFin ? e.lSeq : e.lSeq - 1;
    const reset = { flags: 'R', seq: ack, ack: 0, win: 0, ts: null, options: [] };
    peer(e, ACK | PSH, { ack, payload: bytes(9) });
    expectOne(e.h, reset);
    assert.equal(tableState(e.h), '');
    assert.deepEqual(counters(e, ['TcpExtTCPAbortOnData', 'TcpOutRsts', 'TcpEstabResets']), [r.abortOnData, 1, 0]);
    peer(e, ACK | PSH, { ack, payload: bytes(9) });
    expectOne(e.h, reset);
  });
}

// At tcp_max_tw_buckets there is no timewait entry for any way into one: CLOSED at once,
// TCPTimeWaitOverflow, no TW; the peer's FIN (again) meets no socket: [R] seq=SEG.ACK (Q16 c).
// finOff: the FIN's sequence number from RCV.NXT (-1: a retransmission of the one we took).
const TW_OVERFLOW: Array<{ state: string; way: string; make: () => Est; finOff: number }> = [
  // Observed on 6.18 (docs/experiments/q16_probe_overflow.py): 0.3 s after close() ss lists
  // no socket, counters +TCPTimeWaitOverflow, and B's FIN is answered by `R` from no socket (c1).
  { state: 'FIN_WAIT2 (orphan)', way: 'the ACK of our FIN makes no FIN_WAIT2 entry', make: () => finWait2({ orphan: true, config: { tcp_max_tw_buckets: 0 } }), finOff: 0 },
  {
    // `CLOSING 1 1 ... timer:(on,...)` after the crossing FIN; after the ACK of A's FIN no
    // socket; B's FIN resent then gets `R seq=<A's FIN + 1>` (c3).
    state: 'CLOSING', way: 'the ACK of our FIN makes no TIME_WAIT entry',
    make: () => {
      const e = closing({ config: { tcp_max_tw_buckets: 0 } });
      assert.equal(tableState(e.h), 'CLOSING');
      peer(e, ACK);
      e.h.none();
      return e;
    },
    finOff: -1,
  },
  { state: 'TIME_WAIT', way: 'the peer\'s FIN in FIN_WAIT2 makes no TIME_WAIT entry', make: () => timeWait({ config: { tcp_max_tw_buckets: 0 } }), finOff: -1 },
];

for (const r of TW_OVERFLOW) {
  test(`${r.state} with tcp_max_tw_buckets 0: ${r.way} (TCPTimeWaitOverflow, no TW); the peer's FIN then gets [R] (Q16 c)`, () => {
    const e = r.make();
    assert.equal(tableState(e.h), '');
    assert.deepEqual(counters(e, ['TcpExtTCPTimeWaitOverflow', 'TcpExtTW']), [1, 0]);
    peer(e, FIN | ACK, { seq: e.h.rSeq + r.finOff });
    expectOne(e.h, { flags: 'R', seq: e.lSeq, ack: 0, win: 0, ts: null, options: [] });
  });
}
