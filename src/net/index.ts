// node:net bound to one linger host: the same function names and classes, so code written for
// node:net (and libraries that accept a createConnection hook) runs on a simulated host.

import { isIP, isIPv4, isIPv6 } from 'node:net';
import type { Host } from '../host/host.ts';
import type { NetRuntime } from './runtime.ts';
import { NetServer, type ServerOptions } from './server.ts';
import { NetSocket, normalizeConnectArgs, type NetSocketOptions } from './socket.ts';

/** node:net's functions and classes bound to one simulated host (what bindNet returns). */
export interface LingerNet {
  host: Host;
  runtime: NetRuntime;
  Socket: new (opts?: NetSocketOptions) => NetSocket;
  Server: new (opts?: ServerOptions, onConnection?: (s: NetSocket) => void) => NetServer;
  createServer(opts?: ServerOptions | ((s: NetSocket) => void), onConnection?: (s: NetSocket) => void): NetServer;
  connect(...args: unknown[]): NetSocket;
  createConnection(...args: unknown[]): NetSocket;
  isIP: typeof isIP;
  isIPv4: typeof isIPv4;
  isIPv6: typeof isIPv6;
}

/** node:net bound to a host: createServer, connect, createConnection, Socket, Server, isIP... Code written for node:net, and libraries that take a connection hook (node:http, node:http2, undici, fastify), run on the host unchanged. */
export function bindNet(host: Host, runtime: NetRuntime): LingerNet {
  class Socket extends NetSocket {
    constructor(opts: NetSocketOptions = {}) {
      super(host, runtime, opts);
    }
  }
  class Server extends NetServer {
    constructor(opts: ServerOptions = {}, onConnection?: (s: NetSocket) => void) {
      super(host, runtime, opts, onConnection);
    }
  }
  const connect = (...args: unknown[]): NetSocket => {
    const { opts, cb } = normalizeConnectArgs(args);
    const s = new Socket({ allowHalfOpen: (opts as { allowHalfOpen?: boolean }).allowHalfOpen });
    // net.connect() sets the timeout option itself, before connecting (Socket#connect ignores it).
    if (opts.timeout) s.setTimeout(opts.timeout);
    return cb ? s.connect(opts, cb) : s.connect(opts);
  };
  return {
    host,
    runtime,
    Socket,
    Server,
    createServer: (opts, onConnection) => (typeof opts === 'function' ? new Server({}, opts) : new Server(opts ?? {}, onConnection)),
    connect,
    createConnection: connect,
    isIP,
    isIPv4,
    isIPv6,
  };
}

export { NetSocket, NetServer };
export { Runtime, type NetRuntime } from './runtime.ts';
