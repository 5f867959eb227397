// The script's system calls made on this machine's kernel, shaped as the BSD call layer shapes
// linger's (results, not exceptions: { ret, errno }). Calls that cannot block run on the main
// thread; those that may (accept, connect, read, write, close, poll) run on the call pool's
// threads and come back as Calls the runner polls, exactly as linger's blocked calls do.
// Only descriptors the script opened reach the kernel: any other number is EBADF here, so a
// script can never touch the runner's own descriptors.

import { BLOCKED, Call } from '../../bsd/call.ts';
import * as K from '../../bsd/constants.ts';
import type { TcpInfo } from '../../bsd/tcpinfo.ts';
import {
  isNullBuffer, type AddrRet, type BeginCalls, type Linger, type NullBuffer, type OptRet, type PollFd, type PollRet, type ReadRet, type Ret, type SetOptValue, type SockAddr, type SysError, type Timeval,
  type ValueRet,
} from '../../bsd/types.ts';
import type { ScriptSyscalls } from '../syscalls.ts';
import type { CallPool, PoolCall, PoolResult } from './pool.ts';
import {
  cmsgInq, decodeSockaddr, decodeTcpInfo, encodeInt, encodeLinger, encodeSockaddr, encodeTimeval, errno, errnoLabel, lib, SOCKADDR_MAX,
} from './libc.ts';

const CONTROL_MAX = 64;
const TCP_INFO_MAX = 512;

type EpollRet = Ret<{ events: Array<{ events: number; data: number }> }>;

const sysErr = (n: number): SysError => ({ ret: -1, errno: errnoLabel(n) as K.Errno, errnum: n });
const ebadf = (): SysError => sysErr(K.BSD_ERRNO.EBADF);

/** A result from a return value and this thread's errno. */
function ret(r: number): Ret {
  return r < 0 ? sysErr(errno()) : { ret: r };
}

/** A read's result with no data. */
function r0(r: number): ReadRet {
  return r < 0 ? sysErr(errno()) : { ret: r, data: new Uint8Array(0) };
}

export class KernelSyscalls implements ScriptSyscalls {
  readonly begin: BeginCalls;
  /** Descriptors the script opened (and has not closed). */
  private readonly own = new Set<number>();
  /** A congestion control every new TCP socket is given (the suite's tcp_congestion_control). */
  congestionControl: string | null = null;

  /**
   * @param clock host time now (µs)
   * @param hostTime a process.hrtime.bigint() stamp in host time (µs): when a pool call returned
   */
  constructor(private readonly pool: CallPool, private readonly clock: () => number, private readonly hostTime: (hr: bigint) => number) {
    this.begin = {
      connect: (fd, addr) => this.connect(fd, addr),
      accept: (fd) => this.accept(fd, 0),
      accept4: (fd, flags) => this.accept(fd, flags),
      read: (fd, count) => this.recv(fd, count, 0, 'read'),
      recv: (fd, count, flags = 0) => this.recv(fd, count, flags, 'recv'),
      write: (fd, data) => this.send(fd, data, 0, 'write'),
      send: (fd, data, flags = 0) => this.send(fd, data, flags, 'send'),
      close: (fd) => this.close(fd),
      poll: (fds, timeoutMs) => this.poll(fds, timeoutMs),
    };
  }

  // A call that may block is first tried on the main thread where that cannot block (the socket
  // is non-blocking, poll() says it is ready, or MSG_DONTWAIT), and goes to a pool thread only
  // when it would sleep: a thread hop costs a wake-up, which on a busy machine can be late by
  // more than a script's 4 ms tolerance.

  private done<R>(name: string, r: R): Call<R> {
    return Call.done(name, this.clock, r);
  }

  /** The call on a pool thread; `read` shapes its result (the worker's errno is put back). */
  private onPool<R extends Ret>(name: string, call: PoolCall, args: Array<number | Uint8Array | null>, read: (r: PoolResult) => R, failed?: (r: PoolResult) => R): Call<R> {
    const id = this.pool.submit(call, args);
    // The call returned when its thread says it did (see worker.mjs), not when this thread saw it.
    let returnedAt: number | null = null;
    const clock = (): number => returnedAt ?? this.clock();
    const attempt = (): R | typeof BLOCKED => {
      this.pool.collect();
      const r = this.pool.result(id);
      if (!r) return BLOCKED;
      if (r.at !== undefined) returnedAt = this.hostTime(r.at);
      if (r.error) throw new Error(`${name}() on the kernel: ${r.error}`);
      if (r.ret < 0) return failed ? failed(r) : (sysErr(r.errno) as R);
      return read(r);
    };
    return new Call<R>(name, clock, attempt, () => { throw new Error(`${name}() has no deadline on the kernel`); }, Infinity);
  }

  private nonBlocking(fd: number): boolean {
    return (lib().fcntl(fd, K.F_GETFL, 'int', 0) & K.O_NONBLOCK) !== 0;
  }

  private connect(fd: number, addr: SockAddr): Call<Ret> {
    if (!this.own.has(fd)) return this.done<Ret>('connect', ebadf());
    const sa = encodeSockaddr(addr);
    if (this.nonBlocking(fd)) return this.done<Ret>('connect', ret(lib().connect(fd, sa, sa.length)));
    // SO_SNDTIMEO bounds a blocking connect (inet_stream_connect): the kernel's own wait.
    const tv = new Uint8Array(16);
    lib().getsockopt(fd, K.SOL_SOCKET, K.SO_SNDTIMEO, tv, encodeInt(16));
    if (tv.some((b) => b !== 0)) return this.onPool<Ret>('connect', 'connect', [fd, sa, sa.length], (r) => ({ ret: r.ret }));
    // The SYN leaves from here at once (connect with O_NONBLOCK for a moment); a pool thread
    // sleeps until the handshake ends and returns what the blocking connect() would.
    const fl = lib().fcntl(fd, K.F_GETFL, 'int', 0);
    lib().fcntl(fd, K.F_SETFL, 'int', fl | K.O_NONBLOCK);
    const r = lib().connect(fd, sa, sa.length);
    const e = r < 0 ? errno() : 0;
    lib().fcntl(fd, K.F_SETFL, 'int', fl);
    if (r === 0 || e !== K.BSD_ERRNO.EINPROGRESS) return this.done<Ret>('connect', r < 0 ? sysErr(e) : { ret: 0 });
    return this.onPool<Ret>('connect', 'connectWait', [fd], (x) => ({ ret: x.ret }));
  }

  private accept(fd: number, flags: number): Call<AddrRet> {
    if (!this.own.has(fd)) return this.done<AddrRet>('accept', ebadf());
    const sa = new Uint8Array(SOCKADDR_MAX);
    const got = (newFd: number, addr: Uint8Array): AddrRet => {
      this.own.add(newFd);
      return { ret: newFd, addr: decodeSockaddr(addr) };
    };
    if (this.nonBlocking(fd) || this.revents({ fd, events: K.POLLIN })) {
      const r = lib().accept4(fd, sa, encodeInt(SOCKADDR_MAX), flags);
      return this.done<AddrRet>('accept', r < 0 ? sysErr(errno()) : got(r, sa));
    }
    return this.onPool<AddrRet>('accept', 'accept4', [fd, sa, encodeInt(SOCKADDR_MAX), flags], (r) => got(r.ret, r.bufs[0]!));
  }

  /** read/recv/recvmsg as recvmsg() with room for a control message (TCP_INQ's TCP_CM_INQ); a NullBuffer is NULL. */
  private recv(fd: number, buf: number | NullBuffer, flags: number, name: 'read' | 'recv'): Call<ReadRet> {
    if (!this.own.has(fd)) return this.done<ReadRet>(name, ebadf());
    const nul = isNullBuffer(buf);
    const count = nul ? buf.length : buf;
    const data = nul ? null : new Uint8Array(Math.max(count, 0));
    // read() of 0 bytes returns 0 in sock_read_iter, before recvmsg's path: the real read().
    if (name === 'read' && count === 0) return this.done<ReadRet>(name, r0(lib().read(fd, data, 0)));
    const ctl = new Uint8Array(CONTROL_MAX);
    const got = (n: number, into: Uint8Array | null, control: Uint8Array, controlLen: number): ReadRet => {
      const inq = cmsgInq(control, controlLen);
      return { ret: n, data: into ? into.subarray(0, n) : new Uint8Array(0), ...(inq !== undefined ? { inq } : {}) };
    };
    const waitAll = (flags & K.MSG_WAITALL) !== 0;
    if (!waitAll || this.nonBlocking(fd) || (flags & K.MSG_DONTWAIT)) {
      const r = lib().recvmsg(fd, data, count, ctl, flags | K.MSG_DONTWAIT);
      const e = r.ret < 0 ? errno() : 0;
      if (r.ret >= 0 || e !== K.BSD_ERRNO.EAGAIN || this.nonBlocking(fd) || (flags & K.MSG_DONTWAIT)) {
        return this.done<ReadRet>(name, r.ret < 0 ? sysErr(e) : got(r.ret, data, ctl, r.controllen));
      }
    }
    // The worker hands back the buffers it was given, NULL left out.
    return this.onPool<ReadRet>(name, 'recvmsg', [fd, data, count, ctl, flags], (r) => (nul ? got(r.ret, null, r.bufs[0]!, r.extra ?? 0) : got(r.ret, r.bufs[0]!, r.bufs[1]!, r.extra ?? 0)));
  }

  private send(fd: number, data: Uint8Array | string | NullBuffer, flags: number, name: 'write' | 'send'): Call<Ret> {
    if (!this.own.has(fd)) return this.done<Ret>(name, ebadf());
    const nul = isNullBuffer(data);
    const bytes = nul ? null : typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const len = nul ? data.length : bytes!.length;
    flags |= K.MSG_NOSIGNAL;
    const r = lib().send(fd, bytes, len, flags | K.MSG_DONTWAIT);
    const e = r < 0 ? errno() : 0;
    const final = this.nonBlocking(fd) || (flags & K.MSG_DONTWAIT) !== 0;
    if (r === len || final || (r < 0 && e !== K.BSD_ERRNO.EAGAIN)) return this.done<Ret>(name, r < 0 ? sysErr(e) : { ret: r });
    // A blocking send sleeps until all of it is queued: the rest, on a pool thread. If that
    // fails after part was sent, the call returns the part (tcp_sendmsg: copied ?: err).
    const sent = Math.max(r, 0);
    const rest = bytes ? bytes.subarray(sent) : null;
    return this.onPool<Ret>(name, 'send', [fd, rest, len - sent, flags], (x) => ({ ret: sent + x.ret }), (x) => (sent ? { ret: sent } : sysErr(x.errno)));
  }

  private close(fd: number): Call<Ret> {
    if (!this.own.has(fd)) return this.done<Ret>('close', ebadf());
    this.own.delete(fd);
    // close() sleeps only with SO_LINGER on and a timeout (tcp_close: sk_stream_wait_close).
    const lg = new Uint8Array(8);
    const ok = lib().getsockopt(fd, K.SOL_SOCKET, K.SO_LINGER, lg, encodeInt(8)) === 0;
    const v = new DataView(lg.buffer);
    if (!ok || !v.getInt32(0, true) || !v.getInt32(4, true) || this.nonBlocking(fd)) return this.done<Ret>('close', ret(lib().close(fd)));
    return this.onPool<Ret>('close', 'close', [fd], (r) => ({ ret: r.ret }));
  }

  private poll(fds: PollFd[], timeoutMs: number): Call<PollRet> {
    const read = (out: DataView): PollRet => {
      fds.forEach((p, i) => {
        p.revents = this.own.has(p.fd) || p.fd < 0 ? out.getUint16(i * 8 + 6, true) : K.POLLNVAL;
      });
      return { ret: fds.filter((p) => p.revents).length, fds };
    };
    const buf = new Uint8Array(8 * fds.length);
    const v = new DataView(buf.buffer);
    fds.forEach((p, i) => {
      // A descriptor that is not the script's is passed as -1 and reported POLLNVAL, as an unopened one would be.
      v.setInt32(i * 8, this.own.has(p.fd) ? p.fd : -1, true);
      v.setInt16(i * 8 + 4, p.events, true);
    });
    const now = lib().poll(buf, fds.length, 0);
    if (now < 0) return this.done<PollRet>('poll', sysErr(errno()));
    const first = read(v);
    if (first.ret || timeoutMs === 0) return this.done<PollRet>('poll', first);
    return this.onPool<PollRet>('poll', 'poll', [buf, fds.length, timeoutMs], (r) => read(new DataView(r.bufs[0]!.buffer, r.bufs[0]!.byteOffset)));
  }

  // ---- the calls that do not block ----

  socket(domain: number, type: number, protocol = 0): Ret {
    const r = ret(lib().socket(domain, type, protocol));
    if (r.errno !== undefined) return r;
    this.own.add(r.ret);
    const tcp = (type & K.SOCK_TYPE_MASK) === K.SOCK_STREAM && (protocol === 0 || protocol === K.IPPROTO_TCP);
    if (tcp && this.congestionControl) {
      const name = new TextEncoder().encode(this.congestionControl);
      if (lib().setsockopt(r.ret, K.SOL_TCP, K.TCP_CONGESTION, name, name.length) < 0) {
        throw new Error(`setsockopt(TCP_CONGESTION, "${this.congestionControl}") failed: ${errnoLabel(errno())} (is the module available? /proc/sys/net/ipv4/tcp_available_congestion_control)`);
      }
    }
    return r;
  }

  bind(fd: number, addr: SockAddr): Ret {
    if (!this.own.has(fd)) return ebadf();
    const sa = encodeSockaddr(addr);
    return ret(lib().bind(fd, sa, sa.length));
  }

  listen(fd: number, backlog: number): Ret {
    return this.own.has(fd) ? ret(lib().listen(fd, backlog)) : ebadf();
  }

  shutdown(fd: number, how: number): Ret {
    return this.own.has(fd) ? ret(lib().shutdown(fd, how)) : ebadf();
  }

  dup(fd: number): Ret {
    if (!this.own.has(fd)) return ebadf();
    const r = ret(lib().dup(fd));
    if (r.errno === undefined) this.own.add(r.ret);
    return r;
  }

  /**
   * dup2 onto a number the script has not opened gets a fresh descriptor instead (the runner maps
   * the script's number to it): the numbers below are the runner's own in this process.
   */
  dup2(oldFd: number, newFd: number): Ret {
    if (!this.own.has(oldFd)) return ebadf();
    if (!this.own.has(newFd)) return this.dup(oldFd);
    return ret(lib().dup2(oldFd, newFd));
  }

  readonly epoll = {
    ctl: (epfd: number, op: number, fd: number, events: number, data: number): Ret => {
      if (!this.own.has(epfd) || !this.own.has(fd)) return ebadf();
      const ev = new Uint8Array(12); // struct epoll_event, packed on x86-64
      const v = new DataView(ev.buffer);
      v.setUint32(0, events >>> 0, true);
      v.setBigUint64(4, BigInt(data >>> 0), true);
      return ret(lib().epoll_ctl(epfd, op, fd, ev));
    },
    wait: (epfd: number, max: number, timeoutMs: number): Call<EpollRet> => {
      if (!this.own.has(epfd)) return this.done<EpollRet>('epoll_wait', ebadf());
      const buf = new Uint8Array(12 * Math.max(1, max));
      const read = (n: number, b: Uint8Array): EpollRet => {
        const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
        const events = Array.from({ length: n }, (_, i) => ({ events: v.getUint32(i * 12, true), data: Number(v.getBigUint64(i * 12 + 4, true)) }));
        return { ret: n, events };
      };
      const now = lib().epoll_wait(epfd, buf, max, 0);
      if (now < 0) return this.done<EpollRet>('epoll_wait', sysErr(errno()));
      if (now > 0 || timeoutMs === 0) return this.done<EpollRet>('epoll_wait', read(now, buf));
      return this.onPool<EpollRet>('epoll_wait', 'epoll_wait', [epfd, buf, max, timeoutMs], (r) => read(r.ret, r.bufs[0]!));
    },
  };

  epollFd(): Ret {
    const r = ret(lib().epoll_create1(K.SOCK_CLOEXEC));
    if (r.errno === undefined) this.own.add(r.ret);
    return r;
  }

  fcntl(fd: number, cmd: number, arg = 0): Ret {
    if (!this.own.has(fd)) return ebadf();
    const r = ret(lib().fcntl(fd, cmd, 'int', arg));
    if (r.errno === undefined && (cmd === K.F_DUPFD || cmd === K.F_DUPFD_CLOEXEC)) this.own.add(r.ret);
    return r;
  }

  ioctl(fd: number, request: number, arg = 0): ValueRet {
    if (!this.own.has(fd)) return ebadf();
    const b = encodeInt(arg);
    const r = lib().ioctl(fd, request, b);
    if (r < 0) return sysErr(errno());
    return { ret: r, value: new DataView(b.buffer).getInt32(0, true) };
  }

  setsockopt(fd: number, level: number, optname: number, value: SetOptValue): Ret {
    if (!this.own.has(fd)) return ebadf();
    let b: Uint8Array;
    if (typeof value === 'string') {
      // The bytes as the option's buffer (optlen their length), NUL-terminated past it.
      const bytes = new TextEncoder().encode(value);
      b = new Uint8Array(bytes.length + 1);
      b.set(bytes);
      return ret(lib().setsockopt(fd, level, optname, b, bytes.length));
    }
    if (typeof value === 'number' || typeof value === 'boolean') b = encodeInt(Number(value));
    else if ('tv_sec' in value) b = encodeTimeval(value);
    else if ('l_onoff' in value) b = encodeLinger(value);
    else b = encodeLinger({ l_onoff: value.onoff, l_linger: value.linger });
    return ret(lib().setsockopt(fd, level, optname, b, b.length));
  }

  getsockopt(fd: number, level: number, optname: number): OptRet {
    if (!this.own.has(fd)) return ebadf();
    const info = level === K.SOL_TCP && optname === K.TCP_INFO;
    const b = new Uint8Array(info ? TCP_INFO_MAX : 16);
    const len = encodeInt(b.length);
    const r = lib().getsockopt(fd, level, optname, b, len);
    if (r < 0) return sysErr(errno());
    const optlen = new DataView(len.buffer).getInt32(0, true);
    const v = new DataView(b.buffer);
    if (info) return { ret: 0, value: decodeTcpInfo(b, optlen), optlen };
    if (level === K.SOL_TCP && optname === K.TCP_CONGESTION) {
      const end = b.subarray(0, optlen).indexOf(0);
      return { ret: 0, value: new TextDecoder().decode(b.subarray(0, end < 0 ? optlen : end)), optlen };
    }
    if (level === K.SOL_SOCKET && optname === K.SO_LINGER) {
      return { ret: 0, value: { l_onoff: v.getInt32(0, true), l_linger: v.getInt32(4, true) } satisfies Linger, optlen };
    }
    if (level === K.SOL_SOCKET && (optname === K.SO_RCVTIMEO || optname === K.SO_SNDTIMEO)) {
      return { ret: 0, value: { tv_sec: Number(v.getBigInt64(0, true)), tv_usec: Number(v.getBigInt64(8, true)) } satisfies Timeval, optlen };
    }
    return { ret: 0, value: v.getInt32(0, true), optlen };
  }

  private name(fd: number, peer: boolean): AddrRet {
    if (!this.own.has(fd)) return ebadf();
    const sa = new Uint8Array(SOCKADDR_MAX);
    const r = (peer ? lib().getpeername : lib().getsockname)(fd, sa, encodeInt(SOCKADDR_MAX));
    return r < 0 ? sysErr(errno()) : { ret: 0, addr: decodeSockaddr(sa) };
  }

  getsockname(fd: number): AddrRet {
    return this.name(fd, false);
  }

  getpeername(fd: number): AddrRet {
    return this.name(fd, true);
  }

  tcpInfo(fd: number): TcpInfo | SysError {
    const r = this.getsockopt(fd, K.SOL_TCP, K.TCP_INFO);
    return r.errno !== undefined ? r : (r.value as TcpInfo);
  }

  revents(pfd: PollFd): number {
    if (!this.own.has(pfd.fd)) return K.POLLNVAL;
    const b = new Uint8Array(8);
    const v = new DataView(b.buffer);
    v.setInt32(0, pfd.fd, true);
    v.setInt16(4, pfd.events, true);
    return lib().poll(b, 1, 0) < 0 ? 0 : v.getUint16(6, true);
  }

  isSocket(fd: number): boolean {
    return this.own.has(fd);
  }

  /**
   * After the script: every socket it left open is shut down (which wakes a call still blocked
   * on it) and closed.
   */
  closeAll(): void {
    for (const fd of this.own) lib().shutdown(fd, K.SHUT_RDWR);
    for (const fd of this.own) lib().close(fd);
    this.own.clear();
  }
}
