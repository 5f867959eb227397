// The process's descriptor table and what a descriptor refers to: an open socket (struct file
// plus struct socket, shared by dup()) or a stdio stand-in. fs/file.c: the lowest free
// descriptor is taken, up to RLIMIT_NOFILE.

import type { Host } from '../host/host.ts';
import type { Socket } from '../host/socket.ts';
import type { TcpConn } from '../tcp/conn.ts';
import { errnoName, type Errno } from './constants.ts';
import { engine, fail } from './errno.ts';
import type { SysError } from './types.ts';

/** struct socket's state (include/uapi/linux/net.h socket_state). */
export type SockState = 'UNCONNECTED' | 'CONNECTING' | 'CONNECTED' | 'DISCONNECTING';

/** An open socket: the struct file (O_NONBLOCK) and struct socket that dup() shares. */
export class SockFile {
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

  /** tcp_disconnect(): the socket is unconnected again, its engine connection abandoned (renew() replaces it). */
  disconnect(): void {
    this.ss = 'UNCONNECTED';
    this.disconnected = true;
  }

  /** sock_error(): the pending error, consumed. */
  takeError(): Errno | null {
    const v = this.sock.getsockopt('SO_ERROR');
    return typeof v === 'number' && v !== 0 ? errnoName(v) ?? null : null;
  }
}

/** fds 0-2: the process's stdin/stdout/stderr, which are not sockets. */
export class StdioFile {
  constructor(readonly n: number) {}
}

export type File = SockFile | StdioFile;
export interface FdEntry {
  file: File;
  cloexec: boolean;
}

export class FdTable {
  private readonly fds = new Map<number, FdEntry>();

  constructor(readonly maxFds: number, stdio: boolean) {
    if (stdio) for (let i = 0; i < Math.min(3, maxFds); i++) this.fds.set(i, { file: new StdioFile(i), cloexec: false });
  }

  get(fd: number): FdEntry | undefined {
    return this.fds.get(fd);
  }

  has(fd: number): boolean {
    return this.fds.has(fd);
  }

  /** Open descriptors, ascending. */
  open(): number[] {
    return [...this.fds.keys()].sort((a, b) => a - b);
  }

  /** A new open file (socket, accept) at fd. */
  add(fd: number, file: File, cloexec: boolean): void {
    this.fds.set(fd, { file, cloexec });
  }

  lowestFree(from = 0): number {
    for (let i = from; i < this.maxFds; i++) if (!this.fds.has(i)) return i;
    return -1;
  }

  sockFile(fd: number): SockFile | SysError {
    const e = this.fds.get(fd);
    if (!e) return fail('EBADF');
    if (!(e.file instanceof SockFile)) return fail('ENOTSOCK');
    return e.file;
  }

  /** Installs another reference to an open file at newfd. */
  install(newfd: number, file: File, cloexec: boolean): void {
    if (file instanceof SockFile) file.sock.dup();
    this.fds.set(newfd, { file, cloexec });
  }

  /** Drops the descriptor; the engine closes the socket when its last reference goes. */
  release(fd: number): { sock: Socket; conn: TcpConn | null } | null {
    const e = this.fds.get(fd);
    if (!e) return null;
    this.fds.delete(fd);
    if (!(e.file instanceof SockFile)) return null;
    const s = e.file.sock;
    const conn = s.conn;
    if (!s.closed) engine(() => s.close());
    return { sock: s, conn };
  }
}

/** What every call works on: one process's descriptor table over one host, on its clock. */
export interface Proc {
  readonly host: Host;
  readonly fds: FdTable;
  /** The host's virtual clock (µs), one function for every Call's clock. */
  readonly now: () => number;
}
