// The interop suite's harness: linger on a TUN device against the kernel's own TCP in a network
// namespace, and the reference run of the same programs kernel-to-kernel over veth.
//
// A case names two programs: the kernel side (test/interop/py/peer.py, always the real kernel)
// and "the peer" as a peer.py-style action list. Against linger the peer's actions are carried
// out by linger's node:net sockets (LingerPeer below); in the reference run the same action list
// is run by peer.py in a second namespace, so the peer is a kernel. What each run records: the
// kernel side's segments (tcpdump on its interface), its sockets (`ss -tanoie`) at every `wait`
// point and at the end, its counters (`nstat`), the peer's results and, for linger, its socket
// table and trace (and a pcap of linger's side).
//
// Safety: traffic only inside namespaces made here; every program has a time limit (socket
// timeouts and an alarm in peer.py, kills here); namespaces are deleted after each run, also on
// failure, and at process exit.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { TraceEvent } from '../../src/base/trace.ts';
import type { HostConfig } from '../../src/base/config.ts';
import type { SocketRow } from '../../src/host/host.ts';
import { PcapWriter } from '../../src/wire/pcap.ts';
import { eventLine } from '../../src/lab/render.ts';
import { TunStack } from '../../src/link/stack.ts';
import { RealtimeDriver } from '../../src/link/realtime.ts';
import { configureTunInNs, nsAdd, nsDel, run } from '../../src/link/netns.ts';
import { TunDevice } from '../../src/link/tun.ts';
import type { NetSocket } from '../../src/net/socket.ts';

export const PEER_PY = new URL('./py/peer.py', import.meta.url).pathname;
export const OUT_DIR = 'out/interop';
/** Data and pure-ACK segments kept per run (by linger's trace and from tcpdump); control ones always. */
export const KEEP_SEGMENTS = 20_000;

const liveNs = new Set<string>();
process.on('exit', () => {
  for (const ns of liveNs) spawnSync('ip', ['netns', 'del', ns]);
});

let cached: string | null | undefined;
/** Why the interop suite cannot run here (a loud, specific reason), or null. */
export function interopUnavailable(): string | null {
  if (cached !== undefined) return cached;
  cached = (() => {
    if (process.platform !== 'linux') return `SKIPPED: the TUN interop suite needs Linux (this is ${process.platform})`;
    if (process.getuid?.() !== 0) return 'SKIPPED: the TUN interop suite needs root (TUN device, network namespaces); CI runs it as root. Run: sudo npm run test:interop';
    if (!existsSync('/dev/net/tun')) return 'SKIPPED: the TUN interop suite needs /dev/net/tun (no TUN support in this kernel or container)';
    for (const [cmd, args, pkg] of [['ip', ['-V'], 'iproute2'], ['ss', ['-V'], 'iproute2'], ['nstat', ['-V'], 'iproute2'], ['tcpdump', ['--version'], 'tcpdump'],
      ['python3', ['--version'], 'python3'], ['curl', ['--version'], 'curl'], ['nginx', ['-v'], 'nginx-light']] as const) {
      const r = spawnSync(cmd, [...args], { encoding: 'utf8' });
      if (r.error) return `SKIPPED: the TUN interop suite needs \`${cmd}\` (${r.error.message}); scripts/install-debian-deps.sh installs ${pkg}`;
    }
    const probe = `lgiprobe${process.pid}`;
    const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
    if (r.status !== 0) return `SKIPPED: \`ip netns add\` fails here: ${r.stderr.trim()}`;
    spawnSync('ip', ['netns', 'del', probe]);
    return null;
  })();
  if (cached) process.stderr.write(`\n*** ${cached} ***\n\n`);
  return cached;
}

// ---- kernel-side observation ----

export interface SsRow {
  state: string;
  local: string;
  peer: string;
  timer?: string; // e.g. "timewait", "keepalive"
  info: string; // the rest of the line: ts sack wscale:7,10 rto:... mss:...
}

export function ss(ns: string): SsRow[] {
  const r = run('ip', ['netns', 'exec', ns, 'ss', '-tanoieH']);
  const rows: SsRow[] = [];
  for (const line of r.out.split('\n')) {
    // -i puts the TCP info on a continuation line (indented)
    if (/^\s/.test(line) && rows.length) {
      rows[rows.length - 1]!.info += ' ' + line.trim();
      continue;
    }
    const t = line.trim().split(/\s+/);
    if (t.length < 5 || !t[0]) continue;
    const info = t.slice(5).join(' ');
    const m = /timer:\((\w+)/.exec(info);
    rows.push({ state: t[0], local: t[3]!, peer: t[4]!, timer: m?.[1], info });
  }
  return rows;
}

/** Absolute counters of the namespace (nstat -asz), by nstat name. */
export function nstat(ns: string): Record<string, number> {
  const r = run('ip', ['netns', 'exec', ns, 'nstat', '-asz']);
  const out: Record<string, number> = {};
  for (const line of r.out.split('\n')) {
    const m = /^(\w+)\s+(\d+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export const delta = (a: Record<string, number>, b: Record<string, number>): Record<string, number> => {
  const d: Record<string, number> = {};
  for (const k of Object.keys(b)) if ((b[k] ?? 0) !== (a[k] ?? 0)) d[k] = (b[k] ?? 0) - (a[k] ?? 0);
  return d;
};

export interface Seg {
  /** 'k>' sent by the kernel under test, '<k' received by it. */
  dir: 'k>' | '<k';
  flags: string;
  len: number;
  options: string;
  src: string;
  dst: string;
  seq?: number;
  ack?: number;
  line: string;
}

/** A tcpdump capture on the kernel side's interface. */
export class Capture {
  private proc: ChildProcessWithoutNullStreams;
  private stopped: Promise<void>;
  private stderr = '';
  constructor(readonly ns: string, readonly dev: string, readonly file: string, readonly kernelAddrs: string[]) {
    this.proc = spawn('ip', ['netns', 'exec', ns, 'tcpdump', '-i', dev, '-nn', '-U', '--immediate-mode', '-B', '65536', '-s', '256', '-w', file, 'tcp']);
    this.stopped = new Promise((r) => this.proc.on('exit', () => r()));
    this.proc.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
  }
  /** Resolves when tcpdump is capturing. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`tcpdump did not start: ${this.stderr}`)), 10_000);
      const check = () => {
        if (!this.stderr.includes('listening on')) return;
        clearTimeout(t);
        this.proc.stderr.off('data', check);
        resolve();
      };
      this.proc.stderr.on('data', check);
      check();
    });
  }
  async stop(): Promise<Seg[]> {
    // tcpdump lags behind a bulk transfer, and on SIGINT it drops what it has not read yet:
    // wait until the file (written packet by packet, -U) stops growing, at most 20 s.
    let last = -1;
    for (let i = 0; i < 200 && this.proc.exitCode === null; i++) {
      await sleep(i === 0 ? 150 : 100);
      const size = existsSync(this.file) ? statSync(this.file).size : 0;
      if (size === last) break;
      last = size;
    }
    this.proc.kill('SIGINT');
    await Promise.race([this.stopped, limitTimer(15_000)]);
    const dropped = /(\d+) packets? dropped by kernel/.exec(this.stderr);
    if (dropped && dropped[1] !== '0') throw new Error(`tcpdump on ${this.dev} lost packets: ${this.stderr.trim()}`);
    return readSegs(this.file, this.kernelAddrs);
  }
}

/**
 * The segments of a tcpdump capture, read line by line from `tcpdump -r` (a 1 GB run is a
 * million lines). Past the first KEEP_SEGMENTS, only SYN, FIN and RST segments are kept.
 */
export async function readSegs(file: string, kernelAddrs: string[]): Promise<Seg[]> {
  const proc = spawn('tcpdump', ['-nn', '-S', '-r', file], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  const kill = setTimeout(() => proc.kill(), 60_000);
  const segs: Seg[] = [];
  let other = 0;
  for await (const line of createInterface({ input: proc.stdout })) {
    const m = /IP6? (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\](?:, seq (\d+)(?::\d+)?)?(?:, ack (\d+))?.*?(?:options \[([^\]]*)\])?, length (\d+)/.exec(line);
    if (!m) continue;
    if (!/[SFR]/.test(m[5]!) && other++ >= KEEP_SEGMENTS) continue;
    segs.push({
      dir: kernelAddrs.includes(m[1]!) ? 'k>' : '<k', flags: m[5]!, len: Number(m[9]), options: m[8] ?? '',
      src: `${m[1]}:${m[2]}`, dst: `${m[3]}:${m[4]}`, seq: m[6] ? Number(m[6]) : undefined, ack: m[7] ? Number(m[7]) : undefined, line,
    });
  }
  const code = await exited;
  clearTimeout(kill);
  if (code !== 0) throw new Error(`tcpdump -r ${file} exited with ${code}: ${stderr.trim()}`);
  return segs;
}

/** The connection's control segments (SYN, FIN, RST) as "k> S", "<k S.", "k> F.", ... */
export function controlFlags(segs: Seg[]): string[] {
  // PSH is left out: whether a FIN rides on the last data segment depends on whether that data
  // was still queued at close() (tcp_send_fin), i.e. on timing, not on the TCP rules. So are
  // retransmissions (same direction, flags and end sequence): a tail-loss probe or an RTO resends
  // a FIN when the peer's ACK is late, which depends on scheduling, against a kernel peer too.
  const seen = new Set<string>();
  const out: string[] = [];
  for (const s of segs) {
    if (!/[SFR]/.test(s.flags)) continue;
    const f = `${s.dir} ${s.flags.replace('P', '')}`;
    const key = `${f} ${s.seq === undefined ? '' : (s.seq + s.len) >>> 0}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}

/** controlFlags per connection (by the kernel side's port), connections in the order of their first segment. */
export function controlByConn(segs: Seg[]): string[][] {
  const by = new Map<string, Seg[]>();
  for (const s of segs) {
    const k = s.dir === 'k>' ? s.src : s.dst;
    by.set(k, [...(by.get(k) ?? []), s]);
  }
  return [...by.values()].map(controlFlags);
}

// ---- programs ----

export interface PeerLine {
  event: string;
  [k: string]: unknown;
}

export interface Program {
  lines: PeerLine[];
  /** Resolves with the first line of that event (rejects after ms). */
  waitFor(event: string, ms?: number, pred?: (l: PeerLine) => boolean): Promise<PeerLine>;
  /** Releases a `wait:` action. */
  go(line?: string): void;
  /** Calls fn for every line from now on. */
  onLine(fn: (l: PeerLine) => void): void;
  done: Promise<void>;
  kill(): void;
}

/** peer.py in a namespace. */
export function pyProgram(ns: string, cmd: string, args: Record<string, string | number>, alarmS = 120): Program {
  const p = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', PEER_PY, cmd, ...Object.entries(args).map(([k, v]) => `${k}=${v}`)], { env: { ...process.env, PEER_ALARM: String(alarmS) } });
  let stderr = '';
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const prog = lineProgram((l) => p.stdin.write(l + '\n'), () => p.kill('SIGKILL'));
  createInterface({ input: p.stdout }).on('line', (l) => {
    try {
      prog.push(JSON.parse(l) as PeerLine);
    } catch {
      prog.push({ event: 'stdout', line: l });
    }
  });
  prog.setDone(new Promise((resolve, reject) => p.on('exit', (code, sig) => (code === 0 ? resolve() : reject(new Error(`peer.py ${cmd} exited ${code ?? sig}: ${stderr}`))))));
  return prog.api;
}

function lineProgram(send: (l: string) => void, kill: () => void) {
  const lines: PeerLine[] = [];
  const waiters: Array<{ event: string; pred?: (l: PeerLine) => boolean; resolve: (l: PeerLine) => void }> = [];
  const listeners: Array<(l: PeerLine) => void> = [];
  let done: Promise<void> = Promise.resolve();
  const api: Program = {
    lines,
    waitFor(event, ms = 30_000, pred) {
      const found = lines.find((l) => l.event === event && (!pred || pred(l)));
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no "${event}" within ${ms} ms; got ${JSON.stringify(lines)}`)), ms);
        t.unref();
        waiters.push({ event, pred, resolve: (l) => { clearTimeout(t); resolve(l); } });
      });
    },
    go: (line = 'go') => send(line),
    onLine: (fn) => listeners.push(fn),
    get done() { return done; },
    kill,
  };
  return {
    api,
    push(l: PeerLine) {
      lines.push(l);
      for (const f of listeners) f(l);
      for (let i = 0; i < waiters.length; i++) {
        const w = waiters[i]!;
        if (w.event === l.event && (!w.pred || w.pred(l))) {
          waiters.splice(i--, 1);
          w.resolve(l);
        }
      }
    },
    setDone(p: Promise<void>) {
      done = p;
      p.catch(() => undefined);
    },
  };
}

/** The peer.py action language carried out by linger's node:net sockets (same events). */
export function lingerProgram(st: TunStack, cmd: 'listen' | 'connect', args: Record<string, string | number>): Program {
  let release: (() => void) | null = null;
  const prog = lineProgram(() => { const r = release; release = null; r?.(); }, () => undefined);
  const out = (l: PeerLine) => prog.push(l);
  const actions = String(args['do'] ?? '').split(',').filter(Boolean);
  const t0 = performance.now();
  const act = async (s: NetSocket): Promise<void> => {
    s.pause();
    let lingerZero = false;
    let failed: Error | null = null;
    s.on('error', (e: Error) => (failed = e));
    if (args['keepalive']) s.setKeepAlive(true, Number(args['keepalive']) * 1000);
    const readChunk = (): Promise<Buffer | null> => new Promise((resolve, reject) => {
      const d = s.read() as Buffer | null;
      if (d) return resolve(d);
      if (s.readableEnded) return resolve(null);
      const cleanup = () => { s.off('readable', onR); s.off('end', onEnd); s.off('error', onErr); s.off('close', onEnd); };
      const onR = () => { const x = s.read() as Buffer | null; if (x) { cleanup(); resolve(x); } };
      const onEnd = () => { cleanup(); resolve(null); };
      const onErr = (e: Error) => { cleanup(); reject(e); };
      s.on('readable', onR);
      s.once('end', onEnd);
      s.once('close', onEnd);
      s.once('error', onErr);
    });
    for (const a of actions) {
      const [name, arg = ''] = [a.split(':')[0]!, a.split(':').slice(1).join(':')];
      try {
        if (failed) throw failed;
        if (name === 'send') {
          const n = Number(arg);
          const h = createHash('sha256');
          let left = n;
          const block = pattern();
          while (left > 0) {
            const k = Math.min(left, block.length);
            const c = k === block.length ? block : block.subarray(0, k);
            h.update(c);
            left -= k;
            if (!s.write(c)) {
              await new Promise<void>((r, j) => {
                const ok = () => { s.off('error', bad); r(); };
                const bad = (e: Error) => { s.off('drain', ok); j(e); };
                s.once('drain', ok);
                s.once('error', bad);
              });
            }
          }
          out({ event: 'sent', bytes: n, sha256: h.digest('hex'), secs: (performance.now() - t0) / 1000 });
        } else if (name === 'write') {
          s.write(arg);
          out({ event: 'wrote', data: arg });
        } else if (name === 'recvall') {
          const h = createHash('sha256');
          let n = 0;
          for (;;) {
            const d = await readChunk();
            if (!d) break;
            h.update(d);
            n += d.length;
          }
          if (failed) throw failed;
          out({ event: 'eof', bytes: n, sha256: h.digest('hex'), secs: (performance.now() - t0) / 1000 });
        } else if (name === 'recv' || name === 'recvwait') {
          const d = await readChunk();
          if (failed) throw failed;
          out({ event: 'recv', bytes: d?.length ?? 0, data: d ? d.subarray(0, 200).toString('latin1') : '' });
        } else if (name === 'recvn') {
          let got = 0;
          while (got < Number(arg)) {
            const d = await readChunk();
            if (!d) break;
            got += d.length;
          }
          out({ event: 'recvn', bytes: got });
        } else if (name === 'shutwr') {
          s.end();
          out({ event: 'shutwr' });
        } else if (name === 'close') {
          // As close() after sendall(): everything written is in the engine first.
          if (s.writableLength > 0) await new Promise<void>((r) => s.write(Buffer.alloc(0), () => r()));
          if (lingerZero) s.resetAndDestroy();
          else s.destroy();
          out({ event: 'closed' });
          break;
        } else if (name === 'linger0') {
          lingerZero = true;
          out({ event: 'linger0' });
        } else if (name === 'sleep') {
          await sleep(Number(arg) * 1000);
          out({ event: 'slept', secs: Number(arg) });
        } else if (name === 'wait') {
          out({ event: 'waiting', tag: arg });
          await new Promise<void>((r) => (release = r));
          out({ event: 'go', tag: arg });
        } else if (name === 'state') {
          out({ event: 'state', state: s.engine?.conn?.stateName });
        } else {
          out({ event: 'bad-action', action: name });
          break;
        }
      } catch (e) {
        out({ event: 'error', action: name, error: (e as { code?: string }).code ?? String(e) });
        s.destroy();
        out({ event: 'done' });
        return;
      }
    }
    out({ event: 'done' });
  };
  const done = new Promise<void>((resolve) => {
    if (cmd === 'listen') {
      const srv = st.net.createServer({ allowHalfOpen: true }, (s: NetSocket) => {
        out({ event: 'accepted', peer: s.remotePort });
        srv.close();
        void act(s).then(() => { out({ event: 'exit' }); resolve(); });
      });
      srv.listen(Number(args['port']), String(args['host']), () => out({ event: 'ready' }));
    } else {
      const s = st.net.connect({ port: Number(args['port']), host: String(args['host']), allowHalfOpen: true } as never);
      s.once('connect', () => {
        out({ event: 'connected', local: s.localPort, mss: s.engine?.conn?.mssCache });
        void act(s).then(() => { out({ event: 'exit' }); resolve(); });
      });
      s.once('error', (e: Error & { code?: string }) => {
        if (prog.api.lines.some((l) => l.event === 'connected')) return;
        out({ event: 'connect-error', error: e.code ?? String(e) });
        out({ event: 'exit' });
        resolve();
      });
    }
  });
  prog.setDone(done);
  return prog.api;
}

let patternBlock: Buffer | null = null;
/** The byte pattern peer.py sends: (i*7+13) & 0xff over a 64 KiB block, repeated. */
export function pattern(): Buffer {
  if (!patternBlock) {
    patternBlock = Buffer.alloc(65536);
    for (let i = 0; i < 65536; i++) patternBlock[i] = (i * 7 + 13) & 0xff;
  }
  return patternBlock;
}
export function patternSha(n: number): string {
  const h = createHash('sha256');
  const b = pattern();
  for (let left = n; left > 0; left -= b.length) h.update(left >= b.length ? b : b.subarray(0, left));
  return h.digest('hex');
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
/** A time limit that does not keep the process alive once what it guards has finished. */
const limitTimer = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

// ---- the two environments ----

export interface Env {
  kind: 'linger' | 'kernel';
  /** The kernel under test's namespace and address, and the peer's address. */
  ns: string;
  kernelAddr: string;
  peerAddr: string;
  kernelAddr6: string;
  peerAddr6: string;
  /** The kernel under test's interface. */
  kernelDev: string;
  /** Starts the peer's program (linger's node:net, or peer.py in the peer namespace). */
  peer(cmd: 'listen' | 'connect', args: Record<string, string | number>): Program;
  /** Starts a kernel-side program (peer.py in the kernel's namespace). */
  kernel(cmd: 'listen' | 'connect', args: Record<string, string | number>): Program;
  /** The peer's socket table (linger's; `ss` of the peer namespace in the reference). */
  peerSockets(): Array<{ state: string; local: string; remote: string; timerMs?: number }>;
  capture: Capture;
  /** Holds each packet the peer sends for ms before the kernel under test gets it (0: none). */
  delayOutput(ms: number): void;
  /** Holds each packet for the peer for ms before the peer gets it (0: none). */
  delayInput(ms: number): void;
  /** Swaps a packet for the peer with the next one with probability prob (seeded). */
  reorderInput(prob: number, seed?: number): void;
  /** Packets swapped by reorderInput so far. */
  reordered: number;
  /** Drops packets with probability prob in both directions (seeded), after the kernel's GSO. */
  lossBoth(prob: number, seed?: number): void;
  /** Packets dropped by lossBoth so far: [to the peer, to the kernel]. */
  lost: [number, number];
  close(): Promise<void>;
}

/**
 * A packet path with the impairments the suite uses: a fixed delay, or a seeded swap of a packet
 * with the next one (a packet held alone goes on after 5 ms). `deliver` hands a packet on.
 */
/** A seeded uniform [0, 1) sequence (an LCG): the same impairments on every run. */
function uniform(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 4294967296;
}

export class Impairment {
  private delayMs = 0;
  private prob = 0;
  private reorderRnd = uniform(1);
  private lossProb = 0;
  private lossRnd = uniform(1);
  private held: Uint8Array | null = null;
  swapped = 0;
  dropped = 0;
  /** `late` is true when the packet comes from a timer rather than from the call to input(). */
  constructor(private readonly deliver: (p: Uint8Array, late: boolean) => void) {}
  delay(ms: number): void {
    this.delayMs = ms;
  }
  reorder(prob: number, seed = 1): void {
    this.prob = prob;
    this.reorderRnd = uniform(seed);
  }
  /** Drops a packet with probability prob (seeded; its own sequence, apart from reordering's). */
  loss(prob: number, seed = 1): void {
    this.lossProb = prob;
    this.lossRnd = uniform(seed);
  }
  readonly input = (p: Uint8Array): void => {
    if (this.lossProb && this.lossRnd() < this.lossProb) {
      this.dropped++;
      return;
    }
    if (this.delayMs) {
      setTimeout(() => this.deliver(p, true), this.delayMs);
      return;
    }
    if (!this.prob) {
      this.deliver(p, false);
      return;
    }
    if (this.held) {
      const h = this.held;
      this.held = null;
      this.deliver(p, false);
      this.deliver(h, false);
      this.swapped++;
    } else if (this.reorderRnd() < this.prob) {
      this.held = p;
      setTimeout(() => {
        if (this.held !== p) return;
        this.held = null;
        this.deliver(p, true);
      }, 5);
    } else this.deliver(p, false);
  };
}

let nsCounter = 0;
const nsName = (tag: string) => `lgi${process.pid % 100000}${tag}${nsCounter++}`;

export class LingerEnv implements Env {
  readonly kind = 'linger' as const;
  readonly kernelAddr = '10.77.0.1';
  readonly peerAddr = '10.77.0.2';
  readonly kernelAddr6 = 'fd00:77::1';
  readonly peerAddr6 = 'fd00:77::2';
  readonly kernelDev = 'linger';
  /**
   * linger's trace. A bulk run is a million segments: past the first KEEP_SEGMENTS, a data or
   * pure-ACK segment event is counted in elidedSegments instead of kept (SYN, FIN and RST
   * segments, and every other event, are always kept), so the heap stays bounded at 1 GB.
   */
  readonly events: TraceEvent[] = [];
  elidedSegments = 0;
  private keptSegments = 0;
  /** linger's side as a pcap, streamed to out/interop/<case>.linger.pcap in pieces. */
  private readonly pcap = new PcapWriter({ snaplen: 256 });
  private pcapFd = -1;
  readonly st: TunStack;
  readonly ns: string;
  capture!: Capture;

  private constructor(st: TunStack) {
    this.st = st;
    this.ns = st.ns;
    liveNs.add(st.ns);
  }

  /**
   * `offload`: the device with the kernel's offloads (vnet headers, GSO both ways). Off by
   * default here: the impairments and the pcap comparison work packet by packet on real
   * segments, and a GSO packet is 45 of them; the offload cases run without impairments.
   */
  static async up(name: string, opts: { mtu?: number; config?: Partial<HostConfig>; offload?: boolean } = {}): Promise<LingerEnv> {
    let env: LingerEnv | null = null;
    const sink = (e: TraceEvent): void => {
      if (!env) return;
      if (e.kind === 'segment') {
        if (e.packet) {
          env.pcap.add(Math.round(performance.timeOrigin * 1000 + performance.now() * 1000), e.packet);
          delete e.packet;
          if (env.pcap.count % 4096 === 0) env.flushPcap();
        }
        if (env.keptSegments >= KEEP_SEGMENTS && !/[SFR]/.test(e.flags)) {
          env.elidedSegments++;
          return;
        }
        env.keptSegments++;
      }
      env.events.push(e);
    };
    mkdirSync(OUT_DIR, { recursive: true });
    const st = TunStack.up({ ns: nsName('t'), mtu: opts.mtu, config: opts.config, trace: sink, tracePackets: true, replace: true, offload: opts.offload ?? false });
    if ((opts.offload ?? false) !== st.offload) throw new Error(`${name}: offload ${String(opts.offload ?? false)} asked, the device has ${String(st.offload)}`);
    env = new LingerEnv(st);
    if (!st.offload) env.impair();
    env.name = name;
    env.pcapFd = openSync(`${OUT_DIR}/${name}.linger.pcap`, 'w');
    env.capture = new Capture(st.ns, 'linger', `${OUT_DIR}/${name}.kernel.pcap`, [env.kernelAddr, env.kernelAddr6]);
    await env.capture.ready();
    return env;
  }
  name = '';

  peer(cmd: 'listen' | 'connect', args: Record<string, string | number>): Program {
    return lingerProgram(this.st, cmd, args);
  }
  kernel(cmd: 'listen' | 'connect', args: Record<string, string | number>): Program {
    return pyProgram(this.ns, cmd, args);
  }
  peerSockets() {
    return this.st.host.sockets().map((r: SocketRow) => ({ state: r.state, local: r.local, remote: r.remote, timerMs: r.timer?.expiresMs }));
  }
  /** Holds each packet linger sends for ms before it reaches the device (0: none). */
  delayOutput(ms: number): void {
    this.impaired().out.delay(ms);
  }
  /** Holds each packet from the device for ms before linger gets it (0: none). */
  delayInput(ms: number): void {
    this.impaired().in.delay(ms);
  }
  /** Swaps a packet from the device with the next one with probability prob (seeded). */
  reorderInput(prob: number, seed = 1): void {
    this.impaired().in.reorder(prob, seed);
  }
  get reordered(): number {
    return this.in.swapped;
  }
  lossBoth(prob: number, seed = 1): void {
    this.impaired().in.loss(prob, seed);
    this.out.loss(prob, seed + 1);
  }
  get lost(): [number, number] {
    return [this.in.dropped, this.out.dropped];
  }
  // linger's packets to the device, and the device's to linger, through the impairments
  private readonly out = new Impairment((p) => void this.st.tun.write(p));
  // (the device re-arms linger's timers after each batch it reads; a packet from a timer must)
  private readonly in = new Impairment((p, late) => {
    RealtimeDriver.prototype.input.call(this.st.driver, p);
    if (late) this.st.driver.arm();
  });
  /** The impairments sit between linger and a plain device only (LingerEnv.up's offload). */
  private impaired(): this {
    if (this.st.offload) throw new Error(`${this.name}: impairments need the plain device (offload: false)`);
    return this;
  }
  private impair(): void {
    this.st.host.setEmit(this.out.input);
    this.st.driver.input = this.in.input;
  }
  private flushPcap(): void {
    writeSync(this.pcapFd, this.pcap.take());
  }
  /** linger's states of one connection, in order, from its trace. */
  states(): string[] {
    return this.events.filter((e) => e.kind === 'state' && !e.socket.includes('*') && e.socket.includes('>')).map((e) => (e as { to: string }).to);
  }
  async close(): Promise<void> {
    try {
      await this.capture?.stop();
    } finally {
      this.flushPcap();
      closeSync(this.pcapFd);
      await this.st.down();
      liveNs.delete(this.ns);
    }
  }
}

/** The reference: the kernel under test in ns A (10.78.0.1), a kernel peer in ns B (10.78.0.2), veth between. */
export class KernelEnv implements Env {
  readonly kind = 'kernel' as const;
  readonly kernelAddr = '10.78.0.1';
  readonly peerAddr = '10.78.0.2';
  readonly kernelAddr6 = 'fd00:78::1';
  readonly peerAddr6 = 'fd00:78::2';
  readonly kernelDev = 'va';
  readonly ns: string;
  readonly peerNs: string;
  capture!: Capture;
  /** With link 'relay': the two TUN devices and the paths between them. */
  private relay: { a: TunDevice; b: TunDevice; toPeer: Impairment; toKernel: Impairment } | null = null;

  /**
   * link 'veth': a veth pair (offloads off, so the wire carries real segments). link 'relay': a
   * TUN device in each namespace and this process moving packets between them, as linger's TUN
   * link does, so the impairments of LingerEnv (delay, reordering) apply to the reference too.
   */
  private constructor(readonly name: string, mtu: number, link: 'veth' | 'relay') {
    this.ns = nsName('a');
    this.peerNs = nsName('b');
    for (const n of [this.ns, this.peerNs]) {
      nsAdd(n);
      liveNs.add(n);
    }
    try {
      if (link === 'veth') {
        run('ip', ['-n', this.ns, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', this.peerNs]);
        for (const [n, dev, a4, a6] of [[this.ns, 'va', this.kernelAddr, this.kernelAddr6], [this.peerNs, 'vb', this.peerAddr, this.peerAddr6]] as const) {
          for (const k of ['accept_ra=0', 'autoconf=0', 'router_solicitations=0', 'accept_dad=0', 'addr_gen_mode=1']) run('ip', ['netns', 'exec', n, 'sysctl', '-q', '-w', `net.ipv6.conf.${dev}.${k}`], { ok: true });
          // Real segments on the wire (as the TUN device carries them): no TSO/GSO/GRO super-packets.
          run('ip', ['netns', 'exec', n, 'ethtool', '-K', dev, 'tso', 'off', 'gso', 'off', 'gro', 'off'], { ok: true });
          run('ip', ['-n', n, 'link', 'set', dev, 'mtu', String(mtu), 'up']);
          run('ip', ['-n', n, 'addr', 'add', `${a4}/24`, 'dev', dev]);
          run('ip', ['-n', n, '-6', 'addr', 'add', `${a6}/64`, 'dev', dev, 'nodad']);
        }
      } else {
        const tag = `lgr${process.pid % 100000}x${nsCounter}`;
        const a = new TunDevice({ name: `${tag}a` });
        const b = new TunDevice({ name: `${tag}b` });
        this.relay = { a, b, toPeer: new Impairment((p) => void b.write(p)), toKernel: new Impairment((p) => void a.write(p)) };
        configureTunInNs(this.ns, a.name, 'va', mtu, { kernel4: `${this.kernelAddr}/24`, kernel6: `${this.kernelAddr6}/64` });
        configureTunInNs(this.peerNs, b.name, 'vb', mtu, { kernel4: `${this.peerAddr}/24`, kernel6: `${this.peerAddr6}/64` });
        a.start(this.relay.toPeer.input);
        b.start(this.relay.toKernel.input);
      }
    } catch (e) {
      void this.relay?.a.close();
      void this.relay?.b.close();
      for (const n of [this.ns, this.peerNs]) nsDel(n);
      throw e;
    }
  }

  static async up(name: string, opts: { mtu?: number; sysctls?: string[]; link?: 'veth' | 'relay' } = {}): Promise<KernelEnv> {
    const env = new KernelEnv(name, opts.mtu ?? 1500, opts.link ?? 'veth');
    // The peer kernel plays linger: linger's sysctls where they differ from a fresh namespace.
    for (const s of opts.sysctls ?? []) run('ip', ['netns', 'exec', env.peerNs, 'sysctl', '-q', '-w', s]);
    mkdirSync(OUT_DIR, { recursive: true });
    env.capture = new Capture(env.ns, 'va', `${OUT_DIR}/${name}.reference.pcap`, [env.kernelAddr, env.kernelAddr6]);
    await env.capture.ready();
    return env;
  }

  private paths(): NonNullable<KernelEnv['relay']> {
    if (!this.relay) throw new Error(`${this.name}: delay and reordering need KernelEnv.up(..., { link: 'relay' })`);
    return this.relay;
  }
  delayOutput(ms: number): void {
    this.paths().toKernel.delay(ms);
  }
  delayInput(ms: number): void {
    this.paths().toPeer.delay(ms);
  }
  reorderInput(prob: number, seed = 1): void {
    this.paths().toPeer.reorder(prob, seed);
  }
  get reordered(): number {
    return this.relay?.toPeer.swapped ?? 0;
  }
  lossBoth(prob: number, seed = 1): void {
    this.paths().toPeer.loss(prob, seed);
    this.paths().toKernel.loss(prob, seed + 1);
  }
  get lost(): [number, number] {
    return [this.relay?.toPeer.dropped ?? 0, this.relay?.toKernel.dropped ?? 0];
  }

  peer(cmd: 'listen' | 'connect', args: Record<string, string | number>): Program {
    return pyProgram(this.peerNs, cmd, args);
  }
  kernel(cmd: 'listen' | 'connect', args: Record<string, string | number>): Program {
    return pyProgram(this.ns, cmd, args);
  }
  peerSockets() {
    return ss(this.peerNs).map((r) => ({ state: ssToEngine(r.state), local: r.local, remote: r.peer }));
  }
  async close(): Promise<void> {
    try {
      await this.capture?.stop();
    } finally {
      if (this.relay) await Promise.all([this.relay.a.close(), this.relay.b.close()]);
      for (const n of [this.ns, this.peerNs]) {
        nsDel(n);
        liveNs.delete(n);
      }
    }
  }
}

/** ss state names -> the engine's. */
export const ssToEngine = (s: string): string => s.replace(/-/g, '_').replace('ESTAB', 'ESTABLISHED').replace('SYN_RECV', 'SYN_RECV').replace('UNCONN', 'CLOSED');

// ---- one case, in one environment ----

export interface Side {
  do: string;
  opts?: Record<string, string | number>;
}

export interface CaseSpec {
  /** Which side listens (the other connects). */
  listener: 'kernel' | 'peer';
  port: number;
  kernel: Side;
  peer: Side;
  v6?: boolean;
  /** Run at each `wait:TAG` after the snapshot, before the release (e.g. take a link down). */
  atWait?: (tag: string, env: Env) => Promise<void> | void;
  /** Wait this long after both programs ended before the final snapshot (default 300 ms). */
  settleMs?: number;
  timeoutMs?: number;
}

export interface Snapshot {
  kernel: SsRow[];
  peer: Array<{ state: string; local: string; remote: string; timerMs?: number }>;
}

export interface CaseResult {
  env: Env;
  kernel: PeerLine[];
  peer: PeerLine[];
  /** At each wait point ("k:TAG" for the kernel's, "p:TAG" for the peer's) and "end". */
  snaps: Record<string, Snapshot>;
  nstat: Record<string, number>;
  segs: Seg[];
  control: string[];
}

export async function runCase(env: Env, spec: CaseSpec): Promise<CaseResult> {
  const v6 = spec.v6 ?? false;
  const kAddr = v6 ? env.kernelAddr6 : env.kernelAddr;
  const pAddr = v6 ? env.peerAddr6 : env.peerAddr;
  const port = spec.port;
  const snaps: Record<string, Snapshot> = {};
  const snap = (): Snapshot => ({
    kernel: ss(env.ns).filter((r) => r.state !== 'LISTEN' && (r.local.endsWith(`:${port}`) || r.peer.endsWith(`:${port}`))),
    peer: env.peerSockets().filter((r) => r.state !== 'LISTEN' && (r.local.endsWith(`:${port}`) || r.remote.endsWith(`:${port}`))),
  });
  const before = nstat(env.ns);
  const kArgs = { ...spec.kernel.opts, do: spec.kernel.do, timeout: 30 };
  const pArgs = { ...spec.peer.opts, do: spec.peer.do, timeout: 30 };
  let kernel: Program;
  let peer: Program;
  if (spec.listener === 'kernel') {
    kernel = env.kernel('listen', { ...kArgs, host: kAddr, port });
    await kernel.waitFor('ready', 15_000);
    peer = env.peer('connect', { ...pArgs, host: kAddr, port });
  } else {
    peer = env.peer('listen', { ...pArgs, host: pAddr, port });
    await peer.waitFor('ready', 15_000);
    kernel = env.kernel('connect', { ...kArgs, host: pAddr, port });
  }
  // wait points: a snapshot, then release; "sync" tags are released when both sides wait there.
  const syncWaiting = new Map<string, Program[]>();
  const onWait = (who: 'k' | 'p', prog: Program) => (l: PeerLine) => {
    if (l.event !== 'waiting') return;
    const tag = String(l.tag);
    void (async () => {
      snaps[`${who}:${tag}`] = snap();
      if (tag.startsWith('sync')) {
        const w = [...(syncWaiting.get(tag) ?? []), prog];
        syncWaiting.set(tag, w);
        if (w.length < 2) return;
        await spec.atWait?.(tag, env);
        for (const p of w) p.go();
        return;
      }
      await spec.atWait?.(tag, env);
      prog.go();
    })();
  };
  kernel.onLine(onWait('k', kernel));
  peer.onLine(onWait('p', peer));
  for (const [prog, who] of [[kernel, 'k'], [peer, 'p']] as const) {
    for (const l of prog.lines) if (l.event === 'waiting') onWait(who, prog)(l);
  }
  const limit = spec.timeoutMs ?? 60_000;
  const timer = limitTimer(limit).then(() => 'timeout');
  const r = await Promise.race([Promise.all([kernel.done, peer.done]).then(() => 'ok'), timer]);
  if (r !== 'ok') {
    kernel.kill();
    peer.kill();
    throw new Error(`case did not finish within ${limit} ms; kernel: ${JSON.stringify(kernel.lines)}; peer: ${JSON.stringify(peer.lines)}`);
  }
  await sleep(spec.settleMs ?? 300);
  snaps['end'] = snap();
  const after = nstat(env.ns);
  const segs = await env.capture.stop();
  const mine = segs.filter((s) => s.src.endsWith(`:${port}`) || s.dst.endsWith(`:${port}`));
  return { env, kernel: kernel.lines, peer: peer.lines, snaps, nstat: delta(before, after), segs: mine, control: controlFlags(mine) };
}

/** Runs the case against linger and against a kernel peer (the reference), each in fresh namespaces. */
export async function runBoth(name: string, spec: CaseSpec, opts: { mtu?: number; config?: Partial<HostConfig>; sysctls?: string[]; reference?: boolean; link?: 'veth' | 'relay'; offload?: boolean } = {}): Promise<{ linger: CaseResult & { env: LingerEnv }; ref?: CaseResult }> {
  const lenv = await LingerEnv.up(name, { mtu: opts.mtu, config: opts.config, offload: opts.offload });
  let linger: CaseResult;
  try {
    linger = await runCase(lenv, spec);
  } finally {
    await lenv.close();
  }
  let ref: CaseResult | undefined;
  if (opts.reference ?? true) {
    const kenv = await KernelEnv.up(name, { mtu: opts.mtu, sysctls: opts.sysctls, link: opts.link });
    try {
      ref = await runCase(kenv, spec);
    } finally {
      await kenv.close();
    }
  }
  record(name, linger as CaseResult & { env: LingerEnv }, ref);
  return { linger: linger as CaseResult & { env: LingerEnv }, ref };
}

/** What the kernel did, next to each case: out/interop/<case>.json and a line in the log. */
export function record(name: string, linger: CaseResult & { env: LingerEnv }, ref?: CaseResult): void {
  const summary = (r: CaseResult) => ({
    control: r.control,
    kernelEnd: r.snaps['end']?.kernel.map((s) => `${s.state}${s.timer ? ` timer:${s.timer}` : ''}`),
    peerEnd: r.snaps['end']?.peer.map((s) => s.state),
    kernelAt: Object.fromEntries(Object.entries(r.snaps).map(([k, v]) => [k, v.kernel.map((s) => s.state)])),
    nstat: r.nstat,
    kernelProgram: r.kernel.filter((l) => !['ready', 'waiting', 'go'].includes(l.event)),
    peerProgram: r.peer.filter((l) => !['ready', 'waiting', 'go'].includes(l.event)),
  });
  const j = { case: name, linger: { ...summary(linger), lingerStates: linger.env.states(), lingerCounters: linger.env.st.host.counters.snapshot(true) }, reference: ref ? summary(ref) : null };
  mkdirSync(OUT_DIR, { recursive: true });
  writeFileSync(`${OUT_DIR}/${name}.json`, JSON.stringify(j, null, 2));
  const elided = linger.env.elidedSegments ? `(${linger.env.elidedSegments} data and ACK segments past the first ${KEEP_SEGMENTS} not kept)\n` : '';
  writeFileSync(`${OUT_DIR}/${name}.linger.txt`, linger.env.events.map((e) => eventLine(e)).filter((l) => l !== null).join('\n') + '\n' + elided);
  const line = (r: ReturnType<typeof summary>) => `control [${r.control.join(' | ')}] kernel end [${(r.kernelEnd ?? []).join(', ')}]`;
  process.stdout.write(`# interop ${name}\n#   with linger: ${line(j.linger)}\n${ref ? `#   reference:   ${line(j.reference!)}\n` : ''}`);
}
