// The small servers `linger tun http|echo` run on linger sockets (and the interop suite uses).

import type http from 'node:http';
import type http2 from 'node:http2';
import type { LingerHttp, LingerHttp2 } from '../net/http.ts';
import type { LingerNet, NetServer } from '../net/index.ts';

/**
 * Where a server is made: node:http on a linger host (net/http.ts bindHttp) or Node's own
 * node:http on the kernel (the interop suite's reference).
 */
export type HttpModule = Pick<LingerHttp, 'createServer'>;
export type Http2Module = Pick<LingerHttp2, 'createServer'>;
import type { NetSocket } from '../net/socket.ts';

/** TCP echo (RFC 862): every byte back; the peer's FIN is answered with ours once all is echoed. */
export function echoServer(net: LingerNet, port = 7): NetServer {
  return net.createServer({ allowHalfOpen: true }, (s: NetSocket) => {
    s.on('error', () => undefined);
    s.pipe(s);
  }).listen(port, '::');
}

export interface HttpServers {
  /** node:http's server, listening on the linger host (net/http.ts). */
  http: http.Server;
  /** Requests served so far. */
  requests: number;
}

/** What the HTTP app serves, for `linger tun http --help` (keep in step with httpServer). */
export const HTTP_PATHS: ReadonlyArray<[string, string]> = [
  ['/bytes/N', 'N bytes (N up to 2^30) of "a", application/octet-stream, with Content-Length'],
  ['any other path', 'one text line: method, path, version, the request\'s number on its connection, the client'],
];

/**
 * The HTTP/2 connection preface (RFC 9113 §3.4, `PRI * HTTP/2.0`) on the HTTP/1.x port: llhttp
 * stops at it with HPE_PAUSED_H2_UPGRADE and node:http would answer `400 Bad Request` and close,
 * which an HTTP/2 client (curl --http2-prior-knowledge) reports as "Empty reply from server".
 * linger answers in HTTP/2 instead, so the client shows it: its SETTINGS, a SETTINGS ACK, on
 * stream 1 (a prior-knowledge client's first request) `505` with a text body naming the h2c
 * port, then GOAWAY (last stream 1, NO_ERROR). HPACK: `:status` is static index 8 and
 * content-type 31, both sent as literals without indexing (RFC 7541 §6.2.2).
 */
export function h2PrefaceHint(text: string): Buffer {
  const frame = (type: number, flags: number, stream: number, payload: Buffer): Buffer => {
    const h = Buffer.alloc(9);
    h.writeUIntBE(payload.length, 0, 3);
    h[3] = type;
    h[4] = flags;
    h.writeUInt32BE(stream, 5);
    return Buffer.concat([h, payload]);
  };
  const lit = (index: number, value: string): Buffer => Buffer.concat([Buffer.from([index < 15 ? index : 15, ...(index < 15 ? [] : [index - 15])]), Buffer.from([value.length]), Buffer.from(value)]);
  const headers = Buffer.concat([lit(8, '505'), lit(31, 'text/plain; charset=utf-8')]);
  const goaway = Buffer.alloc(8);
  goaway.writeUInt32BE(1, 0);
  return Buffer.concat([
    frame(4, 0, 0, Buffer.alloc(0)), // SETTINGS
    frame(4, 1, 0, Buffer.alloc(0)), // SETTINGS ACK of the client's
    frame(1, 4, 1, headers), // HEADERS, END_HEADERS
    frame(0, 1, 1, Buffer.from(text)), // DATA, END_STREAM
    frame(7, 0, 0, goaway), // GOAWAY
  ]);
}

export interface HttpServerOptions {
  /** The h2c port named in the answer to an HTTP/2 preface (0: none is served). */
  h2Port?: number;
  /** Called once per connection that sent the HTTP/2 preface. */
  onH2Preface?: () => void;
}

/**
 * node:http on linger sockets, keep-alive on (Node's defaults: keepAliveTimeout 5 s). Each
 * response says which request on the connection it was, so connection reuse is visible.
 * GET /bytes/N answers N bytes (HTTP_PATHS). An HTTP/2 preface gets h2PrefaceHint.
 */
export function httpServer(mod: HttpModule, port = 80, opts: HttpServerOptions = {}): HttpServers {
  const perConn = new WeakMap<object, number>();
  let requests = 0;
  const hs = mod.createServer((req, res) => {
    requests++;
    const n = (perConn.get(req.socket) ?? 0) + 1;
    perConn.set(req.socket, n);
    const m = /^\/bytes\/(\d{1,10})$/.exec(req.url ?? '');
    if (m) {
      const len = Math.min(Number(m[1]), 1 << 30);
      res.setHeader('Content-Type', 'application/octet-stream');
      res.setHeader('Content-Length', len);
      const chunk = Buffer.alloc(65536, 0x61);
      let left = len;
      const pump = (): void => {
        while (left > 0) {
          const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= c.length;
          if (!res.write(c)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
      return;
    }
    const body = `hello from linger over TUN: ${req.method} ${req.url} HTTP/${req.httpVersion}, request ${n} on ${req.socket.remoteAddress}:${req.socket.remotePort}\n`;
    res.setHeader('Content-Type', 'text/plain');
    // An explicit length: Node keeps an HTTP/1.0 keep-alive connection only when it knows it.
    res.setHeader('Content-Length', Buffer.byteLength(body));
    res.end(body);
  });
  const hinted = new WeakSet<object>();
  const h2 = opts.h2Port ?? 0;
  const hint = `linger tun http: port ${port} speaks HTTP/1.x (node:http); ${h2 ? `HTTP/2 with prior knowledge (h2c) is on port ${h2} (--h2-port)` : 'no HTTP/2 port is served (--h2-port 0)'}\n`;
  // Only the preface is taken over: any other clientError still finds no listener, so
  // node:http's own answer (400, 431, 408) and close stay as they are.
  const emit = hs.emit.bind(hs) as (ev: string | symbol, ...a: unknown[]) => boolean;
  hs.emit = ((ev: string | symbol, ...a: unknown[]): boolean => {
    const [err, sock] = a as [{ code?: string }, NetSocket];
    if (ev !== 'clientError' || err?.code !== 'HPE_PAUSED_H2_UPGRADE') return emit(ev, ...a);
    if (!hinted.has(sock)) {
      hinted.add(sock); // later chunks (the client's frames) fail the parser again: ignored
      opts.onH2Preface?.();
      sock.end(h2PrefaceHint(hint));
    }
    return true;
  }) as typeof hs.emit;
  hs.listen(port, '::');
  return {
    http: hs,
    get requests() {
      return requests;
    },
  };
}

/** HTTP/2 without TLS (h2c, prior knowledge, as `curl --http2-prior-knowledge`) on linger sockets. */
export function http2Server(mod: Http2Module, port = 8080): http2.Http2Server {
  const h2 = mod.createServer();
  h2.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end(`hello from linger over TUN: HTTP/2 ${String(headers[':method'])} ${String(headers[':path'])}\n`);
  });
  h2.on('sessionError', () => undefined);
  return h2.listen(port, '::');
}
