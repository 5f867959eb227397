// The small servers `linger tun http|echo` run on linger sockets (and the interop suite uses).

import http from 'node:http';
import http2 from 'node:http2';
import type { LingerNet, NetServer } from '../net/index.ts';
import type { NetSocket } from '../net/socket.ts';

/** TCP echo (RFC 862): every byte back; the peer's FIN is answered with ours once all is echoed. */
export function echoServer(net: LingerNet, port = 7): NetServer {
  return net.createServer({ allowHalfOpen: true }, (s: NetSocket) => {
    s.on('error', () => undefined);
    s.pipe(s);
  }).listen(port, '::');
}

export interface HttpServers {
  http: http.Server;
  tcp: NetServer;
  /** Requests served so far. */
  requests: number;
}

/**
 * node:http on linger sockets, keep-alive on (Node's defaults: keepAliveTimeout 5 s). Each
 * response says which request on the connection it was, so connection reuse is visible.
 * GET /bytes/N answers N bytes.
 */
export function httpServer(net: LingerNet, port = 80): HttpServers {
  const perConn = new WeakMap<object, number>();
  let requests = 0;
  const hs = http.createServer((req, res) => {
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
  // http.Server is a net.Server with allowHalfOpen and noDelay (Node 18+).
  const tcp = net.createServer({ allowHalfOpen: true, noDelay: true }, (s: NetSocket) => hs.emit('connection', s)).listen(port, '::');
  return {
    http: hs,
    tcp,
    get requests() {
      return requests;
    },
  };
}

/** HTTP/2 without TLS (h2c, prior knowledge, as `curl --http2-prior-knowledge`) on linger sockets. */
export function http2Server(net: LingerNet, port = 8080): { h2: http2.Http2Server; tcp: NetServer } {
  const h2 = http2.createServer();
  h2.on('stream', (stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end(`hello from linger over TUN: HTTP/2 ${String(headers[':method'])} ${String(headers[':path'])}\n`);
  });
  h2.on('sessionError', () => undefined);
  const tcp = net.createServer({ allowHalfOpen: true, noDelay: true }, (s: NetSocket) => h2.emit('connection', s)).listen(port, '::');
  return { h2, tcp };
}
