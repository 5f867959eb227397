// Application calls that behave alike in several states (Linux tcp_shutdown, __tcp_close with
// tcp_need_reset and SO_LINGER, tcp_disconnect, sk_stream_wait_close), written once: a table
// of rows (the state's fixture, the values that differ, the exact outcome) and one test per
// row, named after the state. What only one state does stays in its own file.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, PSH, bytes, closeWait, closeWaitWithData, closing, establishedServer, expectOne, expectSegs, finWait1, finWait2, lastAck,
  outcome, ourTs, peer, recordEvents, row, sndUna, synSent, tableState, type Closing, type Est, type Harness, WIN,
} from '../helpers/harness.ts';

/** What the tables' fixtures have in common (SYN_SENT's too). */
type Fixture = Pick<Est, 'h' | 'sock' | 'lSeq' | 'lastTs' | 'tsAt'>;
const counters = (e: { h: Harness }, names: string[]): number[] => names.map((n) => e.h.counter(n));
/** Our segment with these flags sent now: seq=SND.NXT ack=RCV.NXT, window and TS. */
const ours = (e: Fixture, flags: string, over: { seq?: number; len?: number } = {}) =>
  ({ flags, seq: over.seq ?? e.lSeq, ack: e.h.rSeq, win: WIN, len: over.len ?? 0, ts: { val: ourTs(e), ecr: e.h.peerTs } });

/** The peer's n bytes arrive (acknowledging SND.UNA) and are ACKed; nobody reads them. */
function unread<T extends Est>(e: T, n: number): T {
  peer(e, ACK | PSH, { ack: sndUna(e), payload: bytes(n) });
  e.h.rSeq += n;
  e.h.take();
  return e;
}

// ---- shutdown()

// Once our FIN is out: send() EPIPE, and shutdown() again sends nothing; recv() gives what is
// queued (EAGAIN before the peer's FIN, EOF after it), EOF once SHUT_RD is set.
const FIN_SENT: Array<{ state: string; make: () => Closing; recv: string }> = [
  { state: 'FIN_WAIT1', make: () => finWait1(), recv: 'EAGAIN' },
  { state: 'FIN_WAIT2', make: () => finWait2(), recv: 'EAGAIN' },
  { state: 'CLOSING', make: () => closing(), recv: 'EOF' },
  { state: 'LAST_ACK', make: () => lastAck(), recv: 'EOF' },
];

for (const r of FIN_SENT) {
  test(`${r.state}: send() EPIPE; shutdown(SHUT_WR) and shutdown(SHUT_RDWR) again send nothing; recv() ${r.recv}, then EOF`, () => {
    const e = r.make();
    assert.equal(outcome(() => e.sock.send(bytes(1))), 'EPIPE');
    e.sock.shutdown('SHUT_WR');
    e.h.none();
    assert.equal(outcome(() => e.sock.recv()), r.recv);
    e.sock.shutdown('SHUT_RDWR');
    e.h.none();
    assert.equal(e.sock.state, r.state);
    assert.equal(outcome(() => e.sock.recv()), 'EOF');
  });
}

const SHUT_RD: Array<{ state: string; make: () => Est }> = [
  { state: 'ESTABLISHED', make: () => establishedServer() },
  { state: 'CLOSE_WAIT', make: () => closeWait() },
  ...FIN_SENT,
];

for (const r of SHUT_RD) {
  test(`${r.state}: shutdown(SHUT_RD) sends nothing; recv() EOF; state unchanged`, () => {
    const e = r.make();
    e.sock.shutdown('SHUT_RD');
    e.h.none();
    assert.equal(e.sock.state, r.state);
    assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  });
}

// Before our FIN, shutdown(SHUT_WR) or shutdown(SHUT_RDWR) sends it: [F.] seq=SND.NXT; the
// socket stays owned; recv() EOF once the peer's FIN is in or SHUT_RD is set.
const SHUT_WR: Array<{ state: string; make: () => Est; how: 'SHUT_WR' | 'SHUT_RDWR'; after: string; recv: string }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), how: 'SHUT_WR', after: 'FIN_WAIT1', recv: 'EAGAIN' },
  { state: 'ESTABLISHED', make: () => establishedServer(), how: 'SHUT_RDWR', after: 'FIN_WAIT1', recv: 'EOF' },
  { state: 'CLOSE_WAIT', make: () => closeWait(), how: 'SHUT_WR', after: 'LAST_ACK', recv: 'EOF' },
  { state: 'CLOSE_WAIT', make: () => closeWait(), how: 'SHUT_RDWR', after: 'LAST_ACK', recv: 'EOF' },
];

for (const r of SHUT_WR) {
  test(`${r.state}: shutdown(${r.how}) -> FIN [F.] seq=SND.NXT, ${r.after}, still owned; send() EPIPE; recv() ${r.recv}; not in CurrEstab`, () => {
    const e = r.make();
    e.sock.shutdown(r.how);
    expectOne(e.h, ours(e, 'F.'));
    assert.deepEqual([e.sock.state, row(e.h)!.orphan], [r.after, false]);
    assert.equal(outcome(() => e.sock.send(bytes(1))), 'EPIPE');
    assert.equal(outcome(() => e.sock.recv()), r.recv);
    assert.equal(e.h.counter('TcpCurrEstab'), 0);
  });
}

// ---- send()

// Before our FIN, send() sends at once: [P.] seq=SND.NXT ack=RCV.NXT (after the peer's FIN if any).
const SEND: Array<{ state: string; make: () => Est; recv: string }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), recv: 'EAGAIN' },
  { state: 'CLOSE_WAIT', make: () => closeWait(), recv: 'EOF' },
];

for (const r of SEND) {
  test(`${r.state}: send() -> [P.] seq=SND.NXT ack=RCV.NXT len n with the current window and TS; recv() ${r.recv}`, () => {
    const e = r.make();
    assert.equal(e.sock.send(bytes(20)), 20);
    expectOne(e.h, ours(e, 'P.', { len: 20 }));
    assert.equal(outcome(() => e.sock.recv()), r.recv);
  });
}

// Data queued behind a zero window: shutdown(SHUT_WR) or close() changes the state at once,
// and the FIN rides on the last data segment [FP.] when the window opens.
const FIN_BEHIND_DATA: Array<{ state: string; make: () => Est; call: 'shutdown' | 'close'; after: string }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), call: 'shutdown', after: 'FIN_WAIT1' },
  { state: 'ESTABLISHED', make: () => establishedServer(), call: 'close', after: 'FIN_WAIT1' },
  { state: 'CLOSE_WAIT', make: () => closeWait(), call: 'shutdown', after: 'LAST_ACK' },
  { state: 'CLOSE_WAIT', make: () => closeWait(), call: 'close', after: 'LAST_ACK' },
];

for (const r of FIN_BEHIND_DATA) {
  test(`${r.state}: ${r.call === 'close' ? 'close()' : 'shutdown(SHUT_WR)'} with data queued behind a zero window: ${r.after} at once; the FIN rides on the data [FP.]`, () => {
    const e = r.make();
    peer(e, ACK, { window: 0 });
    e.sock.send(bytes(10));
    if (r.call === 'close') e.sock.close();
    else e.sock.shutdown('SHUT_WR');
    e.h.none();
    assert.equal(tableState(e.h), r.after);
    peer(e, ACK, { window: 502 });
    expectOne(e.h, ours(e, 'FP.', { len: 10 }));
  });
}

// ---- close()

// Nothing unread and no linger: close() makes the socket an orphan; our FIN goes out now
// unless it is already out.
const CLOSE_ORPHAN: Array<{ state: string; make: () => Est; sendsFin: boolean; after: string }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), sendsFin: true, after: 'FIN_WAIT1' },
  { state: 'CLOSE_WAIT', make: () => closeWait(), sendsFin: true, after: 'LAST_ACK' },
  { state: 'FIN_WAIT1', make: () => finWait1(), sendsFin: false, after: 'FIN_WAIT1' },
  { state: 'CLOSING', make: () => closing(), sendsFin: false, after: 'CLOSING' },
  { state: 'LAST_ACK', make: () => lastAck(), sendsFin: false, after: 'LAST_ACK' },
];

for (const r of CLOSE_ORPHAN) {
  test(`${r.state}: close() ${r.sendsFin ? '-> FIN [F.] seq=SND.NXT' : 'sends nothing (the FIN is already out)'}; an orphan in ${r.after}, retransmission timer on; recv() EBADF`, () => {
    const e = r.make();
    e.sock.close();
    expectSegs(e.h, r.sendsFin ? [ours(e, 'F.')] : []);
    const t = row(e.h)!;
    assert.deepEqual([t.state, t.orphan, t.timer?.kind], [r.after, true, 'on']);
    assert.equal(outcome(() => e.sock.recv()), 'EBADF');
  });
}

/** CLOSING with n unread bytes received in FIN_WAIT1 before the peer's FIN. */
function closingWithData(n: number): Closing {
  return closing({
    before: (est) => {
      est.h.inject({ flags: ACK | PSH, seq: est.h.rSeq, ack: est.lSeq, window: 502, payload: bytes(n), options: est.h.ts(est.lastTs) });
      est.h.rSeq += n;
      est.h.take();
    },
  });
}

// Unread data: close() resets, [R.] seq=SND.NXT (after our FIN if sent) ack=RCV.NXT (the
// unread bytes, and their FIN, included), window and TS; TCPAbortOnClose (Q4). EstabResets
// counts it from ESTABLISHED and CLOSE_WAIT. The peer's next segment meets no socket.
const CLOSE_UNREAD: Array<{ state: string; make: () => Est; estabResets: number }> = [
  { state: 'ESTABLISHED', make: () => unread(establishedServer(), 7), estabResets: 1 },
  { state: 'CLOSE_WAIT', make: () => closeWaitWithData(6), estabResets: 1 },
  { state: 'FIN_WAIT1', make: () => unread(finWait1(), 4), estabResets: 0 },
  { state: 'FIN_WAIT2', make: () => unread(finWait2(), 2), estabResets: 0 },
  { state: 'CLOSING', make: () => closingWithData(3), estabResets: 0 },
];

for (const r of CLOSE_UNREAD) {
  test(`${r.state}: close() with unread data -> [R.] seq=SND.NXT ack=RCV.NXT, window, TS; TCPAbortOnClose, EstabResets ${r.estabResets}; no timewait entry`, () => {
    const e = r.make();
    e.sock.close();
    expectOne(e.h, ours(e, 'R.'));
    assert.equal(tableState(e.h), '');
    assert.deepEqual(counters(e, ['TcpExtTCPAbortOnClose', 'TcpOutRsts', 'TcpEstabResets', 'TcpCurrEstab']), [1, 1, r.estabResets, 0]);
    peer(e, ACK | PSH, { payload: bytes(3) });
    expectOne(e.h, { flags: 'R', seq: e.lSeq, ack: 0, win: 0, ts: null, options: [] });
  });
}

// SO_LINGER {1,0} + close(): an abort. tcp_need_reset (ESTABLISHED, CLOSE_WAIT, FIN_WAIT1,
// FIN_WAIT2, SYN_RECV) sends [R.] seq=SND.NXT ack=RCV.NXT with window and TS; otherwise
// tcp_disconnect sends nothing. TCPAbortOnData either way (Q4). The peer's next ACK meets no
// socket: [R] seq=SEG.ACK.
const LINGER_0: Array<{ state: string; make: () => Fixture; reset: boolean; estabResets: number }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), reset: true, estabResets: 1 },
  { state: 'CLOSE_WAIT', make: () => closeWait(), reset: true, estabResets: 1 },
  { state: 'FIN_WAIT1', make: () => finWait1(), reset: true, estabResets: 0 },
  { state: 'FIN_WAIT2', make: () => finWait2(), reset: true, estabResets: 0 },
  { state: 'CLOSING', make: () => closing(), reset: false, estabResets: 0 },
  { state: 'LAST_ACK', make: () => lastAck(), reset: false, estabResets: 0 },
  { state: 'SYN_SENT', make: () => synSent(), reset: false, estabResets: 0 },
];

for (const r of LINGER_0) {
  test(`${r.state}: SO_LINGER {1,0} + close() -> ${r.reset ? '[R.] seq=SND.NXT ack=RCV.NXT' : 'nothing sent'}, socket gone, no TIME_WAIT; TCPAbortOnData, no AttemptFails`, () => {
    const e = r.make();
    e.sock.setsockopt('SO_LINGER', { on: true, seconds: 0 });
    e.sock.close();
    expectSegs(e.h, r.reset ? [ours(e, 'R.')] : []);
    assert.equal(tableState(e.h), '');
    assert.deepEqual(
      counters(e, ['TcpExtTCPAbortOnData', 'TcpExtTCPAbortOnLinger', 'TcpOutRsts', 'TcpEstabResets', 'TcpAttemptFails']),
      [1, 0, r.reset ? 1 : 0, r.estabResets, 0],
    );
    peer(e, ACK);
    expectOne(e.h, { flags: 'R', seq: e.lSeq, ack: 0, win: 0, ts: null, options: [] });
  });
}

// SO_LINGER {1,N} + close(): "close" is reported when our FIN is acknowledged (FIN sent now
// if it was not out yet).
const LINGER_N: Array<{ state: string; make: () => Est; sendsFin: boolean; after: string }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), sendsFin: true, after: 'FIN_WAIT2' },
  { state: 'CLOSE_WAIT', make: () => closeWait(), sendsFin: true, after: '' },
  { state: 'FIN_WAIT1', make: () => finWait1(), sendsFin: false, after: 'FIN_WAIT2' },
  { state: 'CLOSING', make: () => closing(), sendsFin: false, after: 'TIME_WAIT' },
  { state: 'LAST_ACK', make: () => lastAck(), sendsFin: false, after: '' },
];

for (const r of LINGER_N) {
  test(`${r.state}: SO_LINGER {1,N} + close()${r.sendsFin ? ' -> FIN' : ''}: "close" once our FIN is acknowledged; then ${r.after || 'gone'}`, () => {
    const e = r.make();
    const ev = recordEvents(e.sock);
    e.sock.setsockopt('SO_LINGER', { on: true, seconds: 5 });
    e.sock.close();
    expectSegs(e.h, r.sendsFin ? [ours(e, 'F.')] : []);
    assert.deepEqual(ev, []);
    if (r.sendsFin) e.lSeq += 1;
    peer(e, ACK);
    assert.deepEqual(ev, ['close']);
    assert.equal(tableState(e.h), r.after);
  });
}

// SO_LINGER {1,2} + close() and a silent peer: with our FIN unacknowledged, "close" comes
// after the 2 s while the FIN keeps being retransmitted; with nothing to wait for
// (sk_stream_wait_close) close() returns at once: SYN_SENT reports "close" then, an orphaned
// FIN_WAIT2 never does.
const LINGER_N_SILENT: Array<{ state: string; make: () => Fixture; sendsFin: boolean; finPending: boolean; atClose: string[]; after: string }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), sendsFin: true, finPending: true, atClose: [], after: 'FIN_WAIT1' },
  { state: 'CLOSE_WAIT', make: () => closeWait(), sendsFin: true, finPending: true, atClose: [], after: 'LAST_ACK' },
  { state: 'FIN_WAIT1', make: () => finWait1(), sendsFin: false, finPending: true, atClose: [], after: 'FIN_WAIT1' },
  { state: 'CLOSING', make: () => closing(), sendsFin: false, finPending: true, atClose: [], after: 'CLOSING' },
  { state: 'LAST_ACK', make: () => lastAck(), sendsFin: false, finPending: true, atClose: [], after: 'LAST_ACK' },
  { state: 'FIN_WAIT2', make: () => finWait2(), sendsFin: false, finPending: false, atClose: [], after: 'FIN_WAIT2' },
  { state: 'SYN_SENT', make: () => synSent(), sendsFin: false, finPending: false, atClose: ['close'], after: '' },
];

for (const r of LINGER_N_SILENT) {
  test(`${r.state}: SO_LINGER {1,2} + close(), no answer: ${r.finPending ? '"close" after 2 s, the FIN retransmitted meanwhile' : `close() returns at once, ${r.atClose.length ? '"close" then' : 'no "close" at all'}, nothing sent`}`, () => {
    const e = r.make();
    const ev = recordEvents(e.sock);
    e.sock.setsockopt('SO_LINGER', { on: true, seconds: 2 });
    e.sock.close();
    expectSegs(e.h, r.sendsFin ? [ours(e, 'F.')] : []);
    assert.deepEqual(ev, r.atClose);
    e.h.advance(1_999_999);
    assert.deepEqual(ev, r.atClose);
    e.h.advance(1);
    assert.deepEqual(ev, r.finPending ? [...r.atClose, 'close'] : r.atClose);
    e.h.advance(8_000_000);
    const later = e.h.take().map((o) => o.flags);
    if (r.finPending) assert.ok(later.length && later.every((f) => f === 'F.'), later.join());
    else assert.deepEqual(later, []);
    assert.deepEqual([tableState(e.h), row(e.h)?.orphan], [r.after, r.after ? true : undefined]);
    assert.equal(e.h.counter('TcpAttemptFails'), 0);
  });
}

// ---- dup()

// close() of one of two descriptors sends nothing and leaves the socket owned. recv: what the
// other then reads after the peer sends 3 bytes (ignored once the peer's FIN is in).
const DUP_FIN_OUT: Array<{ state: string; make: () => Closing; timer: string | null; recv: string }> = [
  { state: 'FIN_WAIT1', make: () => finWait1(), timer: 'on', recv: '3 B' },
  { state: 'FIN_WAIT2', make: () => finWait2(), timer: null, recv: '3 B' },
  { state: 'CLOSING', make: () => closing(), timer: 'on', recv: 'EOF' },
  { state: 'LAST_ACK', make: () => lastAck(), timer: 'on', recv: 'EOF' },
];

for (const r of DUP_FIN_OUT) {
  test(`${r.state}: dup() + close() of one descriptor: nothing sent, still owned (timer ${r.timer}); the other reads ${r.recv}`, () => {
    const e = r.make();
    const other = e.sock.dup();
    e.sock.close();
    e.h.none();
    assert.deepEqual([row(e.h)!.orphan, row(e.h)!.timer?.kind ?? null, other.state], [false, r.timer, r.state]);
    peer(e, ACK | PSH, { ack: sndUna(e), payload: bytes(3) });
    e.h.take();
    assert.equal(outcome(() => other.recv()), r.recv);
  });
}

// Before our FIN: the other descriptor still sends, and its close() sends the FIN.
const DUP_OPEN: Array<{ state: string; make: () => Est; after: string }> = [
  { state: 'ESTABLISHED', make: () => establishedServer(), after: 'FIN_WAIT1' },
  { state: 'CLOSE_WAIT', make: () => closeWait(), after: 'LAST_ACK' },
];

for (const r of DUP_OPEN) {
  test(`${r.state}: dup() + close() of one descriptor sends nothing; the other still sends, and its close() sends the FIN (${r.after})`, () => {
    const e = r.make();
    const other = e.sock.dup();
    e.sock.close();
    e.h.none();
    assert.equal(tableState(e.h), r.state);
    assert.equal(other.send(bytes(3)), 3);
    expectOne(e.h, ours(e, 'P.', { len: 3 }));
    other.close();
    expectOne(e.h, { ...ours(e, 'F.', { seq: e.lSeq + 3 }), at: e.h.clock.now() });
    assert.equal(tableState(e.h), r.after);
  });
}
