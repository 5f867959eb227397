// An L4 (TCP) proxy on a linger host, in the manner of a load balancer's TCP profile: it accepts
// connections, opens one upstream connection for each, and relays bytes both ways with
// backpressure. A FIN is passed on one direction at a time (half-close), a reset is passed on as
// a reset, and the profile's timers (idle, close-wait, FIN_WAIT2, keep-alive) apply.

import type { Host } from '../host/host.ts';
import { ERRNO, SocketError, type ErrnoCode } from '../base/errno.ts';
import type { Socket } from '../host/socket.ts';

const errnoName = (n: number): string => (Object.keys(ERRNO) as ErrnoCode[]).find((k) => ERRNO[k] === n) ?? `errno ${n}`;

/** Settings named after an F5 TCP profile; the defaults are F5's. */
export interface TcpProfile {
  /** Idle connections are ended after this long (0 = never). F5 default 300 s. */
  idleTimeoutMs: number;
  /** How an idle connection is ended: F5's "Reset on Timeout" is on by default. */
  idleAction: 'rst' | 'fin';
  /** TCP keepalive on both sides, probing after this much idle and this often (0 = off). F5 default 1800 s. */
  keepAliveIntervalMs: number;
  /** After one side's FIN, both are closed if the other side has not finished in this long. F5 close-wait-timeout 5 s. */
  closeWaitTimeoutMs: number;
  /** Orphaned FIN_WAIT2 lifetime of the proxy's sockets (TCP_LINGER2). F5 fin-wait-2-timeout 300 s. */
  finWait2TimeoutMs: number;
}

/** F5's TCP profile defaults: idle 300 s with a reset, keepalive 1800 s, close-wait 5 s, FIN_WAIT2 300 s. */
export const F5_DEFAULTS: TcpProfile = {
  idleTimeoutMs: 300_000,
  idleAction: 'rst',
  keepAliveIntervalMs: 1_800_000,
  closeWaitTimeoutMs: 5_000,
  finWait2TimeoutMs: 300_000,
};

/** Where the proxy's timers run (a Runtime's timer(), or the TUN driver's). */
export interface Scheduler {
  /** Runs fn after delayUs of the host's time; the handle cancels it. */
  setTimer(delayUs: number, fn: () => void): { cancel(): void };
}

/** What the proxy counted since it started. */
export interface ProxyStats {
  accepted: number;
  upstreamFailures: number;
  resetsRelayed: number;
  idleTimeouts: number;
  closeWaitTimeouts: number;
  bytesUp: number;
  bytesDown: number;
}

/** What happened to a relayed connection, for onEvent. */
export type ProxyEvent =
  | { kind: 'accept'; client: string }
  | { kind: 'upstream-failed'; client: string; code: string }
  | { kind: 'half-close'; from: 'client' | 'upstream' }
  | { kind: 'reset'; from: 'client' | 'upstream'; code: string }
  | { kind: 'idle-timeout'; action: 'rst' | 'fin' }
  | { kind: 'close-wait-timeout' }
  | { kind: 'closed'; bytesUp: number; bytesDown: number };

/** Where the proxy listens, where it relays to, its profile and its timers. */
export interface L4ProxyOptions {
  listen: { addr: string; port: number; backlog?: number };
  upstream: { addr: string; port: number };
  profile?: Partial<TcpProfile>;
  scheduler: Scheduler;
  onEvent?: (ev: ProxyEvent) => void;
}

/** What a relayed connection uses of its proxy (the node:net flavour in stream.ts too). */
export interface RelayContext {
  readonly profile: TcpProfile;
  readonly stats: ProxyStats;
  emit(ev: ProxyEvent): void;
}

/** The two ends of a relayed connection, as ProxyEvent names them. */
export type Side = 'client' | 'upstream';
type Timer = { cancel(): void };

/** One direction of a relayed connection. */
class Pipe {
  pending: Uint8Array | null = null;
  eof = false; // the source sent FIN
  finPassed = false; // ...and the FIN was passed on, after everything before it
  relayed = 0;
  constructor(readonly from: Socket, readonly to: Socket, readonly name: Side) {}
}

/** An L4 (TCP) proxy on a host: one upstream connection per client, FIN and RST passed on, the profile's timers applied. */
export class L4Proxy {
  readonly profile: TcpProfile;
  readonly stats: ProxyStats = { accepted: 0, upstreamFailures: 0, resetsRelayed: 0, idleTimeouts: 0, closeWaitTimeouts: 0, bytesUp: 0, bytesDown: 0 };
  private readonly listener: Socket;

  constructor(readonly host: Host, readonly opts: L4ProxyOptions) {
    this.profile = { ...F5_DEFAULTS, ...opts.profile };
    const l = host.socket();
    l.bind(opts.listen.addr, opts.listen.port);
    l.listen(opts.listen.backlog ?? 511);
    l.on('connection', () => {
      for (let c = l.accept(); c; c = l.accept()) this.relay(c);
    });
    this.listener = l;
  }

  close(): void {
    this.listener.close();
  }

  private emit(ev: ProxyEvent): void {
    this.opts.onEvent?.(ev);
  }

  /** The profile's socket options: keepalive (SO_KEEPALIVE, TCP_KEEPIDLE/INTVL), FIN_WAIT2 lifetime (TCP_LINGER2), TCP_NODELAY. */
  private configure(s: Socket): void {
    const p = this.profile;
    if (p.keepAliveIntervalMs > 0) {
      const secs = Math.max(1, Math.min(32767, Math.round(p.keepAliveIntervalMs / 1000)));
      s.setsockopt('SO_KEEPALIVE', true);
      s.setsockopt('TCP_KEEPIDLE', secs);
      s.setsockopt('TCP_KEEPINTVL', secs);
    }
    s.setsockopt('TCP_LINGER2', Math.max(1, Math.round(p.finWait2TimeoutMs / 1000)));
    s.setsockopt('TCP_NODELAY', true);
  }

  /** An accepted client: the profile on both sockets, the relay wired, the upstream connect started. */
  private relay(client: Socket): void {
    this.stats.accepted++;
    const label = client.connectionLabel ?? '?';
    this.emit({ kind: 'accept', client: label });
    this.configure(client);
    const upstream = this.host.socket();
    this.configure(upstream);
    const ctx = { profile: this.profile, stats: this.stats, emit: (ev: ProxyEvent) => this.emit(ev) };
    const relay = new Relay(ctx, this.opts.scheduler, client, upstream);
    relay.wire();
    relay.connectUpstream(this.opts.upstream, label);
  }
}

/**
 * One relayed connection: the client's socket and the upstream socket, a Pipe each way, and the
 * profile's idle and close-wait timers. It is over (finished) once both sides are closed or reset.
 */
class Relay {
  private readonly up: Pipe;
  private readonly down: Pipe;
  private finished = false;
  private connected = false;
  private idle: Timer | null = null;
  private closeWait: Timer | null = null;

  constructor(private readonly ctx: RelayContext, private readonly scheduler: Scheduler, readonly client: Socket, readonly upstream: Socket) {
    this.up = new Pipe(client, upstream, 'client');
    this.down = new Pipe(upstream, client, 'upstream');
  }

  // --- Upstream connect.

  /**
   * Connects to the upstream. When the handshake completes the relay starts; when the upstream
   * never answers (ECONNREFUSED, ETIMEDOUT) the client gets a reset, the L4 counterpart of an
   * HTTP proxy's 502.
   */
  connectUpstream(to: { addr: string; port: number }, label: string): void {
    const upstream = this.upstream;
    upstream.on('connect', () => {
      this.connected = true;
      this.touch();
      this.pump(this.up);
      this.pump(this.down);
    });
    upstream.on('error', () => {
      if (this.connected || this.finished) return; // later errors surface through recv() in pump()
      let code = 'ECONNREFUSED';
      try {
        upstream.recv();
      } catch (e) {
        if (e instanceof SocketError) code = e.code;
      }
      this.upstreamFailed(label, code);
      upstream.close();
    });
    try {
      upstream.connect(to.addr, to.port);
    } catch (e) {
      if (!(e instanceof SocketError)) throw e;
      this.upstreamFailed(label, e.code);
    }
  }

  private upstreamFailed(label: string, code: string): void {
    this.ctx.stats.upstreamFailures++;
    this.ctx.emit({ kind: 'upstream-failed', client: label, code });
    this.over();
    this.reset(this.client);
  }

  // --- Byte relay with backpressure.

  /** Each socket's events drive the pipes: readable, close and errors the one it reads, writable the one it writes. */
  wire(): void {
    this.watch(this.client, this.up, this.down);
    this.watch(this.upstream, this.down, this.up);
  }

  private watch(s: Socket, readPipe: Pipe, writePipe: Pipe): void {
    s.on('readable', () => this.pump(readPipe));
    s.on('error', () => {
      // POLLERR: take the error (getsockopt SO_ERROR) and pass the reset on to the other side,
      // even when a FIN came first and reads would only say end-of-stream.
      if (s === this.upstream && !this.connected) return;
      const errno = s.getsockopt('SO_ERROR') as number;
      if (errno) return this.abort(readPipe.name, errnoName(errno));
      this.pump(readPipe);
    });
    s.on('close', () => this.pump(readPipe));
    s.on('writable', () => this.pump(writePipe));
  }

  /**
   * Moves bytes one way: reads no more than the other side's send buffer takes, and stops while
   * a chunk is pending ('writable' resumes it). At the end of the stream the FIN goes on.
   */
  private pump(d: Pipe): void {
    if (this.finished) return;
    for (;;) {
      if (!this.flush(d)) return;
      if (d.eof) {
        if (!d.finPassed) this.passFin(d);
        return;
      }
      if (!this.receive(d)) return;
    }
  }

  /** Sends what the pipe holds; true when nothing is left pending (a failed send is passed on as a reset). */
  private flush(d: Pipe): boolean {
    if (!d.pending) return true;
    let n: number;
    try {
      n = d.to.send(d.pending);
    } catch (e) {
      if (e instanceof SocketError) {
        this.abort(d.name === 'client' ? 'upstream' : 'client', e.code);
        return false;
      }
      throw e;
    }
    d.relayed += n;
    if (d.name === 'client') this.ctx.stats.bytesUp += n;
    else this.ctx.stats.bytesDown += n;
    if (n) this.touch();
    d.pending = n < d.pending.length ? d.pending.subarray(n) : null;
    return !d.pending; // else wait for 'writable' on the other side
  }

  /** Reads the next chunk into the pipe; false when there is none, at the end of the stream, or on an error (a reset, passed on). */
  private receive(d: Pipe): boolean {
    let data: Uint8Array | null;
    try {
      data = d.from.recv(Math.max(1, Math.min(65536, d.to.writable)));
    } catch (e) {
      if (e instanceof SocketError) {
        this.abort(d.name, e.code);
        return false;
      }
      throw e;
    }
    if (data === null) return false;
    if (data.length === 0) {
      d.eof = true;
      this.passFin(d);
      return false;
    }
    d.pending = data;
    return true;
  }

  // --- Half-close.

  /** A FIN from one side goes on to the other once everything before it went out (half-close). */
  private passFin(d: Pipe): void {
    if (d.to === this.upstream && !this.connected) return; // after the upstream handshake
    d.finPassed = true;
    this.ctx.emit({ kind: 'half-close', from: d.name });
    try {
      d.to.shutdown('SHUT_WR');
    } catch (e) {
      if (!(e instanceof SocketError)) throw e;
    }
    if (this.up.finPassed && this.down.finPassed) return this.finish();
    this.startCloseWait();
  }

  /** Both sides closed in order: close both sockets (the proxy's own FIN_WAIT2 is bounded by TCP_LINGER2). */
  private finish(): void {
    if (this.finished) return;
    this.over();
    if (!this.client.closed) this.client.close();
    if (!this.upstream.closed) this.upstream.close();
    this.ctx.emit({ kind: 'closed', bytesUp: this.up.relayed, bytesDown: this.down.relayed });
  }

  // --- Resets.

  /** A reset on one side is passed on as a reset on the other; this side's socket is closed. */
  private abort(from: Side, code: string): void {
    if (this.finished) return;
    this.ctx.stats.resetsRelayed++;
    this.ctx.emit({ kind: 'reset', from, code });
    this.over();
    const [source, other] = from === 'client' ? [this.client, this.upstream] : [this.upstream, this.client];
    this.reset(other);
    if (!source.closed) source.close();
  }

  /** An abortive close: SO_LINGER {on, 0} then close() sends a RST. */
  private reset(s: Socket): void {
    if (s.closed) return;
    s.setsockopt('SO_LINGER', { on: true, seconds: 0 });
    s.close();
  }

  // --- The profile's timers.

  /**
   * (Re)starts the idle timer (idle-timeout), at the upstream connect and at every byte relayed
   * either way; when it fires, both sides are reset or closed (idleAction).
   */
  private touch(): void {
    const p = this.ctx.profile;
    if (!p.idleTimeoutMs || this.finished) return;
    this.idle?.cancel();
    this.idle = this.scheduler.setTimer(p.idleTimeoutMs * 1000, () => {
      this.idle = null;
      this.ctx.stats.idleTimeouts++;
      this.ctx.emit({ kind: 'idle-timeout', action: p.idleAction });
      if (p.idleAction === 'rst') {
        this.over();
        this.reset(this.client);
        this.reset(this.upstream);
      } else this.finish();
    });
  }

  /** After one side's FIN, both are closed if the other has not finished within close-wait-timeout. */
  private startCloseWait(): void {
    const p = this.ctx.profile;
    if (!p.closeWaitTimeoutMs || this.closeWait) return;
    this.closeWait = this.scheduler.setTimer(p.closeWaitTimeoutMs * 1000, () => {
      this.closeWait = null;
      this.ctx.stats.closeWaitTimeouts++;
      this.ctx.emit({ kind: 'close-wait-timeout' });
      this.finish();
    });
  }

  /** The relay is over: nothing more is pumped and its timers are stopped. */
  private over(): void {
    this.finished = true;
    this.idle?.cancel();
    this.closeWait?.cancel();
    this.idle = this.closeWait = null;
  }
}
