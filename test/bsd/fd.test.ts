// The descriptor table: numbering, reuse, dup/dup2/F_DUPFD with shared sockets, fcntl flags,
// EBADF, ENOTSOCK, EMFILE, and socket()'s errors.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Syscalls } from '../../src/bsd/syscalls.ts';
import {
  AF_INET, AF_INET6, FD_CLOEXEC, F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD, F_GETFL, F_SETFD, F_SETFL, IPPROTO_TCP, IPPROTO_UDP,
  O_NONBLOCK, O_RDWR, POLLIN, POLLNVAL, SOCK_CLOEXEC, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_ERROR, FIONBIO,
  BSD_ERRNO,
} from '../../src/bsd/constants.ts';
import { world, tcp, ok, errno, established, segs, SERVER } from './setup.ts';

test('socket() takes the lowest free descriptor from 3 on; closed numbers are reused lowest first', async () => {
  const w = world();
  const fds = [tcp(w.c), tcp(w.c), tcp(w.c), tcp(w.c)];
  assert.deepEqual(fds, [3, 4, 5, 6]);
  ok(await w.c.close(5));
  ok(await w.c.close(4));
  assert.equal(tcp(w.c), 4);
  assert.equal(tcp(w.c), 5);
  assert.equal(tcp(w.c), 7);
  // Closing stdin frees 0, which the next socket takes, as on Linux.
  ok(await w.c.close(0));
  assert.equal(tcp(w.c), 0);
  assert.deepEqual(w.c.openFds(), [0, 1, 2, 3, 4, 5, 6, 7]);
  // Without the stdio stand-ins the table starts at 0.
  const bare = new Syscalls(w.client, { stdio: false });
  assert.equal(ok(bare.socket(AF_INET, SOCK_STREAM, 0)).ret, 0);
});

test('EBADF on a descriptor that is not open, for every call', async () => {
  const w = world();
  const fd = tcp(w.c);
  ok(await w.c.close(fd));
  assert.equal(errno(await w.c.close(fd)), 'EBADF');
  assert.equal(errno(w.c.bind(fd, { addr: '0.0.0.0', port: 1 })), 'EBADF');
  assert.equal(errno(w.c.listen(fd, 1)), 'EBADF');
  assert.equal(errno(await w.c.connect(fd, { addr: SERVER, port: 80 })), 'EBADF');
  assert.equal(errno(await w.c.accept(fd)), 'EBADF');
  assert.equal(errno(await w.c.read(fd, 1)), 'EBADF');
  assert.equal(errno(await w.c.write(fd, 'x')), 'EBADF');
  assert.equal(errno(w.c.shutdown(fd, 1)), 'EBADF');
  assert.equal(errno(w.c.getsockopt(fd, SOL_SOCKET, SO_ERROR)), 'EBADF');
  assert.equal(errno(w.c.setsockopt(fd, SOL_SOCKET, SO_ERROR, 1)), 'EBADF');
  assert.equal(errno(w.c.fcntl(fd, F_GETFL)), 'EBADF');
  assert.equal(errno(w.c.ioctl(fd, FIONBIO, 1)), 'EBADF');
  assert.equal(errno(w.c.dup(fd)), 'EBADF');
  assert.equal(errno(w.c.dup2(fd, 9)), 'EBADF');
  assert.equal(errno(w.c.getsockname(fd)), 'EBADF');
  assert.equal(errno(w.c.getpeername(fd)), 'EBADF');
  assert.equal(errno(w.c.getsockname(-1)), 'EBADF');
  assert.equal(errno(w.c.getsockname(2.5)), 'EBADF');
  // poll reports POLLNVAL for it and ignores negative descriptors.
  const p = ok(await w.c.poll([{ fd, events: POLLIN }, { fd: -1, events: POLLIN }], 0));
  assert.equal(p.ret, 1);
  assert.deepEqual(p.fds.map((x) => x.revents), [POLLNVAL, 0]);
  const r = await w.c.read(fd, 1);
  assert.deepEqual(r, { ret: -1, errno: 'EBADF', errnum: 9 });
});

test('the stdio stand-ins are not sockets: ENOTSOCK', () => {
  const w = world();
  assert.equal(errno(w.c.bind(1, { addr: '0.0.0.0', port: 1 })), 'ENOTSOCK');
  assert.equal(errno(w.c.listen(0, 1)), 'ENOTSOCK');
  assert.equal(errno(w.c.getsockopt(2, SOL_SOCKET, SO_ERROR)), 'ENOTSOCK');
  assert.equal(errno(w.c.begin.read(0, 1).result!), 'ENOTSOCK');
  assert.equal(errno(w.c.begin.write(1, 'x').result!), 'ENOTSOCK');
  assert.equal(ok(w.c.fcntl(1, F_GETFL)).ret, O_RDWR);
});

test('socket() errors: family, type, protocol, flags', () => {
  const w = world();
  assert.equal(errno(w.c.socket(1 /* AF_UNIX */, SOCK_STREAM, 0)), 'EAFNOSUPPORT');
  assert.equal(errno(w.c.socket(AF_INET, SOCK_DGRAM, 0)), 'ESOCKTNOSUPPORT');
  assert.equal(errno(w.c.socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)), 'EPROTONOSUPPORT');
  assert.equal(errno(w.c.socket(AF_INET, SOCK_STREAM | 0x10000, 0)), 'EINVAL');
  assert.equal(errno(w.c.socket(AF_INET, 12, 0)), 'EINVAL');
  const r = w.c.socket(AF_INET, SOCK_DGRAM, 0);
  assert.equal(r.errnum, BSD_ERRNO.ESOCKTNOSUPPORT);
  assert.equal(r.errnum, 94);
  assert.equal(ok(w.c.socket(AF_INET6, SOCK_STREAM, IPPROTO_TCP)).ret, 3);
  assert.deepEqual(w.c.openFds(), [0, 1, 2, 3]);
});

test('EMFILE when the table (RLIMIT_NOFILE) is full, for socket, dup, F_DUPFD and accept', async () => {
  const w = world();
  const c = new Syscalls(w.client, { maxFds: 5, driver: w.driver });
  assert.equal(tcp(c), 3);
  assert.equal(tcp(c), 4);
  assert.equal(errno(c.socket(AF_INET, SOCK_STREAM, 0)), 'EMFILE');
  assert.equal(errno(c.dup(3)), 'EMFILE');
  assert.equal(errno(c.fcntl(3, F_DUPFD, 0)), 'EMFILE');
  assert.equal(errno(c.fcntl(3, F_DUPFD, 5)), 'EINVAL');
  assert.equal(errno(c.dup2(3, 5)), 'EBADF');
  // accept4 reserves the descriptor first: the connection stays queued.
  ok(c.bind(4, { addr: '0.0.0.0', port: 80 }));
  ok(c.listen(4, 8));
  const s = new Syscalls(w.server, { driver: w.driver });
  const sfd = tcp(s);
  ok(await s.connect(sfd, { addr: '10.0.0.1', port: 80 }));
  await w.driver.runUntil(() => false, w.net.now + 10_000);
  assert.equal(errno(await c.accept(4)), 'EMFILE');
  ok(await c.close(3));
  const a = ok(await c.accept(4));
  assert.equal(a.ret, 3);
  assert.deepEqual(a.addr, { family: AF_INET, addr: '10.0.0.2', port: ok(s.getsockname(sfd)).addr.port });
});

test('dup: both descriptors share one socket; closing one sends nothing, the last close sends the FIN', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  const d = ok(w.c.dup(cfd)).ret;
  assert.equal(d, cfd + 1);
  assert.equal(w.c.socketOf(d), w.c.socketOf(cfd));
  const t0 = w.net.now;
  ok(await w.c.close(cfd));
  await w.driver.runUntil(() => false, t0 + 100_000);
  assert.deepEqual(segs(w, 'client', 'out', t0), [], 'close of one of two descriptors sends nothing');
  // The socket still works through the other descriptor.
  assert.equal(ok(await w.c.write(d, 'abc')).ret, 3);
  assert.deepEqual([...ok(await w.s.read(sfd, 10)).data], [97, 98, 99]);
  const t1 = w.net.now;
  ok(await w.c.close(d));
  const out = segs(w, 'client', 'out', t1);
  assert.equal(out[0]?.flags, 'F.', 'the last close sends the FIN at once');
  assert.equal(out[0]?.t, t1);
  // The peer sees end of stream.
  assert.equal(ok(await w.s.read(sfd, 10)).ret, 0);
});

test('dup2 and F_DUPFD: exact and lowest-above numbers; dup2 onto an open descriptor closes what it named', async () => {
  const w = world();
  const { cfd } = await established(w);
  const other = tcp(w.c);
  assert.equal(ok(w.c.dup2(cfd, cfd)).ret, cfd, 'dup2 onto itself does nothing');
  assert.equal(ok(w.c.fcntl(cfd, F_DUPFD, 10)).ret, 10);
  assert.equal(ok(w.c.fcntl(cfd, F_DUPFD, 10)).ret, 11);
  assert.equal(ok(w.c.fcntl(cfd, F_DUPFD_CLOEXEC, 0)).ret, other + 1);
  assert.equal(ok(w.c.fcntl(other + 1, F_GETFD)).ret, FD_CLOEXEC);
  // dup2 onto the fresh socket: it is closed and the descriptor now names the connection.
  const replaced = w.c.socketOf(other)!;
  assert.equal(ok(w.c.dup2(cfd, other)).ret, other);
  assert.ok(replaced.closed, 'the socket newfd named was closed');
  assert.equal(w.c.socketOf(other), w.c.socketOf(cfd));
  assert.equal(w.c.socketOf(cfd)!.refs, 5);
  // Closing every descriptor but the last sends nothing.
  const t0 = w.net.now;
  for (const fd of [cfd, 10, 11, other]) ok(await w.c.close(fd));
  assert.deepEqual(segs(w, 'client', 'out', t0), []);
  ok(await w.c.close(other + 1));
  assert.equal(segs(w, 'client', 'out', t0)[0]?.flags, 'F.');
});

test('O_NONBLOCK belongs to the open file (shared by dup), FD_CLOEXEC to the descriptor', () => {
  const w = world();
  const fd = ok(w.c.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)).ret;
  assert.equal(ok(w.c.fcntl(fd, F_GETFL)).ret, O_RDWR | O_NONBLOCK);
  assert.equal(ok(w.c.fcntl(fd, F_GETFD)).ret, FD_CLOEXEC);
  const d = ok(w.c.dup(fd)).ret;
  assert.equal(ok(w.c.fcntl(d, F_GETFD)).ret, 0, 'dup clears FD_CLOEXEC on the copy');
  ok(w.c.fcntl(d, F_SETFL, O_RDWR));
  assert.equal(ok(w.c.fcntl(fd, F_GETFL)).ret, O_RDWR, 'clearing O_NONBLOCK through the copy clears it for both');
  ok(w.c.fcntl(fd, F_SETFD, 0));
  assert.equal(ok(w.c.fcntl(fd, F_GETFD)).ret, 0);
  ok(w.c.ioctl(d, FIONBIO, 1));
  assert.equal(ok(w.c.fcntl(fd, F_GETFL)).ret, O_RDWR | O_NONBLOCK, 'FIONBIO sets O_NONBLOCK');
  assert.equal(errno(w.c.fcntl(fd, 999)), 'EINVAL');
  // Not connected: a read is ENOTCONN whether blocking or not.
  assert.equal(errno(w.c.begin.read(fd, 1).result!), 'ENOTCONN');
});
