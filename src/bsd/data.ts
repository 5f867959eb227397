// read()/recv() (tcp_recvmsg) and write()/send() (tcp_sendmsg), with MSG_DONTWAIT, MSG_PEEK,
// MSG_WAITALL and MSG_MORE. A NULL buffer faults (EFAULT) only where the kernel would copy:
// the checks before the copy, and the wait for data or room, happen as with any buffer
// (observed on 6.18: no data -> EAGAIN, data -> EFAULT and the data stays, count 0 -> 0).

import type { TcpConn } from '../tcp/conn.ts';
import { TcpState } from '../tcp/states.ts';
import { returned, sleeping } from './blocking.ts';
import { BLOCKED, type Attempt, type Call } from './call.ts';
import * as K from './constants.ts';
import { engine, fail, isErr } from './errno.ts';
import { inq, inqHint, isConnecting, streamWriteable } from './conn.ts';
import type { Proc, SockFile } from './file.ts';
import { isNullBuffer, type NullBuffer, type ReadRet, type Ret } from './types.ts';

const EMPTY = new Uint8Array(0);

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

/** MSG_PEEK: what is queued, left in place (null when nothing is). */
function peekData(f: SockFile, count: number): ReadRet | null {
  const c = f.sock.conn;
  const n = inq(c);
  if (n === 0) return null;
  const data = c!.rcvBuf.slice(0, Math.min(count, n));
  return withInq(f, { ret: data.length, data });
}

/** tcp_recvmsg with TCP_INQ on: the TCP_CM_INQ value, taken after the read. */
function withInq(f: SockFile, r: ReadRet & { errno?: undefined }): ReadRet {
  if (f.sock.opts.recvmsgInq) r.inq = inqHint(f.sock.conn);
  return r;
}

export function recv(p: Proc, fd: number, buf: number | NullBuffer, flags: number, name: string): Call<ReadRet> {
  const nul = isNullBuffer(buf);
  const count = nul ? buf.length : buf;
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return returned<ReadRet>(p, name, f);
  if (!Number.isInteger(count) || count < 0) return returned<ReadRet>(p, name, fail('EINVAL'));
  // sock_read_iter: a read() of 0 bytes returns 0 before TCP sees it; a recv() of 0 bytes is
  // tcp_recvmsg's, which waits for data as any other (observed on 6.18: EAGAIN, 0 with data).
  if (count === 0 && name === 'read') return returned<ReadRet>(p, name, { ret: 0, data: EMPTY });
  const nonblock = f.nonblock || (flags & K.MSG_DONTWAIT) !== 0;
  const peek = (flags & K.MSG_PEEK) !== 0;
  // SO_RCVLOWAT is 1: without MSG_WAITALL any data returns (sock_rcvlowat: at least 1).
  const target = flags & K.MSG_WAITALL && !peek ? Math.max(count, 1) : 1;
  const parts: Uint8Array[] = [];
  let got = 0;
  const result = (): ReadRet => {
    const data = got ? concat(parts, got) : EMPTY;
    return withInq(f, { ret: data.length, data });
  };
  const attempt: Attempt<ReadRet> = () => {
    const s = f.sock;
    if (s.listener) return fail('ENOTCONN');
    // tcp_disconnect cleared SOCK_DONE: a pending error, else "never connected".
    if (f.disconnected) return fail(f.takeError() ?? 'ENOTCONN');
    if (inq(s.conn) > 0) {
      // Data: 0 bytes copy without touching the buffer; into NULL the copy faults, nothing is
      // copied yet, so the call fails and the data stays.
      if (count === 0) return result();
      if (nul) return fail('EFAULT');
    }
    const peeked = peek ? peekData(f, count) : null;
    if (peeked) return peeked;
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
  return sleeping(p, name, f, attempt, giveUp, nonblock ? 0 : f.rcvtimeoUs);
}

/** tcp_sendmsg's EPIPE on a connection: disconnected, SEND_SHUTDOWN (shutdown, a reset) or closed. */
const sendClosed = (f: SockFile, c: TcpConn): boolean => f.disconnected || c.sndShutdown || c.done || c.state === TcpState.CLOSED;

/** Whether a blocked writer would be woken: writeable, or an error or state change to report. */
function writeReady(f: SockFile): boolean {
  const c = f.sock.conn;
  if (!c || sendClosed(f, c) || c.softError) return true;
  if (isConnecting(c)) return false;
  return streamWriteable(c);
}

/** tcp_sendmsg with nothing to send: the same checks, then 0. */
function sendNothing(f: SockFile): Ret | typeof BLOCKED {
  const c = f.sock.conn;
  if (c && !f.disconnected && isConnecting(c) && !c.softError) return BLOCKED;
  if (c?.softError) return fail(f.takeError() ?? 'EPIPE');
  if (!c || sendClosed(f, c)) return fail('EPIPE');
  return { ret: 0 };
}

export function send(p: Proc, fd: number, data: Uint8Array | string | NullBuffer, flags: number, name: string): Call<Ret> {
  if (isNullBuffer(data)) return sendNull(p, fd, data.length, flags, name);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name}: data must be a Uint8Array, a string or a nullBuffer()`);
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return returned<Ret>(p, name, f);
  const nonblock = f.nonblock || (flags & K.MSG_DONTWAIT) !== 0;
  let off = 0;
  let first = true;
  const attempt: Attempt<Ret> = () => {
    // A blocked writer is woken when the socket becomes writeable (sk_stream_write_space).
    if (!first && !writeReady(f)) return BLOCKED;
    first = false;
    if (bytes.length === 0) return sendNothing(f);
    const n = engine(() => f.sock.send(off ? bytes.subarray(off) : bytes, (flags & K.MSG_MORE) !== 0));
    if (isErr(n)) return off ? { ret: off } : n;
    off += n;
    return off === bytes.length ? { ret: off } : BLOCKED;
  };
  const giveUp = (): Ret => (off ? { ret: off } : fail('EAGAIN'));
  return sleeping(p, name, f, attempt, giveUp, nonblock ? 0 : f.sndtimeoUs);
}

/**
 * tcp_sendmsg_locked from NULL: the same checks and the same wait for room, then the first copy
 * faults (EFAULT) and nothing is queued (tcp_remove_empty_skb).
 */
function sendNull(p: Proc, fd: number, len: number, flags: number, name: string): Call<Ret> {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return returned<Ret>(p, name, f);
  const nonblock = f.nonblock || (flags & K.MSG_DONTWAIT) !== 0;
  let first = true;
  const attempt: Attempt<Ret> = () => {
    if (!first && !writeReady(f)) return BLOCKED;
    first = false;
    const r = sendNothing(f);
    if (r === BLOCKED || r.errno !== undefined || len === 0) return r;
    return f.sock.sendRoom(len) > 0 ? fail('EFAULT') : BLOCKED;
  };
  return sleeping(p, name, f, attempt, () => fail('EAGAIN'), nonblock ? 0 : f.sndtimeoUs);
}
