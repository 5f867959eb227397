// The node:net surface on linger: events and their order, members, errors shaped like Node's,
// half-open behaviour, timeouts on the virtual clock, and the Server's lifecycle.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { NetSocket } from '../../src/net/socket.ts';
import { once, world, type World } from '../helpers/world.ts';

type Err = Error & { code?: string; errno?: number; syscall?: string; address?: string; port?: number };

async function echoWorld(opts: Parameters<typeof world>[0] = {}, serverOpts: { allowHalfOpen?: boolean } = {}): Promise<World> {
  const w = world(opts);
  const srv = w.snet.createServer(serverOpts, (s) => s.pipe(s));
  srv.listen(7);
  await w.rt.wait(once(srv, 'listening'));
  return w;
}

function record(s: NetSocket, log: string[]): void {
  for (const ev of ['lookup', 'connect', 'ready', 'end', 'finish', 'timeout', 'drain'] as const) s.on(ev, () => log.push(ev));
  s.on('data', (d: Buffer) => log.push(`data:${d.toString()}`));
  s.on('error', (e: Err) => log.push(`error:${e.code}`));
  s.on('close', (hadError: boolean) => log.push(`close:${hadError}`));
}

test('connect by name: lookup, connect, ready; data; end, finish, close(false) — and the members', async () => {
  const w = await echoWorld();
  try {
    const s = w.cnet.connect(7, 'server');
    const log: string[] = [];
    record(s, log);
    assert.equal(s.readyState, 'opening');
    assert.equal(s.connecting, true);
    assert.equal(s.pending, true);
    await w.rt.wait(once(s, 'connect'));
    assert.equal(s.readyState, 'open');
    assert.equal(s.pending, false);
    assert.equal(s.remoteAddress, '10.0.0.2');
    assert.equal(s.remotePort, 7);
    assert.equal(s.remoteFamily, 'IPv4');
    assert.equal(s.localAddress, '10.0.0.1');
    assert.ok(s.localPort! >= 32768 && s.localPort! <= 60999);
    assert.deepEqual(s.address(), { address: '10.0.0.1', family: 'IPv4', port: s.localPort });
    s.end('ping');
    await w.rt.wait(once(s, 'close'));
    // The same order real node:net gives over loopback (Node 20): our end() finishes at once.
    assert.deepEqual(log, ['lookup', 'connect', 'ready', 'finish', 'data:ping', 'end', 'close:false']);
    assert.equal(s.bytesWritten, 4);
    assert.equal(s.bytesRead, 4);
    assert.equal(s.readyState, 'closed');
  } finally {
    w.dispose();
  }
});

test('ECONNREFUSED: an error shaped like Node\'s, then close(true)', async () => {
  const w = await echoWorld();
  try {
    const s = w.cnet.connect({ port: 81, host: '10.0.0.2' });
    const log: string[] = [];
    record(s, log);
    const closed = once(s, 'close');
    const err = await w.rt.wait(once<Err>(s, 'error'));
    assert.equal(err.code, 'ECONNREFUSED');
    assert.equal(err.errno, -111);
    assert.equal(err.syscall, 'connect');
    assert.equal(err.address, '10.0.0.2');
    assert.equal(err.port, 81);
    assert.equal(err.message, 'connect ECONNREFUSED 10.0.0.2:81');
    await w.rt.wait(closed);
    assert.deepEqual(log, ['error:ECONNREFUSED', 'close:true']);
  } finally {
    w.dispose();
  }
});

test('ETIMEDOUT after Linux\'s SYN retries, in virtual time; ENOTFOUND for an unknown name', async () => {
  const w = await echoWorld();
  try {
    w.net.partition('client', 'server', 0, Number.MAX_SAFE_INTEGER);
    const s = w.cnet.connect(7, 'server');
    const err = await w.rt.wait(once<Err>(s, 'error'));
    assert.equal(err.code, 'ETIMEDOUT');
    assert.equal(err.syscall, 'connect');
    assert.equal(w.net.now, 131_000_000);
    const u = w.cnet.connect(7, 'nowhere');
    const e2 = await w.rt.wait(once<Err>(u, 'error'));
    assert.equal(e2.code, 'ENOTFOUND');
    assert.equal(e2.syscall, 'getaddrinfo');
  } finally {
    w.dispose();
  }
});

test('allowHalfOpen false: the end of the peer\'s stream ends ours; true: we keep writing after end', async () => {
  const w = world();
  try {
    const got: string[] = [];
    const srv = w.snet.createServer({ allowHalfOpen: true }, (s) => {
      s.on('data', () => undefined);
      s.on('end', () => {
        // Half-open: the client shut its side, the server still answers.
        s.write('late reply');
        s.end();
      });
    });
    srv.listen(9);
    await w.rt.wait(once(srv, 'listening'));
    const s = w.cnet.connect({ port: 9, host: 'server', allowHalfOpen: true } as never);
    s.on('data', (d: Buffer) => got.push(d.toString()));
    await w.rt.wait(once(s, 'connect'));
    s.end('request');
    await w.rt.wait(once(s, 'close'));
    assert.deepEqual(got, ['late reply']);
    // Default allowHalfOpen false on the server: its side ends when the client's ends, before it writes.
    let serverEnded = false;
    const closing = w.snet.createServer((c) => {
      c.on('finish', () => (serverEnded = true)); // ended without anyone calling end()
      c.resume();
    });
    closing.listen(10);
    await w.rt.wait(once(closing, 'listening'));
    const t = w.cnet.connect(10, 'server');
    await w.rt.wait(once(t, 'connect'));
    const port = t.localPort;
    t.end();
    t.resume();
    await w.rt.wait(once(t, 'close'));
    assert.equal(serverEnded, true, 'allowHalfOpen false: the server side ended by itself');
    const st = w.events.filter((e) => e.kind === 'state' && e.host === 'client' && (e as { socket: string }).socket.includes(`:${port}>`)).map((e) => (e as { to: string }).to);
    assert.deepEqual(st, ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT']);
  } finally {
    w.dispose();
  }
});

test('write() returns false when the send buffer is full, then drain; 100 MB arrive intact', async () => {
  const w = world({ link: { latencyUs: 1000 } });
  try {
    let received = 0;
    const hash = createHash('sha256');
    const srv = w.snet.createServer((s) => {
      s.on('data', (d: Buffer) => { received += d.length; hash.update(d); });
    });
    srv.listen(5001);
    await w.rt.wait(once(srv, 'listening'));
    const s = w.cnet.connect(5001, 'server');
    s.resume(); // consume the server's end so that the socket can close
    await w.rt.wait(once(s, 'connect'));
    const chunk = Buffer.alloc(1 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7 + 3) & 0xff;
    const want = createHash('sha256');
    let falses = 0;
    let drains = 0;
    s.on('drain', () => drains++);
    const TOTAL = 100;
    const writeAll = async () => {
      for (let i = 0; i < TOTAL; i++) {
        want.update(chunk);
        if (!s.write(chunk)) {
          falses++;
          await once(s, 'drain');
        }
      }
      s.end();
    };
    await w.rt.wait(writeAll());
    await w.rt.wait(once(s, 'close'));
    assert.equal(received, TOTAL << 20);
    assert.equal(hash.digest('hex'), want.digest('hex'));
    assert.ok(falses > 0 && drains === falses, `write() false ${falses} times, drain ${drains}`);
  } finally {
    w.dispose();
  }
});

test('destroy() with unread data resets; the peer gets read ECONNRESET; resetAndDestroy() leaves no TIME_WAIT', async () => {
  const w = world();
  try {
    // pauseOnConnect: never reads (a pause() would not do: as on node:net, a paused socket
    // goes on reading into the stream's buffer, and destroying it then sends a FIN).
    const srv = w.snet.createServer({ pauseOnConnect: true }, (s) => {
      s.once('data', () => undefined);
    });
    srv.listen(11);
    await w.rt.wait(once(srv, 'listening'));
    const c = w.cnet.connect(11, 'server');
    await w.rt.wait(once(c, 'connect'));
    let accepted: NetSocket | undefined;
    srv.on('connection', (s) => (accepted = s));
    c.write('unread bytes');
    await w.rt.runFor(20_000);
    const peerErr = once<Err>(c, 'error');
    // The server destroys its socket with our bytes unread: Linux sends RST (TCPAbortOnClose).
    for (const s of [...((srv as unknown as { conns: Set<NetSocket> }).conns)]) s.destroy();
    const e = await w.rt.wait(peerErr);
    assert.equal(e.code, 'ECONNRESET');
    assert.equal(e.syscall, 'read');
    assert.equal(w.server.counters.get('TCPAbortOnClose'), 1);
    void accepted;
    // resetAndDestroy: RST at once, nothing left in the table.
    const d = w.cnet.connect(11, 'server');
    await w.rt.wait(once(d, 'connect'));
    d.resetAndDestroy();
    await w.rt.runFor(20_000);
    assert.equal(w.client.sockets().filter((r) => r.state === 'TIME_WAIT').length, 0);
    assert.equal(w.client.counters.get('TCPAbortOnData'), 1);
  } finally {
    w.dispose();
  }
});

test('setTimeout runs on the virtual clock, is reset by activity, and setTimeout(0) disables it', async () => {
  const w = await echoWorld();
  try {
    const s = w.cnet.connect(7, 'server');
    await w.rt.wait(once(s, 'connect'));
    const t0 = w.net.now;
    s.setTimeout(3_600_000); // one hour
    await w.rt.wait(once(s, 'timeout'));
    assert.equal(w.net.now - t0, 3_600_000_000);
    s.write('x'); // activity restarts it
    const t1 = w.net.now;
    await w.rt.wait(once(s, 'timeout'), w.net.now + 7_200_000_000);
    assert.ok(w.net.now - t1 >= 3_600_000_000);
    s.setTimeout(0);
    let fired = false;
    s.on('timeout', () => (fired = true));
    await w.rt.runFor(7_200_000_000);
    assert.equal(fired, false);
    s.destroy();
  } finally {
    w.dispose();
  }
});

test('setKeepAlive(true, 10000): keepalive probes after 10 s idle (TCP_KEEPIDLE), intervals from the sysctl', async () => {
  const w = await echoWorld();
  try {
    const s = w.cnet.connect(7, 'server');
    await w.rt.wait(once(s, 'connect'));
    s.setKeepAlive(true, 10_000);
    const t0 = w.net.now;
    await w.rt.runFor(100_000_000);
    const probes = w.events.filter((e) => e.kind === 'segment' && e.host === 'client' && e.dir === 'out' && e.note === 'keepalive probe');
    // The first after 10 s idle; the peer answers, and the timer (not reset by the answer, as in
    // tcp_keepalive_timer) comes back after tcp_keepalive_intvl = 75 s, by then idle again.
    assert.equal(probes.length, 2);
    assert.ok(probes[0]!.t - t0 >= 10_000_000 && probes[0]!.t - t0 < 10_100_000, String(probes[0]!.t - t0));
    assert.equal(probes[1]!.t - probes[0]!.t, 75_000_000);
    s.destroy();
  } finally {
    w.dispose();
  }
});

test('Server: listen, address, getConnections, maxConnections, EADDRINUSE, close after the last connection', async () => {
  const w = world();
  try {
    const srv = w.snet.createServer((s) => s.resume());
    srv.maxConnections = 1;
    srv.listen(8080, '10.0.0.2', 16);
    await w.rt.wait(once(srv, 'listening'));
    assert.deepEqual(srv.address(), { address: '10.0.0.2', family: 'IPv4', port: 8080 });
    const other = w.snet.createServer();
    other.listen(8080);
    const err = await w.rt.wait(once<Err>(other, 'error'));
    assert.equal(err.code, 'EADDRINUSE');
    assert.equal(err.syscall, 'listen');
    const a = w.cnet.connect(8080, 'server');
    await w.rt.wait(once(a, 'connect'));
    const b = w.cnet.connect(8080, 'server');
    b.resume();
    const bClosed = once(b, 'close');
    await w.rt.wait(bClosed); // over maxConnections: closed at once by the server
    const n = await w.rt.wait(new Promise<number>((r) => srv.getConnections((_e, k) => r(k))));
    assert.equal(n, 1);
    let closed = false;
    srv.close(() => (closed = true));
    await w.rt.runFor(10_000);
    assert.equal(closed, false, 'close waits for the open connection');
    a.end();
    await w.rt.wait(once(srv, 'close'));
    assert.equal(closed, true);
  } finally {
    w.dispose();
  }
});

test('isIP and friends are node:net\'s', () => {
  const w = world();
  try {
    assert.equal(w.cnet.isIP('10.0.0.1'), 4);
    assert.equal(w.cnet.isIP('fd00::1'), 6);
    assert.equal(w.cnet.isIP('server'), 0);
    assert.equal(w.cnet.isIPv4('10.0.0.1'), true);
  } finally {
    w.dispose();
  }
});
