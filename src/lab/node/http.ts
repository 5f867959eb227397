// Topic E: HTTP connection reuse with Node's own http module, unchanged, on linger sockets.
// The TCP facts (who opens, who sends the first FIN, where TIME_WAIT ends up, resets) come
// from the engine's trace; the applications add `http` events.

import type http from 'node:http';
import { bindHttp, bindHttp2 } from '../../net/http.ts';
import type { NetSocket } from '../../net/socket.ts';
import { latencyParam, ms, sec, type Scenario, type ScenarioContext } from '../scenario.ts';
import { connOf, nodeExt } from './env.ts';

const BODY = 'hello from the server\n';

/** node:http server on port 80 of the server host; every request is logged. */
export function httpServer(ctx: ScenarioContext, opts: { keepAliveTimeout?: number; maxRequestsPerSocket?: number }, handler?: (req: http.IncomingMessage, res: http.ServerResponse) => void): http.Server {
  const hs = bindHttp(nodeExt(ctx).serverNet).createServer((req, res) => {
    ctx.http({ host: 'server', phase: 'request', method: req.method ?? '', path: req.url ?? '', connection: connOf(req.socket) });
    if (handler) handler(req, res);
    else {
      // An explicit length: Node keeps an HTTP/1.0 keep-alive connection only when it knows it.
      res.setHeader('Content-Length', Buffer.byteLength(BODY));
      res.end(BODY);
    }
  });
  if (opts.keepAliveTimeout !== undefined) hs.keepAliveTimeout = opts.keepAliveTimeout;
  if (opts.maxRequestsPerSocket !== undefined) hs.maxRequestsPerSocket = opts.maxRequestsPerSocket;
  hs.listen(80);
  return hs;
}

/** An http.Agent whose connections are linger sockets of the client host. */
export function lingerAgent(ctx: ScenarioContext, opts: http.AgentOptions): http.Agent {
  return new (bindHttp(nodeExt(ctx).clientNet).Agent)(opts);
}

export interface Result {
  status?: number;
  body?: string;
  error?: string;
}

/** One request through an agent; logs request, response or error with the connection used. */
export function request(ctx: ScenarioContext, agent: http.Agent | false, path: string, headers: Record<string, string> = {}, method = 'GET', halfClose = false): Promise<Result> {
  return new Promise((resolve) => {
    const req = bindHttp(nodeExt(ctx).clientNet).request({ host: 'server', port: 80, path, method, agent, headers });
    let conn: string | undefined;
    req.on('socket', (s) => {
      const log = () => {
        conn = connOf(s);
        ctx.http({ host: 'client', phase: 'request', method, path, connection: conn, reusedSocket: req.reusedSocket });
      };
      if (s.connecting) s.once('connect', log);
      else log();
      // The client will send nothing more: shut down its sending side once the request is out.
      if (halfClose) req.once('finish', () => s.end());
    });
    req.on('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => {
        ctx.http({ host: 'client', phase: 'response', method, path, status: res.statusCode, connection: conn, reusedSocket: req.reusedSocket });
        resolve({ status: res.statusCode, body });
      });
    });
    req.on('error', (e: Error & { code?: string }) => {
      ctx.http({ host: 'client', phase: 'error', method, path, error: e.code ?? e.message, detail: e.message, connection: conn, reusedSocket: req.reusedSocket });
      resolve({ error: e.code ?? e.message });
    });
    req.end();
  });
}

/** Raw HTTP/1.0 on a linger socket: node:http's client only speaks 1.1. Resolves with the status. */
function http10(ctx: ScenarioContext, sock: NetSocket, path: string, keepAlive: boolean): Promise<Result> {
  return new Promise((resolve) => {
    let buf = '';
    const conn = sock.connection;
    ctx.http({ host: 'client', phase: 'request', method: 'GET', path, connection: conn, reusedSocket: false });
    let finished = false;
    const done = (r: Result) => {
      if (finished) return;
      finished = true;
      sock.off('data', onData);
      ctx.http({ host: 'client', phase: 'response', method: 'GET', path, status: r.status, connection: conn });
      resolve(r);
    };
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = /content-length: *(\d+)/i.exec(buf.slice(0, end));
      const status = Number(buf.slice(9, 12));
      if (len && buf.length >= end + 4 + Number(len[1])) done({ status, body: buf.slice(end + 4) });
    };
    sock.on('data', onData);
    if (!keepAlive) sock.once('end', () => done({ status: Number(buf.slice(9, 12)), body: buf }));
    sock.write(`GET ${path} HTTP/1.0\r\nHost: server\r\n${keepAlive ? 'Connection: keep-alive\r\n' : ''}\r\n`);
  });
}

const connect = (ctx: ScenarioContext): Promise<NetSocket> =>
  new Promise((resolve) => {
    const s = nodeExt(ctx).clientNet.connect(80, 'server');
    s.once('connect', () => resolve(s));
  });

const reqParam = (n: number) => ({ name: 'requests', description: 'requests the client makes', default: n, min: 1, max: 100000 });

export const http10Close: Scenario = {
  id: 'http10-close',
  title: 'HTTP/1.0 without keep-alive: one connection per request, the server closes first',
  topic: 'E',
  node: true,
  explain:
    'An HTTP/1.0 client sends each request on a new connection and does not ask for keep-alive. ' +
    'The server (Node\'s http module) marks the end of the response by closing the connection, so it sends the first FIN and its side of every connection sits in TIME_WAIT for 60 s.',
  question: 'Why do HTTP/1.0 servers collect TIME_WAIT sockets?',
  params: [latencyParam, reqParam(3)],
  notice: ['one SYN per request', 'the server sends the first FIN after each response', 'TIME_WAIT on the server only'],
  async setup(ctx) {
    httpServer(ctx, {});
    const run = async () => {
      for (let i = 0; i < ctx.p['requests']!; i++) {
        const s = await connect(ctx);
        await http10(ctx, s, `/${i + 1}`, false);
        s.end();
      }
    };
    ctx.net.at(ms(1), () => void run());
  },
  duration: () => sec(70),
};

export const http10KeepAlive: Scenario = {
  id: 'http10-keepalive',
  title: 'HTTP/1.0 with Connection: keep-alive: requests share one connection',
  topic: 'E',
  node: true,
  explain:
    'The same HTTP/1.0 client asks for `Connection: keep-alive`. The server answers with a Content-Length (so the response has an end without a close) and keeps the connection. ' +
    'All requests go over one connection; the client closes it when done, so the client holds the single TIME_WAIT.',
  question: 'What does keep-alive change for HTTP/1.0?',
  params: [latencyParam, reqParam(3)],
  notice: ['one SYN for all requests', 'the client sends the first FIN', 'one TIME_WAIT, on the client'],
  async setup(ctx) {
    httpServer(ctx, {});
    const run = async () => {
      const s = await connect(ctx);
      for (let i = 0; i < ctx.p['requests']!; i++) await http10(ctx, s, `/${i + 1}`, true);
      s.end();
    };
    ctx.net.at(ms(1), () => void run());
  },
  duration: () => sec(70),
};

export const http11KeepAlive: Scenario = {
  id: 'http11-keepalive',
  title: 'HTTP/1.1 keep-alive: Content-Length and chunked on one connection, max=100 and the 5 s idle close',
  topic: 'E',
  node: true,
  explain:
    'HTTP/1.1 connections are persistent by default. Node\'s server sends `Keep-Alive: timeout=5`; with maxRequestsPerSocket=100 it answers the 100th request with `Connection: close`, ' +
    'and the client (Node\'s http.Agent) closes that connection: the client sends the first FIN and holds that TIME_WAIT. ' +
    'An idle connection is closed by the server 6 s after its last response (Node 20 arms keepAliveTimeout plus 1 s), so that TIME_WAIT is the server\'s. ' +
    'Responses alternate between Content-Length and chunked framing; both end cleanly without a close.',
  question: 'How long does an HTTP/1.1 connection live, and who ends it?',
  params: [latencyParam, reqParam(150), { name: 'keepalive_timeout_ms', description: 'server keepAliveTimeout', default: 5000, min: 100, max: 600000 }],
  notice: [
    'requests 1-100 on the first connection (reusedSocket from the 2nd on), then a new connection',
    'after the 100th response the client sends the first FIN (TIME_WAIT on the client)',
    'after 6 s idle the server sends the first FIN (TIME_WAIT on the server)',
  ],
  async setup(ctx) {
    httpServer(ctx, { keepAliveTimeout: ctx.p['keepalive_timeout_ms']!, maxRequestsPerSocket: 100 }, (req, res) => {
      if (Number(req.url?.slice(1)) % 2) res.end(BODY); // Content-Length
      else {
        res.write('chunked ');
        res.end(BODY); // Transfer-Encoding: chunked, ended by a zero-length chunk
      }
    });
    const agent = lingerAgent(ctx, { keepAlive: true, maxSockets: 1 });
    const run = async () => {
      for (let i = 0; i < ctx.p['requests']!; i++) await request(ctx, agent, `/${i + 1}`);
    };
    ctx.net.at(ms(1), () => void run());
  },
  duration: () => sec(80),
};

export const http11ConnectionClose: Scenario = {
  id: 'http11-connection-close',
  title: 'HTTP/1.1 with Connection: close from the client: TIME_WAIT goes to whoever sends the first FIN',
  topic: 'E',
  node: true,
  explain:
    'The client sends `Connection: close` and, having nothing more to send, shuts down its sending side once the request is out: its FIN goes first, so the TIME_WAIT lands on the client. ' +
    'The header alone does not move it: a server that receives `Connection: close` closes after its response (RFC 9112 §9.6; Node does at once), ' +
    'so with --set client_half_close=0 the server sends the first FIN and holds the TIME_WAIT.',
  question: 'Can a client keep TIME_WAIT off the server?',
  params: [latencyParam, reqParam(3), { name: 'client_half_close', description: '1: the client shuts down its sending side after the request', default: 1, min: 0, max: 1 }],
  notice: ['one connection per request', 'client_half_close=1: the client FIN first, TIME_WAIT on the client', 'client_half_close=0: the server FIN first, TIME_WAIT on the server'],
  async setup(ctx) {
    httpServer(ctx, {});
    const run = async () => {
      for (let i = 0; i < ctx.p['requests']!; i++) await request(ctx, false, `/${i + 1}`, { Connection: 'close' }, 'GET', ctx.p['client_half_close'] === 1);
    };
    ctx.net.at(ms(1), () => void run());
  },
  duration: () => sec(70),
};

export const HTTP_SCENARIOS: Scenario[] = [http10Close, http10KeepAlive, http11KeepAlive, http11ConnectionClose];

// ---- the keep-alive reuse race (http-keepalive.md failure mode 1) ----

const raceParams = [
  latencyParam,
  reqParam(1000),
  { name: 'server_keepalive_ms', description: 'server keepAliveTimeout (Node closes idle sockets 1 s after it)', default: 5000, min: 100, max: 600000 },
];

/** Gaps between requests, seeded: many fall right at the server's idle close. */
function gaps(ctx: ScenarioContext, n: number, serverCloseMs: number): number[] {
  let x = ctx.net.rng.fork('gaps').next();
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    // Half the gaps sit within ±20 ms of the moment the server closes, the rest anywhere below it.
    out.push(i % 2 ? serverCloseMs - 20 + (x % 41) : x % serverCloseMs);
  }
  return out;
}

function raceRun(ctx: ScenarioContext, agent: http.Agent): void {
  const lat = ctx.p['latency_ms']!;
  // Node 20's server destroys an idle keep-alive socket keepAliveTimeout + 1 s after the
  // response; the client sees the response one latency later.
  const serverClose = ctx.p['server_keepalive_ms']! + 1000 - lat;
  const g = gaps(ctx, ctx.p['requests']!, serverClose);
  const run = async () => {
    for (let i = 0; i < g.length; i++) {
      await request(ctx, agent, `/${i + 1}`, {}, 'POST');
      await new Promise((r) => setTimeout(r, g[i])); // the global timers follow the virtual clock
    }
  };
  ctx.net.at(ms(1), () => void run());
}

export const http11KeepAliveRace: Scenario = {
  id: 'http11-keepalive-race',
  title: 'The keep-alive race: a pooled request meets the server\'s idle close (ECONNRESET on a reused socket)',
  topic: 'E',
  node: true,
  explain:
    'A client pool (Node\'s http.Agent with keepAlive) keeps idle connections for reuse and does not look at the server\'s `Keep-Alive: timeout=5` hint. ' +
    'The server closes an idle connection 6 s after its last response. When the next request leaves just before the server\'s FIN arrives, it reaches a socket the server has closed: ' +
    'the server\'s kernel answers with RST and the request fails with ECONNRESET ("socket hang up") on a reused socket. POST is not idempotent, so it must not be retried blindly.',
  question: 'Why do pooled HTTP clients see random "socket hang up" errors?',
  params: raceParams,
  notice: ['failed requests have reusedSocket: true', 'the server sends RST for the request data arriving after its close (TCPAbortOnData)'],
  async setup(ctx) {
    httpServer(ctx, { keepAliveTimeout: ctx.p['server_keepalive_ms']! });
    raceRun(ctx, lingerAgent(ctx, { keepAlive: true, maxSockets: 1 }));
  },
  duration: (p) => sec((p['requests']! * (p['server_keepalive_ms']! + 1000)) / 1000 + 120),
};

export const http11KeepAliveRaceFixed: Scenario = {
  id: 'http11-keepalive-race-fixed',
  title: 'The keep-alive race fixed: the client\'s idle timeout is shorter than the server\'s',
  topic: 'E',
  node: true,
  explain:
    'The same traffic, but the pool closes its idle connections after 4 s (http.Agent `timeout`), well before the server\'s 6 s. ' +
    'On every hop the side that reuses a connection must time out first: then a reused connection is never one the server is closing, and no request fails.',
  question: 'How do you configure a pool so that the race cannot happen?',
  params: [...raceParams, { name: 'client_idle_ms', description: 'the pool\'s idle timeout (http.Agent timeout)', default: 4000, min: 100, max: 600000 }],
  notice: ['zero failed requests', 'idle connections are closed by the client (TIME_WAIT on the client)'],
  async setup(ctx) {
    httpServer(ctx, { keepAliveTimeout: ctx.p['server_keepalive_ms']! });
    raceRun(ctx, lingerAgent(ctx, { keepAlive: true, maxSockets: 1, timeout: ctx.p['client_idle_ms']! }));
  },
  duration: (p) => sec((p['requests']! * (p['server_keepalive_ms']! + 1000)) / 1000 + 120),
};

HTTP_SCENARIOS.push(http11KeepAliveRace, http11KeepAliveRaceFixed);

// ---- HTTP/2 ----

export const http2MultiplexIdle: Scenario = {
  id: 'http2-multiplex-idle',
  title: 'HTTP/2: 100 concurrent requests on one connection, GOAWAY after the idle timeout, one TIME_WAIT',
  topic: 'E',
  node: true,
  explain:
    'An HTTP/2 client (node:http2) sends 100 requests at once; they are multiplexed as streams on a single TCP connection. ' +
    'When the connection has been idle for the server\'s idle timeout, the server sends GOAWAY and then closes: it sends the first FIN and holds the only TIME_WAIT of the whole exchange.',
  question: 'How many connections and TIME_WAITs does HTTP/2 cost for 100 requests?',
  params: [latencyParam, reqParam(100), { name: 'idle_timeout_ms', description: 'the server closes a session idle this long', default: 5000, min: 100, max: 600000 }],
  notice: ['one SYN', 'GOAWAY, then the server FIN', 'exactly one TIME_WAIT, on the server'],
  async setup(ctx) {
    const { serverNet, clientNet } = nodeExt(ctx);
    const http2 = bindHttp2(serverNet);
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      ctx.http({ host: 'server', phase: 'request', method: String(headers[':method']), path: String(headers[':path']), connection: connOf(stream.session?.socket) });
      stream.respond({ ':status': 200, 'content-type': 'text/plain' });
      stream.end(BODY);
    });
    server.on('session', (session) => {
      // The server's idle timer (as http2 servers configure it), on the virtual clock.
      let timer: ReturnType<typeof setTimeout> | undefined;
      const arm = () => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          ctx.note(ctx.server, 'server: session idle, GOAWAY and close');
          session.close();
        }, ctx.p['idle_timeout_ms']!);
      };
      session.on('stream', (s) => s.on('close', arm));
      arm();
    });
    server.listen(80);
    const run = () => {
      const session = bindHttp2(clientNet).connect('http://server');
      session.on('goaway', () => ctx.note(ctx.client, 'client: GOAWAY received'));
      session.on('error', () => undefined);
      for (let i = 0; i < ctx.p['requests']!; i++) {
        const path = `/${i + 1}`;
        const req = session.request({ ':path': path });
        ctx.http({ host: 'client', phase: 'request', method: 'GET', path, connection: connOf(session.socket) });
        req.on('response', (h) => {
          req.resume();
          req.on('end', () => ctx.http({ host: 'client', phase: 'response', method: 'GET', path, status: Number(h[':status']), connection: connOf(session.socket) }));
        });
        req.on('error', (e: Error & { code?: string }) => ctx.http({ host: 'client', phase: 'error', method: 'GET', path, error: e.code ?? e.message }));
        req.end();
      }
    };
    ctx.net.at(ms(1), run);
  },
  duration: (p) => sec(p['idle_timeout_ms']! / 1000 + 70),
};

HTTP_SCENARIOS.push(http2MultiplexIdle);

// ---- the same 100 requests over HTTP/1.0, HTTP/1.1 and HTTP/2 ----

export const httpVersionsCompared: Scenario = {
  id: 'http-versions-compared',
  title: 'HTTP/1.0 vs HTTP/1.1 vs HTTP/2 for the same 100 requests: connections, handshakes, TIME_WAITs, time',
  topic: 'E',
  node: true,
  explain:
    'The same 100 requests, one after another, three times: with HTTP/1.0 and no keep-alive (a connection per request, closed by the server), ' +
    'with HTTP/1.1 keep-alive (one connection reused), and with HTTP/2 (one connection, all 100 as concurrent streams). ' +
    'The notes after each phase count the TCP connections opened, the TIME_WAIT entries left on each side and the time taken: persistence removes the per-request handshake and close, multiplexing removes the waiting.',
  question: 'What does each HTTP version cost at the TCP level for the same work?',
  params: [latencyParam, reqParam(100)],
  notice: ['HTTP/1.0: 100 connections, 100 server TIME_WAITs', 'HTTP/1.1: 1 connection', 'HTTP/2: 1 connection, the shortest time'],
  async setup(ctx) {
    const n = ctx.p['requests']!;
    const { clientNet, serverNet } = nodeExt(ctx);
    httpServer(ctx, {}); // HTTP/1.x on port 80
    const h2 = bindHttp2(serverNet).createServer();
    h2.on('stream', (stream) => {
      stream.respond({ ':status': 200 });
      stream.end(BODY);
    });
    h2.listen(8080);
    const syns = () => ctx.client.counters.get('ActiveOpens');
    const tws = (h: typeof ctx.client) => h.counters.get('TW');
    const measure = async (label: string, run: () => Promise<void>) => {
      const t0 = ctx.net.now;
      const s0 = syns();
      const cw = tws(ctx.client);
      const sw = tws(ctx.server);
      await run();
      await new Promise((r) => setTimeout(r, 1000)); // let the closes finish
      ctx.note(ctx.client, `${label}: ${n} requests, ${syns() - s0} connections, TIME_WAITs client ${tws(ctx.client) - cw} / server ${tws(ctx.server) - sw}, ${((ctx.net.now - 1_000_000 - t0) / 1000).toFixed(0)} ms`);
    };
    const phases = async () => {
      await measure('HTTP/1.0', async () => {
        for (let i = 0; i < n; i++) {
          const s = await connect(ctx);
          await http10(ctx, s, `/10/${i + 1}`, false);
          s.end();
        }
      });
      const agent = lingerAgent(ctx, { keepAlive: true, maxSockets: 1 });
      await measure('HTTP/1.1 keep-alive', async () => {
        for (let i = 0; i < n; i++) await request(ctx, agent, `/11/${i + 1}`);
        agent.destroy(); // the client closes its pooled connection: its TIME_WAIT counts here
      });
      await measure('HTTP/2', async () => {
        const session = bindHttp2(clientNet).connect('http://server:8080');
        await Promise.all(Array.from({ length: n }, (_, i) => new Promise<void>((resolve) => {
          const path = `/2/${i + 1}`;
          const req = session.request({ ':path': path });
          ctx.http({ host: 'client', phase: 'request', method: 'GET', path, connection: connOf(session.socket) });
          req.on('response', (hd) => {
            req.resume();
            req.on('end', () => {
              ctx.http({ host: 'client', phase: 'response', method: 'GET', path, status: Number(hd[':status']), connection: connOf(session.socket) });
              resolve();
            });
          });
          req.end();
        })));
        session.close();
      });
    };
    ctx.net.at(ms(1), () => void phases());
  },
  duration: (p) => sec(p['requests']! * 0.05 + 80),
};

HTTP_SCENARIOS.push(httpVersionsCompared);
