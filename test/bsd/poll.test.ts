// poll() revents in each state, as tcp_poll computes them: POLLHUP only when both directions
// are shut (or the socket is CLOSE), POLLIN|POLLRDHUP after the peer's FIN, POLLOUT on a
// connecting socket only once connected, POLLERR while an error is pending.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PollFd, Syscalls } from '../../src/bsd/syscalls.ts';
import {
  POLLERR, POLLHUP, POLLIN, POLLNVAL, POLLOUT, POLLRDHUP, POLLRDNORM, POLLWRNORM, SHUT_RD, SHUT_RDWR, SHUT_WR, SOL_SOCKET,
  SO_ERROR, SO_LINGER, SO_SNDBUF, MSG_DONTWAIT, SIOCOUTQ,
} from '../../src/bsd/constants.ts';
import { world, tcp, listener, ok, errno, established, bytes, segs, SERVER, LAT, type World } from './setup.ts';

const ALL = POLLIN | POLLOUT | POLLRDHUP;
const run = (w: World, dUs: number): Promise<boolean> => w.driver.runUntil(() => false, w.net.now + dUs);

/** revents of one descriptor for `events` (default POLLIN|POLLOUT|POLLRDHUP), polled with timeout 0. */
function rev(sys: Syscalls, fd: number, events = ALL): number {
  const r = ok(sys.begin.poll([{ fd, events }], 0).result!);
  return r.fds[0]!.revents!;
}

/** Names of the bits, for readable failures. */
function bits(m: number): string {
  const names: Array<[number, string]> = [[POLLIN, 'IN'], [POLLOUT, 'OUT'], [POLLERR, 'ERR'], [POLLHUP, 'HUP'], [POLLNVAL, 'NVAL'], [POLLRDNORM, 'RDNORM'], [POLLWRNORM, 'WRNORM'], [POLLRDHUP, 'RDHUP']];
  return names.filter(([b]) => m & b).map(([, n]) => n).join('|') || '0';
}
const expectRev = (sys: Syscalls, fd: number, want: number, what: string, events = ALL): void => assert.equal(bits(rev(sys, fd, events)), bits(want), what);

test('a fresh socket: POLLOUT|POLLHUP (TCP_CLOSE); shutdown(SHUT_RD) on it fails but adds POLLIN|POLLRDHUP', () => {
  const w = world();
  const fd = tcp(w.c, true);
  expectRev(w.c, fd, POLLOUT | POLLHUP, 'fresh');
  expectRev(w.c, fd, POLLHUP, 'POLLHUP is reported even when not asked for', POLLIN);
  expectRev(w.c, fd, POLLOUT | POLLWRNORM | POLLHUP, 'WRNORM when asked', POLLOUT | POLLWRNORM);
  assert.equal(errno(w.c.shutdown(fd, SHUT_RD)), 'ENOTCONN');
  expectRev(w.c, fd, POLLIN | POLLOUT | POLLHUP | POLLRDHUP, 'sk_shutdown was set all the same');
});

test('listening: nothing until a connection is complete, then POLLIN; 0 again once accepted', async () => {
  const w = world();
  const l = listener(w, 80, true);
  expectRev(w.s, l, 0, 'empty accept queue');
  const fd = tcp(w.c, true);
  w.c.begin.connect(fd, { addr: SERVER, port: 80 });
  await run(w, LAT);
  expectRev(w.s, l, 0, 'SYN_RECV child: not yet');
  await run(w, 2 * LAT);
  expectRev(w.s, l, POLLIN, 'handshake complete');
  ok(w.s.begin.accept(l).result!);
  expectRev(w.s, l, 0, 'accepted');
});

test('connecting: 0 in SYN_SENT, POLLOUT once established', async () => {
  const w = world();
  listener(w);
  const fd = tcp(w.c, true);
  w.c.begin.connect(fd, { addr: SERVER, port: 80 });
  expectRev(w.c, fd, 0, 'SYN_SENT');
  // A poll waiting for POLLOUT returns when the SYN-ACK arrives.
  const pc = w.c.begin.poll([{ fd, events: POLLOUT }], -1);
  await w.c.wait(pc);
  assert.equal(pc.endedAt, 2 * LAT);
  expectRev(w.c, fd, POLLOUT, 'ESTABLISHED');
});

test('connection refused: POLLERR with POLLHUP, POLLIN, POLLRDHUP and POLLOUT; POLLERR goes once SO_ERROR is read', async () => {
  const w = world();
  const fd = tcp(w.c, true);
  w.c.begin.connect(fd, { addr: SERVER, port: 80 });
  await run(w, 2 * LAT);
  expectRev(w.c, fd, POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP, 'refused');
  expectRev(w.c, fd, POLLERR | POLLHUP, 'ERR and HUP even with events = 0', 0);
  assert.equal(ok(w.c.getsockopt(fd, SOL_SOCKET, SO_ERROR)).value, 111);
  expectRev(w.c, fd, POLLIN | POLLOUT | POLLHUP | POLLRDHUP, 'error taken');
});

test('established: POLLOUT; POLLIN with data; no POLLOUT while the send buffer is full', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  expectRev(w.c, cfd, POLLOUT, 'idle');
  ok(await w.s.write(sfd, 'x'));
  await run(w, LAT);
  expectRev(w.c, cfd, POLLIN | POLLOUT, 'data waiting');
  expectRev(w.c, cfd, POLLIN | POLLRDNORM, 'RDNORM when asked', POLLIN | POLLRDNORM);
  ok(await w.c.read(cfd, 10));
  expectRev(w.c, cfd, POLLOUT, 'data read');
  // The peer stops reading; fill our send buffer.
  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, 4096));
  ok(w.s.setsockopt(sfd, SOL_SOCKET, 8 /* SO_RCVBUF */, 4096));
  // Write until the peer's window and our buffer are both full (EAGAIN even after waiting).
  for (let i = 0; i < 100; i++) {
    const r = w.c.begin.send(cfd, bytes(4096), MSG_DONTWAIT).result!;
    if (r.ret === -1 && i > 0) break;
    await run(w, 10 * LAT);
  }
  assert.equal(errno(w.c.begin.send(cfd, bytes(1), MSG_DONTWAIT).result!), 'EAGAIN');
  expectRev(w.c, cfd, 0, 'send buffer full');
  // The peer reads: its window opens, our data drains, and POLLOUT comes back with an ACK.
  const pc = w.c.begin.poll([{ fd: cfd, events: POLLOUT }], -1);
  assert.ok(pc.blocked);
  assert.ok(ok(w.s.begin.recv(sfd, 1 << 20, MSG_DONTWAIT).result!).ret > 0);
  const r = ok(await w.c.wait(pc));
  assert.equal(bits(r.fds[0]!.revents!), bits(POLLOUT));
  assert.ok(segs(w, 'client', 'in').some((x) => x.t === pc.endedAt && x.ack > 0), 'at the arrival of an ACK');
  // Not at the first ACK that frees some space: only once free space is half of what is queued.
  const limit = ok(w.c.getsockopt(cfd, SOL_SOCKET, SO_SNDBUF)).value as number;
  const used = ok(w.c.ioctl(cfd, SIOCOUTQ)).value;
  assert.ok(limit - used >= used / 2, `free ${limit - used} of ${limit}, queued ${used}`);
  assert.ok(limit - used < limit, 'not simply empty');
});

test('the peer\'s FIN: POLLIN|POLLRDHUP (CLOSE_WAIT), no POLLHUP; both directions shut: POLLHUP', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  ok(w.s.shutdown(sfd, SHUT_WR));
  await run(w, LAT);
  expectRev(w.c, cfd, POLLIN | POLLOUT | POLLRDHUP, 'CLOSE_WAIT');
  expectRev(w.c, cfd, POLLIN, 'RDHUP only when asked', POLLIN);
  // The server half-closed: its write side is shut (SEND_SHUTDOWN gives POLLOUT), not HUP.
  expectRev(w.s, sfd, POLLOUT, 'FIN_WAIT2 after SHUT_WR');
  ok(w.c.shutdown(cfd, SHUT_WR));
  expectRev(w.c, cfd, POLLIN | POLLOUT | POLLRDHUP | POLLHUP, 'LAST_ACK: both directions shut');
  await run(w, LAT);
  expectRev(w.s, sfd, POLLIN | POLLOUT | POLLRDHUP | POLLHUP, 'TIME_WAIT (the socket itself is CLOSE)');
  await run(w, LAT);
  expectRev(w.c, cfd, POLLIN | POLLOUT | POLLRDHUP | POLLHUP, 'CLOSED');
});

test('shutdown(SHUT_RDWR) locally: POLLHUP at once; SHUT_RD alone: POLLIN|POLLRDHUP', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  ok(w.c.shutdown(cfd, SHUT_RD));
  expectRev(w.c, cfd, POLLIN | POLLOUT | POLLRDHUP, 'SHUT_RD');
  ok(w.s.shutdown(sfd, SHUT_RDWR));
  expectRev(w.s, sfd, POLLIN | POLLOUT | POLLRDHUP | POLLHUP, 'SHUT_RDWR');
});

test('a reset: POLLERR|POLLHUP|POLLIN|POLLRDHUP|POLLOUT; the read takes the error and POLLERR with it', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  ok(w.s.setsockopt(sfd, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 0 }));
  ok(await w.s.close(sfd));
  // A poll blocked for POLLIN returns when the RST arrives, with POLLERR|POLLHUP added.
  const t0 = w.net.now;
  const pc = w.c.begin.poll([{ fd: cfd, events: POLLIN }], -1);
  const r = ok(await w.c.wait(pc));
  assert.equal(pc.endedAt, t0 + LAT);
  assert.equal(bits(r.fds[0]!.revents!), bits(POLLIN | POLLERR | POLLHUP));
  expectRev(w.c, cfd, POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLERR, 'reset');
  assert.equal(errno(await w.c.read(cfd, 1)), 'ECONNRESET');
  expectRev(w.c, cfd, POLLIN | POLLOUT | POLLRDHUP | POLLHUP, 'error taken');
});

test('poll counts the entries with revents, POLLNVAL for closed descriptors, and ignores negative ones', async () => {
  const w = world();
  const { cfd, sfd, lfd } = await established(w);
  const closed = tcp(w.s);
  ok(await w.s.close(closed));
  const fds: PollFd[] = [{ fd: sfd, events: POLLIN }, { fd: lfd, events: POLLIN }, { fd: closed, events: POLLIN }, { fd: -5, events: POLLIN }, { fd: sfd, events: POLLOUT }];
  const r = ok(w.s.begin.poll(fds, 0).result!);
  assert.deepEqual(fds.map((p) => bits(p.revents!)), ['0', '0', 'NVAL', '0', 'OUT']);
  assert.equal(r.ret, 2);
  void cfd;
});
