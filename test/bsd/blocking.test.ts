// Blocking calls return at exact virtual times: one-way latency 1 ms, so a SYN-ACK is back at
// 2 ms, the server's accept() returns at 3 ms, data written then is read at 4 ms.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BlockedError } from '../../src/bsd/call.ts';
import { Syscalls, type PollFd } from '../../src/bsd/syscalls.ts';
import { Runtime } from '../../src/net/runtime.ts';
import {
  AF_INET, IPPROTO_TCP, MSG_DONTWAIT, MSG_WAITALL, POLLIN, POLLOUT, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SO_KEEPALIVE, SO_LINGER, SO_RCVBUF,
  SO_RCVTIMEO, SO_SNDBUF, SO_SNDTIMEO, TCP_KEEPCNT, TCP_KEEPIDLE, TCP_KEEPINTVL,
} from '../../src/bsd/constants.ts';
import { world, tcp, listener, ok, errno, established, segs, bytes, SERVER, LAT, type World } from './setup.ts';

const run = (w: World, dUs: number): Promise<boolean> => w.driver.runUntil(() => false, w.net.now + dUs);
/** Drops every packet towards the server from now on. */
const blackhole = (w: World): (() => void) => w.net.addFilter((p) => (p.to === 'server' ? null : 'pass'));

test('blocking connect returns at the SYN-ACK (2 ms), accept at the final ACK (3 ms), read at the data (4 ms)', async () => {
  const w = world();
  const l = listener(w);
  const fd = tcp(w.c);
  const cc = w.c.begin.connect(fd, { addr: SERVER, port: 80 });
  const ac = w.s.begin.accept(l);
  assert.ok(cc.blocked && ac.blocked);
  const [cr, ar] = await Promise.all([w.c.wait(cc), w.s.wait(ac)]);
  assert.equal(ok(cr).ret, 0);
  assert.equal(cc.endedAt, 2 * LAT);
  const sfd = ok(ar).ret;
  assert.equal(ac.endedAt, 3 * LAT);
  const rc = w.c.begin.read(fd, 100);
  assert.ok(rc.blocked);
  assert.equal(ok(await w.s.write(sfd, 'hello')).ret, 5);
  assert.equal(w.net.now, 3 * LAT, 'a write that fits returns at once');
  assert.equal(new TextDecoder().decode(ok(await w.c.wait(rc)).data), 'hello');
  assert.equal(rc.endedAt, 4 * LAT);
  // The timeline shows when each blocked call returned.
  const returns = w.events.filter((e) => e.kind === 'call' && e.args?.startsWith('returns after blocking')).map((e) => `${e.t} ${e.host} ${(e as { call: string }).call}=${(e as { result: string }).result}`);
  assert.deepEqual(returns, [`${2 * LAT} client connect=0`, `${3 * LAT} server accept=${sfd}`, `${4 * LAT} client read=5`]);
});

test('blocking connect to a closed port: ECONNREFUSED when the RST arrives (2 ms)', async () => {
  const w = world();
  const fd = tcp(w.c);
  const cc = w.c.begin.connect(fd, { addr: SERVER, port: 81 });
  assert.equal(errno(await w.c.wait(cc)), 'ECONNREFUSED');
  assert.equal(cc.endedAt, 2 * LAT);
  assert.equal(errno(w.c.getpeername(fd)), 'ENOTCONN');
});

test('blocking connect to a silent host: ETIMEDOUT when tcp_syn_retries run out (3, with 4 linear timeouts: SYNs at 0,1,2,3,4,5,7,11 s, gives up at 19 s)', async () => {
  const w = world({ client: { tcp_syn_retries: 3 } });
  blackhole(w);
  const fd = tcp(w.c);
  const cc = w.c.begin.connect(fd, { addr: SERVER, port: 80 });
  assert.equal(errno(await w.c.wait(cc)), 'ETIMEDOUT');
  assert.equal(cc.endedAt, 19_000_000);
  assert.deepEqual(segs(w, 'client', 'out').map((s) => s.t / 1e6), [0, 1, 2, 3, 4, 5, 7, 11]);
});

test('SO_SNDTIMEO bounds a blocking connect: EINPROGRESS when it runs out; the attempt goes on and a second connect() waits for it', async () => {
  const w = world();
  const unblock = blackhole(w);
  const fd = tcp(w.c);
  ok(w.c.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, { tv_sec: 0, tv_usec: 500_000 }));
  const cc = w.c.begin.connect(fd, { addr: SERVER, port: 80 });
  assert.equal(errno(await w.c.wait(cc)), 'EINPROGRESS');
  assert.equal(cc.endedAt, 500_000);
  listener(w);
  unblock();
  // The SYN retransmitted at 1 s gets through: a second blocking connect() (no timeout now) returns then.
  ok(w.c.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, { tv_sec: 0, tv_usec: 0 }));
  const again = w.c.begin.connect(fd, { addr: SERVER, port: 80 });
  assert.equal(ok(await w.c.wait(again)).ret, 0);
  assert.equal(again.endedAt, 1_000_000 + 2 * LAT);
  assert.equal(errno(await w.c.connect(fd, { addr: SERVER, port: 80 })), 'EISCONN');
});

test('blocking read returns 0 at the peer FIN and ECONNRESET at the peer RST', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  const rc = w.c.begin.read(cfd, 10);
  const t0 = w.net.now;
  ok(w.s.shutdown(sfd, 1));
  assert.equal(ok(await w.c.wait(rc)).ret, 0);
  assert.equal(rc.endedAt, t0 + LAT);

  const w2 = world();
  const e2 = await established(w2);
  const rc2 = w2.c.begin.read(e2.cfd, 10);
  await run(w2, 10_000);
  assert.ok(rc2.blocked);
  ok(w2.s.setsockopt(e2.sfd, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 0 }));
  const t1 = w2.net.now;
  ok(await w2.s.close(e2.sfd));
  assert.equal(errno(await w2.c.wait(rc2)), 'ECONNRESET');
  assert.equal(rc2.endedAt, t1 + LAT);
});

test('MSG_WAITALL waits for the whole count; SO_RCVTIMEO makes a blocking read give up with EAGAIN', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  const rc = w.c.begin.recv(cfd, 10, MSG_WAITALL);
  ok(await w.s.write(sfd, 'abcd'));
  await run(w, 50_000);
  assert.ok(rc.blocked, '4 of 10 bytes: still waiting');
  const t0 = w.net.now;
  ok(await w.s.write(sfd, 'efghijkl'));
  const r = ok(await w.c.wait(rc));
  assert.equal(new TextDecoder().decode(r.data), 'abcdefghij');
  assert.equal(rc.endedAt, t0 + LAT);
  assert.equal(new TextDecoder().decode(ok(await w.c.read(cfd, 10)).data), 'kl');

  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_RCVTIMEO, { tv_sec: 0, tv_usec: 250_000 }));
  const t1 = w.net.now;
  const timed = w.c.begin.read(cfd, 10);
  assert.equal(errno(await w.c.wait(timed)), 'EAGAIN');
  assert.equal(timed.endedAt, t1 + 250_000);
  // The same timeout bounds accept().
  const l = listener(w, 8080);
  ok(w.s.setsockopt(l, SOL_SOCKET, SO_RCVTIMEO, { tv_sec: 1, tv_usec: 0 }));
  const t2 = w.net.now;
  const ac = w.s.begin.accept(l);
  assert.equal(errno(await w.s.wait(ac)), 'EAGAIN');
  assert.equal(ac.endedAt, t2 + 1_000_000);
});

test('a blocking write larger than the send buffer returns the full count when the last byte is queued, on an ACK', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, 8192)); // 16384 bytes
  const data = bytes(100_000, 3);
  const t0 = w.net.now;
  const wc = w.c.begin.write(cfd, data);
  assert.ok(wc.blocked);
  // A blocked Call moves only while something polls it: wait for it while the server reads.
  const writing = w.c.wait(wc);
  // The server reads everything as it comes.
  const got: Uint8Array[] = [];
  let n = 0;
  while (n < data.length) {
    const r = ok(await w.s.read(sfd, 65536));
    got.push(r.data);
    n += r.ret;
  }
  assert.equal(ok(await writing).ret, data.length);
  assert.ok(wc.endedAt > t0);
  // The writer was woken by an ACK arriving at that instant.
  assert.ok(segs(w, 'client', 'in').some((s) => s.t === wc.endedAt && s.flags === '.'), 'returns when an ACK frees space');
  // A blocked writer wakes only when the socket is writeable again (sk_stream_is_writeable:
  // free space at least half of what is queued), so every copy after the first is at least a
  // third of the buffer, except the last piece of the data.
  const limit = ok(w.c.getsockopt(cfd, SOL_SOCKET, SO_SNDBUF)).value as number;
  const copies = w.events.filter((e) => e.kind === 'call' && e.host === 'client' && e.call === 'write' && e.t >= t0 && !!e.args?.endsWith(' bytes')).map((e) => Number((e as { result: string }).result));
  assert.equal(copies.reduce((a, b) => a + b, 0), data.length);
  assert.ok(copies.length > 3);
  for (const n of copies.slice(1, -1)) assert.ok(n >= Math.floor(limit / 3), `a wake-up copied only ${n} of ${limit} bytes: ${copies.join(' ')}`);
  const all = new Uint8Array(n);
  let off = 0;
  for (const g of got) {
    all.set(g, off);
    off += g.length;
  }
  assert.deepEqual(all, data);
});

test('SO_SNDTIMEO on a blocking write to a peer that stops reading: the partial count when time runs out', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  void sfd;
  ok(w.s.setsockopt(sfd, SOL_SOCKET, SO_RCVBUF, 4096));
  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_SNDBUF, 4096));
  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, { tv_sec: 2, tv_usec: 0 }));
  const t0 = w.net.now;
  const wc = w.c.begin.write(cfd, bytes(1_000_000));
  const r = ok(await w.c.wait(wc));
  assert.equal(wc.endedAt, t0 + 2_000_000);
  assert.ok(r.ret > 0 && r.ret < 1_000_000, `partial: ${r.ret}`);
  // Fill the send buffer to the last byte (the peer's window is closed by now), then a blocking
  // write copies nothing and gives up with EAGAIN after the timeout.
  while (w.c.begin.send(cfd, bytes(1000), MSG_DONTWAIT).result!.ret > 0);
  assert.equal(errno(w.c.begin.send(cfd, bytes(1), MSG_DONTWAIT).result!), 'EAGAIN');
  const t1 = w.net.now;
  const again = w.c.begin.write(cfd, bytes(10));
  assert.equal(errno(await w.c.wait(again)), 'EAGAIN');
  assert.equal(again.endedAt, t1 + 2_000_000);
});

test('poll: the timeout runs on the virtual clock; a blocked poll returns when the event happens', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  const t0 = w.net.now;
  const pc = w.c.begin.poll([{ fd: cfd, events: POLLIN }], 1500);
  const r = ok(await w.c.wait(pc));
  assert.equal(r.ret, 0);
  assert.equal(r.fds[0]!.revents, 0);
  assert.equal(pc.endedAt, t0 + 1_500_000);
  // Readable when the data arrives.
  const t1 = w.net.now;
  const pfds: PollFd[] = [{ fd: cfd, events: POLLIN | POLLOUT }];
  const p2 = w.c.begin.poll([{ fd: cfd, events: POLLIN }], -1);
  w.s.begin.write(sfd, 'x');
  assert.equal(ok(await w.c.wait(p2)).ret, 1);
  assert.equal(p2.endedAt, t1 + LAT);
  // A poll timeout of 0 returns at once, with revents written into the caller's pollfds.
  assert.equal(ok(w.c.begin.poll(pfds, 0).result!).ret, 1);
  assert.equal(pfds[0]!.revents, POLLIN | POLLOUT);
});

test('SO_LINGER {1, N}: close() returns when the FIN is acknowledged (the peer\'s delayed ACK, 40 ms), even on a non-blocking socket', async () => {
  const w = world();
  const { cfd } = await established(w);
  ok(w.c.fcntl(cfd, 4 /* F_SETFL */, 0o4000 /* O_NONBLOCK */));
  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 5 }));
  ok(await w.c.write(cfd, 'data'));
  const t0 = w.net.now;
  const cc = w.c.begin.close(cfd);
  assert.ok(cc.blocked, 'Linux blocks in close() with SO_LINGER whatever O_NONBLOCK says');
  assert.equal(errno(w.c.begin.read(cfd, 1).result!), 'EBADF', 'the descriptor is gone at once');
  assert.equal(ok(await w.c.wait(cc)).ret, 0);
  const fin = segs(w, 'client', 'out', t0).find((s) => s.flags.includes('F'))!;
  const finAck = segs(w, 'client', 'in', t0).find((s) => s.ack === (fin.seq + 1) >>> 0)!;
  assert.equal(cc.endedAt, finAck.t);
  assert.equal(cc.endedAt, t0 + LAT + 40_000 + LAT, 'the peer delays the ACK of a FIN by 40 ms');
});

test('SO_LINGER {1, N} towards a dead peer: close() returns after exactly N s; {1, 0} resets and returns at once', async () => {
  const w = world();
  const { cfd } = await established(w);
  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 3 }));
  blackhole(w);
  const t0 = w.net.now;
  const cc = w.c.begin.close(cfd);
  assert.equal(ok(await w.c.wait(cc)).ret, 0);
  assert.equal(cc.endedAt, t0 + 3_000_000);

  const w2 = world();
  const e2 = await established(w2);
  ok(w2.c.setsockopt(e2.cfd, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 0 }));
  const t1 = w2.net.now;
  const c2 = w2.c.begin.close(e2.cfd);
  assert.ok(c2.done);
  assert.deepEqual(segs(w2, 'client', 'out', t1).map((s) => s.flags), ['R.']);
});

test('keepalive on a dead peer: a blocked read returns ETIMEDOUT when the last probe goes unanswered', async () => {
  const w = world();
  const { cfd } = await established(w);
  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_KEEPALIVE, 1));
  ok(w.c.setsockopt(cfd, IPPROTO_TCP, TCP_KEEPIDLE, 10));
  ok(w.c.setsockopt(cfd, IPPROTO_TCP, TCP_KEEPINTVL, 2));
  ok(w.c.setsockopt(cfd, IPPROTO_TCP, TCP_KEEPCNT, 3));
  blackhole(w);
  const t0 = w.net.now;
  // Idle time counts from the last segment received: the SYN-ACK at 2 ms.
  const last = segs(w, 'client', 'in').at(-1)!.t;
  assert.equal(last, 2 * LAT);
  const rc = w.c.begin.read(cfd, 10);
  assert.equal(errno(await w.c.wait(rc)), 'ETIMEDOUT');
  const out = segs(w, 'client', 'out', t0).map((s) => `${(s.t - last) / 1e6} ${s.flags}`);
  assert.deepEqual(out, ['10 .', '12 .', '14 .', '16 R.'], 'probes at idle, then every interval; a RST when the count is used up');
  assert.equal(rc.endedAt, last + 16e6, 'ETIMEDOUT one interval after the third unanswered probe');
});

test('a call that can never return: BlockedError (no driver, or nothing left to happen)', async () => {
  const w = world();
  const l = listener(w);
  await assert.rejects(w.s.accept(l), BlockedError);
  const nodriver = new Syscalls(w.server);
  const l2 = ok(nodriver.socket(AF_INET, SOCK_STREAM, 0)).ret;
  ok(nodriver.listen(l2, 1));
  await assert.rejects(nodriver.accept(l2), /no driver/);
  // Non-blocking calls need no driver.
  const nb = ok(nodriver.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)).ret;
  ok(nodriver.listen(nb, 1));
  assert.equal(errno(await nodriver.accept(nb)), 'EAGAIN');
});

test('without a driver: begin.* returns a Call that the caller completes by stepping the network itself', () => {
  const w = world();
  const c = new Syscalls(w.client);
  const s = new Syscalls(w.server);
  const l = ok(s.socket(AF_INET, SOCK_STREAM, 0)).ret;
  ok(s.listen(l, 4));
  const port = ok(s.getsockname(l)).addr.port;
  const fd = ok(c.socket(AF_INET, SOCK_STREAM, 0)).ret;
  const cc = c.begin.connect(fd, { addr: SERVER, port });
  const ac = s.begin.accept(l);
  w.net.runWhile(() => !(cc.poll() && ac.poll()), 1e9);
  assert.equal(cc.result!.ret, 0);
  assert.equal(cc.endedAt, 2 * LAT);
  assert.equal(ac.endedAt, 3 * LAT);
  assert.equal(ac.result!.ret, 4);
});

test('the net/ Runtime works as the driver too', async () => {
  const w = world();
  const rt = new Runtime(w.net, { fakeTimers: false });
  try {
    const c = new Syscalls(w.client, { driver: rt });
    const s = new Syscalls(w.server, { driver: rt });
    const l = ok(s.socket(AF_INET, SOCK_STREAM, 0)).ret;
    ok(s.bind(l, { addr: '0.0.0.0', port: 80 }));
    ok(s.listen(l, 4));
    const fd = ok(c.socket(AF_INET, SOCK_STREAM, 0)).ret;
    const cc = c.begin.connect(fd, { addr: SERVER, port: 80 });
    const ac = s.begin.accept(l);
    await Promise.all([c.wait(cc), s.wait(ac)]);
    assert.deepEqual([cc.endedAt, ac.endedAt], [2 * LAT, 3 * LAT]);
  } finally {
    rt.dispose();
  }
});

test('many connections in parallel on one driver: each call returns at its own time', async () => {
  const w = world();
  const l = listener(w, 80, false, 64);
  const clients = [0, 1, 2, 3, 4].map(() => tcp(w.c));
  // Staggered starts: connection i starts at i * 10 ms.
  const results = await Promise.all(clients.map(async (fd, i) => {
    await w.driver.runUntil(() => false, i * 10_000);
    const cc = w.c.begin.connect(fd, { addr: SERVER, port: 80 });
    await w.c.wait(cc);
    return cc.endedAt - cc.startedAt;
  }));
  assert.deepEqual(results, [2 * LAT, 2 * LAT, 2 * LAT, 2 * LAT, 2 * LAT]);
  const accepted: number[] = [];
  for (let i = 0; i < 5; i++) accepted.push(ok(await w.s.accept(l)).ret);
  assert.deepEqual(accepted, [4, 5, 6, 7, 8]);
});

test('two programs as coroutines on one driver: an echo server and its client, each step at its exact time', async () => {
  const w = world();
  const l = listener(w);
  const log: string[] = [];
  const server = async (): Promise<void> => {
    const fd = ok(await w.s.accept(l)).ret;
    log.push(`${w.net.now} server accepted`);
    for (;;) {
      const r = ok(await w.s.read(fd, 100));
      if (r.ret === 0) break;
      log.push(`${w.net.now} server got ${r.ret}`);
      ok(await w.s.write(fd, r.data));
    }
    log.push(`${w.net.now} server EOF`);
    ok(await w.s.close(fd));
  };
  const client = async (): Promise<void> => {
    const fd = tcp(w.c);
    ok(await w.c.connect(fd, { addr: SERVER, port: 80 }));
    log.push(`${w.net.now} client connected`);
    for (const msg of ['one', 'three']) {
      ok(await w.c.write(fd, msg));
      const r = ok(await w.c.read(fd, 100));
      log.push(`${w.net.now} client echo ${new TextDecoder().decode(r.data)}`);
    }
    ok(w.c.shutdown(fd, 1));
    assert.equal(ok(await w.c.read(fd, 100)).ret, 0);
    log.push(`${w.net.now} client EOF`);
    ok(await w.c.close(fd));
  };
  await Promise.all([server(), client()]);
  assert.deepEqual(log, [
    '2000 client connected', // the SYN-ACK
    '3000 server accepted', // the ACK (the client's data rides on it: written at 2 ms)
    '3000 server got 3',
    '4000 client echo one',
    '5000 server got 5',
    '6000 client echo three',
    '7000 server EOF',
    '8000 client EOF',
  ]);
});
