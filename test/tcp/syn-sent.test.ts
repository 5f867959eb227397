// SYN_SENT (RFC 9293 §3.10.7.3; Linux tcp_rcv_synsent_state_process, tcp_retransmit_timer,
// tcp_write_timeout). The fixture: connect() to 10.0.0.2:80 has sent its SYN at t = 1 s;
// the remote peer (h.rIsn = 1000000) has not answered.
//
// Observations cited as "observed" were made on Linux 6.18 in a private network namespace
// with python3 sockets and a scapy peer (see docs/linux-observations.md Q9, Q13, and the
// SYN_SENT notes at the end of this file's header comment):
//  - a SYN-ACK or RST|ACK whose ack is not ISS+1 is answered `[R] seq=SEG.ACK` (not for the
//    RST) and, before any retransmission, brings the SYN again ~10 ms later (TCP_TIMEOUT_MIN);
//  - a bare RST, a RST|ACK with a bad ack and a bare ACK are ignored (state stays SYN-SENT);
//  - RST|ACK with ack = ISS+1: recv() ECONNREFUSED, then b'', send() EPIPE; AttemptFails 1;
//  - close(), SO_LINGER {1,0} + close(), shutdown(SHUT_WR): nothing on the wire and no
//    AttemptFails (SO_LINGER counts TCPAbortOnData); shutdown returns 0, SO_ERROR 104;
//  - a crossing SYN: SYN-ACK seq=ISS, SYN-RECV; the peer's SYN-ACK then completes it with an
//    immediate ACK carrying a D-SACK of the SYN (DelayedACKLost, TCPDSACKOldSent).
//
// Cases this state shares with others are rows of the tables in shared-segments.test.ts,
// shared-timers.test.ts and shared-calls.test.ts (the tests are named after the state).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linuxSynOptions } from '../../src/wire/tcp.ts';
import {
  ACK, FIN, PSH, RST, SYN, bytes, errCode, expectOne, expectSeg, expectSegs, ourTs, recordEvents, row, synSent, tableState,
  type Connecting,
} from '../helpers/harness.ts';

const SYN_WIN = 64240; // tcp_select_initial_window: 44 x 1460 (observed, Q1)
const synOpts = (val: number) => linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val, ecr: 0 }, wscale: 7 });
/** The peer's SYN-ACK options (Linux's, wscale 7). */
const peerSynAck = (e: Connecting, over: { ecr?: number } = {}) =>
  linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: e.h.tsVal++, ecr: over.ecr ?? e.lastTs }, wscale: 7 });

function synAck(e: Connecting, over: { ack?: number; payload?: Uint8Array; flags?: number } = {}): void {
  e.h.inject({ flags: over.flags ?? (SYN | ACK), seq: e.h.rIsn, ack: over.ack ?? e.iss + 1, window: 65160, options: peerSynAck(e), payload: over.payload ?? new Uint8Array(0) });
}

test('SYN_SENT: connect() sends SYN seq=ISS win 64240 <mss 1460,sackOK,TS val ecr 0,nop,wscale 7>; ActiveOpens; ss shows SYN-SENT with a 1 s timer', () => {
  const e = synSent();
  expectSeg(e.syn, { flags: 'S', seq: e.iss, ack: 0, win: SYN_WIN, options: synOpts(e.lastTs), at: 1_000_000, dstPort: 80 });
  assert.equal(e.sock.state, 'SYN_SENT');
  assert.equal(e.h.counter('TcpActiveOpens'), 1);
  assert.equal(e.h.counter('TcpCurrEstab'), 0);
  const r = row(e.h)!;
  assert.equal(r.state, 'SYN_SENT');
  assert.deepEqual(r.timer, { kind: 'on', expiresMs: 1000, retrans: 0 });
  assert.ok(e.h.localPort >= 32768 && e.h.localPort <= 60999 && e.h.localPort % 2 === 0, 'an even port from ip_local_port_range');
});

test('SYN_SENT: acceptable SYN-ACK -> ESTABLISHED and an immediate ACK seq=ISS+1 ack=SEQ+1 win 502 with TS echo', () => {
  const e = synSent();
  const ev = recordEvents(e.sock);
  synAck(e);
  // Observed (Q1, capture ipv4-connection): the third ACK goes out at once; its window is
  // the SYN's 64240 rounded up to the scale unit: ALIGN(64240, 128) >> 7 = 502.
  expectOne(e.h, { flags: '.', seq: e.iss + 1, ack: e.h.rIsn + 1, win: 502, ts: { val: ourTs(e), ecr: e.h.peerTs }, at: 1_000_000 });
  assert.equal(e.sock.state, 'ESTABLISHED');
  assert.deepEqual(ev, ['connect', 'writable']);
  assert.equal(e.h.counter('TcpCurrEstab'), 1);
  assert.equal(e.h.counter('TcpActiveOpens'), 1);
  assert.equal(e.h.counter('TcpPassiveOpens'), 0);
  assert.equal(row(e.h)!.timer, null, 'the SYN timer is off');
});

test('SYN_SENT: SYN-ACK with only MSS -> ACK without options, window 64240 unscaled (no wscale, no TS)', () => {
  const e = synSent();
  e.h.inject({ flags: SYN | ACK, seq: e.h.rIsn, ack: e.iss + 1, window: 65535, options: [{ kind: 'mss', value: 536 }] });
  // Observed: ipv4-syn-options.pcap port 41007: `[.] ack ..., win 64240, length 0`.
  expectOne(e.h, { flags: '.', seq: e.iss + 1, ack: e.h.rIsn + 1, win: 64240, ts: null });
  assert.equal(row(e.h)!.mss, 536, 'the peer announced 536');
  assert.equal(row(e.h)!.wscale, undefined);
});

test('SYN_SENT: SYN-ACK carrying data: the data is not accepted (no Fast Open), the ACK covers only the SYN', () => {
  const e = synSent();
  synAck(e, { payload: bytes(100) });
  expectOne(e.h, { flags: '.', seq: e.iss + 1, ack: e.h.rIsn + 1, win: 502, ts: { ecr: e.h.peerTs } });
  assert.equal(e.sock.state, 'ESTABLISHED');
  assert.equal(e.sock.recv(), null);
});

for (const [name, ack] of [['ISS (acks nothing)', 0], ['ISS+2 (acks more than was sent)', 2]] as const) {
  test(`SYN_SENT: SYN-ACK with ack = ${name} -> <SEQ=SEG.ACK><CTL=RST>, still SYN_SENT, the SYN again 8 ms later`, () => {
    const e = synSent();
    synAck(e, { ack: e.iss + ack });
    expectOne(e.h, { flags: 'R', seq: e.iss + ack, ack: 0, win: 0, ts: null, options: [] });
    assert.equal(e.sock.state, 'SYN_SENT');
    assert.equal(e.h.counter('TcpOutRsts'), 1);
    // tcp_rcv_synsent_state_process re-arms the SYN timer to TCP_TIMEOUT_MIN (2 jiffies).
    e.h.advance(8_000);
    expectOne(e.h, { flags: 'S', seq: e.iss, ack: 0, win: SYN_WIN, options: synOpts(e.lastTs + 8), at: 1_008_000 });
    assert.equal(e.h.counter('TcpExtTCPSynRetrans'), 1);
    assert.equal(e.h.counter('TcpRetransSegs'), 1);
    assert.equal(e.h.counter('TcpExtTCPTimeouts'), 1);
    // Then the normal schedule resumes: the next SYN one (linear) second later.
    e.h.advance(999_000);
    e.h.none();
    e.h.advance(1_000);
    expectOne(e.h, { flags: 'S', seq: e.iss, ack: 0, win: SYN_WIN, options: synOpts(e.lastTs + 1008), at: 2_008_000 });
  });
}

test('SYN_SENT: a second bad SYN-ACK after a retransmission does not re-arm the timer', () => {
  const e = synSent();
  e.h.advance(1_000_000);
  expectOne(e.h, { flags: 'S', seq: e.iss, ack: 0, win: SYN_WIN, options: synOpts(e.lastTs + 1000) });
  synAck(e, { ack: e.iss + 7 });
  expectOne(e.h, { flags: 'R', seq: e.iss + 7, ack: 0, win: 0, ts: null, options: [] });
  e.h.advance(999_999);
  e.h.none();
  e.h.advance(1);
  assert.equal(e.h.one().flags, 'S');
});

test('SYN_SENT: RST|ACK with ack = ISS+1 -> CLOSED, connect fails ECONNREFUSED; then recv EOF, send EPIPE; AttemptFails', () => {
  const e = synSent();
  const ev = recordEvents(e.sock);
  e.h.inject({ flags: RST | ACK, seq: 0, ack: e.iss + 1, window: 0 });
  e.h.none();
  assert.equal(e.sock.state, 'CLOSED');
  assert.deepEqual(ev, ['error:ECONNREFUSED', 'close']);
  assert.equal(tableState(e.h), '');
  assert.equal(e.h.counter('TcpAttemptFails'), 1);
  assert.equal(e.h.counter('TcpEstabResets'), 0);
  // Observed: recv() ECONNREFUSED, recv() b'', send() EPIPE.
  assert.equal(errCode(() => e.sock.recv()), 'ECONNREFUSED');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  assert.equal(errCode(() => e.sock.send(bytes(1))), 'EPIPE');
});

test('SYN_SENT: a RST without ACK is ignored', () => {
  const e = synSent();
  e.h.inject({ flags: RST, seq: e.h.rIsn });
  e.h.none();
  assert.equal(e.sock.state, 'SYN_SENT');
  e.h.advance(1_000_000);
  assert.equal(e.h.one().flags, 'S', 'the SYN timer still runs on schedule');
});

test('SYN_SENT: RST|ACK with a bad ack is ignored (no reset to a reset) but re-arms the SYN timer', () => {
  const e = synSent();
  e.h.inject({ flags: RST | ACK, seq: 0, ack: e.iss + 5 });
  e.h.none();
  assert.equal(e.sock.state, 'SYN_SENT');
  assert.equal(e.h.counter('TcpOutRsts'), 0);
  // Observed: the SYN was retransmitted ~10 ms after such a RST|ACK.
  e.h.advance(8_000);
  expectOne(e.h, { flags: 'S', seq: e.iss, ack: 0, win: SYN_WIN, options: synOpts(e.lastTs + 8) });
});

test('SYN_SENT: a bare ACK of our SYN (no SYN bit) is dropped: no reset, still SYN_SENT', () => {
  const e = synSent();
  e.h.inject({ flags: ACK, seq: e.h.rIsn, ack: e.iss + 1 });
  e.h.none();
  assert.equal(e.sock.state, 'SYN_SENT');
});

test('SYN_SENT: a bare ACK with an unacceptable ack gets <SEQ=SEG.ACK><CTL=RST>', () => {
  const e = synSent();
  e.h.inject({ flags: ACK, seq: e.h.rIsn, ack: e.iss + 1000 });
  expectOne(e.h, { flags: 'R', seq: e.iss + 1000, ack: 0, win: 0, ts: null, options: [] });
  assert.equal(e.sock.state, 'SYN_SENT');
});

test('SYN_SENT: data or FIN without SYN and ACK is dropped', () => {
  const e = synSent();
  e.h.inject({ flags: PSH, seq: e.h.rIsn, payload: bytes(10) });
  e.h.inject({ flags: FIN, seq: e.h.rIsn });
  e.h.none();
  assert.equal(e.sock.state, 'SYN_SENT');
});

test('SYN_SENT: a crossing SYN (simultaneous open) -> SYN-ACK seq=ISS ack=SEQ+1 with the SYN options, SYN_RECV', () => {
  const e = synSent();
  e.h.inject({ flags: SYN, seq: e.h.rIsn, window: 64240, options: e.h.synOptions() });
  // Observed: `SA seq=ISS ack=SEQ+1 win=64240 [MSS, SAckOK, TS(val, ecr=peer), NOP, WScale]`.
  expectOne(e.h, { flags: 'S.', seq: e.iss, ack: e.h.rIsn + 1, win: SYN_WIN, options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: e.lastTs, ecr: e.h.peerTs }, wscale: 7 }) });
  assert.equal(e.sock.state, 'SYN_RECV');
});

test('SYN_SENT -> SYN_RECV -> ESTABLISHED: the peer\'s SYN-ACK completes a simultaneous open, ACKed at once with a D-SACK of the SYN', () => {
  const e = synSent();
  const ev = recordEvents(e.sock);
  e.h.inject({ flags: SYN, seq: e.h.rIsn, window: 64240, options: e.h.synOptions() });
  e.h.take();
  e.h.advance(100_000);
  e.h.inject({ flags: SYN | ACK, seq: e.h.rIsn, ack: e.iss + 1, window: 64240, options: e.h.synOptions() });
  // Observed: `A seq=ISS+1 ack=SEQ+1 win=63 [NOP,NOP,TS, NOP,NOP,SAck(SEQ, SEQ+1)]` at once.
  expectOne(e.h, { flags: '.', seq: e.iss + 1, ack: e.h.rIsn + 1, win: 502, ts: { val: ourTs(e), ecr: e.h.peerTs }, sack: [[e.h.rIsn, e.h.rIsn + 1]] });
  assert.equal(e.sock.state, 'ESTABLISHED');
  assert.equal(ev[0], 'connect');
  assert.ok(!ev.some((x) => x.startsWith('error')));
  assert.equal(e.h.counter('TcpActiveOpens'), 1);
  assert.equal(e.h.counter('TcpPassiveOpens'), 0, 'a simultaneous open is not a passive open');
  assert.equal(e.h.counter('TcpExtDelayedACKLost'), 1);
  assert.equal(e.h.counter('TcpExtTCPDSACKOldSent'), 1);
  assert.equal(e.h.counter('TcpCurrEstab'), 1);
});

// ---- timers: SYN retransmission (observed, docs/linux-observations.md Q13)

test('SYN_SENT timer: tcp_syn_retries 6 + tcp_syn_linear_timeouts 4: SYNs at 1,2,3,4,5,7,11,19,35,67 s, ETIMEDOUT at 131 s, no RST', () => {
  const e = synSent();
  const ev = recordEvents(e.sock);
  e.h.advance(131_000_000 - 1);
  const q = e.h.take();
  const t0 = 1_000_000;
  assert.deepEqual(q.map((o) => (o.t - t0) / 1e6), [1, 2, 3, 4, 5, 7, 11, 19, 35, 67]);
  for (const o of q) expectSeg(o, { flags: 'S', seq: e.iss, ack: 0, win: SYN_WIN, options: synOpts(e.lastTs + (o.t - t0) / 1000) });
  assert.equal(e.sock.state, 'SYN_SENT');
  assert.deepEqual(row(e.h)!.timer, { kind: 'on', expiresMs: 0.001, retrans: 10 });
  e.h.advance(1);
  e.h.none();
  assert.equal(e.sock.state, 'CLOSED');
  assert.deepEqual(ev, ['error:ETIMEDOUT', 'close']);
  // Observed counters (6/4): ActiveOpens 1, AttemptFails 1, RetransSegs 10, TCPSynRetrans 10,
  // TCPTimeouts 11, TCPAbortOnTimeout 1.
  assert.deepEqual(['TcpActiveOpens', 'TcpAttemptFails', 'TcpRetransSegs', 'TcpExtTCPSynRetrans', 'TcpExtTCPTimeouts', 'TcpExtTCPAbortOnTimeout', 'TcpOutRsts']
    .map((n) => e.h.counter(n)), [1, 1, 10, 10, 11, 1, 0]);
  assert.equal(errCode(() => e.sock.recv()), 'ETIMEDOUT');
  assert.deepEqual(e.sock.recv(), new Uint8Array(0));
  assert.equal(errCode(() => e.sock.send(bytes(1))), 'EPIPE');
});

test('SYN_SENT timer: tcp_syn_retries 3: SYNs at 1,2,3,4,5,7,11 s, ETIMEDOUT at 19 s (observed 19.5 s)', () => {
  const e = synSent({ tcp_syn_retries: 3 });
  e.h.advance(19_000_000 - 1);
  assert.deepEqual(e.h.take().map((o) => (o.t - 1_000_000) / 1e6), [1, 2, 3, 4, 5, 7, 11]);
  assert.equal(e.sock.state, 'SYN_SENT');
  e.h.advance(1);
  assert.equal(e.sock.state, 'CLOSED');
  assert.equal(errCode(() => e.sock.recv()), 'ETIMEDOUT');
});

test('SYN_SENT timer: tcp_syn_linear_timeouts 0, tcp_syn_retries 3: classic 1, 3, 7 s, ETIMEDOUT at 15 s (observed 15.35 s)', () => {
  const e = synSent({ tcp_syn_retries: 3, tcp_syn_linear_timeouts: 0 });
  e.h.advance(15_000_000 - 1);
  assert.deepEqual(e.h.take().map((o) => (o.t - 1_000_000) / 1e6), [1, 3, 7]);
  e.h.advance(1);
  assert.equal(e.sock.state, 'CLOSED');
  assert.equal(e.h.counter('TcpExtTCPTimeouts'), 4);
});

test('SYN_SENT timer: a SYN-ACK after retransmissions still completes the handshake; the timer stops', () => {
  const e = synSent();
  e.h.advance(2_500_000);
  assert.equal(e.h.take().length, 2);
  synAck(e);
  expectOne(e.h, { flags: '.', seq: e.iss + 1, ack: e.h.rIsn + 1, win: 502, ts: { val: ourTs(e), ecr: e.h.peerTs } });
  assert.equal(e.sock.state, 'ESTABLISHED');
  e.h.advance(200_000_000);
  e.h.none();
});

test('SYN_SENT timer: no keepalive probes before the connection is established; the idle time counts from ESTABLISHED', () => {
  const e = synSent();
  e.sock.setsockopt('SO_KEEPALIVE', 1);
  e.sock.setsockopt('TCP_KEEPIDLE', 1);
  e.sock.setsockopt('TCP_KEEPINTVL', 1);
  e.h.advance(500_000);
  e.h.none();
  synAck(e);
  e.h.take();
  e.h.advance(999_999);
  e.h.none();
  e.h.advance(1);
  // tcp_finish_connect arms keepalive for KEEPIDLE from now: probe seq = SND.UNA - 1.
  expectOne(e.h, { flags: '.', seq: e.iss, ack: e.h.rIsn + 1, win: 502, ts: { val: ourTs(e), ecr: e.h.peerTs }, at: 2_500_000 });
});

// ---- application calls

test('SYN_SENT: send() and recv() would block (EAGAIN: 0 and null); a second connect() is EALREADY', () => {
  const e = synSent();
  assert.equal(e.sock.send(bytes(10)), 0);
  assert.equal(e.sock.recv(), null);
  assert.equal(errCode(() => e.sock.connect(e.h.remote, 80)), 'EALREADY');
  e.h.none();
});

test('SYN_SENT: close() sends nothing, no AttemptFails; the peer\'s late SYN-ACK meets no socket: <SEQ=SEG.ACK><CTL=RST>', () => {
  const e = synSent();
  e.sock.close();
  e.h.none();
  assert.equal(tableState(e.h), '');
  assert.equal(e.h.counter('TcpAttemptFails'), 0);
  synAck(e);
  expectOne(e.h, { flags: 'R', seq: e.iss + 1, ack: 0, win: 0, ts: null, options: [] });
});

test('SYN_SENT: shutdown(SHUT_WR) abandons the attempt: returns normally, SO_ERROR ECONNRESET, nothing sent', () => {
  const e = synSent();
  e.sock.shutdown('SHUT_WR');
  e.h.none();
  assert.equal(tableState(e.h), '');
  assert.equal(e.sock.state, 'CLOSED');
  assert.equal(e.h.counter('TcpAttemptFails'), 0);
  assert.equal(e.sock.getsockopt('SO_ERROR'), 104);
  // Observed: after the error is taken, recv() ENOTCONN and send() EPIPE (tcp_disconnect
  // left a fresh, unconnected socket).
  assert.equal(errCode(() => e.sock.recv()), 'ENOTCONN');
  assert.equal(errCode(() => e.sock.send(bytes(1))), 'EPIPE');
  e.h.advance(10_000_000);
  e.h.none();
});

test('SYN_SENT: shutdown(SHUT_RD) also abandons the attempt; recv() reports ECONNRESET once', () => {
  const e = synSent();
  e.sock.shutdown('SHUT_RD');
  e.h.none();
  assert.equal(e.sock.state, 'CLOSED');
  assert.equal(errCode(() => e.sock.recv()), 'ECONNRESET');
  assert.equal(errCode(() => e.sock.recv()), 'ENOTCONN');
});

test('SYN_SENT: dup() + close() of one descriptor changes nothing; the SYN keeps being retransmitted', () => {
  const e = synSent();
  const d = e.sock.dup();
  e.sock.close();
  e.h.none();
  assert.equal(tableState(e.h), 'SYN_SENT');
  e.h.advance(1_000_000);
  assert.equal(e.h.one().flags, 'S');
  d.close();
  assert.equal(tableState(e.h), '');
});

test('SYN_SENT: setsockopt TCP_KEEPCNT/TCP_KEEPINTVL/TCP_USER_TIMEOUT are accepted and change nothing on the wire', () => {
  const e = synSent();
  e.sock.setsockopt('TCP_KEEPCNT', 2);
  e.sock.setsockopt('TCP_KEEPINTVL', 2);
  e.sock.setsockopt('TCP_USER_TIMEOUT', 0);
  e.h.none();
  e.h.advance(1_000_000);
  expectSegs(e.h, [{ flags: 'S', seq: e.iss, ack: 0, win: SYN_WIN, options: synOpts(e.lastTs + 1000) }]);
});
