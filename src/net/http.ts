// node:http, node:http2 and undici on a linger host, with no glue in the caller: servers whose
// listen() listens on the host (so node:http sees 'listening' and tracks its connections:
// closeIdleConnections, closeAllConnections, close() with keep-alive connections), agents and
// requests whose connections are the host's sockets, and an undici dispatcher.
//
// node:http's connection checker (headersTimeout, requestTimeout) runs on a real-time interval
// and compares real hrtime stamps taken in C++ (ConnectionsList::Expired), which virtual time
// never moves; here it runs on the runtime's clock with the same rule (see ConnectionChecker).

import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { Agent as UndiciAgent, type Dispatcher } from 'undici';
import { nodeError } from './errors.ts';
import type { LingerNet } from './index.ts';
import type { NetRuntime, VTimer } from './runtime.ts';
import type { NetServer } from './server.ts';
import type { NetSocket } from './socket.ts';

type AnyServer = http.Server | http2.Http2Server;

/** The options of node:net's Server that node:http's Server keeps (net.Server's constructor). */
interface NetServerFields {
  allowHalfOpen?: boolean;
  pauseOnConnect?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  /** Seconds: net.Server keeps ~~(ms / 1000). */
  keepAliveInitialDelay?: number;
}

/**
 * Makes `server` (a node:http or node:http2 server, never listened on the kernel) listen on
 * the linger host instead: listen(), close(), address(), listening, getConnections(),
 * maxConnections and 'drop' go to a linger net.Server whose connections are handed to
 * `server` as node:net's onconnection hands them ('connection').
 */
function listenOnHost(server: AnyServer, net: LingerNet, onListening?: () => void, onClose?: () => void, onSocket?: (s: NetSocket) => void): void {
  const f = server as unknown as NetServerFields;
  let ls: NetServer | null = null;
  const make = (): NetServer => {
    const s = net.createServer({
      allowHalfOpen: f.allowHalfOpen ?? true,
      pauseOnConnect: f.pauseOnConnect ?? false,
      noDelay: f.noDelay ?? false,
      keepAlive: f.keepAlive ?? false,
      keepAliveInitialDelay: (f.keepAliveInitialDelay ?? 0) * 1000,
    }, (sock) => {
      onSocket?.(sock);
      server.emit('connection', sock);
    });
    s.maxConnections = maxConnections;
    s.on('listening', () => {
      server.emit('listening');
      onListening?.();
    });
    s.on('error', (e) => server.emit('error', e));
    s.on('drop', (d) => server.emit('drop', d));
    s.on('close', () => {
      onClose?.();
      server.emit('close');
    });
    return s;
  };
  let maxConnections: number | undefined;
  const self = server as unknown as Record<string, unknown>;
  Object.defineProperties(server, {
    listen: {
      value: (...args: unknown[]) => {
        if (typeof args[args.length - 1] === 'function') server.once('listening', args.pop() as () => void);
        if (!ls || !ls.listening) ls = make();
        ls.listen(...args);
        return server;
      },
    },
    address: { value: (): AddressInfo | string | null => (ls?.address() as AddressInfo | null) ?? null },
    listening: { get: () => ls?.listening ?? false },
    getConnections: {
      value: (cb: (err: Error | null, n: number) => void) => {
        if (ls) ls.getConnections(cb);
        else process.nextTick(() => cb(null, 0));
        return server;
      },
    },
    maxConnections: {
      get: () => maxConnections,
      set: (v: number | undefined) => {
        maxConnections = v;
        if (ls) ls.maxConnections = v;
      },
    },
    ref: { value: () => server },
    unref: { value: () => server },
  });
  // What the server's own close() does beyond net.Server's (node:http: httpServerPreClose;
  // node:http2: nothing more), then net.Server's close on the host's listener.
  const preClose = typeof self.closeIdleConnections === 'function' ? () => (server as http.Server).closeIdleConnections() : () => {};
  Object.defineProperty(server, 'close', {
    value: (cb?: (err?: Error) => void) => {
      preClose();
      onClose?.();
      if (ls && ls.listening) {
        if (cb) server.once('close', cb);
        ls.close();
      } else {
        // net.Server's close() on a server not listening: 'close' on the next tick, and the
        // callback (a 'close' listener like any other) gets ERR_SERVER_NOT_RUNNING.
        if (cb) server.once('close', () => cb(nodeError('ERR_SERVER_NOT_RUNNING', 'Server is not running.')));
        process.nextTick(() => server.emit('close'));
      }
      return server;
    },
  });
}

/**
 * An error as Node's internal errors are (lib/internal/errors.js makeNodeErrorWithCode): a
 * plain Error with an enumerable `code` and a toString of `Error [CODE]: message`.
 */
function nodeCodeError(code: string, message: string): Error & { code: string } {
  const e = nodeError(code, message);
  Object.defineProperty(e, 'toString', { value() { return `${e.name} [${code}]: ${e.message}`; }, enumerable: false, writable: true, configurable: true });
  return e;
}

interface Tracked {
  /** A message has begun and is not complete (Parser::on_message_begin .. on_message_complete). */
  active: boolean;
  /** Virtual µs of the message's first byte (last_message_start_). */
  start: number;
  /** The request's headers were complete ('request' or 'checkContinue' came). */
  headers: boolean;
  req: http.IncomingMessage | null;
}

/**
 * node:http's connection checker (checkConnections, ConnectionsList::Expired) on the runtime's
 * clock: every connectionsCheckingInterval, a connection whose request began more than
 * headersTimeout ago without complete headers, or more than requestTimeout ago without a
 * complete request, is expired once and gets what node:http gives it (onRequestTimeout:
 * socketOnError with ERR_HTTP_REQUEST_TIMEOUT, so a 408 and destroy unless 'clientError' is
 * handled).
 */
class ConnectionChecker {
  private readonly conns = new Map<NetSocket, Tracked>();
  private timer: VTimer | null = null;

  constructor(private readonly server: http.Server, private readonly rt: NetRuntime) {
    // Before node:http's own 'connection' listener: the first byte of a message is seen here
    // before the parser consumes it.
    server.prependListener('connection', (s: NetSocket) => this.track(s));
    const headersDone = (req: http.IncomingMessage) => {
      const t = this.conns.get(req.socket as unknown as NetSocket);
      if (t) {
        t.headers = true;
        t.req = req;
      }
    };
    server.prependListener('request', headersDone);
    server.prependListener('checkContinue', headersDone);
    server.prependListener('checkExpectation', headersDone);
    // A socket taken over by 'upgrade' or 'connect' leaves the parser and the list.
    const detach = (req: http.IncomingMessage) => this.conns.delete(req.socket as unknown as NetSocket);
    server.prependListener('upgrade', detach);
    server.prependListener('connect', detach);
  }

  private track(s: NetSocket): void {
    const t: Tracked = { active: false, start: 0, headers: false, req: null };
    this.conns.set(s, t);
    s.on('data', () => {
      if (t.active && t.req?.complete) t.active = false;
      if (t.active) return;
      t.active = true;
      t.start = this.rt.now;
      t.headers = false;
      t.req = null;
    });
    s.once('close', () => this.conns.delete(s));
  }

  /** Replaces node:http's real-time interval, set up on 'listening' (setupConnectionsTracking). */
  start(): void {
    const sym = Object.getOwnPropertySymbols(this.server).find((x) => x.description === 'http.server.connectionsCheckingInterval');
    const self = this.server as unknown as Record<symbol, { close?: () => void } | undefined>;
    if (sym) self[sym]?.close?.();
    this.stop();
    const every = (this.server as http.Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval * 1000;
    const tick = (): void => {
      this.timer = this.rt.timer(every, tick);
      this.check();
    };
    this.timer = this.rt.timer(every, tick);
  }

  stop(): void {
    if (this.timer) this.timer.cancelled = true;
    this.timer = null;
  }

  private check(): void {
    const { headersTimeout, requestTimeout } = this.server;
    if (headersTimeout === 0 && requestTimeout === 0) return;
    const now = this.rt.now;
    const headersDeadline = headersTimeout > 0 && now > headersTimeout * 1000 ? now - headersTimeout * 1000 : 0;
    const requestDeadline = requestTimeout > 0 && now > requestTimeout * 1000 ? now - requestTimeout * 1000 : 0;
    if (headersDeadline === 0 && requestDeadline === 0) return;
    for (const [s, t] of this.conns) {
      if (t.active && t.req?.complete) t.active = false;
      if (!t.active) continue;
      if ((!t.headers && headersDeadline > 0 && t.start < headersDeadline) || (requestDeadline > 0 && t.start < requestDeadline)) {
        t.active = false;
        // onRequestTimeout: node:http's own error listener of the socket (socketOnError).
        const onError = s.listeners('error').find((l) => l.name === 'socketOnError');
        onError?.call(s, nodeCodeError('ERR_HTTP_REQUEST_TIMEOUT', 'Request timeout'));
      }
    }
  }
}

/** node:http's module surface on one linger host (the server side and the client side). */
export interface LingerHttp {
  /** http.createServer: a real http.Server whose listen() listens on the linger host. */
  createServer(options?: http.ServerOptions | http.RequestListener, requestListener?: http.RequestListener): http.Server;
  /** An http.Agent whose connections are the linger host's sockets. */
  Agent: typeof http.Agent;
  /** The default agent of request() and get() (keepAlive, as Node 20's http.globalAgent). */
  globalAgent: http.Agent;
  request: typeof http.request;
  get: typeof http.get;
  STATUS_CODES: typeof http.STATUS_CODES;
  METHODS: typeof http.METHODS;
}

/**
 * node:http on a linger host: servers listen on it and clients connect from it, with Node's
 * own http code unchanged; timers (keepAliveTimeout, the Agent's free-socket timeout,
 * headersTimeout and requestTimeout) run on the runtime's clock.
 */
export function bindHttp(net: LingerNet): LingerHttp {
  let m = httpOf.get(net);
  if (!m) httpOf.set(net, (m = makeHttp(net)));
  return m;
}
/** One module per net: its Agent class and globalAgent are the host's, as node:http's are the process's. */
const httpOf = new WeakMap<LingerNet, LingerHttp>();

function makeHttp(net: LingerNet): LingerHttp {
  const createServer = (options?: http.ServerOptions | http.RequestListener, requestListener?: http.RequestListener): http.Server => {
    const server = typeof options === 'function' ? http.createServer(options) : http.createServer(options ?? {}, requestListener);
    const checker = new ConnectionChecker(server, net.runtime);
    listenOnHost(server, net, () => checker.start(), () => checker.stop());
    return server;
  };

  class Agent extends http.Agent {
    constructor(opts?: http.AgentOptions) {
      super(opts);
    }
    // http.Agent's createSocket calls createConnection(options, oncreate) and, when a socket
    // is returned, oncreate itself: a socket returned is enough (as net.createConnection).
    override createConnection(options: object): NetSocket {
      return net.createConnection(options);
    }
  }
  // As Node 20's http.globalAgent (lib/_http_agent.js): keep-alive, LIFO, a 5 s idle timeout.
  const globalAgent = new Agent({ keepAlive: true, scheduling: 'lifo', timeout: 5000 });

  /** Requests default to this host's agents: _defaultAgent is what http.request falls back on (agent undefined or false). */
  const withAgent = (args: unknown[]): unknown[] => {
    const a = [...args];
    const i = a.findIndex((x) => x !== null && typeof x === 'object' && !(x instanceof URL));
    if (i >= 0) a[i] = { _defaultAgent: globalAgent, ...(a[i] as object) };
    else a.splice(typeof a[0] === 'string' || a[0] instanceof URL ? 1 : 0, 0, { _defaultAgent: globalAgent });
    return a;
  };
  const request = ((...args: unknown[]) => (http.request as (...x: unknown[]) => http.ClientRequest)(...withAgent(args))) as typeof http.request;
  const get = ((...args: unknown[]) => {
    const req = request(...(args as Parameters<typeof http.request>));
    req.end();
    return req;
  }) as typeof http.get;

  return { createServer, Agent: Agent as typeof http.Agent, globalAgent, request, get, STATUS_CODES: http.STATUS_CODES, METHODS: http.METHODS };
}

/** node:http2's module surface on one linger host. */
export interface LingerHttp2 {
  /** http2.createServer (h2c): a real Http2Server whose listen() listens on the linger host. */
  createServer(options?: http2.ServerOptions, onRequestHandler?: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void): http2.Http2Server;
  /** http2.connect over a linger socket (h2c, prior knowledge). */
  connect(authority: string | URL, options?: http2.ClientSessionOptions | ((s: http2.ClientHttp2Session) => void), listener?: (s: http2.ClientHttp2Session) => void): http2.ClientHttp2Session;
  constants: typeof http2.constants;
}

/**
 * Http2Session's constructor turns Nagle off on its socket (socket.setNoDelay()); a socket
 * that is not a native one reaches it wrapped in a JSStreamSocket, whose handle has no
 * setNoDelay, so on a linger socket that is done here, as it is on the kernel's.
 */
const noNagle = (s: NetSocket): NetSocket => s.setNoDelay(true);

/** node:http2 (cleartext, prior knowledge) on a linger host. */
export function bindHttp2(net: LingerNet): LingerHttp2 {
  const createServer = (options?: http2.ServerOptions, handler?: (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void): http2.Http2Server => {
    const server = handler ? http2.createServer(options ?? {}, handler) : http2.createServer(options ?? {});
    listenOnHost(server, net, undefined, undefined, noNagle);
    return server;
  };
  const connect = (authority: string | URL, options?: http2.ClientSessionOptions | ((s: http2.ClientHttp2Session) => void), listener?: (s: http2.ClientHttp2Session) => void): http2.ClientHttp2Session => {
    if (typeof options === 'function') {
      listener = options;
      options = undefined;
    }
    const url = typeof authority === 'string' ? new URL(authority) : authority;
    if (url.protocol !== 'http:') throw new TypeError(`linger's http2.connect speaks cleartext HTTP/2 (h2c) only, not ${url.protocol}`);
    const port = Number(url.port || 80);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const opts: http2.ClientSessionOptions = { ...(options ?? {}) };
    if (!opts.createConnection) opts.createConnection = () => noNagle(net.connect(port, host)) as never;
    return listener ? http2.connect(url, opts, listener) : http2.connect(url, opts);
  };
  return { createServer, connect, constants: http2.constants };
}

/**
 * undici's `connect` option for a linger host: give it to a Client, Pool or Agent
 * (`new Pool(origin, { connect: undiciConnect(net) })`). Cleartext only.
 */
export function undiciConnect(net: LingerNet) {
  return (opts: { hostname: string; port: string; protocol: string; localAddress?: string | null }, cb: (err: Error | null, socket: NetSocket | null) => void): void => {
    if (opts.protocol !== 'http:') {
      cb(new TypeError(`linger's undici connector speaks cleartext HTTP only, not ${opts.protocol}`), null);
      return;
    }
    const s = net.connect({ host: opts.hostname.replace(/^\[|\]$/g, ''), port: Number(opts.port || 80), ...(opts.localAddress ? { localAddress: opts.localAddress } : {}) });
    const onError = (e: Error): void => cb(e, null);
    s.once('error', onError);
    s.once('connect', () => {
      s.off('error', onError);
      cb(null, s);
    });
  };
}

/** An undici Agent (a Dispatcher for fetch, request, Pool semantics per origin) on a linger host. */
export function undiciDispatcher(net: LingerNet, options: ConstructorParameters<typeof UndiciAgent>[0] = {}): Dispatcher {
  return new UndiciAgent({ ...options, connect: undiciConnect(net) as never });
}
