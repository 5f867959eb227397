// Each call's success and errno paths, mostly on non-blocking sockets (results at once).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AF_INET, AF_INET6, IPPROTO_TCP, MSG_DONTWAIT, MSG_PEEK, SHUT_RD, SHUT_RDWR, SHUT_WR, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET,
  SO_ERROR, SO_LINGER, SO_REUSEADDR, SO_SNDBUF, F_GETFL, O_NONBLOCK, O_RDWR,
} from '../../src/bsd/constants.ts';
import { nullBuffer } from '../../src/bsd/types.ts';
import { world, tcp, listener, ok, errno, established, segs, bytes, CLIENT, SERVER, LAT, type World } from './setup.ts';

/** Runs the network for dUs of virtual time. */
const run = (w: World, dUs: number): Promise<boolean> => w.driver.runUntil(() => false, w.net.now + dUs);

test('bind: success, EADDRINUSE, EADDRNOTAVAIL, EINVAL (bound twice, bad address), EAFNOSUPPORT', () => {
  const w = world();
  const a = tcp(w.s);
  ok(w.s.bind(a, { addr: SERVER, port: 8080 }));
  assert.deepEqual(ok(w.s.getsockname(a)).addr, { family: AF_INET, addr: SERVER, port: 8080 });
  assert.equal(errno(w.s.bind(a, { addr: SERVER, port: 8081 })), 'EINVAL', 'already bound');
  const b = tcp(w.s);
  assert.equal(errno(w.s.bind(b, { addr: '0.0.0.0', port: 8080 })), 'EADDRINUSE');
  assert.equal(errno(w.s.bind(b, { addr: '10.9.9.9', port: 8080 })), 'EADDRNOTAVAIL');
  assert.equal(errno(w.s.bind(b, { addr: '10.0.0', port: 1 })), 'EINVAL');
  assert.equal(errno(w.s.bind(b, { addr: SERVER, port: 70000 })), 'EINVAL');
  assert.equal(errno(w.s.bind(b, { addr: '::', port: 1 })), 'EAFNOSUPPORT', 'an IPv6 sockaddr on an AF_INET socket');
  const v6 = ok(w.s.socket(AF_INET6, SOCK_STREAM, 0)).ret;
  assert.equal(errno(w.s.bind(v6, { addr: '0.0.0.0', port: 1 })), 'EINVAL', 'a sockaddr_in on an AF_INET6 socket is too short');
  // SO_REUSEADDR on both lets two sockets bind the same port (no listener yet); listen() then conflicts.
  const c = tcp(w.s);
  const d = tcp(w.s);
  for (const fd of [c, d]) ok(w.s.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, 1));
  ok(w.s.bind(c, { addr: '0.0.0.0', port: 9000 }));
  ok(w.s.bind(d, { addr: '0.0.0.0', port: 9000 }));
  ok(w.s.listen(c, 4));
  assert.equal(errno(w.s.listen(d, 4)), 'EADDRINUSE');
  // Port 0 picks a free port from ip_local_port_range (bind prefers odd ports).
  const e = tcp(w.s);
  ok(w.s.bind(e, { addr: '0.0.0.0', port: 0 }));
  const p = ok(w.s.getsockname(e)).addr.port;
  assert.ok(p >= 32768 && p <= 60999 && p % 2 === 1, `port ${p}`);
});

test('listen: autobind, EINVAL on a connected socket; accept: EINVAL, EAGAIN, the peer address; accept4 flags', async () => {
  const w = world();
  const l = tcp(w.s, true);
  ok(w.s.listen(l, 8));
  const port = ok(w.s.getsockname(l)).addr.port;
  assert.ok(port >= 32768, 'listen() on an unbound socket binds an ephemeral port');
  assert.equal(errno(w.s.begin.accept(l).result!), 'EAGAIN');
  assert.equal(errno(w.s.begin.accept4(l, 0x1).result!), 'EINVAL', 'unknown accept4 flag');
  const fresh = tcp(w.s, true);
  assert.equal(errno(w.s.begin.accept(fresh).result!), 'EINVAL', 'not listening');
  ok(w.s.listen(l, 2), 'listen() again adjusts the backlog');
  const cfd = tcp(w.c);
  ok(await w.c.connect(cfd, { addr: SERVER, port }));
  assert.equal(errno(w.c.listen(cfd, 1)), 'EINVAL', 'listen on a connected socket');
  await run(w, LAT); // the final ACK reaches the server
  const a = ok(w.s.begin.accept4(l, SOCK_NONBLOCK).result!);
  assert.deepEqual(a.addr, { family: AF_INET, addr: CLIENT, port: ok(w.c.getsockname(cfd)).addr.port });
  assert.equal(ok(w.s.fcntl(a.ret, F_GETFL)).ret, O_RDWR | O_NONBLOCK, 'accept4(SOCK_NONBLOCK)');
  assert.deepEqual(ok(w.s.getpeername(a.ret)).addr, a.addr);
  assert.deepEqual(ok(w.s.getsockname(a.ret)).addr, { family: AF_INET, addr: SERVER, port });
  assert.equal(errno(w.s.begin.accept(l).result!), 'EAGAIN', 'queue empty again');
  assert.equal(errno(w.s.getpeername(l)), 'ENOTCONN');
});

test('non-blocking connect: EINPROGRESS, EALREADY while in SYN_SENT, 0 once established, then EISCONN', async () => {
  const w = world();
  listener(w);
  const fd = tcp(w.c, true);
  assert.equal(errno(w.c.getpeername(fd)), 'ENOTCONN');
  assert.equal(errno(w.c.begin.connect(fd, { addr: SERVER, port: 80 }).result!), 'EINPROGRESS');
  assert.equal(errno(w.c.getpeername(fd)), 'ENOTCONN', 'SYN_SENT has no peer yet');
  assert.equal(errno(w.c.begin.connect(fd, { addr: SERVER, port: 80 }).result!), 'EALREADY');
  await run(w, 2 * LAT);
  assert.equal(w.c.begin.connect(fd, { addr: SERVER, port: 80 }).result!.ret, 0, 'the next connect() reports the success');
  assert.equal(errno(w.c.begin.connect(fd, { addr: SERVER, port: 80 }).result!), 'EISCONN');
  assert.deepEqual(ok(w.c.getpeername(fd)).addr, { family: AF_INET, addr: SERVER, port: 80 });
  // A listening socket is "connected" for connect(): EISCONN, as __inet_stream_connect says.
  const l2 = tcp(w.c, true);
  ok(w.c.listen(l2, 1));
  assert.equal(errno(w.c.begin.connect(l2, { addr: SERVER, port: 80 }).result!), 'EISCONN');
  assert.equal(errno(w.c.begin.connect(tcp(w.c, true), { addr: '::1', port: 80 }).result!), 'EAFNOSUPPORT');
  assert.equal(errno(w.c.begin.connect(tcp(w.c, true), { addr: SERVER, port: 0 }).result!), 'EINVAL');
});

test('non-blocking connect refused: the error through connect() (ECONNREFUSED) or SO_ERROR (then ECONNABORTED); the socket can connect again', async () => {
  const w = world();
  const a = tcp(w.c, true);
  const b = tcp(w.c, true);
  assert.equal(errno(w.c.begin.connect(a, { addr: SERVER, port: 80 }).result!), 'EINPROGRESS');
  assert.equal(errno(w.c.begin.connect(b, { addr: SERVER, port: 80 }).result!), 'EINPROGRESS');
  await run(w, 2 * LAT);
  assert.equal(errno(w.c.begin.connect(a, { addr: SERVER, port: 80 }).result!), 'ECONNREFUSED');
  assert.equal(ok(w.c.getsockopt(b, SOL_SOCKET, SO_ERROR)).value, 111, 'SO_ERROR = ECONNREFUSED');
  assert.equal(ok(w.c.getsockopt(b, SOL_SOCKET, SO_ERROR)).value, 0, 'SO_ERROR is cleared by reading it');
  assert.equal(errno(w.c.begin.connect(b, { addr: SERVER, port: 80 }).result!), 'ECONNABORTED', 'sock_error() found no error left');
  // Both sockets are unconnected again (tcp_disconnect): reads say ENOTCONN, and connect() starts over.
  assert.equal(errno(w.c.begin.read(a, 1).result!), 'ENOTCONN');
  listener(w);
  assert.equal(errno(w.c.begin.connect(a, { addr: SERVER, port: 80 }).result!), 'EINPROGRESS');
  await run(w, 2 * LAT);
  assert.equal(w.c.begin.connect(a, { addr: SERVER, port: 80 }).result!.ret, 0);
  assert.equal(w.c.socketOf(a)!.state, 'ESTABLISHED');
});

test('read/recv and write/send on non-blocking sockets: EAGAIN, partial writes, MSG_PEEK, MSG_DONTWAIT, EOF', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  ok(w.c.fcntl(cfd, 4 /* F_SETFL */, O_NONBLOCK));
  assert.equal(errno(w.c.begin.read(cfd, 10).result!), 'EAGAIN');
  assert.equal(errno(w.s.begin.recv(sfd, 10, MSG_DONTWAIT).result!), 'EAGAIN', 'MSG_DONTWAIT on a blocking socket');
  assert.equal(w.c.begin.read(cfd, 0).result!.ret, 0, 'read of 0 bytes returns 0');
  // A small send buffer: a write larger than it is partial, the next one EAGAIN.
  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, 4096)); // doubled: 8192 bytes
  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_LINGER, { l_onoff: 0, l_linger: 0 }));
  const data = bytes(20_000);
  const first = ok(w.c.begin.write(cfd, data).result!).ret;
  assert.equal(first, 8192, 'partial write: what fits in SO_SNDBUF');
  assert.equal(errno(w.c.begin.send(cfd, data.subarray(first), 0).result!), 'EAGAIN');
  assert.equal(w.c.begin.write(cfd, new Uint8Array(0)).result!.ret, 0, 'a write of 0 bytes returns 0');
  await run(w, 10 * LAT);
  // The peer has the bytes: peek does not consume them.
  const peek = ok(w.s.begin.recv(sfd, 100, MSG_PEEK).result!);
  assert.equal(peek.ret, 100);
  const got = ok(w.s.begin.read(sfd, 100_000).result!);
  assert.equal(got.ret, 8192);
  assert.deepEqual(got.data.subarray(0, 100), peek.data);
  assert.deepEqual(got.data, data.subarray(0, 8192));
  // The peer closes: EOF (0) after the data, every time.
  ok(await w.s.write(sfd, 'bye'));
  ok(await w.s.close(sfd));
  await run(w, 2 * LAT);
  assert.equal(new TextDecoder().decode(ok(w.c.begin.read(cfd, 100).result!).data), 'bye');
  assert.equal(w.c.begin.read(cfd, 100).result!.ret, 0);
  assert.equal(w.c.begin.read(cfd, 100).result!.ret, 0);
});

test('a NULL buffer (nullBuffer): EFAULT where data would be copied, the data stays; EAGAIN first; a recv of 0 bytes waits for data, a read of 0 does not', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  ok(w.s.fcntl(sfd, 4 /* F_SETFL */, O_NONBLOCK));
  assert.equal(errno(w.s.begin.read(sfd, nullBuffer(10)).result!), 'EAGAIN');
  assert.equal(errno(w.s.begin.recv(sfd, 0).result!), 'EAGAIN', 'recv of 0 bytes: tcp_recvmsg waits');
  assert.equal(w.s.begin.read(sfd, nullBuffer(0)).result!.ret, 0);
  ok(await w.c.write(cfd, 'hello'));
  await run(w, 2 * LAT);
  assert.equal(errno(w.s.begin.read(sfd, nullBuffer(10)).result!), 'EFAULT');
  assert.equal(errno(w.s.begin.recv(sfd, nullBuffer(10), MSG_PEEK).result!), 'EFAULT');
  assert.equal(ok(w.s.begin.recv(sfd, nullBuffer(0)).result!).ret, 0);
  assert.equal(new TextDecoder().decode(ok(w.s.begin.read(sfd, 10).result!).data), 'hello', 'the data stayed');
  assert.equal(errno(w.s.begin.write(sfd, nullBuffer(10)).result!), 'EFAULT');
  assert.equal(errno(w.s.begin.send(sfd, nullBuffer(10), 0).result!), 'EFAULT');
  assert.equal(ok(w.s.begin.write(sfd, nullBuffer(0)).result!).ret, 0);
  await run(w, 2 * LAT);
  assert.equal(errno(w.c.begin.recv(cfd, 10, MSG_DONTWAIT).result!), 'EAGAIN', 'nothing was sent');
  ok(w.s.shutdown(sfd, SHUT_WR));
  assert.equal(errno(w.s.begin.write(sfd, nullBuffer(10)).result!), 'EPIPE');
  const l = listener(w, 81, true);
  assert.equal(ok(w.s.begin.read(l, 0).result!).ret, 0, 'sock_read_iter: 0 bytes, 0 at once');
  assert.equal(errno(w.s.begin.recv(l, 0).result!), 'ENOTCONN');
});

test('ENOTCONN and EPIPE on sockets that are not connected; ENOTCONN on a listener', () => {
  const w = world();
  const fd = tcp(w.c, true);
  assert.equal(errno(w.c.begin.read(fd, 1).result!), 'ENOTCONN');
  assert.equal(errno(w.c.begin.write(fd, 'x').result!), 'EPIPE', 'tcp_sendmsg: EPIPE, not ENOTCONN');
  assert.equal(errno(w.c.begin.write(fd, '').result!), 'EPIPE');
  assert.equal(errno(w.c.shutdown(fd, SHUT_WR)), 'ENOTCONN');
  const l = listener(w, 80, true);
  assert.equal(errno(w.s.begin.read(l, 1).result!), 'ENOTCONN');
  assert.equal(errno(w.s.begin.write(l, 'x').result!), 'EPIPE');
  assert.equal(ok(w.s.shutdown(l, SHUT_WR)).ret, 0, 'SHUT_WR on a listener does nothing');
});

test('shutdown: SHUT_WR sends the FIN and later writes fail with EPIPE; the peer reads EOF; EINVAL for a bad how', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  assert.equal(errno(w.c.shutdown(cfd, 3)), 'EINVAL');
  const t0 = w.net.now;
  ok(w.c.shutdown(cfd, SHUT_WR));
  assert.equal(segs(w, 'client', 'out', t0)[0]?.flags, 'F.');
  assert.equal(errno(await w.c.write(cfd, 'x')), 'EPIPE');
  const r = await w.s.read(sfd, 10);
  assert.equal(ok(r).ret, 0);
  assert.equal(w.net.now, t0 + LAT, 'the peer read returns when the FIN arrives');
  // Half-close: the other direction still works.
  ok(await w.s.write(sfd, 'still'));
  assert.equal(new TextDecoder().decode(ok(await w.c.read(cfd, 10)).data), 'still');
  // SHUT_RD: reads return 0 at once.
  ok(w.s.shutdown(sfd, SHUT_RD));
  assert.equal(ok(await w.s.read(sfd, 10)).ret, 0);
});

test('shutdown in SYN_SENT abandons the attempt: 0, SO_ERROR ECONNRESET, then the socket is unconnected', async () => {
  const w = world();
  listener(w);
  const fd = tcp(w.c, true);
  assert.equal(errno(w.c.begin.connect(fd, { addr: SERVER, port: 80 }).result!), 'EINPROGRESS');
  assert.equal(ok(w.c.shutdown(fd, SHUT_RDWR)).ret, 0);
  assert.equal(ok(w.c.getsockopt(fd, SOL_SOCKET, SO_ERROR)).value, 104);
  assert.equal(errno(w.c.begin.read(fd, 1).result!), 'ENOTCONN');
  assert.equal(errno(w.c.begin.write(fd, 'x').result!), 'EPIPE');
  // A new connect() starts a new attempt.
  assert.equal(errno(w.c.begin.connect(fd, { addr: SERVER, port: 80 }).result!), 'EINPROGRESS');
  await run(w, 2 * LAT);
  assert.equal(w.c.begin.connect(fd, { addr: SERVER, port: 80 }).result!.ret, 0);
});

test('a reset connection: ECONNRESET once, then 0 from read and EPIPE from write', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  ok(w.s.setsockopt(sfd, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 0 }));
  ok(await w.s.close(sfd));
  await run(w, 2 * LAT);
  assert.equal(segs(w, 'client', 'in').at(-1)?.flags, 'R.');
  assert.equal(errno(await w.c.read(cfd, 10)), 'ECONNRESET');
  assert.equal(ok(await w.c.read(cfd, 10)).ret, 0);
  assert.equal(errno(await w.c.write(cfd, 'x')), 'EPIPE');
  assert.equal(errno(w.c.getpeername(cfd)), 'ENOTCONN');
  assert.equal(errno(w.c.shutdown(cfd, SHUT_RDWR)), 'ENOTCONN');
  assert.equal(errno(w.c.begin.connect(cfd, { addr: SERVER, port: 80 }).result!), 'EISCONN', 'still a connected socket for connect()');
});

test('the first write after a reset returns the error: ECONNRESET, then EPIPE', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  ok(w.s.setsockopt(sfd, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 0 }));
  ok(await w.s.close(sfd));
  await run(w, 2 * LAT);
  assert.equal(errno(await w.c.write(cfd, 'x')), 'ECONNRESET');
  assert.equal(errno(await w.c.write(cfd, 'x')), 'EPIPE');
});

test('AF_INET6 sockets: a dual-stack listener accepts IPv4 peers as v4-mapped addresses; v4-mapped connect', async () => {
  const w = world();
  const l = ok(w.s.socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)).ret;
  ok(w.s.bind(l, { addr: '::', port: 80 }));
  ok(w.s.listen(l, 8));
  assert.deepEqual(ok(w.s.getsockname(l)).addr, { family: AF_INET6, addr: '::', port: 80 });
  const c = ok(w.c.socket(AF_INET6, SOCK_STREAM, 0)).ret;
  const [cr, ar] = await Promise.all([w.c.connect(c, { addr: '::ffff:10.0.0.2', port: 80 }), w.s.accept(l)]);
  ok(cr);
  const a = ok(ar);
  const cport = ok(w.c.getsockname(c)).addr;
  assert.deepEqual(cport.family, AF_INET6);
  assert.equal(cport.addr, '::ffff:10.0.0.1');
  assert.deepEqual(a.addr, { family: AF_INET6, addr: '::ffff:10.0.0.1', port: cport.port });
  assert.deepEqual(ok(w.c.getpeername(c)).addr, { family: AF_INET6, addr: '::ffff:10.0.0.2', port: 80 });
  // And plain IPv6 between v6 hosts.
  const w6 = world({}, [['fd00::1'], ['fd00::2']]);
  const l6 = ok(w6.s.socket(AF_INET6, SOCK_STREAM, 0)).ret;
  ok(w6.s.bind(l6, { addr: '::', port: 443 }));
  ok(w6.s.listen(l6, 8));
  const c6 = ok(w6.c.socket(AF_INET6, SOCK_STREAM, 0)).ret;
  const [c6r, a6r] = await Promise.all([w6.c.connect(c6, { addr: 'fd00::2', port: 443 }), w6.s.accept(l6)]);
  ok(c6r);
  assert.equal(ok(a6r).addr.addr, 'fd00::1');
  assert.equal(errno(w6.c.bind(ok(w6.c.socket(AF_INET, SOCK_STREAM, 0)).ret, { addr: 'fd00::1', port: 1 })), 'EAFNOSUPPORT');
});

test('connect() from a socket bound to an explicit port; EADDRNOTAVAIL when that 4-tuple is taken', async () => {
  const w = world();
  listener(w);
  const a = tcp(w.c);
  ok(w.c.setsockopt(a, SOL_SOCKET, SO_REUSEADDR, 1));
  ok(w.c.bind(a, { addr: CLIENT, port: 5555 }));
  ok(await w.c.connect(a, { addr: SERVER, port: 80 }));
  assert.equal(ok(w.c.getsockname(a)).addr.port, 5555);
  const b = tcp(w.c);
  ok(w.c.setsockopt(b, SOL_SOCKET, SO_REUSEADDR, 1));
  ok(w.c.bind(b, { addr: CLIENT, port: 5555 }));
  assert.equal(errno(await w.c.connect(b, { addr: SERVER, port: 80 })), 'EADDRNOTAVAIL');
});

test('ephemeral ports run out: EADDRNOTAVAIL from connect()', async () => {
  const w = world({ client: { ip_local_port_range: [40000, 40001] } });
  listener(w);
  ok(await w.c.connect(tcp(w.c), { addr: SERVER, port: 80 }));
  ok(await w.c.connect(tcp(w.c), { addr: SERVER, port: 80 }));
  assert.equal(errno(await w.c.connect(tcp(w.c), { addr: SERVER, port: 80 })), 'EADDRNOTAVAIL');
});

test('sockets of one call layer do not leak into another: each host has its own table', () => {
  const w = world();
  assert.equal(tcp(w.c), 3);
  assert.equal(tcp(w.s), 3);
  assert.notEqual(w.c.socketOf(3), w.s.socketOf(3));
  assert.equal(w.c.socketOf(3)!.host, w.client);
  assert.equal(ok(w.c.socket(AF_INET, SOCK_STREAM, 0)).ret, 4);
});
