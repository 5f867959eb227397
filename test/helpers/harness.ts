// A host under test with a scripted remote peer: segments are injected as IP packets and
// everything the host sends is captured and decoded. Time is a virtual clock moved by hand.

import { VirtualClock } from '../../src/time/clock.ts';
import { Host } from '../../src/host/host.ts';
import type { HostConfig } from '../../src/base/config.ts';
import type { TraceEvent } from '../../src/base/trace.ts';
import type { Socket } from '../../src/host/socket.ts';
import { decodePacket, encodePacket, makeIpRepr } from '../../src/wire/packet.ts';
import { ACK, FIN, PSH, RST, SYN, type TcpOption, type TcpRepr } from '../../src/wire/types.ts';
import { linuxDataOptions, linuxSynOptions } from '../../src/wire/tcp.ts';

export { ACK, FIN, PSH, RST, SYN };

export const LOCAL = '10.0.0.1';
export const REMOTE = '10.0.0.2';

export interface Out {
  t: number;
  tcp: TcpRepr;
  flags: string;
}

export function flagStr(f: number): string {
  let s = '';
  if (f & SYN) s += 'S';
  if (f & FIN) s += 'F';
  if (f & RST) s += 'R';
  if (f & PSH) s += 'P';
  if (f & ACK) s += '.';
  return s || 'none';
}

export class Harness {
  readonly clock = new VirtualClock(1_000_000);
  readonly host: Host;
  readonly events: TraceEvent[] = [];
  private outQ: Out[] = [];
  /** The remote peer's sequence state, kept by the test. */
  rSeq = 1_000_000; // remote ISN + consumed
  rIsn = 1_000_000;
  remotePort = 40000;
  localPort = 80;
  tsVal = 5000;

  /**
   * The state fixtures pin the lifecycle's timers: the RTO, its backoff and when it gives up.
   * They run without the tail loss probe (tcp_early_retrans 0) unless a test asks for it, so a
   * probe does not stand in for the first retransmission; the probe, RACK and PRR are pinned
   * against the kernel in test/drill/recovery and test/fixtures/linux-suite.
   */
  constructor(config: Partial<HostConfig> = {}, opts: { local?: string; remote?: string } = {}) {
    config = { tcp_early_retrans: 0, ...config };
    this.local = opts.local ?? LOCAL;
    this.remote = opts.remote ?? REMOTE;
    this.host = new Host({ name: 'dut', addresses: [this.local], clock: this.clock, seed: 7, config, trace: (e) => this.events.push(e), tracePackets: false });
    this.host.setEmit((p) => {
      const r = decodePacket(p);
      if (!r.ok) throw new Error(`host emitted an undecodable packet: ${r.error.detail}`);
      this.outQ.push({ t: this.clock.now(), tcp: r.value.tcp, flags: flagStr(r.value.tcp.flags) });
    });
  }
  readonly local: string;
  readonly remote: string;

  /** Sends a segment from the remote peer. */
  inject(seg: Partial<TcpRepr> & { flags: number }): void {
    const full: TcpRepr = {
      srcPort: this.remotePort, dstPort: this.localPort, seq: this.rSeq, ack: 0, window: 64240, urgent: 0,
      options: [], payload: new Uint8Array(0), ...seg,
    };
    this.host.deliver(encodePacket(makeIpRepr(this.remote, this.local), full));
  }

  injectRaw(bytes: Uint8Array): void {
    this.host.deliver(bytes);
  }

  /** Moves virtual time forward by `us`, running timers on the way in order. */
  advance(us: number): void {
    const end = this.clock.now() + us;
    for (;;) {
      const d = this.host.nextDeadline();
      if (d > end) break;
      if (d > this.clock.now()) this.clock.set(d);
      this.host.advance();
    }
    this.clock.set(end);
    this.host.advance();
  }

  /** Segments emitted since the last call. */
  take(): Out[] {
    const q = this.outQ;
    this.outQ = [];
    return q;
  }

  /** Exactly one segment must have been emitted; returns it. */
  one(): Out {
    const q = this.take();
    if (q.length !== 1) throw new Error(`expected one segment, got ${q.length}: ${q.map((o) => `${o.flags} seq=${o.tcp.seq} ack=${o.tcp.ack} len=${o.tcp.payload.length}`).join('; ')}`);
    return q[0]!;
  }

  none(): void {
    const q = this.take();
    if (q.length) throw new Error(`expected no segment, got ${q.map((o) => `${o.flags} seq=${o.tcp.seq} ack=${o.tcp.ack} len=${o.tcp.payload.length}`).join('; ')}`);
  }

  ts(ecr: number): TcpOption[] {
    return linuxDataOptions({ timestamp: { val: this.tsVal++, ecr } });
  }

  synOptions(): TcpOption[] {
    return linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: this.tsVal++, ecr: 0 }, wscale: 7 });
  }

  /** The TS val of the peer's last segment (what the host echoes once it accepted it). */
  get peerTs(): number {
    return this.tsVal - 1;
  }

  counter(name: string): number {
    return this.host.counters.snapshot()[name] ?? NaN;
  }

  states(): string[] {
    return this.events.filter((e) => e.kind === 'state').map((e) => (e as { to: string }).to);
  }
}

/** The value of the last timestamp option a segment carried. */
export function tsOf(o: Out): { val: number; ecr: number } | undefined {
  for (const x of o.tcp.options) if (x.kind === 'timestamp') return { val: x.val, ecr: x.ecr };
  return undefined;
}

export interface Est {
  h: Harness;
  sock: Socket; // the local socket (accepted or connected)
  listener?: Socket;
  /** Our (local) next sequence number as seen by the peer = the ack the peer sends. */
  lSeq: number;
  iss: number;
  /** The last timestamp val the host sent (for ecr). */
  lastTs: number;
  /** The virtual time (µs) at which the host's TS clock read lastTs (see ourTs). */
  tsAt: number;
}

/**
 * A passive-open connection in ESTABLISHED: the host listens on :80, the remote peer does the
 * handshake with Linux's SYN options (mss 1460, sackOK, TS, wscale 7).
 */
export function establishedServer(config: Partial<HostConfig> = {}): Est {
  const { h, listener, iss, lastTs, synack } = synRecv(config);
  h.inject({ flags: ACK, seq: h.rSeq, ack: iss + 1, window: 502, options: h.ts(lastTs) });
  h.none();
  const sock = listener.accept();
  if (!sock) throw new Error('accept() returned nothing after the handshake');
  return { h, sock, listener, lSeq: iss + 1, iss, lastTs, tsAt: synack.t };
}

/** An active-open connection in ESTABLISHED: the host connects to the remote :80. */
export function establishedClient(config: Partial<HostConfig> = {}): Est {
  const { h, sock, iss, syn } = synSent(config);
  h.inject({ flags: SYN | ACK, seq: h.rIsn, ack: iss + 1, options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: h.tsVal++, ecr: tsOf(syn)!.val }, wscale: 7 }), window: 65160 });
  h.rSeq = h.rIsn + 1;
  const ack = h.one();
  return { h, sock, lSeq: iss + 1, iss, lastTs: tsOf(ack)!.val, tsAt: ack.t };
}

// ---------------------------------------------------------------------------------------
// Exact segment assertions and per-state fixtures (test/tcp/<state>.test.ts).

/** Everything a test asserts about one emitted segment. Every field is checked. */
export interface SegSpec {
  /** flagStr letters: 'S', 'S.', '.', 'P.', 'F.', 'FP.', 'R', 'R.'. */
  flags: string;
  seq: number;
  /** The ack field; must be 0 when the ACK flag is off. */
  ack: number;
  /** The raw 16-bit window field (not scaled). */
  win: number;
  /** Payload bytes (default 0). */
  len?: number;
  /** The timestamp option: null = absent; val is checked only when given. Required unless `options` is. */
  ts?: { val?: number; ecr: number } | null;
  /** SACK blocks, first block first; absent = no SACK option at all. */
  sack?: Array<[number, number]>;
  /** The exact option list, for SYNs and SYN-ACKs (replaces the ts/sack checks). */
  options?: TcpOption[];
  /** Emission time (µs of the virtual clock), when timing matters. */
  at?: number;
  /** Destination port (checked when given). */
  dstPort?: number;
}

const u32 = (n: number): number => n >>> 0;

export function describeSeg(o: Out): string {
  const ts = tsOf(o);
  const sack = o.tcp.options.find((x) => x.kind === 'sack');
  return `${o.flags} seq=${o.tcp.seq} ack=${o.tcp.ack} win=${o.tcp.window} len=${o.tcp.payload.length}` +
    `${ts ? ` ts=${ts.val}/${ts.ecr}` : ''}${sack && sack.kind === 'sack' ? ` sack=${JSON.stringify(sack.blocks)}` : ''} t=${o.t}`;
}

/** Asserts every field of an emitted segment (throws with a readable diff). */
export function expectSeg(o: Out, s: SegSpec, what = 'segment'): void {
  const got: Record<string, unknown> = {
    flags: o.flags, seq: o.tcp.seq, ack: o.tcp.ack, win: o.tcp.window, len: o.tcp.payload.length,
  };
  const want: Record<string, unknown> = { flags: s.flags, seq: u32(s.seq), ack: u32(s.ack), win: s.win, len: s.len ?? 0 };
  if (s.options) {
    got['options'] = o.tcp.options;
    want['options'] = s.options;
  } else {
    if (s.ts === undefined) throw new Error(`${what}: the spec must give ts (null for none) or the exact options`);
    const ts = tsOf(o);
    got['ts'] = ts ? (s.ts && s.ts.val === undefined ? { ecr: ts.ecr } : ts) : null;
    want['ts'] = s.ts ? (s.ts.val === undefined ? { ecr: u32(s.ts.ecr) } : { val: u32(s.ts.val), ecr: u32(s.ts.ecr) }) : null;
    const sack = o.tcp.options.find((x) => x.kind === 'sack');
    got['sack'] = sack && sack.kind === 'sack' ? sack.blocks.map(([l, r]) => [l, r]) : null;
    want['sack'] = s.sack ? s.sack.map(([l, r]) => [u32(l), u32(r)]) : null;
  }
  if (s.at !== undefined) {
    got['at'] = o.t;
    want['at'] = s.at;
  }
  if (s.dstPort !== undefined) {
    got['dstPort'] = o.tcp.dstPort;
    want['dstPort'] = s.dstPort;
  }
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: expected ${w}\n${' '.repeat(what.length)}       got ${g}`);
}

/** Exactly one segment was emitted and it is `s`. */
export function expectOne(h: Harness, s: SegSpec, what?: string): Out {
  const o = h.one();
  expectSeg(o, s, what);
  return o;
}

/** The emitted segments are exactly `specs`, in order. */
export function expectSegs(h: Harness, specs: SegSpec[], what = 'segments'): Out[] {
  const q = h.take();
  if (q.length !== specs.length) throw new Error(`${what}: expected ${specs.length} segments, got ${q.length}: ${q.map(describeSeg).join('; ')}`);
  q.forEach((o, i) => expectSeg(o, specs[i]!, `${what}[${i}]`));
  return q;
}

/** n payload bytes (a recognisable pattern). */
export function bytes(n: number, start = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (start + i) & 0xff;
  return b;
}

/** The host's TS val now (ms clock plus the connection's offset, Linux tcp_time_stamp_ts). */
export function ourTs(e: { h: Harness; lastTs: number; tsAt: number }): number {
  return ourTsAt(e, e.h.clock.now());
}

/** The host's TS val at virtual time t (µs). */
export function ourTsAt(e: { lastTs: number; tsAt: number }, t: number): number {
  return u32(e.lastTs + Math.floor(t / 1000) - Math.floor(e.tsAt / 1000));
}

/** Our advertised window once established: 65280 bytes >> wscale 7 (tcp_select_window). */
export const WIN = 510;

/** The pure ACK the host sends now: seq = SND.NXT, ack = RCV.NXT, window WIN (or over.win), TS echoing ecr. */
export function ackNow(
  e: { h: Harness; lSeq: number; lastTs: number; tsAt: number },
  ecr: number,
  over: { win?: number; sack?: Array<[number, number]> } = {},
): SegSpec {
  return { flags: '.', seq: e.lSeq, ack: e.h.rSeq, win: over.win ?? WIN, ts: { val: ourTs(e), ecr }, ...(over.sack ? { sack: over.sack } : {}) };
}

/**
 * The remote peer sends a segment on the fixture's connection: seq = h.rSeq, ack = e.lSeq
 * (everything we sent), window 502 (64256 bytes with wscale 7), a timestamp echoing ours.
 * Does not move h.rSeq.
 */
export function peer(e: { h: Harness; lSeq: number; lastTs: number; tsAt: number }, flags: number, over: Partial<TcpRepr> = {}): void {
  e.h.inject({ flags, seq: e.h.rSeq, ack: flags & ACK ? e.lSeq : 0, window: 502, options: e.h.ts(ourTs(e)), ...over });
}

/** The host's socket table row for the fixture's 4-tuple (ss -tan), or undefined. */
export function row(h: Harness): ReturnType<Host['sockets']>[number] | undefined {
  return h.host.sockets().find((r) => r.local === `${h.local}:${h.localPort}` && r.remote === `${h.remote}:${h.remotePort}`);
}

/** The state `ss` would show for the fixture's 4-tuple ('' when there is no socket at all). */
export function tableState(h: Harness): string {
  return row(h)?.state ?? '';
}

/** Runs fn and returns the SocketError code it throws ('' if it does not throw). */
export function errCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e && typeof e === 'object' && 'code' in e) return String((e as { code: unknown }).code);
    throw e;
  }
  return '';
}

/** What a call returned, as a word: an errno code, 'EOF' (0 bytes), 'EAGAIN' (null), 'n B' or the number. */
export function outcome(fn: () => unknown): string {
  try {
    const r = fn();
    if (r === null) return 'EAGAIN';
    if (r instanceof Uint8Array) return r.length ? `${r.length} B` : 'EOF';
    return String(r);
  } catch (e) {
    if (e && typeof e === 'object' && 'code' in e) return String((e as { code: unknown }).code);
    throw e;
  }
}

/** Collects the socket's events, in order: 'connect', 'error:ECONNRESET', 'close', ... */
export function recordEvents(sock: Socket): string[] {
  const log: string[] = [];
  for (const ev of ['connect', 'readable', 'writable', 'error', 'close'] as const) {
    sock.on(ev, (arg) => log.push(ev === 'error' ? `error:${String(arg)}` : ev));
  }
  return log;
}

/** A host listening on 0.0.0.0:80 with backlog 16, nothing else. */
export function listening(config: Partial<HostConfig> = {}): { h: Harness; listener: Socket } {
  const h = new Harness(config);
  const listener = h.host.socket();
  listener.bind('0.0.0.0', 80);
  listener.listen(16);
  return { h, listener };
}

/** A passive open after the SYN: the listener's child is in SYN_RECV (not accepted). */
export interface Embryo {
  h: Harness;
  listener: Socket;
  iss: number;
  /** ISS + 1: what the peer's ACK of the SYN-ACK acknowledges. */
  lSeq: number;
  lastTs: number;
  tsAt: number;
  synack: Out;
}

export function synRecv(config: Partial<HostConfig> = {}): Embryo {
  const { h, listener } = listening(config);
  h.inject({ flags: SYN, seq: h.rIsn, options: h.synOptions(), window: 64240 });
  const synack = h.one();
  h.rSeq = h.rIsn + 1;
  const ts = tsOf(synack)!.val;
  return { h, listener, iss: synack.tcp.seq, lSeq: synack.tcp.seq + 1, lastTs: ts, tsAt: synack.t, synack };
}

/** An active open after connect(): SYN sent, nothing received. */
export interface Connecting {
  h: Harness;
  sock: Socket;
  iss: number;
  lSeq: number;
  syn: Out;
  lastTs: number;
  tsAt: number;
}

export function synSent(config: Partial<HostConfig> = {}): Connecting {
  const h = new Harness(config);
  h.remotePort = 80;
  const sock = h.host.socket();
  sock.connect(h.remote, 80);
  const syn = h.one();
  h.localPort = syn.tcp.srcPort;
  return { h, sock, iss: syn.tcp.seq, lSeq: syn.tcp.seq + 1, syn, lastTs: tsOf(syn)!.val, tsAt: syn.t };
}

/** Fixtures past ESTABLISHED: finSeq is the sequence number of our FIN (lSeq = finSeq + 1). */
export interface Closing extends Est {
  finSeq: number;
  fin: Out;
}

export interface CloseOpts {
  /** close() (the socket becomes an orphan) instead of shutdown(SHUT_WR). */
  orphan?: boolean;
  config?: Partial<HostConfig>;
  /** Socket options set before the close. */
  before?: (e: Est) => void;
}

function sendOurFin(e: Est, orphan: boolean): Closing {
  if (orphan) e.sock.close();
  else e.sock.shutdown('SHUT_WR');
  const fin = e.h.one();
  if (fin.flags !== 'F.' || fin.tcp.seq !== e.lSeq) throw new Error(`expected our FIN at ${e.lSeq}, got ${describeSeg(fin)}`);
  return { ...e, finSeq: e.lSeq, lSeq: u32(e.lSeq + 1), fin, lastTs: tsOf(fin)!.val, tsAt: fin.t };
}

/** Server side after our FIN (not yet acknowledged): FIN_WAIT1. */
export function finWait1(o: CloseOpts = {}): Closing {
  const e = establishedServer(o.config);
  o.before?.(e);
  return sendOurFin(e, o.orphan ?? false);
}

/** SND.UNA as the fixture left it: our FIN while it is unacknowledged, else SND.NXT. */
export function sndUna(e: Est): number {
  return 'finSeq' in e && ['FIN_WAIT1', 'CLOSING', 'LAST_ACK'].includes(tableState(e.h)) ? (e as Closing).finSeq : e.lSeq;
}

/** FIN_WAIT1 plus the peer's ACK of our FIN: FIN_WAIT2 (an orphan entry if closed). */
export function finWait2(o: CloseOpts = {}): Closing {
  const e = finWait1(o);
  peer(e, ACK);
  e.h.none();
  return e;
}

/** The peer's FIN (at h.rSeq, after n data bytes) arrives and is ACKed, after `waitUs` if the ACK is delayed. */
function theirFin<T extends Est>(e: T, over: Partial<TcpRepr> = {}, waitUs = 0, n = 0): T {
  peer(e, n ? FIN | ACK | PSH : FIN | ACK, { payload: bytes(n), ...over });
  e.h.rSeq = u32(e.h.rSeq + n + 1);
  if (waitUs) e.h.advance(waitUs);
  const ack = e.h.one();
  if (ack.flags !== '.' || ack.tcp.ack !== e.h.rSeq) throw new Error(`expected the ACK of the FIN, got ${describeSeg(ack)}`);
  return { ...e, lastTs: tsOf(ack)!.val, tsAt: ack.t };
}

/** The peer's FIN arrived in ESTABLISHED and was ACKed: CLOSE_WAIT. */
export function closeWait(config: Partial<HostConfig> = {}): Est {
  const e = establishedServer(config);
  // tcp_fin enters pingpong mode, so the ACK of the FIN is delayed (ato 0: next jiffy, 4 ms).
  return theirFin(e, {}, 40_000);
}

/** CLOSE_WAIT with n unread bytes that arrived with the FIN. */
export function closeWaitWithData(n: number): Est {
  return theirFin(establishedServer(), {}, 40_000, n);
}

/** CLOSE_WAIT plus our FIN: LAST_ACK. */
export function lastAck(o: Omit<CloseOpts, 'before'> = {}): Closing {
  const e = closeWait(o.config);
  return sendOurFin(e, o.orphan ?? false);
}

/** FIN_WAIT1 plus the peer's FIN that does not acknowledge ours: CLOSING (simultaneous close). */
export function closing(o: CloseOpts = {}): Closing {
  const e = finWait1(o);
  return theirFin(e, { ack: e.finSeq });
}

/** FIN_WAIT2 plus the peer's FIN, ACKed: TIME_WAIT. */
export function timeWait(o: CloseOpts = {}): Closing {
  return theirFin(finWait2(o));
}

/**
 * When Linux gives up retransmitting: at the first RTO expiry whose time since the original
 * send reaches the budget of retransmits_timed_out (924.6 s for tcp_retries2 = 15, 102.2 s for
 * 8 orphan retries), the RTO starting at rto0 (whole jiffies) and doubling up to 120 s.
 * Returns the retransmissions sent before that expiry and its time after the original send.
 */
export function giveUpAt(rto0: number, budgetUs: number): { retransmissions: number; at: number } {
  let t = 0;
  for (let k = 0; ; k++) {
    t += Math.min(rto0 * 2 ** k, 120_000_000);
    if (t >= budgetUs) return { retransmissions: k, at: t };
  }
}

/** The RTO the socket table shows for the host's one connection, in µs. */
export const rtoOf = (h: Harness): number => Math.round(row(h)!.rtoMs! * 1000);
