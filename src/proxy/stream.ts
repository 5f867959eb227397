// The same L4 relay over the node:net API, so it runs on the real kernel (node:net, `linger
// proxy`) and on linger hosts (src/net bindings) alike: half-close passed on one direction at
// a time, resets passed on as resets (resetAndDestroy), the profile's idle and close-wait
// timers, TCP keepalive. TIME_WAIT length and FIN_WAIT2 timeouts are kernel settings there.

import { EventEmitter } from 'node:events';
import type * as nodeNet from 'node:net';
import { F5_DEFAULTS, type ProxyEvent, type ProxyStats, type RelayContext, type Side, type TcpProfile } from './l4.ts';

type NetLike = Pick<typeof nodeNet, 'createServer' | 'connect'>;
type Sock = nodeNet.Socket;

export interface StreamProxyOptions {
  listen: { host?: string; port: number };
  upstream: { host: string; port: number };
  profile?: Partial<TcpProfile>;
}

export class StreamProxy extends EventEmitter {
  readonly profile: TcpProfile;
  readonly server: nodeNet.Server;
  readonly stats: ProxyStats = { accepted: 0, upstreamFailures: 0, resetsRelayed: 0, idleTimeouts: 0, closeWaitTimeouts: 0, bytesUp: 0, bytesDown: 0 };

  constructor(net: NetLike, readonly opts: StreamProxyOptions) {
    super();
    this.profile = { ...F5_DEFAULTS, ...opts.profile };
    this.server = net.createServer({ allowHalfOpen: true }, (client) => this.relay(net, client));
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.listen.port, this.opts.listen.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private note(ev: ProxyEvent): void {
    this.emit('event', ev);
  }

  /** An accepted client: the upstream connect started, both sockets set up, bytes relayed both ways, the idle timer. */
  private relay(net: NetLike, client: Sock): void {
    this.stats.accepted++;
    this.note({ kind: 'accept', client: `${client.remoteAddress}:${client.remotePort}` });
    const upstream = net.connect({ host: this.opts.upstream.host, port: this.opts.upstream.port, allowHalfOpen: true } as nodeNet.NetConnectOpts);
    const relay = new StreamRelay({ profile: this.profile, stats: this.stats, emit: (ev) => this.note(ev) }, client, upstream);
    relay.configure();
    relay.watchUpstreamConnect();
    relay.pipe(client, upstream, 'client');
    relay.pipe(upstream, client, 'upstream');
    relay.startIdleTimer();
  }
}

/**
 * One relayed connection over node:net sockets (allowHalfOpen on both): 'data' written on with
 * backpressure (pause until 'drain'), 'end' passed on as end(), errors as resetAndDestroy(), and
 * the profile's idle and close-wait timers. It is over (done) once it has reset or closed both
 * sides (a reset, a timeout, a failed upstream connect) or both sockets are gone.
 */
class StreamRelay {
  private connected = false;
  private done = false;
  private closeWait: ReturnType<typeof setTimeout> | undefined;
  private readonly ends = { client: false, upstream: false };

  constructor(private readonly ctx: RelayContext, readonly client: Sock, readonly upstream: Sock) {}

  /** TCP_NODELAY and the profile's keepalive on both sockets. */
  configure(): void {
    const p = this.ctx.profile;
    for (const s of [this.client, this.upstream]) {
      s.setNoDelay(true);
      if (p.keepAliveIntervalMs > 0) s.setKeepAlive(true, p.keepAliveIntervalMs);
    }
  }

  // --- Upstream connect.

  /** The upstream handshake; if it fails (ECONNREFUSED, ETIMEDOUT), the client gets a reset. */
  watchUpstreamConnect(): void {
    const { client, upstream } = this;
    upstream.once('connect', () => (this.connected = true));
    upstream.once('error', (e: Error & { code?: string }) => {
      if (this.connected || this.done) return;
      this.stop();
      this.ctx.stats.upstreamFailures++;
      this.ctx.emit({ kind: 'upstream-failed', client: `${client.remoteAddress}:${client.remotePort}`, code: e.code ?? 'EIO' });
      client.resetAndDestroy();
    });
  }

  // --- One direction: bytes, then the FIN; errors passed on as resets.

  pipe(from: Sock, to: Sock, name: Side): void {
    from.on('data', (d: Buffer) => this.relayData(from, to, name, d));
    from.on('end', () => this.passFin(to, name));
    from.on('error', (e: Error & { code?: string }) => this.abort(name, e.code ?? 'EIO'));
    from.on('close', () => {
      if (this.client.destroyed && this.upstream.destroyed && !this.done) this.stop(); // both gone: clear the timers
    });
  }

  /** Writes on what arrived; when the other side's buffer is full, reading pauses until 'drain' (backpressure). */
  private relayData(from: Sock, to: Sock, name: Side, d: Buffer): void {
    if (name === 'client') this.ctx.stats.bytesUp += d.length;
    else this.ctx.stats.bytesDown += d.length;
    if (!to.write(d)) {
      from.pause();
      to.once('drain', () => from.resume());
    }
  }

  // --- Half-close.

  /** One side's FIN goes on to the other after the data before it (once the upstream is connected); the close-wait timer starts. */
  private passFin(to: Sock, name: Side): void {
    this.ends[name] = true;
    this.ctx.emit({ kind: 'half-close', from: name });
    const pass = () => to.end(); // the FIN goes on after the data before it
    if (to === this.upstream && !this.connected) this.upstream.once('connect', pass);
    else pass();
    if (this.ends.client && this.ends.upstream) return;
    this.startCloseWait();
  }

  /** After one side's FIN, both are destroyed if the other has not finished within close-wait-timeout. */
  private startCloseWait(): void {
    const p = this.ctx.profile;
    if (!p.closeWaitTimeoutMs || this.closeWait) return;
    this.closeWait = setTimeout(() => {
      if (this.done) return;
      this.ctx.stats.closeWaitTimeouts++;
      this.ctx.emit({ kind: 'close-wait-timeout' });
      this.stop();
      this.client.destroy();
      this.upstream.destroy();
    }, p.closeWaitTimeoutMs);
  }

  // --- Resets.

  /** An error on one side (a reset) is passed on as a reset on the other; this side is destroyed. */
  private abort(from: Side, code: string): void {
    if (this.done) return;
    this.stop();
    this.ctx.stats.resetsRelayed++;
    this.ctx.emit({ kind: 'reset', from, code });
    const other = from === 'client' ? this.upstream : this.client;
    other.resetAndDestroy();
    (from === 'client' ? this.client : this.upstream).destroy();
  }

  // --- Idle timeout.

  /**
   * Idle means no byte either way: each socket's timer is reset by its own traffic, so the proxy
   * acts when the quieter side's timer fires and the other side was quiet too.
   */
  startIdleTimer(): void {
    const p = this.ctx.profile;
    if (!(p.idleTimeoutMs > 0)) return;
    let last = Date.now();
    const touch = () => (last = Date.now());
    this.client.on('data', touch);
    this.upstream.on('data', touch);
    const check = () => {
      if (Date.now() - last >= p.idleTimeoutMs) this.idleTimeout();
    };
    this.client.setTimeout(p.idleTimeoutMs, check);
    this.upstream.setTimeout(p.idleTimeoutMs, check);
  }

  /** Both sides reset (idleAction rst, F5's "Reset on Timeout") or closed with a FIN. */
  private idleTimeout(): void {
    if (this.done) return;
    const p = this.ctx.profile;
    this.ctx.stats.idleTimeouts++;
    this.ctx.emit({ kind: 'idle-timeout', action: p.idleAction });
    this.stop();
    if (p.idleAction === 'rst') {
      this.client.resetAndDestroy();
      this.upstream.resetAndDestroy();
    } else {
      this.client.end();
      this.upstream.end();
    }
  }

  /** The relay is over: its timers are stopped. */
  private stop(): void {
    this.done = true;
    if (this.closeWait) clearTimeout(this.closeWait);
    this.client.setTimeout(0);
    this.upstream.setTimeout(0);
  }
}
