// read()/recv() (tcp_recvmsg) and write()/send() (tcp_sendmsg), with MSG_DONTWAIT, MSG_PEEK,
// MSG_WAITALL and MSG_MORE.

import type { TcpConn } from '../tcp/conn.ts';
import { TcpState } from '../tcp/states.ts';
import { returned, sleeping } from './blocking.ts';
import { BLOCKED, type Attempt, type Call } from './call.ts';
import * as K from './constants.ts';
import { engine, fail, isErr } from './errno.ts';
import { inq, inqHint, isConnecting, streamWriteable } from './conn.ts';
import type { Proc, SockFile } from './file.ts';
import type { ReadRet, Ret } from './types.ts';

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

export function recv(p: Proc, fd: number, count: number, flags: number, name: string): Call<ReadRet> {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return returned<ReadRet>(p, name, f);
  if (!Number.isInteger(count) || count < 0) return returned<ReadRet>(p, name, fail('EINVAL'));
  const nonblock = f.nonblock || (flags & K.MSG_DONTWAIT) !== 0;
  const peek = (flags & K.MSG_PEEK) !== 0;
  // SO_RCVLOWAT is 1: without MSG_WAITALL any data returns.
  const target = flags & K.MSG_WAITALL && !peek ? count : 1;
  const parts: Uint8Array[] = [];
  let got = 0;
  const result = (): ReadRet => {
    const data = got ? concat(parts, got) : EMPTY;
    return withInq(f, { ret: data.length, data });
  };
  const attempt: Attempt<ReadRet> = () => {
    const s = f.sock;
    if (s.listener) return fail('ENOTCONN');
    if (count === 0) return result();
    // tcp_disconnect cleared SOCK_DONE: a pending error, else "never connected".
    if (f.disconnected) return fail(f.takeError() ?? 'ENOTCONN');
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

export function send(p: Proc, fd: number, data: Uint8Array | string, flags: number, name: string): Call<Ret> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`${name}: data must be a Uint8Array or a string`);
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
