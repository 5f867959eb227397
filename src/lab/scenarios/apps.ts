// Small applications the scenarios run on their hosts.

import type { Host } from '../../host/host.ts';
import type { Socket } from '../../host/socket.ts';
import { SocketError, type ErrnoCode } from '../../base/errno.ts';
import { text } from '../scenario.ts';

/** A minimal HTTP/1.1 `GET /` to `host`, as bytes. */
export const httpGet = (host: string): Uint8Array => text(`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);

/** An HTTP/1.1 `200 OK` carrying `body` (ASCII), framed by its Content-Length, as bytes. */
export const httpOk = (body: string): Uint8Array => text(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`);

/** listen() on port 80 (or `port`) and hand each accepted socket to onConn. */
export function serve(host: Host, port: number, onConn: (s: Socket) => void, backlog = 128): Socket {
  const ls = host.socket();
  ls.bind(host.addresses[0]!.includes(':') ? '::' : '0.0.0.0', port);
  ls.listen(backlog);
  ls.on('connection', () => {
    for (let s = ls.accept(); s; s = ls.accept()) onConn(s);
  });
  return ls;
}

export interface Reader {
  /** bytes read so far */
  total: number;
  eof: boolean;
  error: string | null;
  /** Reads what is already queued (for a reader attached after the data arrived). */
  pump(): void;
}

/**
 * Reads whatever arrives (up to `chunk` bytes per read); calls onData for data, onEof at end of
 * stream, onError with the errno code when a read fails.
 */
export function reader(s: Socket, h: { onData?: (d: Uint8Array) => void; onEof?: () => void; onError?: (code: string) => void; chunk?: number }): Reader {
  const st: Reader = { total: 0, eof: false, error: null, pump: () => pump() };
  const pump = () => {
    while (!st.eof && !st.error && !s.closed) {
      let d: Uint8Array | null;
      try {
        d = s.recv(h.chunk ?? 65536);
      } catch (e) {
        if (!(e instanceof SocketError)) throw e;
        st.error = e.code;
        h.onError?.(e.code);
        return;
      }
      if (d === null) return;
      if (d.length === 0) {
        st.eof = true;
        h.onEof?.();
        return;
      }
      st.total += d.length;
      h.onData?.(d);
    }
  };
  s.on('readable', pump);
  s.on('error', () => {
    // An asynchronous error (RST): the owner learns it at its next read, as a blocked
    // reader in Linux would be woken. Pending data is read first.
    pump();
  });
  return st;
}

/** A call that may fail: the error is traced by the engine, the scenario goes on. */
/** recv(): the bytes, null (EAGAIN), or the code of the SocketError it threw (the trace has it). */
export function recvOrError(s: Socket): Uint8Array | null | ErrnoCode {
  try {
    return s.recv();
  } catch (e) {
    if (!(e instanceof SocketError)) throw e;
    return e.code;
  }
}

export function attempt(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof SocketError)) throw e;
  }
}

/** Writes `total` bytes (a repeating pattern) as fast as the send buffer allows, then calls done. */
export function writeBytes(s: Socket, total: number, done?: () => void, chunk = 65536): { written: number } {
  const st = { written: 0 };
  const buf = new Uint8Array(chunk);
  for (let i = 0; i < buf.length; i++) buf[i] = (i * 31 + 7) & 0xff;
  let finished = false;
  const pump = () => {
    while (st.written < total) {
      const n = Math.min(chunk, total - st.written);
      const off = st.written % chunk;
      const piece = off + n <= chunk ? buf.subarray(off, off + n) : buf.subarray(0, n);
      let k: number;
      try {
        k = s.send(piece);
      } catch (e) {
        if (e instanceof SocketError) return;
        throw e;
      }
      if (k === 0) return;
      st.written += k;
    }
    if (!finished) {
      finished = true;
      done?.();
    }
  };
  s.on('writable', pump);
  pump();
  return st;
}
