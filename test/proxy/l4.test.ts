// The L4 proxy: relays bytes both ways (1 GB with a checksum), passes FINs one direction at a
// time and resets as resets, and applies its TCP profile's timers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Network } from '../../src/sim/network.ts';
import { Host } from '../../src/host/host.ts';
import type { HostConfig } from '../../src/base/config.ts';
import type { Socket } from '../../src/host/socket.ts';
import type { TraceEvent } from '../../src/base/trace.ts';
import { SocketError } from '../../src/base/errno.ts';
import { L4Proxy, type ProxyEvent, type TcpProfile } from '../../src/proxy/l4.ts';

const BIG = { tcp_wmem: [4096, 16384, 4194304] as [number, number, number], tcp_rmem: [4096, 131072, 6291456] as [number, number, number] };

function topo(profile: Partial<TcpProfile> = {}, proxyCfg: Partial<HostConfig> = {}, trace = true) {
  const net = new Network({ seed: 9 });
  const events: TraceEvent[] = [];
  const sink = trace ? (e: TraceEvent) => events.push(e) : undefined;
  const mk = (name: string, addr: string, cfg: Partial<HostConfig> = {}) => {
    const h = new Host({ name, addresses: [addr], clock: net.clock, seed: addr.length * 7 + name.length, trace: sink, tracePackets: false, config: { ...BIG, ...cfg } });
    net.addNode(h);
    return h;
  };
  const client = mk('client', '10.0.0.1');
  const proxy = mk('proxy', '10.0.0.3', proxyCfg);
  const server = mk('server', '10.0.0.2');
  net.link('client', 'proxy', { latencyUs: 100 });
  net.link('proxy', 'server', { latencyUs: 100 });
  const proxyEvents: ProxyEvent[] = [];
  const timer = (us: number, fn: () => void) => {
    let c = false;
    net.at(net.now + us, () => { if (!c) fn(); });
    return { cancel: () => { c = true; } };
  };
  const p = new L4Proxy(proxy, { listen: { addr: '0.0.0.0', port: 80 }, upstream: { addr: '10.0.0.2', port: 8080 }, profile, scheduler: { setTimer: timer }, onEvent: (e) => proxyEvents.push(e) });
  return { net, client, proxy, server, p, events, proxyEvents };
}

function listen(h: Host, port: number, onConn: (s: Socket) => void): void {
  const l = h.socket();
  l.bind('0.0.0.0', port);
  l.listen(16);
  l.on('connection', () => { for (let s = l.accept(); s; s = l.accept()) onConn(s); });
}

/** Reads everything into a hash; calls onEof at the end of the stream. */
function drain(s: Socket, hash: ReturnType<typeof createHash> | null, st: { n: number; eof: boolean; err: string | null }, onEof?: () => void): void {
  const pump = () => {
    for (;;) {
      if (st.eof || s.closed) return;
      let d: Uint8Array | null;
      try {
        d = s.recv(1 << 20);
      } catch (e) {
        if (e instanceof SocketError) { st.err = e.code; return; }
        throw e;
      }
      if (d === null) return;
      if (d.length === 0) {
        if (!st.eof) { st.eof = true; onEof?.(); }
        return;
      }
      st.n += d.length;
      hash?.update(d);
    }
  };
  s.on('readable', pump);
  s.on('error', pump);
  if (s.state !== 'CLOSED') pump(); // recv() on a socket not yet connected is ENOTCONN
}

function sendAll(s: Socket, total: number, chunk: Uint8Array, done: () => void): void {
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      // The stream continues where the last (possibly partial) send stopped.
      const off = sent % chunk.length;
      const n = s.send(chunk.subarray(off, Math.min(chunk.length, off + total - sent)));
      if (!n) return;
      sent += n;
    }
    s.off('writable', pump);
    done();
  };
  s.on('writable', pump);
  pump();
}

test('relays 1 GB client -> server with a matching sha256, then closes cleanly', () => {
  const t = topo({}, {}, false);
  const TOTAL = 1 << 30;
  const chunk = new Uint8Array(1 << 16);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 251 + 13) & 0xff;
  const want = createHash('sha256');
  for (let off = 0; off < TOTAL; off += chunk.length) want.update(chunk);
  const got = createHash('sha256');
  const st = { n: 0, eof: false, err: null as string | null };
  listen(t.server, 8080, (s) => drain(s, got, st, () => s.close()));
  const c = t.client.socket();
  c.on('connect', () => sendAll(c, TOTAL, chunk, () => c.shutdown('SHUT_WR')));
  const cst = { n: 0, eof: false, err: null as string | null };
  drain(c, null, cst, () => c.close());
  c.connect('10.0.0.3', 80);
  t.net.runWhile(() => !cst.eof, 3_600_000_000);
  assert.equal(st.n, TOTAL);
  assert.equal(got.digest('hex'), want.digest('hex'));
  assert.equal(t.p.stats.bytesUp, TOTAL);
  assert.equal(st.err, null);
  assert.ok(cst.eof, 'the server\'s FIN came back through the proxy');
});

test('half-close both ways: each FIN is passed on alone, data keeps flowing the other way', () => {
  const t = topo();
  const sst = { n: 0, eof: false, err: null as string | null };
  let srvSock: Socket | null = null;
  listen(t.server, 8080, (s) => {
    srvSock = s;
    drain(s, null, sst, () => {
      // The client's FIN reached us through the proxy; we still send, then close.
      s.send(new Uint8Array(5000));
      t.net.after(50_000, () => s.close());
    });
  });
  const c = t.client.socket();
  const cst = { n: 0, eof: false, err: null as string | null };
  drain(c, null, cst);
  c.on('connect', () => {
    c.send(new Uint8Array(3000));
    c.shutdown('SHUT_WR');
  });
  c.connect('10.0.0.3', 80);
  t.net.run(40_000);
  assert.equal(sst.n, 3000);
  assert.equal(sst.eof, true, 'the server saw the client\'s FIN');
  assert.equal(cst.eof, false, 'the client\'s read side is still open');
  t.net.run(200_000);
  assert.equal(cst.n, 5000, 'the server\'s data after the half-close arrived');
  assert.equal(cst.eof, true);
  assert.deepEqual(t.proxyEvents.filter((e) => e.kind === 'half-close').map((e) => (e as { from: string }).from), ['client', 'upstream']);
  assert.ok(srvSock);
  // The reverse order: the server half-closes first.
  const u = topo();
  listen(u.server, 8080, (s) => {
    s.send(new Uint8Array(100));
    s.shutdown('SHUT_WR');
    drain(s, null, { n: 0, eof: false, err: null }, () => s.close());
  });
  const d = u.client.socket();
  const dst = { n: 0, eof: false, err: null as string | null };
  drain(d, null, dst, () => {
    d.send(new Uint8Array(700)); // still allowed after the peer's FIN (CLOSE_WAIT)
    d.close();
  });
  d.connect('10.0.0.3', 80);
  u.net.run(300_000);
  assert.equal(dst.n, 100);
  assert.equal(u.p.stats.bytesUp, 700);
  assert.deepEqual(u.proxyEvents.filter((e) => e.kind === 'half-close').map((e) => (e as { from: string }).from), ['upstream', 'client']);
});

test('a reset is passed on as a reset, both ways; a refused upstream resets the client', () => {
  const t = topo();
  listen(t.server, 8080, (s) => {
    t.net.after(20_000, () => {
      s.setsockopt('SO_LINGER', { on: true, seconds: 0 });
      s.close();
    });
  });
  const c = t.client.socket();
  const cst = { n: 0, eof: false, err: null as string | null };
  drain(c, null, cst);
  c.connect('10.0.0.3', 80);
  t.net.run(100_000);
  assert.equal(cst.err, 'ECONNRESET');
  assert.deepEqual(t.proxyEvents.filter((e) => e.kind === 'reset').map((e) => [(e as { from: string }).from, (e as { code: string }).code]), [['upstream', 'ECONNRESET']]);
  // Client side reset.
  const u = topo();
  const sst = { n: 0, eof: false, err: null as string | null };
  listen(u.server, 8080, (s) => drain(s, null, sst));
  const d = u.client.socket();
  d.on('connect', () => u.net.after(20_000, () => {
    d.setsockopt('SO_LINGER', { on: true, seconds: 0 });
    d.close();
  }));
  d.connect('10.0.0.3', 80);
  u.net.run(100_000);
  assert.equal(sst.err, 'ECONNRESET');
  // Nothing listens upstream.
  const v = topo();
  const e = v.client.socket();
  const est = { n: 0, eof: false, err: null as string | null };
  drain(e, null, est);
  e.connect('10.0.0.3', 80);
  v.net.run(100_000);
  assert.equal(est.err, 'ECONNRESET');
  assert.equal(v.p.stats.upstreamFailures, 1);
  assert.deepEqual(v.proxyEvents.filter((x) => x.kind === 'upstream-failed').map((x) => (x as { code: string }).code), ['ECONNREFUSED']);
});

test('profile timers: idle timeout (reset or FIN), close-wait timeout, the profile\'s TIME_WAIT length', () => {
  // Idle, Reset on Timeout: both sides reset after 3 s without a byte.
  const t = topo({ idleTimeoutMs: 3000, idleAction: 'rst' });
  const sst = { n: 0, eof: false, err: null as string | null };
  listen(t.server, 8080, (s) => drain(s, null, sst));
  const c = t.client.socket();
  const cst = { n: 0, eof: false, err: null as string | null };
  drain(c, null, cst);
  c.on('connect', () => c.send(new Uint8Array(10)));
  c.connect('10.0.0.3', 80);
  t.net.run(2_900_000);
  assert.equal(cst.err, null);
  t.net.run(3_200_000);
  assert.equal(cst.err, 'ECONNRESET');
  assert.equal(sst.err, 'ECONNRESET');
  assert.equal(t.p.stats.idleTimeouts, 1);
  // Idle with FIN: an orderly close of both sides instead.
  const u = topo({ idleTimeoutMs: 3000, idleAction: 'fin' });
  const ust = { n: 0, eof: false, err: null as string | null };
  listen(u.server, 8080, (s) => drain(s, null, ust, () => s.close()));
  const d = u.client.socket();
  const dst = { n: 0, eof: false, err: null as string | null };
  drain(d, null, dst, () => d.close());
  d.connect('10.0.0.3', 80);
  u.net.run(3_500_000);
  assert.equal(dst.eof, true);
  assert.equal(ust.eof, true);
  assert.equal(dst.err, null);
  // The proxy closed first on both sides: its TIME_WAITs last the profile's 2 s, not 60 s.
  const v = topo({ idleTimeoutMs: 3000, idleAction: 'fin' }, { lb_time_wait_timeout_ms: 2000 });
  listen(v.server, 8080, (s) => drain(s, null, { n: 0, eof: false, err: null }, () => s.close()));
  const e = v.client.socket();
  drain(e, null, { n: 0, eof: false, err: null }, () => e.close());
  e.connect('10.0.0.3', 80);
  v.net.run(3_500_000);
  assert.equal(v.proxy.sockets().filter((r) => r.state === 'TIME_WAIT').length, 2);
  v.net.run(5_600_000);
  assert.equal(v.proxy.sockets().filter((r) => r.state === 'TIME_WAIT').length, 0);
  // Close-wait: the client half-closes and the server never finishes: both closed after 5 s.
  const w = topo({ closeWaitTimeoutMs: 5000 });
  listen(w.server, 8080, (s) => drain(s, null, { n: 0, eof: false, err: null })); // never closes
  const f = w.client.socket();
  const fst = { n: 0, eof: false, err: null as string | null };
  drain(f, null, fst);
  f.on('connect', () => f.shutdown('SHUT_WR'));
  f.connect('10.0.0.3', 80);
  w.net.run(4_000_000);
  assert.equal(fst.eof, false);
  w.net.run(6_000_000);
  assert.equal(fst.eof, true);
  assert.equal(w.p.stats.closeWaitTimeouts, 1);
});
