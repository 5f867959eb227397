// The C library calls the kernel runner makes on the main thread (koffi: nothing is compiled at
// install time), and the structs it passes: sockaddr_in/sockaddr_in6, struct linger, struct
// timeval, struct pollfd and struct tcp_info (include/uapi/linux/tcp.h, x86-64 layout).

import koffi from 'koffi';
import * as K from '../../bsd/constants.ts';
import type { TcpInfo } from '../../bsd/tcpinfo.ts';
import type { Linger, SockAddr, SockAddrOut, Timeval } from '../../bsd/types.ts';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../../wire/addr.ts';

type Fn = (...args: unknown[]) => number;

export interface Libc {
  socket: Fn; bind: Fn; connect: Fn; accept4: Fn; recv: Fn; send: Fn; listen: Fn; shutdown: Fn; close: Fn; dup: Fn; dup2: Fn;
  setsockopt: Fn; getsockopt: Fn; getsockname: Fn; getpeername: Fn;
  fcntl: Fn; ioctl: Fn; poll: Fn; ppoll: Fn;
  open: Fn; read: Fn; write: Fn; eventfd: Fn; unshare: Fn; prctl: Fn; epoll_create1: Fn; epoll_ctl: Fn; epoll_wait: Fn;
  strerror: (n: number) => string;
  /** recvmsg() into one buffer (null: NULL) with a control buffer: the count, and the control length filled. */
  recvmsg(fd: number, buf: Uint8Array | null, count: number, ctl: Uint8Array, flags: number): { ret: number; controllen: number };
}

let libc: Libc | null = null;

/** libc.so.6's functions, loaded once. */
export function lib(): Libc {
  if (libc) return libc;
  const l = koffi.load('libc.so.6');
  const f = (decl: string): Fn => l.func(decl) as Fn;
  const iovec = koffi.struct('linger_iovec', { base: 'void *', len: 'size_t' });
  koffi.struct('linger_msghdr', {
    name: 'void *', namelen: 'uint32', iov: koffi.pointer(iovec), iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int',
  });
  const recvmsg = f('long recvmsg(int fd, _Inout_ linger_msghdr *msg, int flags)');
  libc = {
    recvmsg: (fd, buf, count, ctl, flags) => {
      const m = { name: null, namelen: 0, iov: [{ base: buf, len: count }], iovlen: 1, control: ctl, controllen: ctl.length, flags: 0 };
      const ret = recvmsg(fd, m, flags);
      return { ret, controllen: Number(m.controllen) };
    },
    socket: f('int socket(int domain, int type, int protocol)'),
    bind: f('int bind(int fd, const void *addr, uint32_t len)'),
    connect: f('int connect(int fd, const void *addr, uint32_t len)'),
    accept4: f('int accept4(int fd, void *addr, void *len, int flags)'),
    recv: f('long recv(int fd, void *buf, unsigned long n, int flags)'),
    send: f('long send(int fd, const void *buf, unsigned long n, int flags)'),
    listen: f('int listen(int fd, int backlog)'),
    shutdown: f('int shutdown(int fd, int how)'),
    close: f('int close(int fd)'),
    dup: f('int dup(int fd)'),
    dup2: f('int dup2(int oldfd, int newfd)'),
    setsockopt: f('int setsockopt(int fd, int level, int name, const void *val, uint32_t len)'),
    getsockopt: f('int getsockopt(int fd, int level, int name, void *val, void *len)'),
    getsockname: f('int getsockname(int fd, void *addr, void *len)'),
    getpeername: f('int getpeername(int fd, void *addr, void *len)'),
    fcntl: f('int fcntl(int fd, int cmd, ...)'),
    ioctl: f('int ioctl(int fd, unsigned long req, void *arg)'),
    poll: f('int poll(void *fds, unsigned long n, int timeout)'),
    ppoll: f('int ppoll(void *fds, unsigned long n, const void *ts, const void *sigmask)'),
    open: f('int open(const char *path, int flags)'),
    read: f('long read(int fd, void *buf, unsigned long n)'),
    write: f('long write(int fd, const void *buf, unsigned long n)'),
    eventfd: f('int eventfd(unsigned int initval, int flags)'),
    unshare: f('int unshare(int flags)'),
    prctl: f('int prctl(int option, unsigned long arg2, unsigned long arg3, unsigned long arg4, unsigned long arg5)'),
    epoll_create1: f('int epoll_create1(int flags)'),
    epoll_ctl: f('int epoll_ctl(int epfd, int op, int fd, void *event)'),
    epoll_wait: f('int epoll_wait(int epfd, void *events, int max, int timeout)'),
    strerror: l.func('const char *strerror(int errnum)') as (n: number) => string,
  };
  return libc;
}

/** errno of the last call made on this thread. */
export const errno = (): number => koffi.errno();

const SOL_TCP = 6;
const TCP_CM_INQ = 36;

/** The TCP_CM_INQ control message's value in a control buffer of `len` bytes, if there is one. */
export function cmsgInq(ctl: Uint8Array, len: number): number | undefined {
  const v = new DataView(ctl.buffer, ctl.byteOffset, ctl.byteLength);
  // struct cmsghdr { size_t cmsg_len; int cmsg_level; int cmsg_type; } + data, 8-byte aligned.
  for (let off = 0; off + 16 <= len;) {
    const clen = Number(v.getBigUint64(off, true));
    if (clen < 16) break;
    if (v.getInt32(off + 8, true) === SOL_TCP && v.getInt32(off + 12, true) === TCP_CM_INQ && clen >= 20) return v.getInt32(off + 16, true);
    off += Math.ceil(clen / 8) * 8;
  }
  return undefined;
}

/** An errno number as its name (EAGAIN ...). */
export const errnoLabel = (n: number): string => K.errnoName(n) ?? `E${n}`;

// ---- socket addresses ----

export const SOCKADDR_MAX = 28; // sizeof(struct sockaddr_in6)

/** sockaddr_in or sockaddr_in6 for an address as the call layer passes it. */
export function encodeSockaddr(a: SockAddr): Uint8Array {
  const fam = a.family ?? (a.addr.includes(':') ? K.AF_INET6 : K.AF_INET);
  if (fam === K.AF_INET) {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setUint16(0, K.AF_INET, true);
    v.setUint16(2, a.port);
    const ip = parseIpv4(a.addr || '0.0.0.0');
    if (!ip.ok) throw new Error(`not an IPv4 address: ${a.addr}`);
    b.set(ip.value, 4);
    return b;
  }
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  v.setUint16(0, K.AF_INET6, true);
  v.setUint16(2, a.port);
  const addr = a.addr || '::';
  const ip = addr.includes(':') ? parseIpv6(addr) : parseIpv6(`::ffff:${addr}`);
  if (!ip.ok) throw new Error(`not an IPv6 address: ${a.addr}`);
  b.set(ip.value, 8);
  return b;
}

export function decodeSockaddr(b: Uint8Array): SockAddrOut {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const family = v.getUint16(0, true);
  const port = v.getUint16(2);
  if (family === K.AF_INET) return { family, port, addr: formatIpv4(b, 4) };
  if (family === K.AF_INET6) return { family, port, addr: formatIpv6(b, 8) };
  return { family, port, addr: '' };
}

// ---- option values ----

export function encodeLinger(l: Linger): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setInt32(0, l.l_onoff, true);
  v.setInt32(4, l.l_linger, true);
  return b;
}

export function encodeTimeval(t: Timeval): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setBigInt64(0, BigInt(t.tv_sec), true);
  v.setBigInt64(8, BigInt(t.tv_usec), true);
  return b;
}

export function encodeInt(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n, true);
  return b;
}

/** struct tcp_info's fields in order with their sizes (bytes); the two packed bytes are split below. */
const TCP_INFO_LAYOUT: Array<[keyof TcpInfo, 1 | 2 | 4 | 8]> = [
  ['tcpi_state', 1], ['tcpi_ca_state', 1], ['tcpi_retransmits', 1], ['tcpi_probes', 1], ['tcpi_backoff', 1], ['tcpi_options', 1],
  ['tcpi_snd_wscale', 1], ['tcpi_delivery_rate_app_limited', 1],
  ['tcpi_rto', 4], ['tcpi_ato', 4], ['tcpi_snd_mss', 4], ['tcpi_rcv_mss', 4], ['tcpi_unacked', 4], ['tcpi_sacked', 4],
  ['tcpi_lost', 4], ['tcpi_retrans', 4], ['tcpi_fackets', 4],
  ['tcpi_last_data_sent', 4], ['tcpi_last_ack_sent', 4], ['tcpi_last_data_recv', 4], ['tcpi_last_ack_recv', 4],
  ['tcpi_pmtu', 4], ['tcpi_rcv_ssthresh', 4], ['tcpi_rtt', 4], ['tcpi_rttvar', 4], ['tcpi_snd_ssthresh', 4],
  ['tcpi_snd_cwnd', 4], ['tcpi_advmss', 4], ['tcpi_reordering', 4], ['tcpi_rcv_rtt', 4], ['tcpi_rcv_space', 4],
  ['tcpi_total_retrans', 4],
  ['tcpi_pacing_rate', 8], ['tcpi_max_pacing_rate', 8], ['tcpi_bytes_acked', 8], ['tcpi_bytes_received', 8],
  ['tcpi_segs_out', 4], ['tcpi_segs_in', 4], ['tcpi_notsent_bytes', 4], ['tcpi_min_rtt', 4], ['tcpi_data_segs_in', 4],
  ['tcpi_data_segs_out', 4],
  ['tcpi_delivery_rate', 8], ['tcpi_busy_time', 8], ['tcpi_rwnd_limited', 8], ['tcpi_sndbuf_limited', 8],
  ['tcpi_delivered', 4], ['tcpi_delivered_ce', 4], ['tcpi_bytes_sent', 8], ['tcpi_bytes_retrans', 8],
  ['tcpi_dsack_dups', 4], ['tcpi_reord_seen', 4], ['tcpi_rcv_ooopack', 4], ['tcpi_snd_wnd', 4], ['tcpi_rcv_wnd', 4],
  ['tcpi_rehash', 4], ['tcpi_total_rto', 2], ['tcpi_total_rto_recoveries', 2], ['tcpi_total_rto_time', 4],
];

/** struct tcp_info as the kernel filled it (fields past `len` read as 0, as an older kernel leaves them). */
export function decodeTcpInfo(b: Uint8Array, len: number): TcpInfo {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Record<string, number> = {};
  let off = 0;
  for (const [name, size] of TCP_INFO_LAYOUT) {
    off = Math.ceil(off / size) * size;
    const have = off + size <= len;
    out[name] = !have ? 0 : size === 1 ? v.getUint8(off) : size === 2 ? v.getUint16(off, true) : size === 4 ? v.getUint32(off, true) : Number(v.getBigUint64(off, true));
    off += size;
  }
  // __u8 tcpi_snd_wscale : 4, tcpi_rcv_wscale : 4; __u8 app_limited : 1, fastopen_client_fail : 2.
  const ws = out.tcpi_snd_wscale!;
  out.tcpi_snd_wscale = ws & 0xf;
  out.tcpi_rcv_wscale = ws >> 4;
  const bits = out.tcpi_delivery_rate_app_limited!;
  out.tcpi_delivery_rate_app_limited = bits & 1;
  out.tcpi_fastopen_client_fail = (bits >> 1) & 3;
  return out as unknown as TcpInfo;
}
