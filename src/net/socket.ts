// A node:net-compatible Socket over a linger host: a stream.Duplex whose handle is an engine
// socket. Node's own http, http2 and userland clients use it unchanged (they take any Duplex
// with net.Socket's members). Differences from node:net are listed in the README.

import { Duplex } from 'node:stream';
import type { Host } from '../host/host.ts';
import { SocketError } from '../base/errno.ts';
import type { Socket as EngineSocket } from '../host/socket.ts';
import { canonicalIp, ipVersion } from '../wire/addr.ts';
import { isIP } from 'node:net';
import { netError, nodeError, validatePort } from './errors.ts';
import type { NetRuntime, VTimer } from './runtime.ts';

/** Options of a NetSocket, as net.Socket's. */
export interface NetSocketOptions {
  allowHalfOpen?: boolean;
  /** Internal: wrap an accepted engine socket. */
  handle?: EngineSocket;
  /**
   * Internal: the handle is an AF_INET6 socket (accepted by a listener on an IPv6 address, '::'
   * included), so IPv4 addresses come v4-mapped (::ffff:a.b.c.d) with family IPv6 (inet6_getname).
   */
  v6?: boolean;
  /** Internal: as Node's pauseOnCreate (pauseOnConnect): no reading until resume(). */
  pauseOnCreate?: boolean;
}

/** The options a lookup function gets (dns.lookup's). */
export interface LookupOptions {
  family?: number;
  hints?: number;
  all?: boolean;
}
/** One address a lookup gives. */
export interface LookupAddress {
  address: string;
  family: number;
}
/** A lookup function's callback (dns.lookup's). */
export type LookupCallback = (err: Error | null, address?: string | LookupAddress[], family?: number) => void;
/** dns.ADDRCONFIG, the hint lookupAndConnect adds when no family is asked for. */
const ADDRCONFIG = 1024;

/** What socket.connect() takes, as net.Socket's. */
export interface ConnectOptions {
  port: number | string;
  host?: string;
  localAddress?: string;
  localPort?: number;
  family?: number | 'IPv4' | 'IPv6';
  hints?: number;
  lookup?: (hostname: string, options: LookupOptions, callback: LookupCallback) => void;
  autoSelectFamily?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  timeout?: number;
}

type ReadyState = 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed';

/** node:net's Socket on a linger host: a stream.Duplex over an engine socket, with net.Socket's events, errors and properties. bindNet() gives the class bound to a host. */
export class NetSocket extends Duplex {
  readonly host: Host;
  readonly runtime: NetRuntime;
  private handle: EngineSocket | null = null;
  connecting = false;
  /**
   * net.Socket's `!!this._handle`: from connect() (which makes the TCP handle at once, before
   * any lookup) or accept, until _destroy drops it. `pending` and resetAndDestroy() read it.
   */
  private hasHandle = false;
  /** resetAndDestroy() asked for the reset (net.Socket's resetAndClosing). */
  private resetAndClosing = false;
  /** shutdown() was issued (libuv's UV_HANDLE_SHUTTING): uv_tcp_close_reset then fails, EINVAL. */
  private shutdownIssued = false;
  /** Internal: called by _destroy (the server counts its connections down there). */
  onDestroy: (() => void) | null = null;
  bytesRead = 0;
  /** net.Socket's _bytesDispatched: whole chunks handed to the kernel (some may still wait in its buffer). */
  private dispatched = 0;
  /** net.Socket's _pendingData and _pendingEncoding: a chunk written while connecting. */
  private pendingData: Buffer | string | Array<{ chunk: Buffer | string; encoding: BufferEncoding }> | null = null;
  private pendingEncoding: BufferEncoding | '' = '';
  private readEnded = false;
  private wantRead = false;
  private pendingWrite: { buf: Uint8Array; cb: (err?: Error | null) => void } | null = null;
  /** setTimeout's value: undefined until it is called (socket.timeout), 0 = off. */
  private timeoutMs: number | undefined = undefined;
  private timeoutTimer: VTimer | null = null;
  private remote: { address: string; port: number; family: string } | null = null;
  private connLabel: string | undefined;
  /** An AF_INET6 handle: IPv4 addresses are shown v4-mapped. */
  private readonly v6: boolean;

  constructor(host: Host, runtime: NetRuntime, opts: NetSocketOptions = {}) {
    const allowHalfOpen = opts.allowHalfOpen ?? false;
    // 'close' is emitted by _destroy with Node's hadError argument, so not by the stream itself.
    // decodeStrings false, as net.Socket: a string is written as it is (writableLength counts its
    // characters) and encoded when handed to the kernel.
    super({ allowHalfOpen, emitClose: false, autoDestroy: true, decodeStrings: false });
    this.host = host;
    this.runtime = runtime;
    this.v6 = opts.v6 ?? false;
    if (opts.handle) this.attach(opts.handle, true);
  }

  // ---- the engine side ----

  private attach(h: EngineSocket, connected: boolean): void {
    this.handle = h;
    h.on('readable', () => this.pull());
    h.on('error', () => this.pull());
    h.on('close', () => this.pull());
    h.on('writable', () => this.flushPending());
    if (connected) {
      this.hasHandle = true;
      this.connected(h);
    }
  }

  /** The engine socket has a connection: its label and peer, kept after it closes. */
  private connected(h: EngineSocket): void {
    this.connLabel = h.connectionLabel;
    const address = this.mapped(h.remoteAddress!);
    this.remote = { address, port: h.remotePort!, family: address.includes(':') ? 'IPv6' : 'IPv4' };
  }

  /** An address as getsockname/getpeername give it for this handle's family. */
  private mapped(a: string): string {
    return this.v6 && !a.includes(':') ? `::ffff:${a}` : a;
  }

  /** Moves received bytes into the readable side; errors destroy the stream as libuv's read does. */
  private pull(): void {
    const h = this.handle;
    // While connecting, a failure belongs to connect() (ECONNREFUSED, ETIMEDOUT), not to read().
    if (!h || this.destroyed || this.readEnded || !this.wantRead || this.connecting) return;
    for (;;) {
      let d: Uint8Array | null;
      try {
        // libuv's read: up to 64 KiB into memory of the stream's own, not zeroed
        // (Buffer.allocUnsafe), exactly as many bytes as were waiting; at EOF, on an error or
        // with nothing waiting, recv() says which.
        const waiting = h.readable;
        if (waiting > 0) {
          const buf = Buffer.allocUnsafe(Math.min(waiting, 65536));
          const n = h.recvInto(buf, 0, 65536);
          d = n > 0 ? (n === buf.length ? buf : buf.subarray(0, n)) : h.recv(65536);
        } else d = h.recv(65536);
      } catch (e) {
        if (e instanceof SocketError) {
          this.destroy(netError(e.code, 'read'));
          return;
        }
        throw e;
      }
      if (d === null) return;
      if (d.length === 0) {
        this.readEnded = true;
        this.push(null);
        // onStreamRead at EOF: push(null), then read(0), so 'end' (and with allowHalfOpen false
        // the automatic end, then 'close') comes even when nobody reads: no CLOSE_WAIT leak.
        process.nextTick(() => {
          if (!this.destroyed) this.read(0);
        });
        return;
      }
      this.bytesRead += d.length;
      this.touch();
      if (!this.push(Buffer.isBuffer(d) ? d : Buffer.from(d.buffer, d.byteOffset, d.length))) {
        this.wantRead = false;
        return;
      }
    }
  }

  private flushPending(): void {
    const p = this.pendingWrite;
    if (!p) return;
    this.pendingWrite = null;
    this.writeBytes(p.buf, p.cb);
  }

  private writeBytes(buf: Uint8Array, cb: (err?: Error | null) => void): void {
    const h = this.handle!;
    let off = 0;
    while (off < buf.length) {
      let n: number;
      try {
        n = h.send(off ? buf.subarray(off) : buf);
      } catch (e) {
        if (e instanceof SocketError) {
          cb(netError(e.code, 'write'));
          return;
        }
        throw e;
      }
      if (n === 0) {
        // The send buffer is full: the stream keeps buffering (write() returns false) until the
        // engine says it can take more.
        this.pendingWrite = { buf: buf.subarray(off), cb };
        return;
      }
      off += n;
    }
    this.touch();
    cb();
  }

  // ---- stream.Duplex ----

  // pause(), resume() and read() are the stream's own, as net.Socket's (their readStop and
  // tryReadStart are for the onread option only): a paused socket goes on reading from the
  // kernel into the stream's buffer until that is past the high-water mark, so it sees the
  // peer's FIN and reset. Reading starts with the first _read and stops when push() says the
  // buffer is full (onStreamRead's readStop).

  /** @internal net.Socket's _read: tryReadStart (while connecting, afterConnect's read(0) does it). */
  override _read(): void {
    this.wantRead = true;
    this.pull();
  }

  /** @internal stream.Duplex: net.Socket's _write. */
  override _write(chunk: Buffer | string, encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writeGeneric(chunk, encoding, cb);
  }

  /** @internal Corked writes go out as one send, as libuv's writev does (so http's framing is not split). */
  override _writev(chunks: Array<{ chunk: Buffer | string; encoding: BufferEncoding }>, cb: (err?: Error | null) => void): void {
    this.writeGeneric(chunks, '', cb);
  }

  /** net.Socket's _writeGeneric. */
  private writeGeneric(data: Buffer | string | Array<{ chunk: Buffer | string; encoding: BufferEncoding }>, encoding: BufferEncoding | '', cb: (err?: Error | null) => void): void {
    if (this.connecting) {
      // The chunk waits for 'connect'; a 'close' first fails it with ERR_SOCKET_CLOSED_BEFORE_CONNECTION.
      this.pendingData = data;
      this.pendingEncoding = encoding;
      const onClose = (): void => cb(nodeError('ERR_SOCKET_CLOSED_BEFORE_CONNECTION', 'Socket closed before the connection was established'));
      this.once('close', onClose);
      this.once('connect', () => {
        this.off('close', onClose);
        this.writeGeneric(data, encoding, cb);
      });
      return;
    }
    this.pendingData = null;
    this.pendingEncoding = '';
    if (!this.hasHandle || !this.handle) {
      cb(nodeError('ERR_SOCKET_CLOSED', 'Socket is closed'));
      return;
    }
    const toBuf = (c: Buffer | string, enc: BufferEncoding | ''): Buffer => (typeof c === 'string' ? Buffer.from(c, enc || 'utf8') : c);
    const buf = Array.isArray(data)
      ? (data.length === 1 ? toBuf(data[0]!.chunk, data[0]!.encoding) : Buffer.concat(data.map((c) => toBuf(c.chunk, c.encoding))))
      : toBuf(data, encoding);
    this.dispatched += buf.length;
    this.writeBytes(buf, cb);
  }

  /** @internal stream.Duplex: end() sends a FIN once the writes are done. */
  override _final(cb: (err?: Error | null) => void): void {
    if (this.pending) {
      this.once('connect', () => this._final(cb));
      return;
    }
    if (!this.handle) {
      cb();
      return;
    }
    try {
      this.handle.shutdown('SHUT_WR');
      this.shutdownIssued = true;
    } catch (e) {
      // ENOTCONN: a synchronous finish, as uv_shutdown's.
      if (!(e instanceof SocketError) || e.code !== 'ENOTCONN') throw e;
      cb();
      return;
    }
    // net.Socket's _final completes in the shutdown request's callback (afterShutdown), a later
    // turn: 'finish' comes then, and not at all if the stream is destroyed first (a write after
    // end() errors before it).
    setImmediate(() => cb());
  }

  /** @internal stream.Duplex: close() of the engine socket. */
  override _destroy(err: Error | null, cb: (err: Error | null) => void): void {
    this.clearTimer();
    this.connecting = false;
    if (this.hasHandle) {
      this.hasHandle = false;
      const h = this.handle;
      const hadError = err != null;
      if (this.resetAndClosing) {
        this.resetAndClosing = false;
        if (this.shutdownIssued) {
          // uv_tcp_close_reset refuses a handle that is shutting down (EINVAL): net.Socket
          // emits the error at once and drops the handle unclosed, so no 'close' follows.
          this.emit('error', netError('EINVAL', 'reset'));
          cb(err);
          this.onDestroy?.();
          return;
        }
        if (h && !h.closed) h.setsockopt('SO_LINGER', { on: true, seconds: 0 });
      }
      if (h && !h.closed) h.close(); // Linux close(): FIN, or RST when unread data is left
      cb(err);
      // After the stream's own 'error' (queued by cb): close(hadError), as net.Socket does, from
      // the handle's close callback: a later turn of the event loop than 'end' or 'error', so
      // `await once(s, 'end'); await once(s, 'close')` sees both (setImmediate, as uv_close).
      setImmediate(() => this.emit('close', hadError));
    } else {
      // No handle (never connected): emitCloseNT, with no hadError argument.
      cb(err);
      process.nextTick(() => this.emit('close'));
    }
    this.onDestroy?.();
  }

  // ---- node:net members ----

  /** Connects, as net.Socket's connect(port, host, cb) or connect(options, cb). */
  connect(...args: unknown[]): this {
    const { opts, cb } = normalizeConnectArgs(args);
    if (cb) this.once('connect', cb);
    const port = validatePort(opts.port, 'Port');
    const hostName = opts.host || 'localhost';
    if (!this.hasHandle) {
      // A new handle; on a socket destroyed before, initSocketHandle's _undestroy: it connects
      // again from scratch (counters and addresses are the new handle's).
      (this as unknown as { _undestroy(): void })._undestroy();
      this.handle = null;
      this.remote = null;
      this.connLabel = undefined;
      this.readEnded = false;
      this.wantRead = false;
      this.shutdownIssued = false;
      this.bytesRead = 0;
      this.dispatched = 0;
      this.hasHandle = true;
    }
    this.touch();
    this.connecting = true;
    const family = opts.family === 'IPv4' ? 4 : opts.family === 'IPv6' ? 6 : opts.family;
    if (isIP(hostName)) {
      // An IP address: no lookup, internalConnect on the next tick.
      process.nextTick(() => {
        const lit = canonicalIp(hostName);
        if (this.connecting) this.startConnect(lit.ok ? lit.value : hostName, port, opts);
      });
      return this;
    }
    // lookupAndConnect: the lookup function (options.lookup, else dns.lookup, here the runtime's
    // table of simulated hosts) is called at once; a custom one may answer synchronously.
    const lookup = opts.lookup ?? ((name: string, o: LookupOptions, done: LookupCallback) => this.dnsLookup(name, o, done));
    const dnsopts: LookupOptions = { family, hints: opts.hints ?? 0 };
    if (dnsopts.family !== 4 && dnsopts.family !== 6 && dnsopts.hints === 0) dnsopts.hints = ADDRCONFIG;
    const connectError = (err: Error): void => {
      process.nextTick(() => this.destroy(err));
    };
    if (dnsopts.family !== 4 && dnsopts.family !== 6 && !opts.localAddress && (opts.autoSelectFamily ?? true)) {
      // lookupAndConnectMultiple (autoSelectFamily, Node 20's default): every address, a lookup
      // event each; linger tries the first (no Happy Eyeballs race).
      dnsopts.all = true;
      lookup(hostName, dnsopts, (err: Error | null, addresses?: unknown) => {
        if (!this.connecting) return;
        if (err) {
          this.emit('lookup', err, undefined, undefined, hostName);
          connectError(err);
          return;
        }
        const list = addresses as LookupAddress[];
        let first: LookupAddress | undefined;
        for (const a of list) {
          this.emit('lookup', err, a.address, a.family, hostName);
          if (!this.connecting) return;
          if (!first && isIP(a.address) && (a.family === 4 || a.family === 6)) first = a;
        }
        if (!first) {
          if (list[0] && !isIP(list[0].address)) connectError(nodeError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${list[0].address}`, TypeError as unknown as ErrorConstructor));
          return;
        }
        this.touch();
        this.startConnect(first.address, port, opts);
      });
      return this;
    }
    lookup(hostName, dnsopts, (err: Error | null, ip?: unknown, addressType?: number) => {
      this.emit('lookup', err, ip, addressType, hostName);
      if (!this.connecting) return;
      if (err) connectError(err);
      else if (typeof ip !== 'string' || !isIP(ip)) connectError(nodeError('ERR_INVALID_IP_ADDRESS', `Invalid IP address: ${String(ip)}`, TypeError as unknown as ErrorConstructor));
      else {
        this.touch();
        this.startConnect(ip, port, opts);
      }
    });
    return this;
  }

  /** dns.lookup over the runtime's table of simulated hosts (answers on a later tick). */
  private dnsLookup(name: string, o: LookupOptions, done: LookupCallback): void {
    const all = (this.runtime.names.get(name) ?? []).filter((a) => !o.family || ipVersion(a) === o.family);
    process.nextTick(() => {
      if (all.length === 0) {
        // dns.lookup's error: `getaddrinfo ENOTFOUND name`, errno UV_EAI_NONAME (-3008).
        const err = netError('ENOTFOUND', 'getaddrinfo');
        err.message = `getaddrinfo ENOTFOUND ${name}`;
        err.errno = -3008;
        (err as { hostname?: string }).hostname = name;
        done(err);
      } else if (o.all) done(null, all.map((address) => ({ address, family: ipVersion(address) })));
      else done(null, all[0], ipVersion(all[0]!));
    });
  }

  /** internalConnect: bind when asked (SO_REUSEADDR, as libuv), then connect. */
  private startConnect(address: string, port: number, opts: ConnectOptions): void {
    if (this.destroyed) return;
    const reuse = this.handle && !this.handle.closed ? this.handle : null;
    const h = reuse ?? this.host.socket();
    if (!reuse) {
      this.attach(h, false);
      if (opts.noDelay) h.setsockopt('TCP_NODELAY', true);
      if (opts.keepAlive) this.setKeepAlive(true, opts.keepAliveInitialDelay ?? 0);
      h.on('connect', () => {
        this.connecting = false;
        this.connected(h);
        this.touch();
        this.emit('connect');
        this.emit('ready');
        // net's afterConnect: read(0) starts reading unless paused, so a reset is noticed even
        // by a socket nobody reads from.
        if (!this.isPaused()) this.read(0);
        this.pull();
        this.flushPending();
      });
      h.on('error', () => {
        if (!this.connecting) return;
        let code = 'ECONNREFUSED';
        try {
          h.recv();
        } catch (e) {
          if (e instanceof SocketError) code = e.code;
        }
        this.connecting = false;
        this.destroy(netError(code, 'connect', address, port));
      });
    }
    const v6 = ipVersion(address) === 6;
    if (opts.localAddress || opts.localPort) {
      const localAddress = opts.localAddress || (v6 ? '::' : '0.0.0.0');
      const localPort = opts.localPort ?? 0;
      try {
        h.setsockopt('SO_REUSEADDR', true);
        h.bind(localAddress, localPort);
      } catch (e) {
        if (e instanceof SocketError) {
          this.destroy(netError(e.code, 'bind', localAddress, localPort));
          return;
        }
        throw e;
      }
    }
    this.emit('connectionAttempt', address, port, v6 ? 6 : 4);
    try {
      h.connect(address, port);
    } catch (e) {
      if (e instanceof SocketError) {
        const la = h.localAddress, lp = h.localPort;
        const err = netError(e.code, 'connect', address, port);
        if (la !== undefined && lp !== undefined) err.message += ` - Local (${la}:${lp})`;
        this.destroy(err);
        return;
      }
      throw e;
    }
  }

  /** As net.Socket's: no handle yet (or any more), or still connecting. */
  get pending(): boolean {
    return !this.hasHandle || this.connecting;
  }

  get readyState(): ReadyState {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  /** As net.Socket's: bytes dispatched, plus those the stream still buffers and one pending write. */
  get bytesWritten(): number {
    const len = (c: Buffer | string, enc: BufferEncoding | ''): number => (typeof c === 'string' ? Buffer.byteLength(c, enc || 'utf8') : c.length);
    let n = this.dispatched;
    // Writable's writableBuffer (the chunks not yet handed to _write); @types/node omits it.
    for (const el of (this as unknown as { writableBuffer: Array<{ chunk: Buffer | string; encoding: BufferEncoding }> }).writableBuffer) n += len(el.chunk, el.encoding);
    const d = this.pendingData;
    if (Array.isArray(d)) for (const el of d) n += len(el.chunk, el.encoding);
    else if (d) n += len(d, this.pendingEncoding);
    return n;
  }

  get remoteAddress(): string | undefined {
    return this.remote?.address;
  }
  get remotePort(): number | undefined {
    return this.remote?.port;
  }
  get remoteFamily(): string | undefined {
    return this.remote?.family;
  }
  get localAddress(): string | undefined {
    const a = this.handle?.localAddress;
    return a === undefined ? undefined : this.mapped(a);
  }
  get localPort(): number | undefined {
    return this.handle?.localPort;
  }
  get localFamily(): string | undefined {
    const a = this.localAddress;
    return a === undefined ? undefined : a.includes(':') ? 'IPv6' : 'IPv4';
  }

  /** The local address, as net.Socket's address(). */
  address(): { address: string; family: string; port: number } | Record<string, never> {
    const a = this.localAddress;
    if (a === undefined) return {};
    return { address: a, family: a.includes(':') ? 'IPv6' : 'IPv4', port: this.localPort! };
  }

  /** Node's libuv 1.46 sets SO_KEEPALIVE and, with a delay, TCP_KEEPIDLE (interval and count stay the sysctls). */
  setKeepAlive(enable = false, initialDelay = 0): this {
    const h = this.handle;
    if (!h) {
      this.once('connect', () => this.setKeepAlive(enable, initialDelay));
      return this;
    }
    if (h.closed) return this;
    h.setsockopt('SO_KEEPALIVE', enable);
    const secs = Math.floor(initialDelay / 1000);
    if (enable && secs > 0) h.setsockopt('TCP_KEEPIDLE', Math.min(secs, 32767));
    return this;
  }

  /** TCP_NODELAY. */
  setNoDelay(noDelay = true): this {
    const h = this.handle;
    if (!h) {
      this.once('connect', () => this.setNoDelay(noDelay));
      return this;
    }
    if (!h.closed) h.setsockopt('TCP_NODELAY', noDelay);
    return this;
  }

  /** An idle timeout on the virtual clock; 'timeout' is emitted, nothing is closed. */
  setTimeout(ms: number, cb?: () => void): this {
    this.timeoutMs = ms;
    if (cb) {
      if (ms === 0) this.removeListener('timeout', cb);
      else this.once('timeout', cb);
    }
    this.touch();
    return this;
  }

  get timeout(): number | undefined {
    return this.timeoutMs;
  }

  private clearTimer(): void {
    if (this.timeoutTimer) this.timeoutTimer.cancelled = true;
    this.timeoutTimer = null;
  }

  /** Activity restarts the idle timer (Node's _unrefTimer). */
  private touch(): void {
    this.clearTimer();
    if (!this.timeoutMs || this.destroyed) return;
    this.timeoutTimer = this.runtime.timer(this.timeoutMs * 1000, () => {
      this.timeoutTimer = null;
      if (!this.destroyed) this.emit('timeout');
    });
  }

  /**
   * RST instead of FIN: uv_tcp_close_reset, SO_LINGER {1, 0} and close (Node 16.17+). While
   * connecting it waits for the connection; with no handle, destroy(ERR_SOCKET_CLOSED).
   */
  resetAndDestroy(): this {
    if (this.hasHandle) {
      if (this.connecting) this.once('connect', () => this.reset());
      else this.reset();
    } else {
      this.destroy(nodeError('ERR_SOCKET_CLOSED', 'Socket is closed'));
    }
    return this;
  }

  private reset(): this {
    this.resetAndClosing = true;
    return this.destroy();
  }

  /** Ends the writable side, then destroys the socket once the writes are done. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /** Accepted, no effect: the runtime decides when the simulation ends. */
  ref(): this {
    return this;
  }
  /** Accepted, no effect: the runtime decides when the simulation ends. */
  unref(): this {
    return this;
  }

  /** The TCP connection's 4-tuple label as the trace shows it (kept after the close). */
  get connection(): string | undefined {
    if (!this.connLabel) this.connLabel = this.handle?.connectionLabel;
    return this.connLabel;
  }

  /** The engine socket, for tests and tools that want the TCP-level view. */
  get engine(): EngineSocket | null {
    return this.handle;
  }
}

export function normalizeConnectArgs(args: unknown[]): { opts: ConnectOptions; cb?: () => void } {
  let cb: (() => void) | undefined;
  if (typeof args[args.length - 1] === 'function') cb = args.pop() as () => void;
  const [a, b] = args;
  if (a !== null && typeof a === 'object') return { opts: a as ConnectOptions, cb };
  return { opts: { port: a as number | string, host: typeof b === 'string' ? b : undefined }, cb };
}
