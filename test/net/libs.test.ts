// Unchanged libraries on linger sockets over the simulated network: node:http (keep-alive on
// and off, chunked, 100 MB bodies, backpressure, aborted requests), node:http2, undici's
// Client and Pool through their `connect` option, and fastify.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import { createHash } from 'node:crypto';
import { Client, Pool } from 'undici';
import Fastify from 'fastify';
import type { NetSocket } from '../../src/net/socket.ts';
import { once, world, type World } from '../helpers/world.ts';

/** Serves a node:http server on port 80 of the server host (as http.Server would on node:net). */
function serveHttp(w: World, hs: http.Server | http2.Http2Server, port = 80): void {
  w.snet.createServer({ allowHalfOpen: true, noDelay: true }, (s) => hs.emit('connection', s)).listen(port);
}

function agent(w: World, opts: http.AgentOptions): http.Agent {
  const a = new http.Agent(opts);
  (a as unknown as { createConnection: (o: object) => NetSocket }).createConnection = (o) => w.cnet.createConnection({ ...o, port: 80, host: 'server' });
  return a;
}

function get(a: http.Agent, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: Buffer; headers: http.IncomingHttpHeaders; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: 'server', port: 80, path, agent: a, headers }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(parts), headers: res.headers, reused: req.reusedSocket }));
    });
    req.on('error', reject);
  });
}

const pattern = (n: number): Buffer => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + 17) & 0xff;
  return b;
};

test('node:http with keep-alive on and off: connections reused or not, chunked and Content-Length framing', async () => {
  const w = world({ trace: true });
  try {
    const hs = http.createServer((req, res) => {
      if (req.url === '/chunked') {
        res.write('part one, ');
        res.end('part two');
      } else res.end(`path ${req.url}`);
    });
    serveHttp(w, hs);
    const ka = agent(w, { keepAlive: true, maxSockets: 1 });
    const r1 = await w.rt.wait(get(ka, '/a'));
    const r2 = await w.rt.wait(get(ka, '/chunked'));
    assert.equal(r1.body.toString(), 'path /a');
    assert.equal(r1.headers['content-length'], '7');
    assert.equal(r2.body.toString(), 'part one, part two');
    assert.equal(r2.headers['transfer-encoding'], 'chunked');
    assert.equal(r2.reused, true);
    const synsAfterKa = w.events.filter((e) => e.kind === 'segment' && e.host === 'client' && e.dir === 'out' && e.flags === 'S').length;
    assert.equal(synsAfterKa, 1);
    const plain = agent(w, { keepAlive: false });
    await w.rt.wait(get(plain, '/b'));
    await w.rt.wait(get(plain, '/c'));
    const syns = w.events.filter((e) => e.kind === 'segment' && e.host === 'client' && e.dir === 'out' && e.flags === 'S').length;
    assert.equal(syns, 3, 'keep-alive off: a new connection per request');
    ka.destroy();
  } finally {
    w.dispose();
  }
});

test('node:http: 100 MB upload and 100 MB download with sha256, backpressure on both sides', async () => {
  const w = world({ link: { latencyUs: 500 }, trace: false });
  try {
    const SIZE = 100 << 20;
    const chunk = pattern(1 << 20);
    const want = createHash('sha256');
    for (let i = 0; i < 100; i++) want.update(chunk);
    const wantHex = want.digest('hex');
    let serverFalse = 0;
    const hs = http.createServer((req, res) => {
      if (req.method === 'POST') {
        const h = createHash('sha256');
        let n = 0;
        req.on('data', (d: Buffer) => { h.update(d); n += d.length; });
        req.on('end', () => res.end(`${n} ${h.digest('hex')}`));
        return;
      }
      // Download: write as the client's window allows (write() false -> wait for drain).
      res.setHeader('Content-Length', SIZE);
      let i = 0;
      const more = () => {
        while (i < 100) {
          i++;
          if (!res.write(chunk)) {
            serverFalse++;
            res.once('drain', more);
            return;
          }
        }
        res.end();
      };
      more();
    });
    serveHttp(w, hs);
    const a = agent(w, { keepAlive: true, maxSockets: 1 });
    const upload = new Promise<string>((resolve, reject) => {
      const req = http.request({ host: 'server', port: 80, path: '/up', method: 'POST', agent: a, headers: { 'content-length': SIZE } }, (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d));
        res.on('end', () => resolve(body));
      });
      req.on('error', reject);
      let i = 0;
      let clientFalse = 0;
      const more = () => {
        while (i < 100) {
          i++;
          if (!req.write(chunk)) {
            clientFalse++;
            req.once('drain', more);
            return;
          }
        }
        assert.ok(clientFalse > 0, 'the upload met backpressure');
        req.end();
      };
      more();
    });
    assert.equal(await w.rt.wait(upload), `${SIZE} ${wantHex}`);
    // A slow reader: pause the response and resume it later; the server's writes return false.
    const download = new Promise<string>((resolve, reject) => {
      http.get({ host: 'server', port: 80, path: '/down', agent: a }, (res) => {
        const h = createHash('sha256');
        let n = 0;
        res.pause();
        setTimeout(() => res.resume(), 2000); // virtual time
        res.on('data', (d: Buffer) => { h.update(d); n += d.length; });
        res.on('end', () => resolve(`${n} ${h.digest('hex')}`));
      }).on('error', reject);
    });
    assert.equal(await w.rt.wait(download), `${SIZE} ${wantHex}`);
    assert.ok(serverFalse > 0, 'the download met backpressure');
    a.destroy();
  } finally {
    w.dispose();
  }
});

test('node:http: an aborted request — the client destroys it mid-response, the server sees the close and the reset', async () => {
  const w = world({ trace: true });
  try {
    let serverSaw = '';
    const hs = http.createServer((req, res) => {
      // A long response, 10 kB every 10 ms, that never ends.
      const tick = setInterval(() => res.write(pattern(10_000)), 10);
      res.write(pattern(10_000));
      res.on('close', () => {
        clearInterval(tick);
        serverSaw = res.writableFinished ? 'finished' : 'closed before finish';
      });
    });
    serveHttp(w, hs);
    const a = agent(w, { keepAlive: true });
    const done = new Promise<string>((resolve) => {
      const req = http.get({ host: 'server', port: 80, path: '/long', agent: a }, (res) => {
        res.once('data', () => req.destroy());
      });
      req.on('error', (e: Error & { code?: string }) => resolve(e.code ?? e.message));
      req.on('close', () => resolve('closed'));
    });
    const r = await w.rt.wait(done);
    assert.ok(r === 'closed' || r === 'ECONNRESET', r);
    await w.rt.runFor(100_000);
    assert.equal(serverSaw, 'closed before finish');
    // Node had already read what had arrived, so the close sends a FIN; the response data still
    // in flight then reaches a closed socket, and Linux answers it with RST (TCPAbortOnData).
    const out = w.events.filter((e) => e.kind === 'segment' && e.host === 'client' && e.dir === 'out' && /[FR]/.test(e.flags)).map((e) => (e as { flags: string }).flags);
    // The first late segment meets the orphan (TCPAbortOnData); the ones behind it meet no
    // socket at all and each gets its own RST, until the server's socket is reset too.
    assert.equal(out[0], 'F.');
    assert.ok(out.length >= 2 && out.slice(1).every((f) => f === 'R'), out.join(' '));
    assert.equal(w.client.counters.get('TCPAbortOnData'), 1);
    assert.deepEqual(w.server.sockets().map((r) => r.state), ['LISTEN'], 'the server\'s end is gone too');
  } finally {
    w.dispose();
  }
});

test('node:http2: 200 multiplexed streams and a 20 MB body on one connection', async () => {
  const w = world({ trace: true });
  try {
    const server = http2.createServer();
    const big = pattern(20 << 20);
    server.on('stream', (stream, headers) => {
      stream.respond({ ':status': 200 });
      stream.end(headers[':path'] === '/big' ? big : `stream ${headers[':path']}`);
    });
    serveHttp(w, server);
    const session = http2.connect('http://server', { createConnection: () => w.cnet.connect(80, 'server') as never });
    const fetch = (path: string) =>
      new Promise<Buffer>((resolve, reject) => {
        const req = session.request({ ':path': path });
        const parts: Buffer[] = [];
        req.on('data', (d: Buffer) => parts.push(d));
        req.on('end', () => resolve(Buffer.concat(parts)));
        req.on('error', reject);
        req.end();
      });
    const bodies = await w.rt.wait(Promise.all(Array.from({ length: 200 }, (_, i) => fetch(`/${i}`))));
    assert.equal(bodies[199]!.toString(), 'stream /199');
    const b = await w.rt.wait(fetch('/big'));
    assert.equal(createHash('sha256').update(b).digest('hex'), createHash('sha256').update(big).digest('hex'));
    assert.equal(w.events.filter((e) => e.kind === 'segment' && e.host === 'client' && e.dir === 'out' && e.flags === 'S').length, 1);
    const closed = once(session, 'close');
    session.close();
    await w.rt.wait(closed);
  } finally {
    w.dispose();
  }
});

test('undici Client and Pool through their connect option; keep-alive reuse', async () => {
  const w = world({ trace: true });
  try {
    const hs = http.createServer((req, res) => res.end(`undici ${req.url}`));
    serveHttp(w, hs);
    const connect = (_opts: object, cb: (err: Error | null, s: NetSocket | null) => void) => {
      const s = w.cnet.connect(80, 'server');
      s.once('connect', () => cb(null, s));
      s.once('error', (e) => cb(e, null));
    };
    const client = new Client('http://server', { connect: connect as never });
    for (let i = 0; i < 5; i++) {
      const r = await w.rt.wait(client.request({ path: `/c${i}`, method: 'GET' }));
      assert.equal(r.statusCode, 200);
      assert.equal(await w.rt.wait(r.body.text()), `undici /c${i}`);
    }
    const syns = () => w.events.filter((e) => e.kind === 'segment' && e.host === 'client' && e.dir === 'out' && e.flags === 'S').length;
    assert.equal(syns(), 1, 'the Client kept its connection alive');
    await w.rt.wait(client.close());
    const pool = new Pool('http://server', { connections: 4, connect: connect as never });
    const res = await w.rt.wait(Promise.all(Array.from({ length: 20 }, (_, i) => pool.request({ path: `/p${i}`, method: 'GET' }).then((r) => r.body.text()))));
    assert.equal(res[19], 'undici /p19');
    assert.ok(syns() >= 2 && syns() <= 5, `the pool opened ${syns() - 1} connections`);
    await w.rt.wait(pool.close());
  } finally {
    w.dispose();
  }
});

test('fastify serves on a linger host unchanged (serverFactory); a keep-alive client reuses the connection', async () => {
  const w = world({ trace: true });
  try {
    let hs: http.Server | undefined;
    const app = Fastify({
      serverFactory: (handler) => {
        hs = http.createServer(handler);
        return hs;
      },
    });
    app.get('/hello/:name', async (req) => ({ hello: (req.params as { name: string }).name }));
    app.post('/echo', async (req) => req.body);
    await w.rt.wait(Promise.resolve(app.ready()));
    serveHttp(w, hs!);
    const a = agent(w, { keepAlive: true, maxSockets: 1 });
    const r = await w.rt.wait(get(a, '/hello/linger'));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body.toString()), { hello: 'linger' });
    const echoed = await w.rt.wait(new Promise<string>((resolve, reject) => {
      const req = http.request({ host: 'server', port: 80, path: '/echo', method: 'POST', agent: a, headers: { 'content-type': 'application/json' } }, (res) => {
        let b = '';
        res.on('data', (d: Buffer) => (b += d));
        res.on('end', () => resolve(b));
      });
      req.on('error', reject);
      req.end(JSON.stringify({ a: 1 }));
    }));
    assert.deepEqual(JSON.parse(echoed), { a: 1 });
    assert.equal(w.events.filter((e) => e.kind === 'segment' && e.host === 'client' && e.dir === 'out' && e.flags === 'S').length, 1);
    a.destroy();
    await w.rt.wait(app.close());
  } finally {
    w.dispose();
  }
});

test('library timeouts follow the virtual clock: a 1-hour keepAliveTimeout and Agent timeout cost milliseconds', async () => {
  const w = world({ trace: true });
  try {
    const hs = http.createServer((req, res) => res.end('ok'));
    hs.keepAliveTimeout = 3_600_000; // one hour: the server sends Keep-Alive: timeout=3600
    serveHttp(w, hs);
    const firstFin = (since: number) => w.events.find((e) => e.kind === 'segment' && e.dir === 'out' && e.flags.includes('F') && e.t > since) as { host: string; t: number } | undefined;
    // An agent without a timeout of its own: Node 20 ignores the hint then, and the server
    // closes keepAliveTimeout + 1 s after the response.
    const plain = agent(w, { keepAlive: true, maxSockets: 1 });
    let t0 = w.net.now;
    await w.rt.wait(get(plain, '/'));
    await w.rt.runFor(3_700_000_000);
    let fin = firstFin(t0)!;
    assert.equal(fin.host, 'server');
    assert.equal(fin.t - (w.net.now - 3_700_000_000), 3_601_000_000 - 5_000, 'an hour and a second after the response left');
    // An agent with a 2 h timeout: the hint lowers it to 3600 s - 1 s, and the client closes first.
    const timed = agent(w, { keepAlive: true, maxSockets: 1, timeout: 7_200_000 });
    t0 = w.net.now;
    await w.rt.wait(get(timed, '/'));
    const tResp = w.net.now;
    await w.rt.runFor(3_700_000_000);
    fin = firstFin(t0)!;
    assert.equal(fin.host, 'client');
    assert.equal(fin.t - tResp, 3_599_000_000);
  } finally {
    w.dispose();
  }
});

test('undici: a 100 MB download with sha256 and an aborted request', async () => {
  const w = world({ link: { latencyUs: 500 }, trace: false });
  try {
    const chunk = pattern(1 << 20);
    const hs = http.createServer((req, res) => {
      if (req.url === '/slow') {
        const tick = setInterval(() => res.write(chunk.subarray(0, 1000)), 5);
        res.on('close', () => clearInterval(tick));
        return;
      }
      let i = 0;
      const more = () => {
        while (i < 100) {
          i++;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
    });
    serveHttp(w, hs);
    const connect = (_opts: object, cb: (err: Error | null, s: NetSocket | null) => void) => {
      const s = w.cnet.connect(80, 'server');
      s.once('connect', () => cb(null, s));
      s.once('error', (e) => cb(e, null));
    };
    const client = new Client('http://server', { connect: connect as never });
    const r = await w.rt.wait(client.request({ path: '/big', method: 'GET' }));
    const h = createHash('sha256');
    let n = 0;
    const done = new Promise<void>((resolve, reject) => {
      r.body.on('data', (d: Buffer) => { h.update(d); n += d.length; });
      r.body.on('end', () => resolve());
      r.body.on('error', reject);
    });
    await w.rt.wait(done);
    const want = createHash('sha256');
    for (let i = 0; i < 100; i++) want.update(chunk);
    assert.equal(n, 100 << 20);
    assert.equal(h.digest('hex'), want.digest('hex'));
    const ac = new AbortController();
    const slow = client.request({ path: '/slow', method: 'GET', signal: ac.signal });
    const res = await w.rt.wait(slow);
    setTimeout(() => ac.abort(), 50);
    const err = await w.rt.wait(new Promise<Error & { name: string }>((resolve) => {
      res.body.on('error', (e: Error) => resolve(e as Error & { name: string }));
      res.body.resume();
    }));
    assert.equal(err.name, 'AbortError');
    await w.rt.wait(client.close());
  } finally {
    w.dispose();
  }
});
