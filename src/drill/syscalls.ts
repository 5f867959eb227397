// The socket calls a script makes, whatever the host under test (backend.ts): linger's BSD
// layer (src/bsd Syscalls) or the kernel's (kernel/syscalls.ts).

import type { Call } from '../bsd/call.ts';
import type { TcpInfo } from '../bsd/tcpinfo.ts';
import type { AddrRet, BeginCalls, OptRet, PollFd, Ret, SetOptValue, SockAddr, SysError, ValueRet } from '../bsd/types.ts';

/** The socket calls a script makes, as the BSD layer (src/bsd) shapes them. */
export interface ScriptSyscalls {
  readonly begin: BeginCalls;
  socket(domain: number, type: number, protocol?: number): Ret;
  bind(fd: number, addr: SockAddr): Ret;
  listen(fd: number, backlog: number): Ret;
  shutdown(fd: number, how: number): Ret;
  dup(fd: number): Ret;
  dup2(oldFd: number, newFd: number): Ret;
  fcntl(fd: number, cmd: number, arg?: number): Ret;
  ioctl(fd: number, request: number, arg?: number): ValueRet;
  setsockopt(fd: number, level: number, optname: number, value: SetOptValue): Ret;
  getsockopt(fd: number, level: number, optname: number): OptRet;
  getsockname(fd: number): AddrRet;
  getpeername(fd: number): AddrRet;
  tcpInfo(fd: number): TcpInfo | SysError;
  /** poll()'s revents for one descriptor, now. */
  revents(pfd: PollFd): number;
  /** Whether the descriptor is one the script opened (a socket, or an epoll instance). */
  isSocket(fd: number): boolean;
  /**
   * A descriptor for an epoll instance (the runner models epoll over revents(): epoll.ts): the
   * lowest free one on linger, as Linux's epoll_create would take; a real one on the kernel.
   */
  epollFd(): Ret;
  /** Calls `fn` at each wake-up of the socket (data, a connection, a state change, an error), for the modelled epoll. */
  onWake?(fd: number, fn: () => void): void;
  /**
   * The kernel's own epoll (epoll_ctl, epoll_wait), when the host under test has one; without it
   * the runner models epoll over revents() (epoll.ts), as it does for linger.
   */
  readonly epoll?: {
    ctl(epfd: number, op: number, fd: number, events: number, data: number): Ret;
    wait(epfd: number, max: number, timeoutMs: number): Call<Ret<{ events: Array<{ events: number; data: number }> }>>;
  };
}

