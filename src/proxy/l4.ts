// An L4 (TCP) proxy on a linger host, in the manner of a load balancer's TCP profile: it accepts
// connections, opens one upstream connection for each, and relays bytes both ways with
// backpressure. A FIN is passed on one direction at a time (half-close), a reset is passed on as
// a reset, and the profile's timers (idle, close-wait, FIN_WAIT2, keep-alive) apply.

import type { Host } from '../host/host.ts';
import { ERRNO, SocketError, type ErrnoCode } from '../base/errno.ts';

const errnoName = (n: number): string => (Object.keys(ERRNO) as ErrnoCode[]).find((k) => ERRNO[k] === n) ?? `errno ${n}`;
import type { Socket } from '../host/socket.ts';

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

export const F5_DEFAULTS: TcpProfile = {
  idleTimeoutMs: 300_000,
  idleAction: 'rst',
  keepAliveIntervalMs: 1_800_000,
  closeWaitTimeoutMs: 5_000,
  finWait2TimeoutMs: 300_000,
};

export interface Scheduler {
  /** Runs fn after delayUs of the host's time; the handle cancels it. */
  setTimer(delayUs: number, fn: () => void): { cancel(): void };
}

export interface ProxyStats {
  accepted: number;
  upstreamFailures: number;
  resetsRelayed: number;
  idleTimeouts: number;
  closeWaitTimeouts: number;
  bytesUp: number;
  bytesDown: number;
}

export type ProxyEvent =
  | { kind: 'accept'; client: string }
  | { kind: 'upstream-failed'; client: string; code: string }
  | { kind: 'half-close'; from: 'client' | 'upstream' }
  | { kind: 'reset'; from: 'client' | 'upstream'; code: string }
  | { kind: 'idle-timeout'; action: 'rst' | 'fin' }
  | { kind: 'close-wait-timeout' }
  | { kind: 'closed'; bytesUp: number; bytesDown: number };

export interface L4ProxyOptions {
  listen: { addr: string; port: number; backlog?: number };
  upstream: { addr: string; port: number };
  profile?: Partial<TcpProfile>;
  scheduler: Scheduler;
  onEvent?: (ev: ProxyEvent) => void;
}

/** One direction of a relayed connection. */
class Pipe {
  pending: Uint8Array | null = null;
  eof = false; // the source sent FIN
  finPassed = false; // ...and the FIN was passed on, after everything before it
  relayed = 0;
  constructor(readonly from: Socket, readonly to: Socket, readonly name: 'client' | 'upstream') {}
}

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

  private relay(client: Socket): void {
    this.stats.accepted++;
    const label = client.conn?.label ?? '?';
    this.emit({ kind: 'accept', client: label });
    this.configure(client);
    const upstream = this.host.socket();
    this.configure(upstream);
    const up = new Pipe(client, upstream, 'client');
    const down = new Pipe(upstream, client, 'upstream');
    let finished = false;
    let connected = false;
    let idle: { cancel(): void } | null = null;
    let closeWait: { cancel(): void } | null = null;
    const sched = this.opts.scheduler;
    const p = this.profile;

    const stopTimers = () => {
      idle?.cancel();
      closeWait?.cancel();
      idle = closeWait = null;
    };
    const finish = () => {
      if (finished) return;
      finished = true;
      stopTimers();
      if (!client.closed) client.close();
      if (!upstream.closed) upstream.close();
      this.emit({ kind: 'closed', bytesUp: up.relayed, bytesDown: down.relayed });
    };
    const reset = (s: Socket) => {
      if (s.closed) return;
      s.setsockopt('SO_LINGER', { on: true, seconds: 0 });
      s.close();
    };
    const abort = (from: 'client' | 'upstream', code: string) => {
      if (finished) return;
      this.stats.resetsRelayed++;
      this.emit({ kind: 'reset', from, code });
      finished = true;
      stopTimers();
      // A reset on one side is passed on as a reset on the other.
      reset(from === 'client' ? upstream : client);
      if (!(from === 'client' ? client : upstream).closed) (from === 'client' ? client : upstream).close();
    };
    const touch = () => {
      if (!p.idleTimeoutMs || finished) return;
      idle?.cancel();
      idle = sched.setTimer(p.idleTimeoutMs * 1000, () => {
        idle = null;
        this.stats.idleTimeouts++;
        this.emit({ kind: 'idle-timeout', action: p.idleAction });
        if (p.idleAction === 'rst') {
          finished = true;
          stopTimers();
          reset(client);
          reset(upstream);
        } else finish();
      });
    };
    /** A FIN from one side goes on to the other once everything before it went out (half-close). */
    const passFin = (d: Pipe) => {
      if (d.to === upstream && !connected) return; // after the upstream handshake
      d.finPassed = true;
      this.emit({ kind: 'half-close', from: d.name });
      try {
        d.to.shutdown('SHUT_WR');
      } catch (e) {
        if (!(e instanceof SocketError)) throw e;
      }
      if (up.finPassed && down.finPassed) return finish();
      if (p.closeWaitTimeoutMs && !closeWait) {
        closeWait = sched.setTimer(p.closeWaitTimeoutMs * 1000, () => {
          closeWait = null;
          this.stats.closeWaitTimeouts++;
          this.emit({ kind: 'close-wait-timeout' });
          finish();
        });
      }
    };
    const pump = (d: Pipe) => {
      if (finished) return;
      for (;;) {
        if (d.pending) {
          let n: number;
          try {
            n = d.to.send(d.pending);
          } catch (e) {
            if (e instanceof SocketError) return abort(d.name === 'client' ? 'upstream' : 'client', e.code);
            throw e;
          }
          d.relayed += n;
          if (d.name === 'client') this.stats.bytesUp += n;
          else this.stats.bytesDown += n;
          if (n) touch();
          d.pending = n < d.pending.length ? d.pending.subarray(n) : null;
          if (d.pending) return; // wait for 'writable' on the other side
        }
        if (d.eof) {
          if (!d.finPassed) passFin(d);
          return;
        }
        let data: Uint8Array | null;
        try {
          data = d.from.recv(Math.max(1, Math.min(65536, d.to.writable)));
        } catch (e) {
          if (e instanceof SocketError) return abort(d.name, e.code);
          throw e;
        }
        if (data === null) return;
        if (data.length === 0) {
          d.eof = true;
          passFin(d);
          return;
        }
        d.pending = data;
      }
    };
    const wire = (s: Socket, readPipe: Pipe, writePipe: Pipe) => {
      s.on('readable', () => pump(readPipe));
      s.on('error', () => {
        // POLLERR: take the error (getsockopt SO_ERROR) and pass the reset on to the other side,
        // even when a FIN came first and reads would only say end-of-stream.
        if (s === upstream && !connected) return;
        const errno = s.getsockopt('SO_ERROR') as number;
        if (errno) return abort(readPipe.name, errnoName(errno));
        pump(readPipe);
      });
      s.on('close', () => pump(readPipe));
      s.on('writable', () => pump(writePipe));
    };
    wire(client, up, down);
    wire(upstream, down, up);
    upstream.on('connect', () => {
      connected = true;
      touch();
      pump(up);
      pump(down);
    });
    upstream.on('error', () => {
      if (connected || finished) return; // later errors surface through recv() in pump()
      // The upstream never answered (ECONNREFUSED, ETIMEDOUT): the client gets a reset,
      // the L4 counterpart of an HTTP proxy's 502.
      let code = 'ECONNREFUSED';
      try {
        upstream.recv();
      } catch (e) {
        if (e instanceof SocketError) code = e.code;
      }
      this.stats.upstreamFailures++;
      this.emit({ kind: 'upstream-failed', client: label, code });
      finished = true;
      stopTimers();
      reset(client);
      upstream.close();
    });
    try {
      upstream.connect(this.opts.upstream.addr, this.opts.upstream.port);
    } catch (e) {
      if (!(e instanceof SocketError)) throw e;
      this.stats.upstreamFailures++;
      this.emit({ kind: 'upstream-failed', client: label, code: e.code });
      finished = true;
      reset(client);
    }
  }
}
