// LISTEN (RFC 9293 §3.10.7.2; Linux tcp_v4_rcv -> tcp_rcv_state_process case TCP_LISTEN and
// tcp_conn_request). The fixture: a host listening on 0.0.0.0:80 with backlog 16.
//
// Linux, in order: a segment with ACK is answered by a reset <SEQ=SEG.ACK><CTL=RST> (unless
// it is itself a RST); a RST is dropped; a SYN that also carries FIN is dropped; a SYN makes a
// request (SYN_RECV) answered by a SYN-ACK; anything else is dropped.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retransToSecs, secsToRetrans } from '../../src/tcp/listen.ts';
import { linuxSynOptions } from '../../src/wire/tcp.ts';
import {
  ACK, FIN, PSH, RST, SYN, bytes, errCode, expectOne, expectSeg, listening, recordEvents, row, tableState, tsOf,
} from '../helpers/harness.ts';

/** Our SYN-ACK's options when the SYN offered everything (tcp_options_write order). */
const synAckOptions = (val: number, ecr: number) => linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val, ecr }, wscale: 7 });

test('LISTEN: the socket table shows the listener (Recv-Q = accept queue, Send-Q = backlog)', () => {
  const { h, listener } = listening();
  assert.equal(listener.state, 'LISTEN');
  assert.deepEqual(h.host.sockets().map((r) => [r.state, r.stateNum, r.local, r.remote, r.recvQ, r.sendQ]), [['LISTEN', 10, '0.0.0.0:80', '0.0.0.0:*', 0, 16]]);
  h.none();
});

test('LISTEN: SYN with Linux options -> SYN-ACK seq=ISS ack=SEQ+1 win 65160, mss 1460,sackOK,TS,nop,wscale 7; request in SYN_RECV', () => {
  const { h, listener } = listening();
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions(), window: 64240 });
  const sa = h.one();
  // Observed (docs/linux-observations.md Q1, test/fixtures/linux/ipv4-connection.pcap): the
  // SYN-ACK window is 65160 = 45 x 1448 (the MSS less the timestamp option), unscaled.
  expectSeg(sa, { flags: 'S.', seq: sa.tcp.seq, ack: 1001, win: 65160, options: synAckOptions(tsOf(sa)!.val, h.peerTs) });
  assert.equal(tableState(h), 'SYN_RECV');
  assert.equal(listener.state, 'LISTEN');
  assert.equal(listener.accept(), null, 'nothing to accept before the handshake completes');
  assert.equal(h.counter('TcpPassiveOpens'), 0, 'PassiveOpens counts when the child is created (final ACK)');
  assert.equal(h.counter('TcpCurrEstab'), 0);
});

test('LISTEN: SYN without options -> SYN-ACK with only mss 1460 and window 64240 (no TS, SACK or window scale)', () => {
  const { h } = listening();
  h.inject({ flags: SYN, seq: 1000, window: 8192 });
  // Observed: ipv4-syn-options.pcap (all three sysctls off on the client): `win 64240, options [mss 1460]`.
  const sa = h.one();
  expectSeg(sa, { flags: 'S.', seq: sa.tcp.seq, ack: 1001, win: 64240, options: [{ kind: 'mss', value: 1460 }] });
});

test('LISTEN: SYN with MSS and TS only -> SYN-ACK mss,nop,nop,TS (no sackOK, no wscale), window 65160', () => {
  const { h } = listening();
  h.inject({ flags: SYN, seq: 1000, options: linuxSynOptions({ mss: 1460, sackPermitted: false, timestamp: { val: 77, ecr: 0 } }) });
  const sa = h.one();
  // Observed: ipv4-syn-options.pcap port 41005, and Q3 (a SYN with only TS into TIME_WAIT):
  // `win 65160, options [mss 1460,nop,nop,TS val .. ecr ..]`.
  expectSeg(sa, { flags: 'S.', seq: sa.tcp.seq, ack: 1001, win: 65160, options: linuxSynOptions({ mss: 1460, sackPermitted: false, timestamp: { val: tsOf(sa)!.val, ecr: 77 } }) });
});

test('LISTEN: SYN with MSS, sackOK and wscale but no TS -> SYN-ACK mss,nop,nop,sackOK,nop,wscale 7, window 64240', () => {
  const { h } = listening();
  h.inject({ flags: SYN, seq: 1000, options: linuxSynOptions({ mss: 1460, sackPermitted: true, wscale: 7 }) });
  const sa = h.one();
  // Observed: ipv4-syn-options.pcap port 41002: `win 64240, options [mss 1460,nop,nop,sackOK,nop,wscale 10]`.
  expectSeg(sa, { flags: 'S.', seq: sa.tcp.seq, ack: 1001, win: 64240, options: linuxSynOptions({ mss: 1460, sackPermitted: true, wscale: 7 }) });
});

test('LISTEN: SYN carrying data -> the SYN-ACK acknowledges only the SYN (no Fast Open: the data is dropped)', () => {
  const { h } = listening();
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions(), payload: bytes(20) });
  const sa = h.one();
  expectSeg(sa, { flags: 'S.', seq: sa.tcp.seq, ack: 1001, win: 65160, options: synAckOptions(tsOf(sa)!.val, h.peerTs) });
});

test('LISTEN: two SYNs from different ports make two independent requests', () => {
  const { h } = listening();
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  h.remotePort = 40001;
  h.inject({ flags: SYN, seq: 5000, options: h.synOptions() });
  const q = h.take();
  assert.deepEqual(q.map((o) => [o.flags, o.tcp.dstPort, o.tcp.ack]), [['S.', 40000, 1001], ['S.', 40001, 5001]]);
  assert.notEqual(q[0]!.tcp.seq, q[1]!.tcp.seq, 'ISNs differ per 4-tuple (RFC 6528)');
  assert.deepEqual(h.host.sockets().map((r) => r.state).sort(), ['LISTEN', 'SYN_RECV', 'SYN_RECV']);
});

test('LISTEN: a bare ACK is answered by <SEQ=SEG.ACK><CTL=RST> and creates nothing', () => {
  const { h } = listening();
  h.inject({ flags: ACK, seq: 1000, ack: 123456 });
  expectOne(h, { flags: 'R', seq: 123456, ack: 0, win: 0, ts: null, options: [] });
  assert.deepEqual(h.host.sockets().map((r) => r.state), ['LISTEN']);
  assert.equal(h.counter('TcpOutRsts'), 1);
});

test('LISTEN: SYN-ACK is answered by <SEQ=SEG.ACK><CTL=RST> (the ACK check comes first)', () => {
  const { h } = listening();
  h.inject({ flags: SYN | ACK, seq: 1000, ack: 5555, options: h.synOptions() });
  expectOne(h, { flags: 'R', seq: 5555, ack: 0, win: 0, ts: null, options: [] });
  assert.deepEqual(h.host.sockets().map((r) => r.state), ['LISTEN']);
});

test('LISTEN: data with ACK and FIN|ACK are answered by <SEQ=SEG.ACK><CTL=RST>', () => {
  const { h } = listening();
  h.inject({ flags: ACK | PSH, seq: 1000, ack: 42, payload: bytes(10) });
  expectOne(h, { flags: 'R', seq: 42, ack: 0, win: 0, ts: null, options: [] });
  h.inject({ flags: FIN | ACK, seq: 1000, ack: 43 });
  expectOne(h, { flags: 'R', seq: 43, ack: 0, win: 0, ts: null, options: [] });
});

test('LISTEN: RST, RST|ACK and SYN|RST are dropped silently', () => {
  const { h } = listening();
  h.inject({ flags: RST, seq: 1000 });
  h.inject({ flags: RST | ACK, seq: 1000, ack: 1 });
  h.inject({ flags: SYN | RST, seq: 1000 });
  h.none();
  assert.deepEqual(h.host.sockets().map((r) => r.state), ['LISTEN']);
  assert.equal(h.counter('TcpOutRsts'), 0);
});

test('LISTEN: SYN|FIN is dropped silently (tcp_rcv_state_process discards it)', () => {
  const { h } = listening();
  h.inject({ flags: SYN | FIN, seq: 1000, options: h.synOptions() });
  h.none();
  assert.deepEqual(h.host.sockets().map((r) => r.state), ['LISTEN']);
});

test('LISTEN: a segment with neither SYN, ACK nor RST (bare FIN, bare data) is dropped silently', () => {
  const { h } = listening();
  h.inject({ flags: FIN, seq: 1000 });
  h.inject({ flags: PSH, seq: 1000, payload: bytes(5) });
  h.none();
  assert.deepEqual(h.host.sockets().map((r) => r.state), ['LISTEN']);
});

test('LISTEN: accept queue full (listen(1) holds 2): a new SYN is dropped silently, ListenOverflows and ListenDrops', () => {
  const { h, listener } = listening();
  listener.listen(1);
  // Two completed connections fill the queue (sk_acceptq_is_full: length > backlog).
  for (const port of [40000, 40001]) {
    h.remotePort = port;
    h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
    const sa = h.one();
    h.inject({ flags: ACK, seq: 1001, ack: sa.tcp.seq + 1, window: 502, options: h.ts(tsOf(sa)!.val) });
    h.none();
  }
  assert.equal(h.host.sockets().find((r) => r.state === 'LISTEN')!.recvQ, 2);
  h.remotePort = 40002;
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  // Observed (Q12 a): no SYN-ACK, no RST; one ListenOverflows and one ListenDrops per SYN.
  h.none();
  assert.equal(h.counter('TcpExtListenOverflows'), 1);
  assert.equal(h.counter('TcpExtListenDrops'), 1);
  assert.equal(tableState(h), '');
  // After one accept() the next SYN is answered.
  assert.ok(listener.accept());
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  assert.equal(h.one().flags, 'S.');
});

test('LISTEN: the final ACK completes the connection: accept() returns it in ESTABLISHED, PassiveOpens, CurrEstab', () => {
  const { h, listener } = listening();
  const ev: string[] = [];
  listener.on('connection', () => ev.push('connection'));
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  const sa = h.one();
  h.inject({ flags: ACK, seq: 1001, ack: sa.tcp.seq + 1, window: 502, options: h.ts(tsOf(sa)!.val) });
  h.none();
  assert.deepEqual(ev, ['connection']);
  assert.equal(h.counter('TcpPassiveOpens'), 1);
  assert.equal(h.counter('TcpCurrEstab'), 1);
  const s = listener.accept();
  assert.ok(s);
  assert.equal(s.state, 'ESTABLISHED');
  assert.equal(listener.accept(), null);
});

// ---- application calls on a listener (observed on 6.18 with python3 in a private netns:
// send() EPIPE, recv() ENOTCONN, shutdown(SHUT_WR) returns 0 and changes nothing).

test('LISTEN: send() EPIPE, recv() ENOTCONN, accept() with nothing queued returns null (EAGAIN)', () => {
  const { h, listener } = listening();
  assert.equal(errCode(() => listener.send(bytes(1))), 'EPIPE');
  assert.equal(errCode(() => listener.recv()), 'ENOTCONN');
  assert.equal(listener.accept(), null);
  h.none();
});

test('LISTEN: shutdown(SHUT_WR) changes nothing; SYNs are still answered', () => {
  const { h, listener } = listening();
  listener.shutdown('SHUT_WR');
  assert.equal(listener.state, 'LISTEN');
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  assert.equal(h.one().flags, 'S.');
});

test('LISTEN: shutdown(SHUT_RD) stops listening (inet_shutdown -> tcp_disconnect): SYNs now get RST|ACK', () => {
  const { h, listener } = listening();
  listener.shutdown('SHUT_RD');
  assert.deepEqual(h.host.sockets(), []);
  h.inject({ flags: SYN, seq: 1000 });
  expectOne(h, { flags: 'R.', seq: 0, ack: 1001, win: 0, ts: null, options: [] });
});

test('LISTEN: close() resets a completed child not yet accepted: [R.] seq=ISS+1 ack=RCV.NXT (unread data included), window and TS', () => {
  const { h, listener } = listening();
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  const sa = h.one();
  const iss = sa.tcp.seq;
  h.inject({ flags: ACK | PSH, seq: 1001, ack: iss + 1, window: 502, options: h.ts(tsOf(sa)!.val), payload: bytes(5) });
  const ack5 = h.one(); // the ACK of the 5 bytes (quick ACK), window 510
  assert.equal(ack5.tcp.window, 510);
  listener.close();
  // Observed (Q8): `[R.] seq=ISN+1, ack=rcv_nxt including the 5 unread bytes, win 64, TS`;
  // counters EstabResets and OutRsts only, no TCPAbortOn* counter.
  expectOne(h, { flags: 'R.', seq: iss + 1, ack: 1006, win: 510, ts: { ecr: h.peerTs } });
  assert.equal(h.counter('TcpEstabResets'), 1);
  assert.equal(h.counter('TcpOutRsts'), 1);
  assert.equal(h.counter('TcpExtTCPAbortOnClose'), 0);
  assert.equal(h.counter('TcpExtTCPAbortOnData'), 0);
  assert.equal(h.counter('TcpCurrEstab'), 0);
  assert.deepEqual(h.host.sockets(), []);
});

test('LISTEN: close() sends nothing for a request still in SYN_RECV; its late ACK gets a no-socket reset', () => {
  const { h, listener } = listening();
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  const sa = h.one();
  listener.close();
  h.none();
  // Observed (Q8): the request stays listed until its SYN-ACK timer fires, then vanishes
  // without a retransmission; a late ACK is answered `[R] seq=SEG.ACK`.
  h.advance(1_500_000);
  h.none();
  assert.deepEqual(h.host.sockets(), []);
  h.inject({ flags: ACK, seq: 1001, ack: sa.tcp.seq + 1, options: h.ts(tsOf(sa)!.val) });
  expectOne(h, { flags: 'R', seq: sa.tcp.seq + 1, ack: 0, win: 0, ts: null, options: [] });
});

test('LISTEN: close() with a dup()ed descriptor still open keeps listening; the last close() stops it', () => {
  const { h, listener } = listening();
  const other = listener.dup();
  listener.close();
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  assert.equal(h.one().flags, 'S.');
  other.close();
  assert.equal(h.host.sockets().filter((r) => r.state === 'LISTEN').length, 0);
});

test('LISTEN: keepalive options on a listener arm nothing: an hour passes in silence', () => {
  const { h, listener } = listening();
  const ev = recordEvents(listener);
  listener.setsockopt('SO_KEEPALIVE', 1);
  listener.setsockopt('TCP_KEEPIDLE', 1);
  listener.setsockopt('TCP_KEEPINTVL', 1);
  listener.setsockopt('TCP_KEEPCNT', 1);
  h.advance(3600_000_000);
  h.none();
  assert.deepEqual(ev, []);
  assert.equal(row(h), undefined);
});

test('LISTEN: children inherit the listener\'s socket options (SO_KEEPALIVE, TCP_KEEPIDLE)', () => {
  const { h, listener } = listening();
  listener.setsockopt('SO_KEEPALIVE', 1);
  listener.setsockopt('TCP_KEEPIDLE', 30);
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  const sa = h.one();
  h.inject({ flags: ACK, seq: 1001, ack: sa.tcp.seq + 1, window: 502, options: h.ts(tsOf(sa)!.val) });
  const s = listener.accept()!;
  assert.equal(s.getsockopt('SO_KEEPALIVE'), true);
  assert.equal(s.getsockopt('TCP_KEEPIDLE'), 30);
  h.advance(30_000_000);
  expectOne(h, { flags: '.', seq: sa.tcp.seq, ack: 1001, win: 510, ts: { ecr: h.peerTs } }, 'keepalive probe');
});

test('TCP_DEFER_ACCEPT: seconds become SYN-ACK timeouts and read back rounded up (secs_to_retrans, retrans_to_secs; observed on 6.18)', () => {
  const max = 120_000_000;
  const observed: Array<[number, number]> = [[0, 0], [1, 1], [2, 3], [3, 3], [4, 7], [7, 7], [8, 15], [10, 15], [16, 31], [100, 127], [200, 247], [1000, 1087], [-1, 0]];
  for (const [set, read] of observed) assert.equal(retransToSecs(secsToRetrans(set, max), max), read, `set ${set}`);
  assert.equal(secsToRetrans(3, max), 2);
  assert.equal(secsToRetrans(1e9, max), 255, 'at most 255 timeouts (u8)');
});
