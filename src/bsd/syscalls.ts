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
//
// This file is the entry point: each call lives in the file for its concern (file.ts the
// descriptor table, socket.ts, addr.ts, connect.ts, data.ts, close.ts, sockopt.ts, fcntl.ts,
// poll.ts, blocking.ts).

import type { Host } from '../host/host.ts';
import type { Socket } from '../host/socket.ts';
import { getpeername, getsockname } from './addr.ts';
import { waitFor } from './blocking.ts';
import type { Call, Driver } from './call.ts';
import { close, shutdown } from './close.ts';
import { accept, connect } from './connect.ts';
import * as K from './constants.ts';
import { recv, send } from './data.ts';
import { dup, dup2, fcntl, ioctl } from './fcntl.ts';
import { FdTable, SockFile, type Proc } from './file.ts';
import { poll, revents } from './poll.ts';
import { bind, listen, socket } from './socket.ts';
import { getsockopt, setsockopt } from './sockopt.ts';
import type { TcpInfo } from './tcpinfo.ts';
import type {
  AddrRet, BeginCalls, Linger, NullBuffer, OptRet, PollFd, PollRet, ReadRet, Ret, SetOptValue, SockAddr, SyscallsOptions, SysError, Timeval, ValueRet,
} from './types.ts';

export type * from './types.ts';

export class Syscalls {
  readonly host: Host;
  driver: Driver | null;
  readonly maxFds: number;
  readonly blockLimitUs: number;
  private readonly p: Proc;
  /** The calls that may block, returning a Call at once instead of a promise. */
  readonly begin: BeginCalls;

  constructor(host: Host, opts: SyscallsOptions = {}) {
    this.host = host;
    this.driver = opts.driver ?? null;
    this.maxFds = opts.maxFds ?? 1024;
    this.blockLimitUs = opts.blockLimitUs ?? 24 * 3600 * 1e6;
    const p: Proc = { host, fds: new FdTable(this.maxFds, opts.stdio ?? true), now: (): number => host.now() };
    this.p = p;
    this.begin = {
      connect: (fd, addr) => connect(p, fd, addr),
      accept: (fd) => accept(p, fd, 0, 'accept'),
      accept4: (fd, flags) => accept(p, fd, flags, 'accept4'),
      read: (fd, count) => recv(p, fd, count, 0, 'read'),
      recv: (fd, count, flags = 0) => recv(p, fd, count, flags, 'recv'),
      write: (fd, data) => send(p, fd, data, 0, 'write'),
      send: (fd, data, flags = 0) => send(p, fd, data, flags, 'send'),
      close: (fd) => close(p, fd),
      poll: (fds, timeoutMs) => poll(p, fds, timeoutMs),
    };
  }

  // ---- Descriptor table ----

  /** Open descriptors, ascending. */
  openFds(): number[] {
    return this.p.fds.open();
  }

  /** The engine socket behind a descriptor (for inspection), or undefined. */
  socketOf(fd: number): Socket | undefined {
    const f = this.p.fds.get(fd)?.file;
    return f instanceof SockFile ? f.sock : undefined;
  }

  /** Whether the descriptor is an open socket. */
  isSocket(fd: number): boolean {
    return this.socketOf(fd) !== undefined;
  }

  // ---- The calls that do not block ----

  socket(domain: number, type: number, protocol = 0): Ret {
    return socket(this.p, domain, type, protocol);
  }
  bind(fd: number, addr: SockAddr): Ret {
    return bind(this.p, fd, addr);
  }
  listen(fd: number, backlog: number): Ret {
    return listen(this.p, fd, backlog);
  }
  shutdown(fd: number, how: number): Ret {
    return shutdown(this.p, fd, how);
  }
  dup(fd: number): Ret {
    return dup(this.p, fd);
  }
  /** dup2: newfd (closed first if open) refers to oldfd's socket; the close of newfd does not block. */
  dup2(oldfd: number, newfd: number): Ret {
    return dup2(this.p, oldfd, newfd);
  }
  fcntl(fd: number, cmd: number, arg = 0): Ret {
    return fcntl(this.p, fd, cmd, arg);
  }
  /** ioctl: FIONBIO sets O_NONBLOCK from arg; FIONREAD/SIOCINQ, SIOCOUTQ, SIOCOUTQNSD return the count in `value`. */
  ioctl(fd: number, request: number, arg = 0): ValueRet {
    return ioctl(this.p, fd, request, arg);
  }
  setsockopt(fd: number, level: number, optname: number, value: SetOptValue): Ret {
    return setsockopt(this.p, fd, level, optname, value);
  }
  getsockopt(fd: number, level: typeof K.IPPROTO_TCP, optname: typeof K.TCP_INFO): OptRet<TcpInfo>;
  getsockopt(fd: number, level: typeof K.SOL_SOCKET, optname: typeof K.SO_LINGER): OptRet<Linger>;
  getsockopt(fd: number, level: typeof K.SOL_SOCKET, optname: typeof K.SO_RCVTIMEO | typeof K.SO_SNDTIMEO): OptRet<Timeval>;
  getsockopt(fd: number, level: number, optname: number): OptRet;
  getsockopt(fd: number, level: number, optname: number): OptRet {
    return getsockopt(this.p, fd, level, optname);
  }
  /** getsockopt(fd, IPPROTO_TCP, TCP_INFO)'s struct, or the error. */
  tcpInfo(fd: number): TcpInfo | SysError {
    const r = this.getsockopt(fd, K.IPPROTO_TCP, K.TCP_INFO);
    return r.errno !== undefined ? r : r.value;
  }
  getsockname(fd: number): AddrRet {
    return getsockname(this.p, fd);
  }
  getpeername(fd: number): AddrRet {
    return getpeername(this.p, fd);
  }
  /** The revents poll() would report for one entry now. */
  revents(pfd: PollFd): number {
    return revents(this.p, pfd);
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
  read(fd: number, count: number | NullBuffer): Promise<ReadRet> {
    return this.wait(this.begin.read(fd, count));
  }
  recv(fd: number, count: number | NullBuffer, flags = 0): Promise<ReadRet> {
    return this.wait(this.begin.recv(fd, count, flags));
  }
  write(fd: number, data: Uint8Array | string | NullBuffer): Promise<Ret> {
    return this.wait(this.begin.write(fd, data));
  }
  send(fd: number, data: Uint8Array | string | NullBuffer, flags = 0): Promise<Ret> {
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
  wait<R>(c: Call<R>): Promise<R> {
    return waitFor(c, this.driver, this.blockLimitUs, this.p.now);
  }
}
