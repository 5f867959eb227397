// The same L4 relay over the node:net API, so it runs on the real kernel (node:net, `linger
// proxy`) and on linger hosts (src/net bindings) alike: half-close passed on one direction at
// a time, resets passed on as resets (resetAndDestroy), the profile's idle and close-wait
// timers, TCP keepalive. TIME_WAIT length and FIN_WAIT2 timeouts are kernel settings there.

import { EventEmitter } from 'node:events';
import type * as nodeNet from 'node:net';
import { F5_DEFAULTS, type ProxyEvent, type TcpProfile } from './l4.ts';

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
  readonly stats = { accepted: 0, upstreamFailures: 0, resetsRelayed: 0, idleTimeouts: 0, closeWaitTimeouts: 0, bytesUp: 0, bytesDown: 0 };

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

  private relay(net: NetLike, client: Sock): void {
    this.stats.accepted++;
    const p = this.profile;
    this.note({ kind: 'accept', client: `${client.remoteAddress}:${client.remotePort}` });
    const upstream = net.connect({ host: this.opts.upstream.host, port: this.opts.upstream.port, allowHalfOpen: true } as nodeNet.NetConnectOpts);
    let connected = false;
    let done = false;
    let closeWait: ReturnType<typeof setTimeout> | undefined;
    const ends = { client: false, upstream: false };
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      if (p.keepAliveIntervalMs > 0) s.setKeepAlive(true, p.keepAliveIntervalMs);
    }
    const stop = () => {
      done = true;
      if (closeWait) clearTimeout(closeWait);
      client.setTimeout(0);
      upstream.setTimeout(0);
    };
    const abort = (from: 'client' | 'upstream', code: string) => {
      if (done) return;
      stop();
      this.stats.resetsRelayed++;
      this.note({ kind: 'reset', from, code });
      const other = from === 'client' ? upstream : client;
      other.resetAndDestroy();
      (from === 'client' ? client : upstream).destroy();
    };
    const pipe = (from: Sock, to: Sock, name: 'client' | 'upstream') => {
      from.on('data', (d: Buffer) => {
        if (name === 'client') this.stats.bytesUp += d.length;
        else this.stats.bytesDown += d.length;
        if (!to.write(d)) {
          from.pause();
          to.once('drain', () => from.resume());
        }
      });
      from.on('end', () => {
        ends[name] = true;
        this.note({ kind: 'half-close', from: name });
        const pass = () => to.end(); // the FIN goes on after the data before it
        if (to === upstream && !connected) upstream.once('connect', pass);
        else pass();
        if (ends.client && ends.upstream) return;
        if (p.closeWaitTimeoutMs && !closeWait) {
          closeWait = setTimeout(() => {
            if (done) return;
            this.stats.closeWaitTimeouts++;
            this.note({ kind: 'close-wait-timeout' });
            stop();
            client.destroy();
            upstream.destroy();
          }, p.closeWaitTimeoutMs);
        }
      });
      from.on('error', (e: Error & { code?: string }) => abort(name, e.code ?? 'EIO'));
      from.on('close', () => {
        if (client.destroyed && upstream.destroyed && !done) stop(); // both gone: clear the timers
      });
    };
    upstream.once('connect', () => (connected = true));
    upstream.once('error', (e: Error & { code?: string }) => {
      if (connected || done) return;
      stop();
      this.stats.upstreamFailures++;
      this.note({ kind: 'upstream-failed', client: `${client.remoteAddress}:${client.remotePort}`, code: e.code ?? 'EIO' });
      client.resetAndDestroy();
    });
    pipe(client, upstream, 'client');
    pipe(upstream, client, 'upstream');
    if (p.idleTimeoutMs > 0) {
      const onIdle = () => {
        if (done) return;
        this.stats.idleTimeouts++;
        this.note({ kind: 'idle-timeout', action: p.idleAction });
        stop();
        if (p.idleAction === 'rst') {
          client.resetAndDestroy();
          upstream.resetAndDestroy();
        } else {
          client.end();
          upstream.end();
        }
      };
      // Idle means no byte either way: each socket's timer is reset by its own traffic, so the
      // proxy acts when the quieter side's timer fires and the other side was quiet too.
      let last = Date.now();
      const touch = () => (last = Date.now());
      client.on('data', touch);
      upstream.on('data', touch);
      const check = () => {
        if (Date.now() - last >= p.idleTimeoutMs) onIdle();
      };
      client.setTimeout(p.idleTimeoutMs, check);
      upstream.setTimeout(p.idleTimeoutMs, check);
    }
  }
}
