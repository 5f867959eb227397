// Timer cases that hold in several states (Linux tcp_retransmit_timer, tcp_write_timeout with
// tcp_retries2 / tcp_orphan_retries, tcp_keepalive_timer, the timewait entries' timer), written
// once: a table of rows (the state's fixture, the values that differ, the exact outcome) and
// one test per row, named after the state. What only one state does stays in its own file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, PSH, bytes, closeWait, closing, expectOne, expectSeg, finWait1, finWait2, giveUpAt, lastAck, ourTsAt, peer, recordEvents,
  row, rtoOf, tableState, timeWait, type Closing, type Est, WIN,
} from '../helpers/harness.ts';

/** Our FIN (re)sent at time t: it carries the current ACK, window and TS. */
const finAt = (e: Closing, t: number) => ({ flags: 'F.', seq: e.finSeq, ack: e.h.rSeq, win: WIN, ts: { val: ourTsAt(e, t), ecr: e.h.peerTs } });

// ---- our FIN's retransmission timer

const FIN_OUT: Array<{ state: string; make: () => Closing }> = [
  { state: 'FIN_WAIT1', make: () => finWait1() },
  { state: 'CLOSING', make: () => closing() },
  { state: 'LAST_ACK', make: () => lastAck() },
];

for (const r of FIN_OUT) {
  test(`${r.state} timer: our FIN is retransmitted by its RTO, acknowledging all we received (Q7 vi: "ack now 5")`, () => {
    const e = r.make();
    e.h.advance(Math.ceil(rtoOf(e.h)));
    expectOne(e.h, finAt(e, e.h.clock.now()));
    assert.equal(row(e.h)!.timer!.retrans, 1);
    assert.equal(e.h.counter('TcpRetransSegs'), 1);
  });
}

// Giving up (retransmits_timed_out, checked at each RTO expiry): with an owner after tcp_retries2
// (15 retransmissions, a 924.6 s budget) with ETIMEDOUT; an orphan after tcp_orphan_retries
// (0 means 8: a 102.2 s budget), silently. No RST either way.
const FIN_GIVE_UP: Array<{ state: string; make: () => Closing; budget: number; retransmissions: number; events: string[] }> = [
  { state: 'FIN_WAIT1', make: () => finWait1(), budget: 924_600_000, retransmissions: 15, events: ['error:ETIMEDOUT', 'close'] },
  { state: 'FIN_WAIT1 (orphan)', make: () => finWait1({ orphan: true }), budget: 102_200_000, retransmissions: 8, events: [] },
  { state: 'CLOSING', make: () => closing(), budget: 924_600_000, retransmissions: 15, events: ['error:ETIMEDOUT', 'close'] },
  { state: 'CLOSING (orphan)', make: () => closing({ orphan: true }), budget: 102_200_000, retransmissions: 8, events: [] },
  { state: 'LAST_ACK', make: () => lastAck(), budget: 924_600_000, retransmissions: 15, events: ['error:ETIMEDOUT', 'close'] },
  { state: 'LAST_ACK (orphan)', make: () => lastAck({ orphan: true }), budget: 102_200_000, retransmissions: 8, events: [] },
];

for (const r of FIN_GIVE_UP) {
  test(`${r.state} timer: ${r.retransmissions} FIN retransmissions with backoff, then gone at the first RTO expiry past ${r.budget / 1e6} s; ${r.events.length ? 'ETIMEDOUT' : 'silently'}, no RST`, () => {
    const e = r.make();
    const ev = recordEvents(e.sock);
    const state = tableState(e.h);
    const g = giveUpAt(rtoOf(e.h), r.budget);
    assert.equal(g.retransmissions, r.retransmissions);
    e.h.advance(g.at - (e.h.clock.now() - e.fin.t) - 1);
    const q = e.h.take();
    assert.equal(q.length, r.retransmissions);
    for (const o of q) expectSeg(o, finAt(e, o.t));
    assert.equal(tableState(e.h), state);
    e.h.advance(2);
    e.h.none();
    assert.equal(tableState(e.h), '', `gone by +${(e.h.clock.now() - e.fin.t) / 1e6} s`);
    assert.deepEqual(ev, r.events);
    assert.equal(e.h.counter('TcpExtTCPAbortOnTimeout'), 1);
  });
}

// ---- keepalive

/** SO_KEEPALIVE with TCP_KEEPIDLE idle seconds. */
function keepalive(e: Est, idle: number): void {
  e.sock.setsockopt('SO_KEEPALIVE', 1);
  e.sock.setsockopt('TCP_KEEPIDLE', idle);
}

// tcp_keepalive_timer does not probe while data or a FIN is outstanding (the retransmission
// timer is the liveness check).
const KEEPALIVE_FIN_OUT: Array<{ state: string; make: () => Est }> = [
  { state: 'FIN_WAIT1 (keepalive set before the close)', make: () => finWait1({ before: (est) => keepalive(est, 1) }) },
  { state: 'CLOSING (keepalive set before the close)', make: () => closing({ before: (est) => keepalive(est, 1) }) },
  { state: 'LAST_ACK', make: () => { const e = lastAck(); keepalive(e, 1); return e; } },
];

for (const r of KEEPALIVE_FIN_OUT) {
  test(`${r.state} timer: keepalive (idle 1 s) does not probe while our FIN is outstanding`, () => {
    const e = r.make();
    e.h.advance(2_000_000);
    assert.ok(e.h.take().every((o) => o.flags === 'F.'));
    assert.equal(e.h.counter('TcpExtTCPKeepAlive'), 0);
  });
}

// With nothing outstanding, keepalive probes run: [.] seq=SND.NXT-1 (in FIN_WAIT2 that is our
// FIN's number), the idle time counted from the last segment received (the fixture's, at 1 s).
const KEEPALIVE_PROBES: Array<{ state: string; make: () => Est; idle: number }> = [
  { state: 'CLOSE_WAIT', make: () => closeWait(), idle: 3 },
  { state: 'FIN_WAIT2', make: () => finWait2(), idle: 5 },
];

for (const r of KEEPALIVE_PROBES) {
  test(`${r.state} timer: SO_KEEPALIVE, TCP_KEEPIDLE ${r.idle} -> a probe [.] seq=SND.NXT-1 ${r.idle} s after the last segment received`, () => {
    const e = r.make();
    keepalive(e, r.idle);
    const at = 1_000_000 + r.idle * 1_000_000;
    e.h.advance(at - e.h.clock.now());
    expectOne(e.h, { flags: '.', seq: e.lSeq - 1, ack: e.h.rSeq, win: WIN, ts: { val: ourTsAt(e, at), ecr: e.h.peerTs }, at });
    assert.equal(e.h.counter('TcpExtTCPKeepAlive'), 1);
  });
}

// ---- timewait entries

// An orphaned FIN_WAIT2 entry (tcp_fin_timeout 60) and TIME_WAIT (TCP_TIMEWAIT_LEN) live exactly
// 60 s and vanish with nothing on the wire; TW was counted once, at creation. Afterwards the
// 4-tuple meets the listener: an ACK, or data, gets <SEQ=SEG.ACK><CTL=RST>.
const ENTRY_60S: Array<{ state: string; make: () => Closing }> = [
  { state: 'FIN_WAIT2 (orphan)', make: () => finWait2({ orphan: true }) },
  { state: 'TIME_WAIT', make: () => timeWait() },
];

for (const r of ENTRY_60S) {
  test(`${r.state} timer: the entry lives exactly 60 s, then vanishes silently; a later ACK or data gets a no-socket reset`, () => {
    const e = r.make();
    e.h.advance(59_999_999);
    assert.equal(tableState(e.h), r.state.replace(' (orphan)', ''));
    e.h.advance(1);
    e.h.none();
    assert.equal(tableState(e.h), '');
    assert.equal(e.h.counter('TcpExtTW'), 1, 'counted once, at creation');
    peer(e, ACK);
    expectOne(e.h, { flags: 'R', seq: e.lSeq, ack: 0, win: 0, ts: null, options: [] });
    peer(e, ACK | PSH, { payload: bytes(4) });
    expectOne(e.h, { flags: 'R', seq: e.lSeq, ack: 0, win: 0, ts: null, options: [] });
  });
}
