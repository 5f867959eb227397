// A BSD-style call layer over one linger Host: file descriptors and the socket calls a C
// program (or a packetdrill script) makes, with Linux's return values and errno.
//
// Conventions:
// - Every call returns an object: { ret: n, ... } on success, { ret: -1, errno: 'EAGAIN',
//   errnum: 11 } on failure. Calls never throw for an errno condition; they throw only for
//   programming errors (a TypeError for a wrong JS type, BlockedError when an awaited call
//   can never return).
// - Calls that cannot block are synchronous: socket, bind, listen, shutdown, setsockopt,
//   getsockopt, fcntl, ioctl, dup, dup2, getsockname, getpeername.
// - Calls that may block (connect, accept, accept4, read, recv, write, send, close, poll) come
//   twice: `await sys.read(fd, n)` resolves when the call returns in virtual time (a Driver
//   moves time), and `sys.begin.read(fd, n)` returns a Call at once: done with its result when
//   the call does not block (a non-blocking socket, data already there), else blocked until
//   whoever moves time calls its poll(). No driver is needed for the second form.
// The socket states and decisions follow net/ipv4/af_inet.c (__inet_stream_connect,
// inet_shutdown, inet_listen), net/ipv4/tcp.c (tcp_poll, tcp_recvmsg, tcp_sendmsg, tcp_ioctl,
// tcp_get_info), net/core/sock.c and fs/fcntl.c.

import type { Host } from '../host/host.ts';
import { SocketError } from '../base/errno.ts';
import type { Socket, SockOptName } from '../host/socket.ts';
import { endpoint } from '../base/trace.ts';
import type { TcpConn } from '../tcp/conn.ts';
import { TcpState } from '../tcp/states.ts';
import { formatIpv4, parseIpv4, parseIpv6, formatIpv6 } from '../wire/addr.ts';
import { BLOCKED, BlockedError, Call, type Attempt, type Driver } from './call.ts';
import * as K from './constants.ts';
import { BSD_ERRNO, errnoName, type Errno } from './constants.ts';
import { outq, outqNotSent, tcpInfo, TCP_INFO_SIZE, type TcpInfo } from './tcpinfo.ts';

// ---- Types ----

/** A socket address as passed in: family defaults to the address's (AF_INET for dotted quads). */
export interface SockAddr {
  family?: number;
  addr: string;
  port: number;
}
/** A socket address as returned (accept, getsockname, getpeername). */
export interface SockAddrOut {
  family: number;
  addr: string;
  port: number;
}
/** struct linger; packetdrill's {onoff, linger} spelling is accepted too. */
export interface Linger {
  l_onoff: number;
  l_linger: number;
}
/** struct timeval (SO_RCVTIMEO, SO_SNDTIMEO). */
export interface Timeval {
  tv_sec: number;
  tv_usec: number;
}
/** struct pollfd: poll() writes revents. */
export interface PollFd {
  fd: number;
  events: number;
  revents?: number;
}

export interface SysError {
  ret: -1;
  errno: Errno;
  errnum: number;
}
/** A call's result: `errno` is undefined on success. */
export type Ret<T extends object = object> = (T & { ret: number; errno?: undefined; errnum?: undefined }) | SysError;
export type ReadRet = Ret<{ data: Uint8Array }>;
export type AddrRet = Ret<{ addr: SockAddrOut }>;
export type ValueRet = Ret<{ value: number }>;
export type PollRet = Ret<{ fds: PollFd[] }>;
export type OptValue = number | Linger | Timeval | TcpInfo;
export type OptRet<V = OptValue> = Ret<{ value: V; optlen: number }>;
export type SetOptValue = number | boolean | Linger | { onoff: number; linger: number } | Timeval;

export interface SyscallsOptions {
  /** Moves virtual time for the async API (a NetworkDriver, or src/net/runtime.ts Runtime). */
  driver?: Driver;
  /** RLIMIT_NOFILE: descriptors are 0 .. maxFds-1 (default 1024). */
  maxFds?: number;
  /** Descriptors 0, 1, 2 are taken by stand-ins for stdin/stdout/stderr (default true), so sockets start at 3. */
  stdio?: boolean;
  /** An awaited call still blocked after this much virtual time throws BlockedError (default 24 h). */
  blockLimitUs?: number;
}

/** The calls that may block, in their non-awaiting form. */
export interface BeginCalls {
  connect(fd: number, addr: SockAddr): Call<Ret>;
  accept(fd: number): Call<AddrRet>;
  accept4(fd: number, flags: number): Call<AddrRet>;
  read(fd: number, count: number): Call<ReadRet>;
  recv(fd: number, count: number, flags?: number): Call<ReadRet>;
  write(fd: number, data: Uint8Array | string): Call<Ret>;
  send(fd: number, data: Uint8Array | string, flags?: number): Call<Ret>;
  close(fd: number): Call<Ret>;
  poll(fds: PollFd[], timeoutMs: number): Call<PollRet>;
}

// ---- Open files ----

/** struct socket's state (include/uapi/linux/net.h socket_state). */
type SockState = 'UNCONNECTED' | 'CONNECTING' | 'CONNECTED' | 'DISCONNECTING';

/** An open socket: the struct file (O_NONBLOCK) and struct socket that dup() shares. */
class SockFile {
  nonblock: boolean;
  ss: SockState = 'UNCONNECTED';
  /** sk_shutdown bits set by shutdown() on a socket without a live connection (tcp_poll reads them). */
  shut = 0;
  /**
   * The engine connection was abandoned as tcp_disconnect() does (a failed connect() reported,
   * shutdown() in SYN_SENT): the socket is fresh and unconnected again; only its pending error stays.
   */
  disconnected = false;
  rcvtimeoUs = Infinity;
  sndtimeoUs = Infinity;

  constructor(public sock: Socket, readonly family: 4 | 6, nonblock: boolean) {
    this.nonblock = nonblock;
  }

  /** The live connection, or null (fresh, listening or disconnected socket). */
  get conn(): TcpConn | null {
    return this.disconnected ? null : this.sock.conn;
  }
}

/** fds 0-2: the process's stdin/stdout/stderr, which are not sockets. */
class StdioFile {
  constructor(readonly n: number) {}
}

type File = SockFile | StdioFile;
interface FdEntry {
  file: File;
  cloexec: boolean;
}

// ---- Helpers ----

const fail = (e: Errno): SysError => ({ ret: -1, errno: e, errnum: BSD_ERRNO[e] });
const EMPTY = new Uint8Array(0);
const isConnecting = (c: TcpConn): boolean => c.state === TcpState.SYN_SENT || c.state === TcpState.SYN_RECV;
const WILDCARD = { 4: '0.0.0.0', 6: '::' } as const;

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

function asInt(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

/** sk_stream_is_writeable: free space at least half of what is queued (poll's POLLOUT, a blocked writer's wake-up). */
const streamWriteable = (c: TcpConn): boolean => c.sndBuf.free > 0 && c.sndBuf.free >= c.sndBuf.length / 2;

/** The engine call, or its errno. */
function engine<T>(fn: () => T): T | SysError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SocketError) return fail(e.code);
    throw e;
  }
}
const isErr = (v: unknown): v is SysError => typeof v === 'object' && v !== null && (v as SysError).ret === -1 && typeof (v as SysError).errno === 'string';

// ---- The call layer ----

export class Syscalls {
  readonly host: Host;
  driver: Driver | null;
  readonly maxFds: number;
  readonly blockLimitUs: number;
  private readonly fds = new Map<number, FdEntry>();
  /** The calls that may block, returning a Call at once instead of a promise. */
  readonly begin: BeginCalls;

  constructor(host: Host, opts: SyscallsOptions = {}) {
    this.host = host;
    this.driver = opts.driver ?? null;
    this.maxFds = opts.maxFds ?? 1024;
    this.blockLimitUs = opts.blockLimitUs ?? 24 * 3600 * 1e6;
    if (opts.stdio ?? true) for (let i = 0; i < Math.min(3, this.maxFds); i++) this.fds.set(i, { file: new StdioFile(i), cloexec: false });
    this.begin = {
      connect: (fd, addr) => this.connectCall(fd, addr),
      accept: (fd) => this.acceptCall(fd, 0, 'accept'),
      accept4: (fd, flags) => this.acceptCall(fd, flags, 'accept4'),
      read: (fd, count) => this.recvCall(fd, count, 0, 'read'),
      recv: (fd, count, flags = 0) => this.recvCall(fd, count, flags, 'recv'),
      write: (fd, data) => this.sendCall(fd, data, 0, 'write'),
      send: (fd, data, flags = 0) => this.sendCall(fd, data, flags, 'send'),
      close: (fd) => this.closeCall(fd),
      poll: (fds, timeoutMs) => this.pollCall(fds, timeoutMs),
    };
  }

  private now = (): number => this.host.now();

  // ---- Descriptor table ----

  /** Open descriptors, ascending. */
  openFds(): number[] {
    return [...this.fds.keys()].sort((a, b) => a - b);
  }

  /** The engine socket behind a descriptor (for inspection), or undefined. */
  socketOf(fd: number): Socket | undefined {
    const f = this.fds.get(fd)?.file;
    return f instanceof SockFile ? f.sock : undefined;
  }

  private lowestFree(from = 0): number {
    for (let i = from; i < this.maxFds; i++) if (!this.fds.has(i)) return i;
    return -1;
  }

  private sockFile(fd: number): SockFile | SysError {
    const e = this.fds.get(fd);
    if (!e) return fail('EBADF');
    if (!(e.file instanceof SockFile)) return fail('ENOTSOCK');
    return e.file;
  }

  /** Installs another reference to an open file at newfd. */
  private install(newfd: number, file: File, cloexec: boolean): void {
    if (file instanceof SockFile) file.sock.dup();
    this.fds.set(newfd, { file, cloexec });
  }

  /** Drops the descriptor; the engine closes the socket when its last reference goes. */
  private release(fd: number): { sock: Socket; conn: TcpConn | null } | null {
    const e = this.fds.get(fd);
    if (!e) return null;
    this.fds.delete(fd);
    if (!(e.file instanceof SockFile)) return null;
    const s = e.file.sock;
    const conn = s.conn;
    if (!s.closed) engine(() => s.close());
    return { sock: s, conn };
  }

  // ---- socket, bind, listen ----

  socket(domain: number, type: number, protocol = 0): Ret {
    if (!Number.isInteger(type) || type < 0 || type & ~(K.SOCK_TYPE_MASK | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC)) return fail('EINVAL');
    // Only IPv4 and IPv6 exist here (AF_UNIX and the rest are refused as unsupported families).
    if (domain !== K.AF_INET && domain !== K.AF_INET6) return fail('EAFNOSUPPORT');
    const base = type & K.SOCK_TYPE_MASK;
    if (base === 0 || base > 10) return fail(base === 0 ? 'ESOCKTNOSUPPORT' : 'EINVAL');
    // Only TCP is modelled: other socket types are refused as an unsupported type.
    if (base !== K.SOCK_STREAM) return fail('ESOCKTNOSUPPORT');
    if (protocol !== K.IPPROTO_IP && protocol !== K.IPPROTO_TCP) return fail('EPROTONOSUPPORT');
    const fd = this.lowestFree();
    if (fd < 0) return fail('EMFILE');
    const f = new SockFile(this.host.socket(), domain === K.AF_INET6 ? 6 : 4, (type & K.SOCK_NONBLOCK) !== 0);
    this.fds.set(fd, { file: f, cloexec: (type & K.SOCK_CLOEXEC) !== 0 });
    return { ret: fd };
  }

  /**
   * The engine address for a sockaddr given to bind/connect: AF_INET sockets take IPv4
   * (EAFNOSUPPORT otherwise), AF_INET6 sockets IPv6 (EINVAL for a sockaddr_in, as the length
   * check fails), with v4-mapped addresses (::ffff:a.b.c.d) standing for IPv4.
   */
  private parseAddr(f: SockFile, a: SockAddr): { addr: string; port: number } | SysError {
    if (typeof a !== 'object' || a === null || typeof a.addr !== 'string') throw new TypeError('sockaddr must be { family?, addr, port }');
    const family = a.family ?? (a.addr.includes(':') ? K.AF_INET6 : K.AF_INET);
    if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) return fail('EINVAL');
    if (f.family === 4) {
      if (family !== K.AF_INET) return fail('EAFNOSUPPORT');
      const r = parseIpv4(a.addr);
      return r.ok ? { addr: formatIpv4(r.value), port: a.port } : fail('EINVAL');
    }
    if (family !== K.AF_INET6) return fail('EINVAL');
    const r = parseIpv6(a.addr);
    if (!r.ok) return fail('EINVAL');
    const b = r.value;
    const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    return { addr: mapped ? formatIpv4(b, 12) : formatIpv6(b), port: a.port };
  }

  private addrOut(f: SockFile, addr: string, port: number): SockAddrOut {
    if (f.family === 4) return { family: K.AF_INET, addr, port };
    return { family: K.AF_INET6, addr: addr.includes(':') ? addr : `::ffff:${addr}`, port };
  }

  /** tcp_disconnect left the engine socket's connection behind: take a fresh engine socket, keeping options and an explicit bind. */
  private renew(f: SockFile): SysError | null {
    if (!f.disconnected) return null;
    const old = f.sock;
    const s = this.host.socket();
    s.opts = { ...old.opts, linger: { ...old.opts.linger } };
    s.refs = old.refs;
    f.sock = s;
    f.disconnected = false;
    f.shut = 0;
    if (old.boundPort) {
      // The explicit binding survives tcp_disconnect (SOCK_BINDPORT_LOCK): move it.
      this.host.ports.unbind(old, old.boundPort);
      const r = engine(() => s.bind(old.boundAddr!, old.boundPort));
      if (isErr(r)) return r;
    }
    return null;
  }

  bind(fd: number, addr: SockAddr): Ret {
    const f = this.sockFile(fd);
    if (isErr(f)) return f;
    const a = this.parseAddr(f, addr);
    if (isErr(a)) return a;
    // __inet_bind checks the address before whether the socket is already bound.
    if (a.addr !== WILDCARD[4] && a.addr !== WILDCARD[6] && !this.host.addresses.includes(a.addr)) return fail('EADDRNOTAVAIL');
    if (f.ss !== 'UNCONNECTED' || f.sock.listener || f.sock.boundPort) return fail('EINVAL');
    const r = this.renew(f);
    if (r) return r;
    const b = engine(() => f.sock.bind(a.addr, a.port));
    return isErr(b) ? b : { ret: 0 };
  }

  listen(fd: number, backlog: number): Ret {
    const f = this.sockFile(fd);
    if (isErr(f)) return f;
    // inet_listen: only an unconnected socket in CLOSE or LISTEN.
    if (f.ss !== 'UNCONNECTED') return fail('EINVAL');
    const r = this.renew(f);
    if (r) return r;
    const s = f.sock;
    if (s.conn) return fail('EINVAL');
    if (!s.listener && !s.boundPort) {
      const b = engine(() => s.bind(WILDCARD[f.family], 0));
      if (isErr(b)) return b;
    }
    // __sys_listen: (unsigned) backlog above somaxconn is somaxconn, so negative means the maximum.
    const n = backlog < 0 || !Number.isFinite(backlog) ? this.host.cfg.somaxconn : Math.floor(backlog);
    const l = engine(() => s.listen(n));
    return isErr(l) ? l : { ret: 0 };
  }

  // ---- connect ----

  private connectCall(fd: number, addr: SockAddr): Call<Ret> {
    const done = (r: Ret): Call<Ret> => Call.done('connect', this.now, r);
    const f = this.sockFile(fd);
    if (isErr(f)) return done(f);
    let err: Errno;
    switch (f.ss) {
      case 'CONNECTED':
        return done(fail('EISCONN'));
      case 'DISCONNECTING':
        return done(fail('EINVAL'));
      case 'CONNECTING':
        err = 'EALREADY';
        break;
      case 'UNCONNECTED': {
        if (f.sock.listener || (f.conn && f.conn.state !== TcpState.CLOSED)) return done(fail('EISCONN'));
        const a = this.parseAddr(f, addr);
        if (isErr(a)) return done(a);
        const r = this.renew(f);
        if (r) return done(r);
        const s = f.sock;
        if (s.conn) return done(fail('EISCONN'));
        const c = engine(() => s.connect(a.addr, a.port));
        if (isErr(c)) return done(c);
        f.ss = 'CONNECTING';
        f.shut = 0;
        err = 'EINPROGRESS';
        break;
      }
    }
    const connecting = (): boolean => {
      const c = f.conn;
      return c !== null && isConnecting(c);
    };
    // After the wait: established, or the connection died (sock_error, then tcp_disconnect).
    const finish = (): Ret => {
      const c = f.conn;
      if (!c || c.state === TcpState.CLOSED) {
        const e = this.takeError(f);
        f.ss = 'UNCONNECTED';
        f.disconnected = true;
        return fail(e ?? 'ECONNABORTED');
      }
      f.ss = 'CONNECTED';
      return { ret: 0 };
    };
    if (!connecting()) return done(finish());
    if (f.nonblock) return done(fail(err));
    const attempt: Attempt<Ret> = () => (connecting() ? BLOCKED : finish());
    // inet_wait_for_connect gives up after SO_SNDTIMEO with the error set above (EINPROGRESS).
    return this.track(new Call('connect', this.now, attempt, () => fail(err), this.now() + f.sndtimeoUs), f);
  }

  /** sock_error(): the pending error, consumed. */
  private takeError(f: SockFile): Errno | null {
    const v = f.sock.getsockopt('SO_ERROR');
    return typeof v === 'number' && v !== 0 ? errnoName(v) ?? null : null;
  }

  // ---- accept ----

  private acceptCall(fd: number, flags: number, name: string): Call<AddrRet> {
    const done = (r: AddrRet): Call<AddrRet> => Call.done(name, this.now, r);
    const f = this.sockFile(fd);
    if (isErr(f)) return done(f);
    if (!Number.isInteger(flags) || flags & ~(K.SOCK_NONBLOCK | K.SOCK_CLOEXEC)) return done(fail('EINVAL'));
    const attempt: Attempt<AddrRet> = () => {
      const s = f.sock;
      if (!s.listener) return fail('EINVAL');
      // The descriptor is reserved before a connection is taken from the queue (__sys_accept4).
      const nfd = this.lowestFree();
      if (nfd < 0) return fail('EMFILE');
      const ns = engine(() => s.accept());
      if (isErr(ns)) return ns;
      if (!ns) return BLOCKED;
      const nf = new SockFile(ns, f.family, (flags & K.SOCK_NONBLOCK) !== 0);
      nf.ss = 'CONNECTED';
      this.fds.set(nfd, { file: nf, cloexec: (flags & K.SOCK_CLOEXEC) !== 0 });
      const c = ns.conn!;
      return { ret: nfd, addr: this.addrOut(f, c.remoteAddr, c.remotePort) };
    };
    return this.track(new Call(name, this.now, attempt, () => fail('EAGAIN'), this.now() + (f.nonblock ? 0 : f.rcvtimeoUs)), f);
  }

  // ---- read / recv ----

  private recvCall(fd: number, count: number, flags: number, name: string): Call<ReadRet> {
    const done = (r: ReadRet): Call<ReadRet> => Call.done(name, this.now, r);
    const f = this.sockFile(fd);
    if (isErr(f)) return done(f);
    if (!Number.isInteger(count) || count < 0) return done(fail('EINVAL'));
    const nonblock = f.nonblock || (flags & K.MSG_DONTWAIT) !== 0;
    const peek = (flags & K.MSG_PEEK) !== 0;
    // SO_RCVLOWAT is 1: without MSG_WAITALL any data returns.
    const target = flags & K.MSG_WAITALL && !peek ? count : 1;
    const parts: Uint8Array[] = [];
    let got = 0;
    const result = (): ReadRet => {
      const data = got ? concat(parts, got) : EMPTY;
      return { ret: data.length, data };
    };
    const attempt: Attempt<ReadRet> = () => {
      const s = f.sock;
      if (s.listener) return fail('ENOTCONN');
      if (count === 0) return result();
      if (f.disconnected) {
        // tcp_disconnect cleared SOCK_DONE: a pending error, else "never connected".
        const e = this.takeError(f);
        return fail(e ?? 'ENOTCONN');
      }
      if (peek) {
        const c = s.conn;
        if (c && !isConnecting(c) && c.rcvBuf.length > 0) {
          const data = c.rcvBuf.slice(0, Math.min(count, c.rcvBuf.length));
          return { ret: data.length, data };
        }
      }
      while (got < target) {
        const d = engine(() => s.recv(count - got));
        if (isErr(d)) return got ? result() : d;
        if (d === null) return BLOCKED;
        if (d.length === 0) return result(); // end of stream
        parts.push(d);
        got += d.length;
      }
      return result();
    };
    const giveUp = (): ReadRet => (got ? result() : fail('EAGAIN'));
    return this.track(new Call(name, this.now, attempt, giveUp, this.now() + (nonblock ? 0 : f.rcvtimeoUs)), f);
  }

  // ---- write / send ----

  private sendCall(fd: number, data: Uint8Array | string, flags: number, name: string): Call<Ret> {
    const done = (r: Ret): Call<Ret> => Call.done(name, this.now, r);
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name}: data must be a Uint8Array or a string`);
    const f = this.sockFile(fd);
    if (isErr(f)) return done(f);
    const nonblock = f.nonblock || (flags & K.MSG_DONTWAIT) !== 0;
    let off = 0;
    let first = true;
    const attempt: Attempt<Ret> = () => {
      const s = f.sock;
      // A blocked writer is woken when the socket becomes writeable (sk_stream_write_space).
      if (!first && !this.writeReady(f)) return BLOCKED;
      first = false;
      const c = s.conn;
      if (bytes.length === 0) {
        // tcp_sendmsg with nothing to send: the same checks, then 0.
        if (c && !f.disconnected && isConnecting(c) && !c.softError) return BLOCKED;
        if (c?.softError) return fail(this.takeError(f) ?? 'EPIPE');
        if (!c || f.disconnected || c.sndShutdown || c.done || c.state === TcpState.CLOSED) return fail('EPIPE');
        return { ret: 0 };
      }
      const n = engine(() => s.send(off ? bytes.subarray(off) : bytes));
      if (isErr(n)) return off ? { ret: off } : n;
      off += n;
      return off === bytes.length ? { ret: off } : BLOCKED;
    };
    const giveUp = (): Ret => (off ? { ret: off } : fail('EAGAIN'));
    return this.track(new Call(name, this.now, attempt, giveUp, this.now() + (nonblock ? 0 : f.sndtimeoUs)), f);
  }

  /** Whether a blocked writer would be woken: writeable, or an error or state change to report. */
  private writeReady(f: SockFile): boolean {
    const c = f.sock.conn;
    if (!c || f.disconnected || c.softError || c.sndShutdown || c.done || c.state === TcpState.CLOSED) return true;
    if (isConnecting(c)) return false;
    return streamWriteable(c);
  }

  // ---- close, shutdown, dup ----

  private closeCall(fd: number): Call<Ret> {
    if (!this.fds.has(fd)) return Call.done<Ret>('close', this.now, fail('EBADF'));
    const r = this.release(fd);
    const c = r?.conn;
    // SO_LINGER {1, N}: the last close() waits until the FIN is acknowledged or N s pass
    // (Linux blocks even on an O_NONBLOCK socket). The engine says when through conn.lingering.
    if (r && c && c.lingering && c.lingerOwner === r.sock) {
      // The engine traces the return itself ('close SO_LINGER 0, returns: ...').
      return new Call<Ret>('close', this.now, () => (c.lingering ? BLOCKED : { ret: 0 }), () => ({ ret: 0 }), Infinity);
    }
    return Call.done('close', this.now, { ret: 0 });
  }

  shutdown(fd: number, how: number): Ret {
    const f = this.sockFile(fd);
    if (isErr(f)) return f;
    if (how !== K.SHUT_RD && how !== K.SHUT_WR && how !== K.SHUT_RDWR) return fail('EINVAL');
    const bits = how + 1; // RCV_SHUTDOWN, SEND_SHUTDOWN or both
    const name = (['SHUT_RD', 'SHUT_WR', 'SHUT_RDWR'] as const)[how]!;
    const s = f.sock;
    const c = f.conn;
    if (f.ss === 'CONNECTING') {
      f.ss = !c || c.state === TcpState.CLOSED || isConnecting(c) ? 'DISCONNECTING' : 'CONNECTED';
    }
    if (s.listener) {
      // inet_shutdown: SHUT_RD or SHUT_RDWR stops the listener (tcp_disconnect); SHUT_WR does nothing.
      const r = engine(() => s.shutdown(name));
      if (isErr(r)) return r;
      if (bits & K.RCV_SHUTDOWN) f.ss = 'UNCONNECTED';
      return { ret: 0 };
    }
    if (!c || c.state === TcpState.CLOSED) {
      // TCP_CLOSE: ENOTCONN, but sk_shutdown is still set (poll reports it).
      f.shut |= bits;
      return fail('ENOTCONN');
    }
    if (c.state === TcpState.SYN_SENT) {
      // The attempt is abandoned (tcp_disconnect, sk_err ECONNRESET) and shutdown() returns 0.
      const r = engine(() => s.shutdown(name));
      if (isErr(r)) return r;
      f.ss = 'UNCONNECTED';
      f.disconnected = true;
      f.shut = 0;
      return { ret: 0 };
    }
    const r = engine(() => s.shutdown(name));
    return isErr(r) ? r : { ret: 0 };
  }

  dup(fd: number): Ret {
    const e = this.fds.get(fd);
    if (!e) return fail('EBADF');
    const nfd = this.lowestFree();
    if (nfd < 0) return fail('EMFILE');
    this.install(nfd, e.file, false);
    return { ret: nfd };
  }

  /** dup2: newfd (closed first if open) refers to oldfd's socket; the close of newfd does not block. */
  dup2(oldfd: number, newfd: number): Ret {
    const e = this.fds.get(oldfd);
    if (!e) return fail('EBADF');
    if (!Number.isInteger(newfd) || newfd < 0 || newfd >= this.maxFds) return fail('EBADF');
    if (oldfd === newfd) return { ret: newfd };
    this.release(newfd);
    this.install(newfd, e.file, false);
    return { ret: newfd };
  }

  // ---- fcntl, ioctl ----

  fcntl(fd: number, cmd: number, arg = 0): Ret {
    const e = this.fds.get(fd);
    if (!e) return fail('EBADF');
    const f = e.file;
    switch (cmd) {
      case K.F_GETFL:
        return { ret: K.O_RDWR | (f instanceof SockFile && f.nonblock ? K.O_NONBLOCK : 0) };
      case K.F_SETFL:
        if (f instanceof SockFile) f.nonblock = (arg & K.O_NONBLOCK) !== 0;
        return { ret: 0 };
      case K.F_GETFD:
        return { ret: e.cloexec ? K.FD_CLOEXEC : 0 };
      case K.F_SETFD:
        e.cloexec = (arg & K.FD_CLOEXEC) !== 0;
        return { ret: 0 };
      case K.F_DUPFD:
      case K.F_DUPFD_CLOEXEC: {
        if (!Number.isInteger(arg) || arg < 0 || arg >= this.maxFds) return fail('EINVAL');
        const nfd = this.lowestFree(arg);
        if (nfd < 0) return fail('EMFILE');
        this.install(nfd, f, cmd === K.F_DUPFD_CLOEXEC);
        return { ret: nfd };
      }
      default:
        return fail('EINVAL');
    }
  }

  /** ioctl: FIONBIO sets O_NONBLOCK from arg; FIONREAD/SIOCINQ, SIOCOUTQ, SIOCOUTQNSD return the count in `value`. */
  ioctl(fd: number, request: number, arg = 0): ValueRet {
    const e = this.fds.get(fd);
    if (!e) return fail('EBADF');
    const f = e.file;
    if (!(f instanceof SockFile)) return fail('ENOTTY');
    if (request === K.FIONBIO) {
      f.nonblock = arg !== 0;
      return { ret: 0, value: arg };
    }
    if (request !== K.SIOCINQ && request !== K.SIOCOUTQ && request !== K.SIOCOUTQNSD) return fail('ENOTTY');
    if (f.sock.listener) return fail('EINVAL');
    const c = f.conn;
    let value: number;
    if (request === K.SIOCINQ) value = !c || isConnecting(c) ? 0 : c.rcvBuf.length;
    else if (request === K.SIOCOUTQ) value = outq(c);
    else value = outqNotSent(c);
    return { ret: 0, value };
  }

  // ---- socket options ----

  setsockopt(fd: number, level: number, optname: number, value: SetOptValue): Ret {
    const f = this.sockFile(fd);
    if (isErr(f)) return f;
    const s = f.sock;
    const set = (name: SockOptName, v: number | { on: boolean; seconds: number }): Ret => {
      const r = engine(() => s.setsockopt(name, v));
      return isErr(r) ? r : { ret: 0 };
    };
    const int = asInt(value);
    if (level === K.SOL_SOCKET) {
      switch (optname) {
        case K.SO_LINGER: {
          const l = value as Partial<Linger> & { onoff?: number; linger?: number };
          const on = typeof l === 'object' && l !== null ? asInt(l.l_onoff ?? l.onoff) : null;
          const secs = typeof l === 'object' && l !== null ? asInt(l.l_linger ?? l.linger) : null;
          if (on === null || secs === null) return fail('EINVAL');
          return set('SO_LINGER', { on: on !== 0, seconds: secs });
        }
        case K.SO_RCVTIMEO:
        case K.SO_SNDTIMEO: {
          const tv = value as Timeval;
          if (typeof tv !== 'object' || tv === null || asInt(tv.tv_sec) === null || asInt(tv.tv_usec) === null) return fail('EINVAL');
          // sock_set_timeout: usec out of range is EDOM, {0, 0} means forever, a negative time 0.
          if (tv.tv_usec < 0 || tv.tv_usec >= 1_000_000) return fail('EDOM');
          const us = tv.tv_sec < 0 ? 0 : tv.tv_sec === 0 && tv.tv_usec === 0 ? Infinity : tv.tv_sec * 1e6 + tv.tv_usec;
          if (optname === K.SO_RCVTIMEO) f.rcvtimeoUs = us;
          else f.sndtimeoUs = us;
          return { ret: 0 };
        }
        case K.SO_ERROR:
          return fail('ENOPROTOOPT');
      }
      const name = ({ [K.SO_REUSEADDR]: 'SO_REUSEADDR', [K.SO_KEEPALIVE]: 'SO_KEEPALIVE', [K.SO_RCVBUF]: 'SO_RCVBUF', [K.SO_SNDBUF]: 'SO_SNDBUF' } as Record<number, SockOptName>)[optname];
      if (!name) return fail('ENOPROTOOPT');
      if (int === null) return fail('EINVAL');
      return set(name, int);
    }
    if (level === K.IPPROTO_TCP) {
      const name = ({
        [K.TCP_NODELAY]: 'TCP_NODELAY', [K.TCP_KEEPIDLE]: 'TCP_KEEPIDLE', [K.TCP_KEEPINTVL]: 'TCP_KEEPINTVL', [K.TCP_KEEPCNT]: 'TCP_KEEPCNT',
        [K.TCP_LINGER2]: 'TCP_LINGER2', [K.TCP_USER_TIMEOUT]: 'TCP_USER_TIMEOUT', [K.TCP_QUICKACK]: 'TCP_QUICKACK',
      } as Record<number, SockOptName>)[optname];
      // TCP_INFO is read-only; TCP_MAXSEG cannot be set (the engine has no user MSS).
      if (!name) return fail('ENOPROTOOPT');
      if (int === null) return fail('EINVAL');
      return set(name, int);
    }
    return fail('ENOPROTOOPT');
  }

  getsockopt(fd: number, level: typeof K.IPPROTO_TCP, optname: typeof K.TCP_INFO): OptRet<TcpInfo>;
  getsockopt(fd: number, level: typeof K.SOL_SOCKET, optname: typeof K.SO_LINGER): OptRet<Linger>;
  getsockopt(fd: number, level: typeof K.SOL_SOCKET, optname: typeof K.SO_RCVTIMEO | typeof K.SO_SNDTIMEO): OptRet<Timeval>;
  getsockopt(fd: number, level: number, optname: number): OptRet;
  getsockopt(fd: number, level: number, optname: number): OptRet {
    const f = this.sockFile(fd);
    if (isErr(f)) return f;
    const s = f.sock;
    const int = (v: number | boolean): OptRet => ({ ret: 0, value: typeof v === 'boolean' ? (v ? 1 : 0) : v, optlen: 4 });
    const get = (name: SockOptName): OptRet => {
      const v = s.getsockopt(name);
      return typeof v === 'object' ? fail('EINVAL') : int(v);
    };
    if (level === K.SOL_SOCKET) {
      switch (optname) {
        case K.SO_REUSEADDR: return get('SO_REUSEADDR');
        case K.SO_KEEPALIVE: return get('SO_KEEPALIVE');
        case K.SO_RCVBUF: return get('SO_RCVBUF');
        case K.SO_SNDBUF: return get('SO_SNDBUF');
        case K.SO_ERROR: return get('SO_ERROR');
        case K.SO_LINGER: {
          const l = s.getsockopt('SO_LINGER') as { on: boolean; seconds: number };
          return { ret: 0, value: { l_onoff: l.on ? 1 : 0, l_linger: l.seconds }, optlen: 8 };
        }
        case K.SO_RCVTIMEO:
        case K.SO_SNDTIMEO: {
          const us = optname === K.SO_RCVTIMEO ? f.rcvtimeoUs : f.sndtimeoUs;
          const tv = us === Infinity ? { tv_sec: 0, tv_usec: 0 } : { tv_sec: Math.floor(us / 1e6), tv_usec: us % 1e6 };
          return { ret: 0, value: tv, optlen: 16 };
        }
        default: return fail('ENOPROTOOPT');
      }
    }
    if (level === K.IPPROTO_TCP) {
      switch (optname) {
        case K.TCP_NODELAY: return get('TCP_NODELAY');
        case K.TCP_KEEPIDLE: return get('TCP_KEEPIDLE');
        case K.TCP_KEEPINTVL: return get('TCP_KEEPINTVL');
        case K.TCP_KEEPCNT: return get('TCP_KEEPCNT');
        case K.TCP_LINGER2: return get('TCP_LINGER2');
        case K.TCP_USER_TIMEOUT: return get('TCP_USER_TIMEOUT');
        // Linux reports whether quickack mode is on: not in pingpong (interactive) mode.
        case K.TCP_QUICKACK: return int(f.conn ? (f.conn.pingpong ? 0 : 1) : 1);
        case K.TCP_MAXSEG: return int(f.conn && f.conn.state !== TcpState.CLOSED ? f.conn.mssCache : 536);
        case K.TCP_INFO:
          return { ret: 0, value: tcpInfo(s, f.conn, this.host.now(), this.host.cfg.mtu), optlen: TCP_INFO_SIZE };
        default: return fail('ENOPROTOOPT');
      }
    }
    return fail('ENOPROTOOPT');
  }

  /** getsockopt(fd, IPPROTO_TCP, TCP_INFO)'s struct, or the error. */
  tcpInfo(fd: number): TcpInfo | SysError {
    const r = this.getsockopt(fd, K.IPPROTO_TCP, K.TCP_INFO);
    return r.errno !== undefined ? r : r.value;
  }

  // ---- names ----

  getsockname(fd: number): AddrRet {
    const f = this.sockFile(fd);
    if (isErr(f)) return f;
    const s = f.sock;
    const c = f.conn;
    if (s.listener) return { ret: 0, addr: this.addrOut(f, s.listener.addr, s.listener.port) };
    if (c) return { ret: 0, addr: this.addrOut(f, c.localAddr, c.localPort) };
    if (s.boundPort) return { ret: 0, addr: this.addrOut(f, s.boundAddr!, s.boundPort) };
    return { ret: 0, addr: f.family === 4 ? { family: K.AF_INET, addr: WILDCARD[4], port: 0 } : { family: K.AF_INET6, addr: WILDCARD[6], port: 0 } };
  }

  getpeername(fd: number): AddrRet {
    const f = this.sockFile(fd);
    if (isErr(f)) return f;
    const c = f.conn;
    // inet_getname: ENOTCONN in CLOSE and SYN_SENT.
    if (!c || c.state === TcpState.CLOSED || c.state === TcpState.SYN_SENT) return fail('ENOTCONN');
    return { ret: 0, addr: this.addrOut(f, c.remoteAddr, c.remotePort) };
  }

  // ---- poll ----

  /** tcp_poll (inet_csk_listen_poll for a listener) on an open socket. */
  private pollMask(f: SockFile): number {
    const s = f.sock;
    if (s.listener) return s.listener.acceptQueue.length ? K.POLLIN | K.POLLRDNORM : 0;
    const c = f.conn;
    const state = c ? c.state : TcpState.CLOSED;
    let shut = f.shut;
    if (c) {
      if (c.rcvShutdown || c.finReceived) shut |= K.RCV_SHUTDOWN;
      if (c.sndShutdown) shut |= K.SEND_SHUTDOWN;
    }
    let mask = 0;
    if (shut === K.SHUTDOWN_MASK || state === TcpState.CLOSED) mask |= K.POLLHUP;
    if (shut & K.RCV_SHUTDOWN) mask |= K.POLLIN | K.POLLRDNORM | K.POLLRDHUP;
    if (state !== TcpState.SYN_SENT && state !== TcpState.SYN_RECV) {
      if (c && c.rcvBuf.length > 0) mask |= K.POLLIN | K.POLLRDNORM;
      if (shut & K.SEND_SHUTDOWN || !c || streamWriteable(c)) mask |= K.POLLOUT | K.POLLWRNORM;
    }
    // sk_err (also of a connection tcp_disconnect left behind).
    if (s.conn?.softError) mask |= K.POLLERR;
    return mask;
  }

  /** The revents poll() would report for one entry now. */
  revents(p: PollFd): number {
    if (p.fd < 0) return 0;
    const e = this.fds.get(p.fd);
    if (!e) return K.POLLNVAL;
    if (!(e.file instanceof SockFile)) return 0; // stdio stand-ins are never ready
    return this.pollMask(e.file) & (p.events | K.POLLERR | K.POLLHUP);
  }

  private pollCall(fds: PollFd[], timeoutMs: number): Call<PollRet> {
    if (!Array.isArray(fds)) throw new TypeError('poll: fds must be an array of { fd, events }');
    if (fds.length > this.maxFds || Number.isNaN(timeoutMs)) return Call.done<PollRet>('poll', this.now, fail('EINVAL'));
    const scan = (): number => {
      let n = 0;
      for (const p of fds) {
        p.revents = this.revents(p);
        if (p.revents) n++;
      }
      return n;
    };
    const attempt: Attempt<PollRet> = () => {
      const n = scan();
      return n ? { ret: n, fds } : BLOCKED;
    };
    const deadline = timeoutMs < 0 ? Infinity : this.now() + Math.floor(timeoutMs * 1000);
    return this.trackCall(new Call('poll', this.now, attempt, () => ({ ret: scan(), fds }), deadline), `poll(${fds.map((p) => p.fd).join(',')})`);
  }

  // ---- The async API ----

  connect(fd: number, addr: SockAddr): Promise<Ret> {
    return this.wait(this.begin.connect(fd, addr));
  }
  accept(fd: number): Promise<AddrRet> {
    return this.wait(this.begin.accept(fd));
  }
  accept4(fd: number, flags: number): Promise<AddrRet> {
    return this.wait(this.begin.accept4(fd, flags));
  }
  read(fd: number, count: number): Promise<ReadRet> {
    return this.wait(this.begin.read(fd, count));
  }
  recv(fd: number, count: number, flags = 0): Promise<ReadRet> {
    return this.wait(this.begin.recv(fd, count, flags));
  }
  write(fd: number, data: Uint8Array | string): Promise<Ret> {
    return this.wait(this.begin.write(fd, data));
  }
  send(fd: number, data: Uint8Array | string, flags = 0): Promise<Ret> {
    return this.wait(this.begin.send(fd, data, flags));
  }
  close(fd: number): Promise<Ret> {
    return this.wait(this.begin.close(fd));
  }
  /** timeoutMs on the virtual clock: 0 returns at once, negative waits forever. */
  poll(fds: PollFd[], timeoutMs: number): Promise<PollRet> {
    return this.wait(this.begin.poll(fds, timeoutMs));
  }

  /** Waits for a Call in virtual time through the driver. */
  async wait<R>(c: Call<R>): Promise<R> {
    if (c.done) return c.result as R;
    const d = this.driver;
    if (!d) throw new BlockedError(c.name, 'the call blocks and this Syscalls has no driver (use begin.* and poll() the Call)');
    const limit = Math.min(c.deadline, c.startedAt + this.blockLimitUs);
    await d.runUntil(() => c.poll(), Math.max(limit, this.host.now()));
    if (!c.poll()) {
      throw new BlockedError(c.name, this.host.now() >= limit && limit < c.deadline
        ? `blocked for ${this.blockLimitUs / 1e6} s of virtual time (blockLimitUs)`
        : 'nothing left to happen in the simulation (it would block forever)');
    }
    return c.result as R;
  }

  /** Traces the return of a call that blocked (the engine traced its start). */
  private track<R>(c: Call<R>, f: SockFile): Call<R> {
    return this.trackCall(c, () => {
      const s = f.sock;
      return s.conn?.label ?? (s.boundPort ? endpoint(s.boundAddr ?? '*', s.boundPort) : `sock#${s.id}`);
    });
  }

  private trackCall<R>(c: Call<R>, label: string | (() => string)): Call<R> {
    c.onReturn = () => {
      const r = c.result as { ret: number; errno?: string };
      this.host.trace({
        kind: 'call', t: this.host.now(), host: this.host.name, socket: typeof label === 'string' ? label : label(),
        call: c.name, args: `returns after blocking ${((this.host.now() - c.startedAt) / 1000).toFixed(3)} ms`,
        result: r.errno ?? String(r.ret),
      });
    };
    return c;
  }
}
