// CLOSED: segments that reach a host with no socket for them (RFC 9293 §3.10.7.1), and the
// application calls on a socket that is not (or no longer) connected.
//
// Linux answers from tcp_v4_rcv's no_tcp_socket path with tcp_v4_send_reset: no reply to a
// RST; if the segment has ACK, <SEQ=SEG.ACK><CTL=RST>; otherwise
// <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> where SYN and FIN count in SEG.LEN. The reply
// carries window 0 and no options, and counts OutRsts (TCP_MIB_OUTRSTS).
// Observed: test/fixtures/linux/ipv4-rst.pcap packet 8 (a SYN to a closed port on 6.18):
// `Flags [R.], seq 0, ack <SYN seq+1>, win 0, length 0`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACK, FIN, Harness, PSH, RST, SYN, bytes, errCode, establishedServer, expectOne, listening, peer, row,
} from '../helpers/harness.ts';
import { encodePacket, makeIpRepr } from '../../src/wire/packet.ts';
import type { TcpRepr } from '../../src/wire/types.ts';

function closedHost(): Harness {
  return new Harness();
}

test('CLOSED: SYN to a port with no socket gets <SEQ=0><ACK=SEQ+1><CTL=RST,ACK>, window 0, no options; OutRsts', () => {
  const h = closedHost();
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  expectOne(h, { flags: 'R.', seq: 0, ack: 1001, win: 0, ts: null, options: [], dstPort: h.remotePort });
  assert.equal(h.counter('TcpOutRsts'), 1);
  assert.equal(h.counter('TcpInSegs'), 1);
  assert.equal(h.counter('TcpInErrs'), 0, 'a valid segment to a closed port is not an input error');
  assert.deepEqual(h.host.sockets(), []);
});

test('CLOSED: SYN carrying 10 bytes: the reset acknowledges SYN and data (ack = seq + 1 + 10)', () => {
  const h = closedHost();
  h.inject({ flags: SYN, seq: 1000, payload: bytes(10) });
  expectOne(h, { flags: 'R.', seq: 0, ack: 1011, win: 0, ts: null, options: [] });
});

test('CLOSED: a bare ACK gets <SEQ=SEG.ACK><CTL=RST> (no ACK bit, ack field 0)', () => {
  const h = closedHost();
  h.inject({ flags: ACK, seq: 1000, ack: 5555 });
  expectOne(h, { flags: 'R', seq: 5555, ack: 0, win: 0, ts: null, options: [] });
  assert.equal(h.counter('TcpOutRsts'), 1);
});

test('CLOSED: ACK with data gets <SEQ=SEG.ACK><CTL=RST>, whatever the data length', () => {
  const h = closedHost();
  h.inject({ flags: ACK | PSH, seq: 1000, ack: 77, payload: bytes(100), options: h.ts(1) });
  expectOne(h, { flags: 'R', seq: 77, ack: 0, win: 0, ts: null, options: [] });
});

test('CLOSED: FIN|ACK gets <SEQ=SEG.ACK><CTL=RST>', () => {
  const h = closedHost();
  h.inject({ flags: FIN | ACK, seq: 1000, ack: 0xfffffffe });
  expectOne(h, { flags: 'R', seq: 0xfffffffe, ack: 0, win: 0, ts: null, options: [] });
});

test('CLOSED: a FIN without ACK counts in the acknowledgment (ack = seq + 1)', () => {
  const h = closedHost();
  h.inject({ flags: FIN, seq: 0xffffffff });
  // 0xffffffff + 1 wraps to 0.
  expectOne(h, { flags: 'R.', seq: 0, ack: 0, win: 0, ts: null, options: [] });
});

test('CLOSED: data without any flag gets <SEQ=0><ACK=SEQ+LEN><CTL=RST,ACK>', () => {
  const h = closedHost();
  h.inject({ flags: 0, seq: 4000, payload: bytes(7) });
  expectOne(h, { flags: 'R.', seq: 0, ack: 4007, win: 0, ts: null, options: [] });
});

test('CLOSED: SYN|FIN without ACK: both flags count in the acknowledgment', () => {
  const h = closedHost();
  h.inject({ flags: SYN | FIN, seq: 4000 });
  expectOne(h, { flags: 'R.', seq: 0, ack: 4002, win: 0, ts: null, options: [] });
});

test('CLOSED: a RST (with or without ACK) is never answered', () => {
  const h = closedHost();
  h.inject({ flags: RST, seq: 1000 });
  h.inject({ flags: RST | ACK, seq: 1000, ack: 99 });
  h.inject({ flags: RST | ACK | FIN, seq: 1000, ack: 99 });
  h.none();
  assert.equal(h.counter('TcpOutRsts'), 0);
  assert.equal(h.counter('TcpInSegs'), 3);
});

test('CLOSED: a port that is bound but not listening is closed for incoming segments', () => {
  const h = closedHost();
  const s = h.host.socket();
  s.bind('0.0.0.0', 80);
  h.inject({ flags: SYN, seq: 1000 });
  expectOne(h, { flags: 'R.', seq: 0, ack: 1001, win: 0, ts: null, options: [] });
});

test('CLOSED: a packet for an address that is not ours is dropped (InAddrErrors), no reset', () => {
  const h = closedHost();
  const seg: TcpRepr = { srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: SYN, window: 64240, urgent: 0, options: [], payload: new Uint8Array(0) };
  h.injectRaw(encodePacket(makeIpRepr(h.remote, '10.0.0.9'), seg));
  h.none();
  assert.equal(h.counter('IpInAddrErrors'), 1);
  assert.equal(h.counter('TcpInSegs'), 0);
  assert.equal(h.counter('TcpOutRsts'), 0);
});

test('CLOSED: after a listener is closed its port answers SYNs with RST|ACK', () => {
  const { h, listener } = listening();
  listener.close();
  assert.deepEqual(h.host.sockets(), []);
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  expectOne(h, { flags: 'R.', seq: 0, ack: 1001, win: 0, ts: null, options: [] });
});

test('CLOSED: a segment for a connection that no longer exists (aborted with SO_LINGER {1,0}) gets RST seq=SEG.ACK', () => {
  const e = establishedServer();
  const { h } = e;
  e.sock.setsockopt('SO_LINGER', { on: true, seconds: 0 });
  e.sock.close();
  h.take();
  assert.equal(row(h), undefined, 'no TIME_WAIT after an abortive close');
  peer(e, ACK | PSH, { payload: bytes(5) });
  expectOne(h, { flags: 'R', seq: e.lSeq, ack: 0, win: 0, ts: null, options: [] });
});

// ---- application calls on a socket that is not connected (Linux, observed on 6.18 in a
// private namespace with python3: send() EPIPE, recv() ENOTCONN, shutdown() ENOTCONN,
// SO_ERROR 0). tcp_sendmsg -> sk_stream_wait_connect returns EPIPE for any state other
// than SYN_SENT/SYN_RECV; tcp_recvmsg returns ENOTCONN for a never-connected socket;
// inet_shutdown returns ENOTCONN in TCP_CLOSE.

test('CLOSED socket (never connected): send EPIPE, recv ENOTCONN, shutdown ENOTCONN, SO_ERROR 0', () => {
  const h = closedHost();
  const s = h.host.socket();
  assert.equal(s.state, 'CLOSED');
  assert.equal(errCode(() => s.send(bytes(1))), 'EPIPE');
  assert.equal(errCode(() => s.recv()), 'ENOTCONN');
  assert.equal(errCode(() => s.shutdown('SHUT_RD')), 'ENOTCONN');
  assert.equal(errCode(() => s.shutdown('SHUT_WR')), 'ENOTCONN');
  assert.equal(s.getsockopt('SO_ERROR'), 0);
  h.none();
});

test('CLOSED socket: close() sends nothing and the descriptor is gone (EBADF afterwards)', () => {
  const h = closedHost();
  const s = h.host.socket();
  s.bind('0.0.0.0', 8080);
  s.close();
  h.none();
  assert.equal(errCode(() => s.close()), 'EBADF');
  assert.equal(errCode(() => s.send(bytes(1))), 'EBADF');
  // The port is free again.
  const s2 = h.host.socket();
  s2.bind('0.0.0.0', 8080);
});

test('CLOSED socket: setsockopt keepalive options are accepted and sent nowhere', () => {
  const h = closedHost();
  const s = h.host.socket();
  s.setsockopt('SO_KEEPALIVE', 1);
  s.setsockopt('TCP_KEEPIDLE', 10);
  s.setsockopt('TCP_KEEPINTVL', 5);
  s.setsockopt('TCP_KEEPCNT', 3);
  assert.equal(s.getsockopt('TCP_KEEPIDLE'), 10);
  assert.equal(errCode(() => s.setsockopt('TCP_KEEPIDLE', 0)), 'EINVAL');
  assert.equal(errCode(() => s.setsockopt('TCP_KEEPCNT', 128)), 'EINVAL');
  h.advance(3600_000_000);
  h.none();
});
