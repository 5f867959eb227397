// The call layer's argument and result shapes (the C structs and return values it models).

import type { Call, Driver } from './call.ts';
import type { Errno } from './constants.ts';
import type { TcpInfo } from './tcpinfo.ts';

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

/**
 * A NULL buffer of `length` bytes, as a C program may pass one to read/recv/write/send: the
 * call fails with EFAULT where the kernel would copy (nullBuffer() makes one).
 */
export interface NullBuffer {
  readonly nullBuffer: true;
  readonly length: number;
}
export const nullBuffer = (length: number): NullBuffer => ({ nullBuffer: true, length });
export const isNullBuffer = (v: unknown): v is NullBuffer => typeof v === 'object' && v !== null && (v as NullBuffer).nullBuffer === true;

export interface SysError {
  ret: -1;
  errno: Errno;
  errnum: number;
}
/** A call's result: `errno` is undefined on success. */
export type Ret<T extends object = object> = (T & { ret: number; errno?: undefined; errnum?: undefined }) | SysError;
/** `inq`: with TCP_INQ on, the TCP_CM_INQ control message recvmsg() would carry (tcp_inq_hint after the read). */
export type ReadRet = Ret<{ data: Uint8Array; inq?: number }>;
export type AddrRet = Ret<{ addr: SockAddrOut }>;
export type ValueRet = Ret<{ value: number }>;
export type PollRet = Ret<{ fds: PollFd[] }>;
/** A string is TCP_CONGESTION's name (the NUL-terminated contents of its buffer). */
export type OptValue = number | Linger | Timeval | TcpInfo | string;
export type OptRet<V = OptValue> = Ret<{ value: V; optlen: number }>;
/** A string is the option's buffer as bytes (TCP_CONGESTION's name): its length is optlen. */
export type SetOptValue = number | boolean | Linger | { onoff: number; linger: number } | Timeval | string;

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
  /** `count`: the buffer's size, or a NULL buffer of that size. */
  read(fd: number, count: number | NullBuffer): Call<ReadRet>;
  recv(fd: number, count: number | NullBuffer, flags?: number): Call<ReadRet>;
  write(fd: number, data: Uint8Array | string | NullBuffer): Call<Ret>;
  send(fd: number, data: Uint8Array | string | NullBuffer, flags?: number): Call<Ret>;
  close(fd: number): Call<Ret>;
  poll(fds: PollFd[], timeoutMs: number): Call<PollRet>;
}
