// The benchmarks of `linger bench`: each measures linger in-process and, where there is a peer,
// the same work with Node's net over the kernel's loopback in the same invocation.

import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { Socket } from '../host/socket.ts';
import { TimerWheel, Timer } from '../time/wheel.ts';
import { benchWorld, type BenchWorld } from './world.ts';

export interface Sample {
  value: number;
  unit: string;
  /** The reference run's figure (same unit), or null. */
  reference: number | null;
  note?: string;
}

export interface BenchCase {
  name: string;
  /** Sizes for a full run and for --quick. */
  run(quick: boolean): Promise<Sample>;
  /** Repetitions after one warm-up (1 for the long-running ones). */
  reps: number;
  needsRoot?: boolean;
}

const GiB = 1 << 30;
const MiB = 1 << 20;

// ---- bulk ----

/**
 * One connection client -> server on port 80 of the world: 64 KiB writes until `total` bytes
 * are queued, reads of everything available. `got()` counts what arrived, `connectedAt()` is the
 * virtual time of the connect event, `lastAt()` of the last arrival.
 */
export function oneWayTransfer(w: BenchWorld, total: number): { got: () => number; connectedAt: () => number; lastAt: () => number } {
  const l = w.server.socket();
  l.bind('0.0.0.0', 80);
  l.listen(16);
  let got = 0;
  let last = 0;
  let connected = 0;
  l.on('connection', () => {
    const s = l.accept()!;
    const buf = new Uint8Array(1 << 20); // read(2) into the reader's own buffer
    const read = (): void => {
      for (;;) {
        const n = s.recvInto(buf);
        if (n <= 0) return;
        got += n;
        last = w.net.now;
      }
    };
    s.on('readable', read);
    // Data may have come with the handshake's last ACK, in one NAPI poll (hosts with offloads
    // wake the application once per poll): read now, as a program does after accept().
    read();
  });
  const c = w.client.socket();
  const chunk = new Uint8Array(65536);
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const n = c.send(sent + 65536 <= total ? chunk : chunk.subarray(0, total - sent));
      sent += n;
      if (n < 65536) return;
    }
  };
  c.on('connect', () => {
    connected = w.net.now;
    pump();
  });
  c.on('writable', pump);
  c.connect('10.0.0.2', 80);
  return { got: () => got, connectedAt: () => connected, lastAt: () => last };
}

/**
 * The link of the bulk worlds: 5 µs each way. The kernel's loopback here measured an RTT of 6 µs
 * idle and 15 µs under bulk (TCP_INFO tcpi_rtt, 2026-12-06). With no delay at all the virtual
 * clock never moved, so receive-buffer autotuning (once per RTT, tcp_rcv_space_adjust) never
 * ran and the window stayed at its initial 75 KB: a connection no real TCP ever has.
 */
export const BULK_LINK = { latencyUs: 5 } as const;

/** Bytes one way between two linger hosts over BULK_LINK: Gbit/s of wall time. */
export function lingerBulk(total: number, mtu: number, gso = true): number {
  const w = benchWorld({ config: { mtu }, link: BULK_LINK, gso });
  const x = oneWayTransfer(w, total);
  const t0 = performance.now();
  w.net.runWhile(() => x.got() < total, 3600e6);
  const secs = (performance.now() - t0) / 1000;
  if (x.got() !== total) throw new Error(`bulk: ${x.got()} of ${total} bytes arrived`);
  return (total * 8) / secs / 1e9;
}

/** The same over Node's net and the kernel's loopback, both ends in this process. */
export function nodeBulk(total: number): Promise<number> {
  return new Promise((resolve, reject) => {
    let t0 = 0;
    const srv = net.createServer((s) => {
      let got = 0;
      s.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= total) {
          const secs = (performance.now() - t0) / 1000;
          s.destroy();
          c.destroy();
          srv.close();
          resolve((total * 8) / secs / 1e9);
        }
      });
    });
    srv.on('error', reject);
    let c: net.Socket;
    srv.listen(0, '127.0.0.1', () => {
      c = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
      c.on('error', reject);
      const chunk = Buffer.alloc(65536);
      c.on('connect', () => {
        t0 = performance.now();
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            sent += 65536;
            if (!c.write(sent <= total ? chunk : chunk.subarray(0, total - (sent - 65536)))) return void c.once('drain', pump);
          }
        };
        pump();
      });
    });
  });
}

// ---- churn ----

const REQ = new Uint8Array(100).fill(0x71);
const RESP = new Uint8Array(100).fill(0x72);

/**
 * Complete lifecycles with `concurrency` clients: connect, 100-byte request, 100-byte response,
 * the server closes first (so its side holds the TIME_WAIT entry), the client closes on EOF.
 */
export function lingerChurn(n: number, concurrency: number): { perSec: number; tw: number } {
  // 5 µs links: virtual time moves, so a reused 4-tuple meets the server's TIME_WAIT entry with a
  // higher ISN and timestamp and is accepted (tcp_timewait_state_process), as on a real loopback.
  const w = benchWorld({ link: { latencyUs: 5 }, config: { ip_local_port_range: [1024, 65535] } });
  const l = w.server.socket();
  l.bind('0.0.0.0', 80);
  l.listen(4096);
  l.on('connection', () => {
    for (let s = l.accept(); s; s = l.accept()) {
      const conn = s;
      let need = REQ.length;
      const read = (): void => {
        for (;;) {
          const d = conn.recv();
          if (!d) return;
          if (!d.length) return;
          need -= d.length;
          if (need === 0) {
            conn.send(RESP);
            conn.close();
            return;
          }
        }
      };
      conn.on('readable', read);
      read(); // the request may have come in the same NAPI poll as the handshake's ACK
    }
  });
  let started = 0;
  let done = 0;
  const start = () => {
    if (started >= n) return;
    started++;
    const s: Socket = w.client.socket();
    let got = 0;
    s.on('connect', () => s.send(REQ));
    s.on('readable', () => {
      for (;;) {
        const d = s.recv();
        if (!d) return;
        if (!d.length) {
          if (got !== RESP.length) throw new Error(`churn: short response (${got})`);
          s.close();
          done++;
          start();
          return;
        }
        got += d.length;
      }
    });
    s.on('error', () => {
      throw new Error(`churn: connection failed: ${String(s.getsockopt('SO_ERROR'))}`);
    });
    s.connect('10.0.0.2', 80);
  };
  const t0 = performance.now();
  for (let i = 0; i < concurrency; i++) start();
  // A lifecycle ends with the server's TIME_WAIT entry: run until the last FINs are in.
  w.net.runWhile(() => done < n || w.server.counters.get('TW') < n, 3600e6);
  const secs = (performance.now() - t0) / 1000;
  return { perSec: n / secs, tw: w.server.counters.get('TW') };
}

export function nodeChurn(n: number, concurrency: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = Buffer.from(REQ);
    const resp = Buffer.from(RESP);
    const srv = net.createServer((s) => {
      let need = req.length;
      s.on('data', (d: Buffer) => {
        need -= d.length;
        if (need === 0) s.end(resp);
      });
      s.on('error', () => {});
    });
    srv.on('error', reject);
    let started = 0;
    let done = 0;
    let t0 = 0;
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      const start = () => {
        if (started >= n) return;
        started++;
        const c = net.connect(port, '127.0.0.1');
        let got = 0;
        c.on('connect', () => c.write(req));
        c.on('data', (d: Buffer) => (got += d.length));
        c.on('end', () => {
          if (got !== resp.length) return reject(new Error(`node churn: short response (${got})`));
          c.end();
          if (++done === n) {
            const secs = (performance.now() - t0) / 1000;
            srv.close();
            resolve(n / secs);
          } else start();
        });
        c.on('error', reject);
      };
      t0 = performance.now();
      for (let i = 0; i < concurrency; i++) start();
    });
  });
}

// ---- pingpong ----

export function lingerPingpong(n: number): number {
  const w = benchWorld();
  const l = w.server.socket();
  l.bind('0.0.0.0', 80);
  l.listen(16);
  const one = new Uint8Array([0x2a]);
  l.on('connection', () => {
    const s = l.accept()!;
    const echo = (): void => {
      for (let d = s.recv(); d && d.length; d = s.recv()) s.send(d);
    };
    s.on('readable', echo);
    echo(); // the first byte may have come in the same NAPI poll as the handshake's ACK
  });
  const c = w.client.socket();
  c.setsockopt('TCP_NODELAY', true);
  let rounds = 0;
  c.on('connect', () => c.send(one));
  c.on('readable', () => {
    for (let d = c.recv(); d && d.length; d = c.recv()) {
      if (++rounds < n) c.send(one);
    }
  });
  c.connect('10.0.0.2', 80);
  w.net.runWhile(() => rounds < 1, 10e6);
  const t0 = performance.now();
  const r0 = rounds;
  w.net.runWhile(() => rounds < n, 3600e6);
  return (rounds - r0) / ((performance.now() - t0) / 1000);
}

export function nodePingpong(n: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer((s) => {
      s.setNoDelay(true);
      s.on('data', (d: Buffer) => s.write(d));
      s.on('error', () => {});
    });
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const c = net.connect((srv.address() as net.AddressInfo).port, '127.0.0.1');
      c.setNoDelay(true);
      const one = Buffer.from([0x2a]);
      let rounds = 0;
      let t0 = 0;
      c.on('connect', () => {
        t0 = performance.now();
        c.write(one);
      });
      c.on('data', (d: Buffer) => {
        rounds += d.length;
        if (rounds < n) c.write(one);
        else {
          const secs = (performance.now() - t0) / 1000;
          c.destroy();
          srv.close();
          resolve(rounds / secs);
        }
      });
      c.on('error', reject);
    });
  });
}

// ---- allocation ----

/**
 * Bytes allocated per data segment in a bulk transfer at MTU 1500 (both ends in-process, so
 * each data segment's send, receive and its share of the ACKs): V8's sampling heap profiler
 * with the objects the young and old generation collectors freed included, so what the GC
 * took back counts too. As every other row, after warm-up: `warmRuns` whole transfers of the
 * same size first, unmeasured, since V8's tiers allocate while they run code not yet optimized,
 * and in each transfer the first 20000 segments (buffers and windows growing). Measured transfer
 * by transfer in one process (2026-12-06): 50, 21, 10, 7, 7, then 16 and 18 (a wave of "wrong
 * map" deoptimizations as the connection objects' field representations settle, then code
 * optimized again), 10, 10, then 5-7 from the tenth on. The median of `reps` measured
 * transfers; `cold` is the first transfer's figure, measured the same way.
 */
export async function allocPerSegment(segments: number, gso = true, warmRuns = 8, reps = 5): Promise<{ bytesPerSegment: number; segments: number; cold: number; runs: number[] }> {
  const runs: number[] = [];
  let cold = 0;
  for (let i = 0; i < warmRuns + reps; i++) {
    const b = await allocOneTransfer(segments, gso, i === 0 || i >= warmRuns);
    if (i === 0) cold = b;
    if (i >= warmRuns) runs.push(b);
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { bytesPerSegment: sorted[sorted.length >> 1]!, segments, cold, runs };
}

/** One transfer of 20000 + `segments` MSS; bytes allocated per segment after the first 20000 (0 unless `measure`). */
async function allocOneTransfer(segments: number, gso: boolean, measure: boolean): Promise<number> {
  const { Session } = await import('node:inspector/promises');
  const mss = 1448;
  const warm = 20000 * mss;
  const total = warm + segments * mss;
  const w = benchWorld({ config: { mtu: 1500 }, link: BULK_LINK, gso });
  const x = oneWayTransfer(w, total);
  w.net.runWhile(() => x.got() < warm, 3600e6);
  if (!measure) {
    w.net.runWhile(() => x.got() < total, 3600e6);
    if (x.got() !== total) throw new Error(`alloc-per-segment: ${x.got()} of ${total} bytes`);
    return 0;
  }
  const s = new Session();
  s.connect();
  try {
    await s.post('HeapProfiler.enable');
    await s.post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
    w.net.runWhile(() => x.got() < total, 3600e6);
    const { profile } = await s.post('HeapProfiler.stopSampling');
    if (x.got() !== total) throw new Error(`alloc-per-segment: ${x.got()} of ${total} bytes`);
    let bytes = 0;
    const walk = (n: { selfSize: number; children: unknown[] }): void => {
      bytes += n.selfSize;
      for (const c of n.children) walk(c as typeof n);
    };
    walk(profile.head);
    return bytes / Math.round((total - warm) / mss);
  } finally {
    s.disconnect();
  }
}

// ---- scale ----

let gcFn: (() => void) | null = null;
function gc(): void {
  if (!gcFn) {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}
/** Heap plus ArrayBuffer backing stores (buffers live outside the V8 heap but are memory all the same). */
function memory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/**
 * n idle ESTABLISHED connections, then the same n in TIME_WAIT. The server listens on as many
 * ports as needed for 30,000 connections each, so connect() picks every client port from
 * ip_local_port_range per destination (__inet_hash_connect) with no bind() scan, within the even
 * half of the range that Linux tries first (past it, each connect() scans every even port). Both ends of
 * each connection live in this process: the established figure is per socket (half a
 * connection), the TIME_WAIT figure per entry.
 */
export function lingerScale(n: number): { perSocket: number; perTimeWait: number; establishMs: number } {
  const perPort = 30_000;
  const ports = Array.from({ length: Math.ceil(n / perPort) }, (_, i) => 10_000 + i);
  gc();
  const m0 = memory();
  // tcp_max_tw_buckets and tcp_max_orphans raised as an administrator would (the kernel on this
  // machine defaults both to 131,072; every close() here makes an orphan until its FIN is ACKed).
  const w = benchWorld({ config: { ip_local_port_range: [1024, 65535], somaxconn: 65535, tcp_max_tw_buckets: 2 * n, tcp_max_orphans: 2 * n } });
  let accepted: Socket[] = [];
  const listeners = ports.map((port) => {
    const l = w.server.socket();
    l.bind('0.0.0.0', port);
    l.listen(65535);
    l.on('connection', () => {
      for (let s = l.accept(); s; s = l.accept()) {
        const conn = s;
        conn.on('readable', () => {
          const d = conn.recv();
          if (d && d.length === 0) conn.close();
        });
        // Nothing comes before the close here, but a program reads after accept(): data may
        // come in the same NAPI poll as the handshake's ACK. (Inline, not a named closure
        // called twice: that kept 128 more bytes per socket alive, measured at 200,000.)
        const d0 = conn.recv();
        if (d0 && d0.length === 0) conn.close();
        accepted.push(conn);
      }
    });
    return l;
  });
  let clients: Socket[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const s = w.client.socket();
    s.connect('10.0.0.2', ports[Math.floor(i / perPort)]!);
    clients.push(s);
    if (i % 4096 === 4095) w.net.runWhile(() => accepted.length < i - 4096, 60e6);
  }
  w.net.runWhile(() => accepted.length < n, 600e6);
  const establishMs = performance.now() - t0;
  if (accepted.length !== n) throw new Error(`scale: ${accepted.length} of ${n} established`);
  gc();
  const m1 = memory();
  for (const s of clients) s.close();
  w.net.runWhile(() => w.client.counters.get('TW') < n, 600e6);
  w.net.runUntilIdle(w.net.now + 1_000_000);
  clients = [];
  accepted = [];
  gc();
  const m2 = memory();
  const tw = w.client.timeWait.count;
  if (tw !== n) throw new Error(`scale: ${tw} TIME_WAIT entries of ${n}`);
  void listeners;
  return { perSocket: (m1 - m0) / (2 * n), perTimeWait: (m2 - m0) / n, establishMs };
}

// ---- timers ----

/** Arm/cancel operations per second on a wheel already holding `armed` timers. */
export function wheelOps(armed: number, ops: number): number {
  const wheel = new TimerWheel<number>(0);
  const timers: Timer<number>[] = [];
  for (let i = 0; i < armed; i++) {
    const t = new Timer(i);
    wheel.schedule(t, 1_000_000 + ((i * 7919) % 7_200_000_000));
    timers.push(t);
  }
  const t0 = performance.now();
  for (let i = 0; i < ops; i += 2) {
    const t = timers[(i * 31) % armed]!;
    wheel.cancel(t);
    wheel.schedule(t, 1_000_000 + ((i * 104_729) % 7_200_000_000));
  }
  return ops / ((performance.now() - t0) / 1000);
}

/** Wall seconds to simulate `hours` of idle for n connections with keepalive on (7200/75/9). */
export function keepaliveIdle(n: number, hours: number): { wallSecs: number; probes: number } {
  const perPort = 30_000;
  const ports = Array.from({ length: Math.ceil(n / perPort) }, (_, i) => 10_000 + i);
  const w = benchWorld({ config: { ip_local_port_range: [1024, 65535], somaxconn: 65535 } });
  let accepted = 0;
  const keep: Socket[] = [];
  for (const port of ports) {
    const l = w.server.socket();
    l.bind('0.0.0.0', port);
    l.listen(65535);
    l.on('connection', () => {
      for (let s = l.accept(); s; s = l.accept()) {
        accepted++;
        keep.push(s);
      }
    });
    keep.push(l);
  }
  for (let i = 0; i < n; i++) {
    const s = w.client.socket();
    s.setsockopt('SO_KEEPALIVE', true);
    s.connect('10.0.0.2', ports[Math.floor(i / perPort)]!);
    keep.push(s);
    if (i % 4096 === 4095) w.net.runWhile(() => accepted < i - 4096, 60e6);
  }
  w.net.runWhile(() => accepted < n, 600e6);
  const t0 = performance.now();
  w.net.run(w.net.now + hours * 3600e6);
  return { wallSecs: (performance.now() - t0) / 1000, probes: w.client.counters.get('TCPKeepAlive') };
}

// ---- lossy ----

/** total bytes over 1 % loss and rtt; wall seconds and goodput next to the Mathis estimate. */
export function lingerLossy(total: number, rttMs: number, loss: number): { wallSecs: number; goodputMbit: number; mathisMbit: number } {
  // No offloads: the kernel reference (lossy-kernel.ts) relays frame by frame, no TSO/GSO/GRO.
  const w = benchWorld({ link: { latencyUs: (rttMs * 1000) / 2, loss }, seed: 7, gso: false });
  const x = oneWayTransfer(w, total);
  const t0 = performance.now();
  w.net.runWhile(() => x.got() < total, 24 * 3600e6);
  const wallSecs = (performance.now() - t0) / 1000;
  if (x.got() !== total) throw new Error(`lossy: ${x.got()} of ${total} bytes`);
  const goodputMbit = (total * 8) / ((x.lastAt() - x.connectedAt()) / 1e6) / 1e6;
  // Mathis et al. 1997: rate = (MSS / RTT) * C / sqrt(p), C = sqrt(3/2).
  const mss = 1448;
  const mathisMbit = ((mss * 8) / (rttMs / 1000)) * Math.sqrt(3 / 2) / Math.sqrt(loss) / 1e6;
  return { wallSecs, goodputMbit, mathisMbit };
}

export { GiB, MiB };
