// A node:net-compatible Socket over a linger host: a stream.Duplex whose handle is an engine
// socket. Node's own http, http2 and userland clients use it unchanged (they take any Duplex
// with net.Socket's members). Differences from node:net are listed in the README.

import { Duplex } from 'node:stream';
import type { Host } from '../host/host.ts';
import { SocketError } from '../base/errno.ts';
import type { Socket as EngineSocket } from '../host/socket.ts';
import { canonicalIp, ipVersion } from '../wire/addr.ts';
import { netError, nodeError } from './errors.ts';
import type { NetRuntime, VTimer } from './runtime.ts';

/** Options of a NetSocket, as net.Socket's. */
export interface NetSocketOptions {
  allowHalfOpen?: boolean;
  /** Internal: wrap an accepted engine socket. */
  handle?: EngineSocket;
}

/** What socket.connect() takes, as net.Socket's. */
export interface ConnectOptions {
  port: number | string;
  host?: string;
  localAddress?: string;
  localPort?: number;
  family?: number;
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
  private _pendingConnect = true;
  bytesRead = 0;
  /** net.Socket's _bytesDispatched: whole chunks handed to the kernel (some may still wait in its buffer). */
  private dispatched = 0;
  /** net.Socket's _pendingData: a chunk written while connecting. */
  private pendingData: Buffer | null = null;
  private readEnded = false;
  private wantRead = false;
  private pendingWrite: { buf: Uint8Array; cb: (err?: Error | null) => void } | null = null;
  /** setTimeout's value: undefined until it is called (socket.timeout), 0 = off. */
  private timeoutMs: number | undefined = undefined;
  private timeoutTimer: VTimer | null = null;
  private remote: { address: string; port: number; family: string } | null = null;
  private connLabel: string | undefined;

  constructor(host: Host, runtime: NetRuntime, opts: NetSocketOptions = {}) {
    const allowHalfOpen = opts.allowHalfOpen ?? false;
    // 'close' is emitted by _destroy with Node's hadError argument, so not by the stream itself.
    super({ allowHalfOpen, emitClose: false, autoDestroy: true, decodeStrings: true });
    this.host = host;
    this.runtime = runtime;
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
      this._pendingConnect = false;
      this.connected(h);
    }
  }

  /** The engine socket has a connection: its label and peer, kept after it closes. */
  private connected(h: EngineSocket): void {
    this.connLabel = h.connectionLabel;
    const address = h.remoteAddress!;
    this.remote = { address, port: h.remotePort!, family: address.includes(':') ? 'IPv6' : 'IPv4' };
  }

  /** Moves received bytes into the readable side; errors destroy the stream as libuv's read does. */
  private pull(): void {
    const h = this.handle;
    // While connecting, a failure belongs to connect() (ECONNREFUSED, ETIMEDOUT), not to read().
    if (!h || this.destroyed || this.readEnded || !this.wantRead || this.connecting) return;
    for (;;) {
      let d: Uint8Array | null;
      try {
        d = h.recv(65536);
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
      if (!this.push(Buffer.from(d.buffer, d.byteOffset, d.length))) {
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

  /** As net.Socket's pause: stop reading from the kernel too (readStop), so data stays queued there. */
  override pause(): this {
    this.wantRead = false;
    return super.pause();
  }

  /** As net.Socket's resume: start reading from the kernel again (tryReadStart). */
  override resume(): this {
    super.resume();
    if (!this.connecting && this.handle) {
      this.wantRead = true;
      this.pull();
    }
    return this;
  }

  /**
   * As net.Socket's read(): reading from the kernel starts again (tryReadStart) even after
   * pause(), and the stream's own _read may not be called again while a pull is outstanding.
   */
  override read(n?: number): unknown {
    if (!this.connecting && this.handle && !this.wantRead && !this.readEnded && !this.destroyed) {
      this.wantRead = true;
      this.pull();
    }
    return super.read(n);
  }

  /** @internal stream.Duplex: start reading from the engine socket. */
  override _read(): void {
    this.wantRead = true;
    this.pull();
  }

  /** @internal stream.Duplex: queue bytes on the engine socket. */
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.connecting || !this.handle) {
      // net.Socket's _writeGeneric while connecting: the chunk waits for 'connect'; a 'close'
      // first fails it with ERR_SOCKET_CLOSED_BEFORE_CONNECTION.
      this.pendingData = chunk;
      const onClose = (): void => cb(nodeError('ERR_SOCKET_CLOSED_BEFORE_CONNECTION', 'Socket closed before the connection was established'));
      this.once('close', onClose);
      this.once('connect', () => {
        this.off('close', onClose);
        this.pendingData = null;
        this._write(chunk, _enc, cb);
      });
      return;
    }
    this.dispatched += chunk.length;
    this.writeBytes(chunk, cb);
  }

  /** Corked writes go out as one send, as libuv's writev does (so http's framing is not split). */
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this._write(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), 'latin1', cb);
  }

  /** @internal stream.Duplex: end() sends a FIN once the writes are done. */
  override _final(cb: (err?: Error | null) => void): void {
    if (this.connecting || !this.handle) {
      this.once('connect', () => this._final(cb));
      return;
    }
    try {
      this.handle.shutdown('SHUT_WR');
    } catch (e) {
      if (!(e instanceof SocketError) || e.code !== 'ENOTCONN') throw e;
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
    const h = this.handle;
    if (h && !h.closed) h.close(); // Linux close(): FIN, or RST when unread data is left
    cb(err);
    // After the stream's own 'error' (queued by cb): close(hadError), as net.Socket does, from
    // the handle's close callback: a later turn of the event loop than 'end' or 'error', so
    // `await once(s, 'end'); await once(s, 'close')` sees both (setImmediate, as uv_close).
    setImmediate(() => this.emit('close', err != null));
  }

  // ---- node:net members ----

  /** Connects, as net.Socket's connect(port, host, cb) or connect(options, cb). */
  connect(...args: unknown[]): this {
    const { opts, cb } = normalizeConnectArgs(args);
    if (cb) this.once('connect', cb);
    const port = Number(opts.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw nodeError('ERR_SOCKET_BAD_PORT', `Port should be >= 0 and < 65536. Received ${String(opts.port)}.`);
    const hostName = opts.host ?? 'localhost';
    this.connecting = true;
    this._pendingConnect = true;
    // Resolve as dns.lookup would, from the runtime's table of simulated hosts.
    process.nextTick(() => {
      let address = hostName;
      const lit = canonicalIp(hostName);
      if (!lit.ok) {
        const found = this.runtime.names.get(hostName)?.find((a) => !opts.family || ipVersion(a) === opts.family);
        if (!found) {
          // dns.lookup's error: `getaddrinfo ENOTFOUND name`, errno UV_EAI_NONAME (-3008).
          const err = netError('ENOTFOUND', 'getaddrinfo');
          err.message = `getaddrinfo ENOTFOUND ${hostName}`;
          err.errno = -3008;
          (err as { hostname?: string }).hostname = hostName;
          this.emit('lookup', err, undefined, undefined, hostName);
          this.destroy(err);
          return;
        }
        address = found;
        this.emit('lookup', null, address, ipVersion(address), hostName);
      } else address = lit.value;
      this.startConnect(address, port, opts);
    });
    return this;
  }

  private startConnect(address: string, port: number, opts: ConnectOptions): void {
    if (this.destroyed) return;
    const h = this.host.socket();
    this.attach(h, false);
    if (opts.noDelay) h.setsockopt('TCP_NODELAY', true);
    if (opts.keepAlive) this.setKeepAlive(true, opts.keepAliveInitialDelay ?? 0);
    h.on('connect', () => {
      this.connecting = false;
      this._pendingConnect = false;
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
    try {
      if (opts.localAddress || opts.localPort) h.bind(opts.localAddress ?? (ipVersion(address) === 6 ? '::' : '0.0.0.0'), opts.localPort ?? 0);
      h.connect(address, port);
    } catch (e) {
      if (e instanceof SocketError) {
        this.connecting = false;
        this.destroy(netError(e.code, e.syscall === 'bind' ? 'bind' : 'connect', address, port));
        return;
      }
      throw e;
    }
    if (opts.timeout) this.setTimeout(opts.timeout);
  }

  get pending(): boolean {
    return this._pendingConnect;
  }

  get readyState(): ReadyState {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable && !this.writable) return 'readOnly';
    if (!this.readable && this.writable) return 'writeOnly';
    return 'closed';
  }

  /** As net.Socket's: bytes dispatched, plus those the stream still buffers and one pending connect. */
  get bytesWritten(): number {
    let n = this.dispatched + (this.pendingData?.length ?? 0);
    // Writable's writableBuffer (the chunks not yet handed to _write); @types/node omits it.
    for (const el of (this as unknown as { writableBuffer: Array<{ chunk: Buffer }> }).writableBuffer) n += el.chunk.length;
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
    return this.handle?.localAddress;
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

  /** RST instead of FIN: SO_LINGER {1, 0} and close (Node 16.17+). */
  resetAndDestroy(): this {
    const h = this.handle;
    if (h && !h.closed) h.setsockopt('SO_LINGER', { on: true, seconds: 0 });
    this.destroy();
    return this;
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
