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
    if (this.listener) throw nodeError('ERR_SERVER_ALREADY_LISTEN', 'Listen method has been called more than once without closing.');
    if (cb) this.once('listening', cb);
    const port = o.port === undefined || o.port === null ? 0 : validatePort(o.port);
    const backlog = o.backlog ?? 511;
    if (!o.host) {
      // No host: Node binds '::' (dual stack: IPv4 peers come v4-mapped) and falls back to
      // 0.0.0.0 only when the IPv6 bind fails (createServerHandle); at once, no lookup.
      this.bindAndListen('::', port, backlog, true);
      return this;
    }
    // A host goes through dns.lookup first (lookupAndListen), an IP literal too: the bind
    // comes a turn later, so `listening` is false until then, and a close() before it wins.
    const id = ++this.listeningId;
    const host = o.host;
    process.nextTick(() => {
      if (id !== this.listeningId) return;
      let addr = host;
      const c = canonicalIp(host);
      const named = this.runtime.names.get(host)?.[0];
      if (c.ok) addr = c.value;
      else if (named) addr = named;
      this.bindAndListen(addr, port, backlog, false);
    });
    return this;
  }

  private listeningId = 0;

  private bindAndListen(addr: string, port: number, backlog: number, fallback: boolean): void {
    const l = this.host.socket();
    l.setsockopt('SO_REUSEADDR', true); // as libuv's uv__tcp_bind
    try {
      try {
        l.bind(addr, port);
      } catch (e) {
        if (!fallback || !(e instanceof SocketError) || e.code === 'EADDRINUSE') throw e;
        addr = '0.0.0.0';
        l.bind(addr, port);
      }
      l.listen(backlog);
    } catch (e) {
      if (e instanceof SocketError) {
        l.close();
        process.nextTick(() => this.emit('error', netErrorWithDescription(e.code, 'listen', addr, port)));
        return;
      }
      throw e;
    }
    this.listener = l;
    l.on('connection', () => this.acceptAll());
    process.nextTick(() => this.emit('listening'));
  }

  private acceptAll(): void {
    const l = this.listener;
    if (!l) return;
    // A listener on an IPv6 address ('::' included) is an AF_INET6 socket, as are those it accepts.
    const v6 = l.boundAddr?.includes(':') ?? false;
    // A 'connection' handler may close the server: stop accepting then (as libuv's accept loop).
    for (let h = l.accept(); h; h = this.listener === l && !l.closed ? l.accept() : null) {
      // onconnection: maxConnections is a limit when truthy (0 is none, as undefined).
      if (this.maxConnections && this.conns.size >= this.maxConnections) {
        // Node closes connections over maxConnections at once; 'drop' names both ends (onconnection).
        const at = (a: string | undefined): string | undefined => (v6 && a && !a.includes(':') ? `::ffff:${a}` : a);
        const fam = (a: string | undefined): string => (v6 || a?.includes(':') ? 'IPv6' : 'IPv4');
        const drop = {
          localAddress: at(h.localAddress), localPort: h.localPort, localFamily: fam(h.localAddress),
          remoteAddress: at(h.remoteAddress), remotePort: h.remotePort, remoteFamily: fam(h.remoteAddress),
        };
        this.emit('drop', drop);
        h.close();
        continue;
      }
      const s = new NetSocket(this.host, this.runtime, { allowHalfOpen: this.options.allowHalfOpen ?? false, handle: h, v6 });
      if (this.options.noDelay) s.setNoDelay(true);
      if (this.options.keepAlive) s.setKeepAlive(true, this.options.keepAliveInitialDelay ?? 0);
      this.conns.add(s);
      // net.Socket's _destroy counts the server's connections down (not its 'close').
      s.onDestroy = () => {
        s.onDestroy = null;
        this.conns.delete(s);
        this.maybeClosed();
      };
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

  /**
   * Stops accepting; 'close' once every connection has ended (as node:net). A server not
   * listening emits 'close' too, its callback getting ERR_SERVER_NOT_RUNNING.
   */
  close(cb?: (err?: Error) => void): this {
    // net.Server's close(cb) is once('close', cb): it runs after 'close' listeners added earlier.
    if (cb) {
      if (this.listener) this.once('close', cb);
      else this.once('close', () => cb(nodeError('ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
    }
    this.listeningId++;
    if (this.listener) {
      this.listener.close();
      this.listener = null;
    }
    this.maybeClosed();
    return this;
  }

  /** _emitCloseIfDrained: 'close' when neither listening nor holding connections. */
  private maybeClosed(): void {
    if (this.listener || this.conns.size) return;
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
