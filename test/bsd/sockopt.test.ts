// setsockopt/getsockopt (values, defaults, errors), TCP_INFO field by field, and ioctl.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TcpInfo } from '../../src/bsd/tcpinfo.ts';
import {
  AF_INET6, FIONBIO, FIONREAD, IPPROTO_TCP, SIOCINQ, SIOCOUTQ, SIOCOUTQNSD, SHUT_WR, SOCK_STREAM, SOL_SOCKET, SO_ERROR,
  SO_KEEPALIVE, SO_LINGER, SO_RCVBUF, SO_RCVTIMEO, SO_REUSEADDR, SO_SNDBUF, SO_SNDTIMEO, TCP_INFO, TCP_KEEPCNT, TCP_KEEPIDLE,
  TCP_KEEPINTVL, TCP_LINGER2, TCP_MAXSEG, TCP_NODELAY, TCP_USER_TIMEOUT, TCP_ESTABLISHED, TCP_SYN_SENT, TCP_CLOSE,
  TCP_LISTEN, TCP_CLOSE_WAIT, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_LAST_ACK, TCP_CA_Loss, TCPI_OPT_SACK, TCPI_OPT_TIMESTAMPS,
  TCPI_OPT_WSCALE, TCP_QUICKACK, TCP_CONGESTION,
} from '../../src/bsd/constants.ts';
import type { Syscalls } from '../../src/bsd/syscalls.ts';
import { world, tcp, listener, ok, errno, established, bytes, SERVER, LAT, type World } from './setup.ts';

const run = (w: World, dUs: number): Promise<boolean> => w.driver.runUntil(() => false, w.net.now + dUs);
const info = (sys: Syscalls, fd: number): TcpInfo => ok(sys.getsockopt(fd, IPPROTO_TCP, TCP_INFO)).value;
const int = (sys: Syscalls, fd: number, level: number, name: number): number => {
  const r = ok(sys.getsockopt(fd, level, name));
  assert.equal(r.optlen, 4);
  return r.value as number;
};

test('socket-level options: SO_LINGER, SO_KEEPALIVE, SO_REUSEADDR, SO_RCVBUF/SO_SNDBUF (doubled), SO_ERROR, timeouts', () => {
  const w = world();
  const fd = tcp(w.c);
  assert.deepEqual(ok(w.c.getsockopt(fd, SOL_SOCKET, SO_LINGER)).value, { l_onoff: 0, l_linger: 0 });
  ok(w.c.setsockopt(fd, SOL_SOCKET, SO_LINGER, { l_onoff: 1, l_linger: 7 }));
  const l = ok(w.c.getsockopt(fd, SOL_SOCKET, SO_LINGER));
  assert.deepEqual(l.value, { l_onoff: 1, l_linger: 7 });
  assert.equal(l.optlen, 8);
  ok(w.c.setsockopt(fd, SOL_SOCKET, SO_LINGER, { onoff: 0, linger: 3 }), 'packetdrill spelling');
  assert.deepEqual(ok(w.c.getsockopt(fd, SOL_SOCKET, SO_LINGER)).value, { l_onoff: 0, l_linger: 3 }, 'the time is kept when off');
  assert.equal(errno(w.c.setsockopt(fd, SOL_SOCKET, SO_LINGER, 1)), 'EINVAL');
  assert.equal(int(w.c, fd, SOL_SOCKET, SO_KEEPALIVE), 0);
  ok(w.c.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, 5));
  assert.equal(int(w.c, fd, SOL_SOCKET, SO_KEEPALIVE), 1, 'booleans read back as 1');
  ok(w.c.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, true));
  assert.equal(int(w.c, fd, SOL_SOCKET, SO_REUSEADDR), 1);
  assert.equal(int(w.c, fd, SOL_SOCKET, SO_RCVBUF), 131072, 'tcp_rmem[1]');
  assert.equal(int(w.c, fd, SOL_SOCKET, SO_SNDBUF), 16384, 'tcp_wmem[1]');
  ok(w.c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, 10000));
  assert.equal(int(w.c, fd, SOL_SOCKET, SO_RCVBUF), 20000, 'Linux doubles the value');
  ok(w.c.setsockopt(fd, SOL_SOCKET, SO_SNDBUF, 1));
  assert.equal(int(w.c, fd, SOL_SOCKET, SO_SNDBUF), 4608, 'SOCK_MIN_SNDBUF');
  assert.equal(errno(w.c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, 1.5)), 'EINVAL');
  assert.equal(int(w.c, fd, SOL_SOCKET, SO_ERROR), 0);
  assert.equal(errno(w.c.setsockopt(fd, SOL_SOCKET, SO_ERROR, 1)), 'ENOPROTOOPT');
  assert.equal(errno(w.c.setsockopt(fd, SOL_SOCKET, 999, 1)), 'ENOPROTOOPT');
  assert.equal(errno(w.c.getsockopt(fd, SOL_SOCKET, 999)), 'ENOPROTOOPT');
  assert.equal(errno(w.c.getsockopt(fd, 41 /* IPPROTO_IPV6 */, 1)), 'ENOPROTOOPT');
  assert.deepEqual(ok(w.c.getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO)).value, { tv_sec: 0, tv_usec: 0 });
  ok(w.c.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, { tv_sec: 2, tv_usec: 500 }));
  assert.deepEqual(ok(w.c.getsockopt(fd, SOL_SOCKET, SO_RCVTIMEO)).value, { tv_sec: 2, tv_usec: 500 });
  assert.equal(errno(w.c.setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, { tv_sec: 1, tv_usec: 1_000_000 })), 'EDOM');
  assert.equal(ok(w.c.getsockopt(fd, SOL_SOCKET, SO_SNDTIMEO)).optlen, 16);
});

test('TCP-level options: defaults from the sysctls, ranges, TCP_LINGER2, TCP_USER_TIMEOUT, TCP_NODELAY, TCP_MAXSEG', async () => {
  const w = world({ client: { tcp_keepalive_time: 600, tcp_fin_timeout: 30 } });
  const fd = tcp(w.c);
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_KEEPIDLE), 600, 'net.ipv4.tcp_keepalive_time');
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_KEEPINTVL), 75);
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_KEEPCNT), 9);
  ok(w.c.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 30));
  ok(w.c.setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, 5));
  ok(w.c.setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, 4));
  assert.deepEqual([TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT].map((o) => int(w.c, fd, IPPROTO_TCP, o)), [30, 5, 4]);
  assert.equal(errno(w.c.setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, 0)), 'EINVAL');
  assert.equal(errno(w.c.setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, 32768)), 'EINVAL');
  assert.equal(errno(w.c.setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, 128)), 'EINVAL');
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_LINGER2), 30, 'net.ipv4.tcp_fin_timeout');
  ok(w.c.setsockopt(fd, IPPROTO_TCP, TCP_LINGER2, -1));
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_LINGER2), -1);
  ok(w.c.setsockopt(fd, IPPROTO_TCP, TCP_LINGER2, 500));
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_LINGER2), 120, 'capped at TCP_FIN_TIMEOUT_MAX');
  ok(w.c.setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, 3000));
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_USER_TIMEOUT), 3000);
  assert.equal(errno(w.c.setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, -1)), 'EINVAL');
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_NODELAY), 0);
  ok(w.c.setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, 1));
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_NODELAY), 1);
  assert.equal(errno(w.c.setsockopt(fd, IPPROTO_TCP, TCP_INFO, 1)), 'ENOPROTOOPT', 'TCP_INFO is read-only');
  assert.equal(errno(w.c.setsockopt(fd, IPPROTO_TCP, 999, 1)), 'ENOPROTOOPT');
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_MAXSEG), 536, 'unconnected: TCP_MSS_DEFAULT');
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_QUICKACK), 1);
  // Options set before connect() apply to the connection; accepted sockets inherit the listener's.
  const l = listener(w);
  ok(w.s.setsockopt(l, SOL_SOCKET, SO_KEEPALIVE, 1));
  ok(w.s.setsockopt(l, IPPROTO_TCP, TCP_KEEPIDLE, 42));
  const [cr, ar] = await Promise.all([w.c.connect(fd, { addr: SERVER, port: 80 }), w.s.accept(l)]);
  ok(cr);
  const sfd = ok(ar).ret;
  assert.equal(int(w.s, sfd, SOL_SOCKET, SO_KEEPALIVE), 1);
  assert.equal(int(w.s, sfd, IPPROTO_TCP, TCP_KEEPIDLE), 42);
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_KEEPIDLE), 30);
  assert.equal(int(w.c, fd, IPPROTO_TCP, TCP_MAXSEG), 1448, 'MSS less the timestamp option');
});

// cubic by default: net.ipv4.tcp_congestion_control is cubic, Linux's default (linger's since it has CUBIC).
test('TCP_CONGESTION: a name, cubic by default; reno selectable; unknown ENOENT, empty EINVAL; children inherit', async () => {
  const w = world();
  const fd = tcp(w.c);
  const name = (sys: Syscalls, f: number): [string, number] => {
    const r = ok(sys.getsockopt(f, IPPROTO_TCP, TCP_CONGESTION));
    return [r.value as string, r.optlen];
  };
  assert.deepEqual(name(w.c, fd), ['cubic', 16], 'TCP_CA_NAME_MAX');
  assert.equal(errno(w.c.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, 'bbr')), 'ENOENT');
  assert.equal(errno(w.c.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, '')), 'EINVAL', 'optlen 0');
  assert.equal(errno(w.c.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, 1)), 'EINVAL');
  ok(w.c.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, 'reno\0junk'));
  assert.deepEqual(name(w.c, fd), ['reno', 16], 'the name ends at the NUL');
  assert.equal(errno(w.c.setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, 'cubic'.padEnd(20, 'x'))), 'ENOENT');
  assert.deepEqual(name(w.c, fd), ['reno', 16], 'a failed set changes nothing');
  const l = listener(w);
  ok(w.s.setsockopt(l, IPPROTO_TCP, TCP_CONGESTION, 'reno'));
  const [cr, ar] = await Promise.all([w.c.connect(fd, { addr: SERVER, port: 80 }), w.s.accept(l)]);
  ok(cr);
  const sfd = ok(ar).ret;
  assert.deepEqual(name(w.s, sfd), ['reno', 16]);
  ok(w.s.setsockopt(sfd, IPPROTO_TCP, TCP_CONGESTION, 'cubic'));
  assert.deepEqual([name(w.s, sfd)[0], name(w.s, l)[0]], ['cubic', 'reno']);
});

test('TCP_INFO after the handshake: ESTABLISHED (1), rto in µs, snd_mss 1448, snd_cwnd 10, rtt from the SYN-ACK', async () => {
  const w = world();
  const { cfd, sfd } = await established(w);
  const c = info(w.c, cfd);
  assert.equal(ok(w.c.getsockopt(cfd, IPPROTO_TCP, TCP_INFO)).optlen, 248);
  assert.equal(c.tcpi_state, TCP_ESTABLISHED);
  assert.equal(c.tcpi_state, 1);
  assert.equal(c.tcpi_ca_state, 0);
  assert.equal(c.tcpi_snd_mss, 1448);
  assert.equal(c.tcpi_snd_cwnd, 10);
  assert.equal(c.tcpi_rtt, 2000, 'µs: one 2 ms RTT sample');
  assert.equal(c.tcpi_rttvar, 1000, 'mdev = rtt / 2 after the first sample');
  assert.equal(c.tcpi_rto, 204_000, 'µs: srtt + max(4 * mdev, 200 ms), rounded up to jiffies (HZ 250)');
  assert.equal(c.tcpi_options, TCPI_OPT_TIMESTAMPS | TCPI_OPT_SACK | TCPI_OPT_WSCALE);
  assert.equal(c.tcpi_snd_wscale, 7);
  assert.equal(c.tcpi_rcv_wscale, 7);
  assert.equal(c.tcpi_snd_ssthresh, 0x7fffffff);
  assert.equal(c.tcpi_pmtu, 1500);
  assert.equal(c.tcpi_advmss, 1448);
  assert.equal(c.tcpi_reordering, 3);
  assert.equal(c.tcpi_unacked, 0);
  assert.equal(c.tcpi_retransmits, 0);
  assert.equal(c.tcpi_total_retrans, 0);
  assert.equal(c.tcpi_segs_out, 2, 'SYN and ACK');
  assert.equal(c.tcpi_segs_in, 1, 'SYN-ACK');
  assert.equal(c.tcpi_snd_wnd, 65160, 'the SYN-ACK\'s window, never scaled');
  assert.equal(c.tcpi_rcv_wnd, 64256);
  assert.equal(c.tcpi_last_ack_recv, 1, 'ms since the SYN-ACK (2 ms) at 3 ms');
  const s = info(w.s, sfd);
  assert.equal(s.tcpi_state, TCP_ESTABLISHED);
  assert.equal(s.tcpi_rtt, 2000, 'the server measures SYN-ACK to ACK');
  assert.equal(s.tcpi_snd_mss, 1448);
  assert.equal(s.tcpi_snd_cwnd, 10);
  assert.equal(s.tcpi_snd_wnd, 64256, 'the final ACK\'s window 502 << 7');
  // Data: bytes, segments, last_data_* in ms.
  const tWrite = w.net.now;
  ok(await w.c.write(cfd, bytes(3000)));
  assert.equal(info(w.c, cfd).tcpi_unacked, 3, '3000 bytes in flight: 1448 + 1448 + 104');
  assert.equal(info(w.c, cfd).tcpi_notsent_bytes, 0);
  ok(await w.s.read(sfd, 10_000));
  await run(w, 500_000);
  const c2 = info(w.c, cfd);
  // tcp_snd_una_update counts the SYN too (observed on 6.18: ss shows bytes_acked:1 on a new
  // client, and 102 after 100 bytes and a FIN).
  assert.equal(c2.tcpi_bytes_acked, 3001);
  assert.equal(c2.tcpi_unacked, 0);
  assert.equal(c2.tcpi_data_segs_out, 3);
  assert.equal(c2.tcpi_bytes_sent, 3000);
  assert.equal(w.net.now - tWrite, 501_000, 'the read returned at 4 ms, then 500 ms passed');
  assert.equal(c2.tcpi_last_data_sent, 501, 'ms');
  assert.equal(c2.tcpi_last_ack_recv, 500 - 1, 'ms since the ACK of the data (at 5 ms)');
  assert.equal(info(w.s, sfd).tcpi_bytes_received, 3000);
  assert.equal(info(w.s, sfd).tcpi_data_segs_in, 3);
});

test('TCP_INFO state numbers as Linux\'s: CLOSE (7) fresh, LISTEN (10) with the queue, SYN_SENT (2), CLOSE_WAIT (8), FIN_WAIT1/2, LAST_ACK', async () => {
  const w = world();
  const fresh = tcp(w.c);
  const f = info(w.c, fresh);
  assert.equal(f.tcpi_state, TCP_CLOSE);
  assert.equal(f.tcpi_state, 7);
  assert.equal(f.tcpi_rto, 1_000_000, 'TCP_TIMEOUT_INIT');
  assert.equal(f.tcpi_snd_mss, 536);
  assert.equal(f.tcpi_snd_cwnd, 10);
  const l = listener(w, 80, false, 16);
  const li = info(w.s, l);
  assert.equal(li.tcpi_state, TCP_LISTEN);
  assert.equal(li.tcpi_state, 10);
  assert.equal(li.tcpi_sacked, 16, 'the backlog');
  assert.equal(li.tcpi_unacked, 0, 'the accept queue');
  const big = tcp(w.s);
  ok(w.s.listen(big, -1));
  assert.equal(info(w.s, big).tcpi_sacked, 4096, 'a negative backlog is (unsigned) above somaxconn: somaxconn');
  const fd = tcp(w.c, true);
  w.c.begin.connect(fd, { addr: SERVER, port: 80 });
  const ss = info(w.c, fd);
  assert.equal(ss.tcpi_state, TCP_SYN_SENT);
  assert.equal(ss.tcpi_unacked, 1, 'the SYN');
  assert.equal(ss.tcpi_rto, 1_000_000);
  await run(w, 3 * LAT);
  assert.equal(info(w.s, l).tcpi_unacked, 1, 'one connection waits for accept()');
  const sfd = ok(await w.s.accept(l)).ret;
  ok(w.s.shutdown(sfd, SHUT_WR));
  assert.equal(info(w.s, sfd).tcpi_state, TCP_FIN_WAIT1);
  await run(w, LAT);
  assert.equal(info(w.c, fd).tcpi_state, TCP_CLOSE_WAIT);
  assert.equal(info(w.c, fd).tcpi_state, 8);
  await run(w, 100_000);
  assert.equal(info(w.s, sfd).tcpi_state, TCP_FIN_WAIT2);
  ok(w.c.shutdown(fd, SHUT_WR));
  assert.equal(info(w.c, fd).tcpi_state, TCP_LAST_ACK);
  await run(w, 2 * LAT);
  assert.equal(info(w.c, fd).tcpi_state, TCP_CLOSE);
  assert.equal(info(w.s, sfd).tcpi_state, TCP_CLOSE, 'TIME_WAIT belongs to a minisock; the socket is CLOSE');
});

test('TCP_INFO during a retransmission timeout: retransmits, backoff, total_retrans, ca_state Loss, cwnd 1; tcpi_rto doubled', async () => {
  // The RTO itself: with the tail loss probe on (tcp_early_retrans 3), the first firing would be
  // a probe (one packet out: 2 x SRTT + 200 ms, capped by the RTO), which leaves ca_state Open.
  const w = world({ client: { tcp_early_retrans: 0 } });
  const { cfd } = await established(w);
  w.net.addFilter((p) => (p.to === 'server' ? null : 'pass'));
  const t0 = w.net.now;
  ok(await w.c.write(cfd, 'lost'));
  await w.driver.runUntil(() => false, t0 + 204_000 + 1);
  const i = info(w.c, cfd);
  assert.equal(i.tcpi_retransmits, 1);
  assert.equal(i.tcpi_backoff, 1);
  assert.equal(i.tcpi_total_retrans, 1);
  assert.equal(i.tcpi_ca_state, TCP_CA_Loss);
  assert.equal(i.tcpi_snd_cwnd, 1);
  assert.equal(i.tcpi_unacked, 1);
  assert.equal(i.tcpi_bytes_retrans, 4);
  // tcp_retransmit_timer doubles icsk_rto itself (observed on 6.18: tcpi_rto 200000 -> 400000 ->
  // 800000 with tcpi_backoff 0 -> 1 -> 2, docs/experiments/d01_drill_checks.py case d).
  assert.equal(i.tcpi_rto, 408_000, 'icsk_rto << backoff');
});

test('TCP_INFO tcpi_probes counts unanswered keepalive probes', async () => {
  const w = world();
  const { cfd } = await established(w);
  ok(w.c.setsockopt(cfd, SOL_SOCKET, SO_KEEPALIVE, 1));
  ok(w.c.setsockopt(cfd, IPPROTO_TCP, TCP_KEEPIDLE, 5));
  ok(w.c.setsockopt(cfd, IPPROTO_TCP, TCP_KEEPINTVL, 1));
  w.net.addFilter((p) => (p.to === 'server' ? null : 'pass'));
  await w.driver.runUntil(() => false, 2 * LAT + 6_500_000);
  assert.equal(info(w.c, cfd).tcpi_probes, 2);
});

test('ioctl: SIOCINQ/FIONREAD unread bytes, SIOCOUTQ unacknowledged bytes (the FIN counts), SIOCOUTQNSD unsent, EINVAL on a listener, ENOTTY', async () => {
  const w = world();
  const { cfd, sfd, lfd } = await established(w);
  assert.equal(ok(w.s.ioctl(sfd, FIONREAD)).value, 0);
  ok(await w.c.write(cfd, bytes(1000)));
  await run(w, LAT);
  assert.equal(ok(w.s.ioctl(sfd, SIOCINQ)).value, 1000);
  ok(await w.s.read(sfd, 400));
  assert.equal(ok(w.s.ioctl(sfd, FIONREAD)).value, 600);
  await run(w, 100_000);
  assert.equal(ok(w.c.ioctl(cfd, SIOCOUTQ)).value, 0, 'all acknowledged');
  // The peer goes silent: what we write stays unacknowledged, the FIN too.
  w.net.addFilter((p) => (p.to === 'server' ? null : 'pass'));
  ok(await w.c.write(cfd, bytes(300)));
  assert.equal(ok(w.c.ioctl(cfd, SIOCOUTQ)).value, 300);
  assert.equal(ok(w.c.ioctl(cfd, SIOCOUTQNSD)).value, 0, 'sent, not acknowledged');
  ok(w.c.shutdown(cfd, SHUT_WR));
  assert.equal(ok(w.c.ioctl(cfd, SIOCOUTQ)).value, 301, 'write_seq includes the FIN');
  assert.equal(errno(w.s.ioctl(lfd, SIOCINQ)), 'EINVAL');
  assert.equal(errno(w.s.ioctl(sfd, 0x1234)), 'ENOTTY');
  assert.equal(errno(w.s.ioctl(1, FIONREAD)), 'ENOTTY', 'stdout stand-in');
  assert.equal(ok(w.s.ioctl(sfd, FIONBIO, 1)).ret, 0);
  assert.equal(ok(w.s.begin.read(sfd, 1000).result!).ret, 600);
  assert.equal(errno(w.s.begin.read(sfd, 1000).result!), 'EAGAIN', 'FIONBIO made it non-blocking');
  const fresh = ok(w.s.socket(AF_INET6, SOCK_STREAM, 0)).ret;
  assert.equal(ok(w.s.ioctl(fresh, SIOCOUTQ)).value, 0);
});
