// A node:net-compatible Server over a linger host.

import { EventEmitter } from 'node:events';
import type { Host } from '../host/host.ts';
import { SocketError } from '../base/errno.ts';
import type { Socket as EngineSocket } from '../host/socket.ts';
import { canonicalIp } from '../wire/addr.ts';
import { netErrorWithDescription, nodeError, validatePort } from './errors.ts';
import type { NetRuntime } from './runtime.ts';
import { NetSocket } from './socket.ts';

/** Options of a NetServer, as net.Server's. */
export interface ServerOptions {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

/** What server.listen() takes as an object, as net.Server's. */
export interface ListenOptions {
  port?: number;
  host?: string;
  backlog?: number;
}

/** node:net's Server on a linger host: listen, connection, close, address, getConnections, maxConnections. bindNet() gives the class bound to a host. */
export class NetServer extends EventEmitter {
  private listener: EngineSocket | null = null;
  private readonly conns = new Set<NetSocket>();
  maxConnections: number | undefined = undefined;
  private closing = false;

  constructor(readonly host: Host, readonly runtime: NetRuntime, readonly options: ServerOptions = {}, onConnection?: (s: NetSocket) => void) {
    super();
    if (onConnection) this.on('connection', onConnection);
  }

  get listening(): boolean {
    return this.listener !== null;
  }

  /** Listens, as net.Server's listen(port, host, backlog, cb) or listen(options, cb). */
  listen(...args: unknown[]): this {
    let cb: (() => void) | undefined;
    if (typeof args[args.length - 1] === 'function') cb = args.pop() as () => void;
    let o: ListenOptions;
    if (args[0] !== null && typeof args[0] === 'object') o = args[0] as ListenOptions;
    else o = { port: args[0] as number | undefined, host: typeof args[1] === 'string' ? args[1] : undefined, backlog: typeof args[1] === 'number' ? args[1] : (args[2] as number | undefined) };
    if (cb) this.once('listening', cb);
    if (this.listener) throw nodeError('ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
    const port = o.port === undefined || o.port === null ? 0 : validatePort(o.port);
    let addr = o.host ?? (this.host.addresses.some((a) => !a.includes(':')) ? '0.0.0.0' : '::');
    if (addr !== '0.0.0.0' && addr !== '::') {
      const c = canonicalIp(addr);
      const named = this.runtime.names.get(addr)?.[0];
      if (c.ok) addr = c.value;
      else if (named) addr = named;
    }
    const l = this.host.socket();
    try {
      l.bind(addr, port);
      l.listen(o.backlog ?? 511);
    } catch (e) {
      if (e instanceof SocketError) {
        l.close();
        process.nextTick(() => this.emit('error', netErrorWithDescription(e.code, 'listen', addr, port)));
        return this;
      }
      throw e;
    }
    this.listener = l;
    l.on('connection', () => this.acceptAll());
    this.closing = false;
    process.nextTick(() => this.emit('listening'));
    return this;
  }

  private acceptAll(): void {
    const l = this.listener;
    if (!l) return;
    // A 'connection' handler may close the server: stop accepting then (as libuv's accept loop).
    for (let h = l.accept(); h; h = this.listener === l && !l.closed ? l.accept() : null) {
      if (this.maxConnections !== undefined && this.conns.size >= this.maxConnections) {
        // Node closes connections over maxConnections at once; 'drop' names both ends (onconnection).
        const fam = (a: string | null | undefined): string => (a?.includes(':') ? 'IPv6' : 'IPv4');
        const drop = {
          localAddress: h.localAddress, localPort: h.localPort, localFamily: fam(h.localAddress),
          remoteAddress: h.remoteAddress, remotePort: h.remotePort, remoteFamily: fam(h.remoteAddress),
        };
        h.close();
        this.emit('drop', drop);
        continue;
      }
      const s = new NetSocket(this.host, this.runtime, { allowHalfOpen: this.options.allowHalfOpen ?? false, handle: h });
      if (this.options.noDelay) s.setNoDelay(true);
      if (this.options.keepAlive) s.setKeepAlive(true, this.options.keepAliveInitialDelay ?? 0);
      this.conns.add(s);
      s.once('close', () => {
        this.conns.delete(s);
        this.maybeClosed();
      });
      if (this.options.pauseOnConnect) s.pause();
      else s.read(0); // as net.Socket does for an accepted handle: start reading
      this.emit('connection', s);
    }
  }

  /** The address listened on, as net.Server's address(). */
  address(): { address: string; family: string; port: number } | null {
    const l = this.listener;
    if (!l || l.boundAddr === null) return null;
    return { address: l.boundAddr, family: l.boundAddr.includes(':') ? 'IPv6' : 'IPv4', port: l.boundPort };
  }

  /** The number of open connections, to the callback. */
  getConnections(cb: (err: Error | null, n: number) => void): this {
    const n = this.conns.size;
    process.nextTick(() => cb(null, n));
    return this;
  }

  /** Stops accepting; 'close' once every connection has ended (as node:net). */
  close(cb?: (err?: Error) => void): this {
    if (!this.listener) {
      if (cb) process.nextTick(() => cb(nodeError('ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
      return this;
    }
    // net.Server's close(cb) is once('close', cb): it runs after 'close' listeners added earlier.
    if (cb) this.once('close', cb);
    this.listener.close();
    this.listener = null;
    this.closing = true;
    this.maybeClosed();
    return this;
  }

  private maybeClosed(): void {
    if (!this.closing || this.conns.size) return;
    this.closing = false;
    process.nextTick(() => this.emit('close'));
  }

  /** Accepted, no effect: the runtime decides when the simulation ends. */
  ref(): this {
    return this;
  }
  /** Accepted, no effect: the runtime decides when the simulation ends. */
  unref(): this {
    return this;
  }
}
