// TIME_WAIT as Linux keeps it (net/ipv4/tcp_minisocks.c): a small entry, not a full socket,
// that owns the 4-tuple after tcp_time_wait(). It also carries orphaned FIN_WAIT2 sockets
// (substate FIN_WAIT2, timeout tcp_fin_timeout), which ss shows with timer:(timewait,...).

import { payloadLength } from '../wire/segment.ts';
import { TCP_TIMEWAIT_LEN_MS } from '../base/config.ts';
import { connLabel } from '../base/trace.ts';
import { timestampOptions } from '../wire/tcp.ts';
import { ACK, FIN, RST, SYN, type IpRepr, type TcpRepr } from '../wire/types.ts';
import type { TcpConn } from './conn.ts';
import { type Listener, type ListenEnv, listenInput } from './listen.ts';
import { parseSegOpts } from './options.ts';
import { oowRateLimited } from './oow.ts';
import { taggedFields } from './storage.ts';
import { TcpTimer } from './timer.ts';
import { keyLocalAddr, keyLocalPort, keyRemoteAddr, keyRemotePort } from './key.ts';
import { seqAdd, seqGt, seqLt } from './seq.ts';

export const TCP_TIMEWAIT_LEN = TCP_TIMEWAIT_LEN_MS * 1000; // µs, fixed in Linux (include/net/tcp.h)
const TCP_PAWS_MSL = 60; // s
const TCP_PAWS_24DAYS = 24 * 24 * 3600; // s

/**
 * A TIME_WAIT (or orphan FIN_WAIT2) entry, as small as Linux's inet_timewait_sock is next to a
 * tcp_sock: the 4-tuple lives in the demux key (key.ts), the flags share one small integer,
 * sequence numbers are kept as int32 (never boxed as doubles), the timestamp offset is
 * recomputed by the host when an ACK needs it, and there is no per-entry timer object: entries
 * wait in a TimeWaitQueue (Linux's old tcp_death_row did the same with slots).
 */
export class TimeWaitEntry {
  private bits: number; // bit 0: FIN_WAIT2 substate, bit 1: tsOk, bits 2..5: rcvWscale, bits 6..: queue places
  private _sndNxt: number;
  private _rcvNxt: number;
  private _tsRecent: number;
  /** µs; -1 once the entry is gone (which also marks its queue places stale). */
  deadline = -1;
  constructor(
    readonly key: string,
    substate: 'TIME_WAIT' | 'FIN_WAIT2',
    sndNxt: number,
    rcvNxt: number,
    public rcvWnd: number, // bytes
    rcvWscale: number,
    tsOk: boolean,
    tsRecent: number,
    public tsRecentStamp: number, // µs; 0 = never saw a timestamp
  ) {
    this.bits = (substate === 'FIN_WAIT2' ? 1 : 0) | (tsOk ? 2 : 0) | (rcvWscale << 2);
    this._sndNxt = sndNxt | 0;
    this._rcvNxt = rcvNxt | 0;
    this._tsRecent = tsRecent | 0;
  }

  get substate(): 'TIME_WAIT' | 'FIN_WAIT2' {
    return this.bits & 1 ? 'FIN_WAIT2' : 'TIME_WAIT';
  }
  set substate(v: 'TIME_WAIT' | 'FIN_WAIT2') {
    this.bits = (this.bits & ~1) | (v === 'FIN_WAIT2' ? 1 : 0);
  }
  get tsOk(): boolean {
    return (this.bits & 2) !== 0;
  }
  get rcvWscale(): number {
    return (this.bits >>> 2) & 15;
  }
  /** @internal How many places in TimeWaitQueues hold this entry: only the latest is live. */
  get places(): number {
    return this.bits >>> 6;
  }
  set places(n: number) {
    this.bits = (this.bits & 63) | (n << 6);
  }
  get sndNxt(): number { return this._sndNxt >>> 0; }
  set sndNxt(v: number) { this._sndNxt = v | 0; }
  get rcvNxt(): number { return this._rcvNxt >>> 0; }
  set rcvNxt(v: number) { this._rcvNxt = v | 0; }
  get tsRecent(): number { return this._tsRecent >>> 0; }
  set tsRecent(v: number) { this._tsRecent = v | 0; }
  get localAddr(): string { return keyLocalAddr(this.key); }
  get localPort(): number { return keyLocalPort(this.key); }
  get remoteAddr(): string { return keyRemoteAddr(this.key); }
  get remotePort(): number { return keyRemotePort(this.key); }

  /** addr:port>addr:port as traces show it; built on demand (entries are many, traces few). */
  get label(): string {
    return connLabel(this.localAddr, this.localPort, this.remoteAddr, this.remotePort);
  }
}

/**
 * The entries armed with one timeout, in arming order, which is also deadline order: a FIFO
 * with one wheel timer at the deadline of its first live entry. An entry rescheduled (it takes
 * a new place) or removed (deadline -1) leaves a stale place behind, skipped when reached.
 */
export class TimeWaitQueue extends TcpTimer {
  private items: TimeWaitEntry[] = [];
  private head = 0;
  constructor(readonly timeoutUs: number) {
    super();
  }

  push(tw: TimeWaitEntry): void {
    this.items.push(tw);
    tw.places++;
  }

  /** The first live entry (stale places before it dropped), or null. */
  first(): TimeWaitEntry | null {
    while (this.head < this.items.length) {
      const tw = this.items[this.head]!;
      if (tw.places === 1 && tw.deadline >= 0) return tw;
      this.shift();
    }
    return null;
  }

  /** Takes the first entry off if it is due at or before now. */
  takeDue(now: number): TimeWaitEntry | null {
    const tw = this.first();
    if (!tw || tw.deadline > now) return null;
    this.shift();
    return tw;
  }

  isHead(tw: TimeWaitEntry): boolean {
    return this.head < this.items.length && this.items[this.head] === tw;
  }

  private shift(): void {
    this.items[this.head]!.places--;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

taggedFields(new TimeWaitEntry('', 'TIME_WAIT', 0, 0, 0, 0, false, 0, 0), ['tsRecentStamp', 'deadline']);


/** What tcp_timewait_state_process decided (enum tcp_tw_status). */
export type TwVerdict =
  | { kind: 'success' } // consumed silently
  | { kind: 'ack'; reschedule: boolean; paws?: boolean } // send the TIME_WAIT ACK
  | { kind: 'rst' } // reset the segment's sender
  | { kind: 'kill' } // RST accepted: the entry dies (tcp_rfc1337 = 0)
  | { kind: 'syn' } // a new SYN may reuse the 4-tuple
  | { kind: 'fin'; } // FIN_WAIT2 entry got the FIN: now TIME_WAIT, ACK it
  | { kind: 'reschedule' }; // in-window bare ACK: silently restart the 60 s

export interface SegTs {
  val: number;
  ecr: number;
}

/** PAWS for a TIME_WAIT entry (tcp_paws_reject); nowUs is the host's time in µs. */
function pawsReject(tw: TimeWaitEntry, ts: SegTs | undefined, rst: boolean, nowUs: number): boolean {
  if (!ts || !tw.tsRecentStamp) return false;
  if (((tw.tsRecent - ts.val) | 0) <= 0) return false;
  const ageSec = (nowUs - tw.tsRecentStamp) / 1e6;
  if (ageSec >= TCP_PAWS_24DAYS) return false;
  if (!tw.tsRecent) return false;
  if (rst && ageSec <= TCP_PAWS_MSL) return false;
  return true;
}

/**
 * tcp_timewait_state_process, decision only: the caller sends, reschedules and counts.
 * `rfc1337` is net.ipv4.tcp_rfc1337.
 */
export function timewaitProcess(tw: TimeWaitEntry, seg: TcpRepr, ts: SegTs | undefined, nowUs: number, rfc1337: number): TwVerdict {
  const syn = (seg.flags & SYN) !== 0;
  const rst = (seg.flags & RST) !== 0;
  const ack = (seg.flags & ACK) !== 0;
  const fin = (seg.flags & FIN) !== 0;
  const seq = seg.seq;
  const endSeq = seqAdd(seq, payloadLength(seg) + (syn ? 1 : 0) + (fin ? 1 : 0));
  const paws = pawsReject(tw, ts, rst, nowUs);

  if (tw.substate === 'FIN_WAIT2') {
    // Repeat the checks of tcp_rcv_state_process for an orphan FIN_WAIT2.
    const inWindow = !seqLt(endSeq, tw.rcvNxt) && !seqGt(seq, seqAdd(tw.rcvNxt, tw.rcvWnd)); // tcp_in_window
    if (paws || !inWindow) return { kind: 'ack', reschedule: false, paws };
    if (rst) return { kind: 'kill' };
    if (syn && !seqLt(seq, tw.rcvNxt)) return { kind: 'rst' };
    // Duplicate ACK?
    if (!ack || !seqGt(endSeq, tw.rcvNxt) || endSeq === seq) return { kind: 'success' };
    // New data or FIN. New data after a half-duplex close: reset.
    if (!fin || endSeq !== seqAdd(tw.rcvNxt, 1)) return { kind: 'rst' };
    // FIN arrived: enter true TIME_WAIT.
    tw.substate = 'TIME_WAIT';
    tw.rcvNxt = endSeq;
    if (ts) {
      tw.tsRecentStamp = nowUs;
      tw.tsRecent = ts.val;
    }
    return { kind: 'fin' };
  }

  // Real TIME_WAIT. An in-window segment may only be a reset or a bare ACK.
  if (!paws && seq === tw.rcvNxt && (seq === endSeq || rst)) {
    if (rst) {
      // RFC 1337 says ignore it; Linux by default (tcp_rfc1337 = 0) lets it kill the entry.
      if (!rfc1337) return { kind: 'kill' };
      return { kind: 'success' };
    }
    if (ts) {
      tw.tsRecentStamp = nowUs;
      tw.tsRecent = ts.val;
    }
    return { kind: 'reschedule' };
  }

  // Out of window: everything is ACKed, except a new SYN with a higher sequence number or
  // a newer timestamp, which may open a new connection on the same 4-tuple.
  if (syn && !rst && !ack && !paws && (seqGt(seq, tw.rcvNxt) || (ts !== undefined && tw.tsRecentStamp !== 0 && ((tw.tsRecent - ts.val) | 0) < 0))) {
    return { kind: 'syn' };
  }
  if (!rst) {
    // Reset the TIME_WAIT timer, except for an ACK-less SYN below rcv_nxt (old duplicate).
    return { kind: 'ack', reschedule: paws || ack, paws };
  }
  return { kind: 'success' };
}

/**
 * tcp_twsk_unique: may connect() take over this TIME_WAIT 4-tuple (tcp_tw_reuse: 1 always, 2 for
 * loopback only), once tcp_tw_reuse_delay has passed since its last timestamp?
 */
export function twReusable(tw: TimeWaitEntry, nowUs: number, reuse: number, reuseDelayMs: number, loopback: boolean): boolean {
  if (tw.substate !== 'TIME_WAIT' || !tw.tsRecentStamp) return false;
  if (reuse === 0 || (reuse === 2 && !loopback)) return false;
  return nowUs - tw.tsRecentStamp > reuseDelayMs * 1000;
}

/** Linux picks the new ISN after a reused TIME_WAIT as tw_snd_nxt + 65535 + 2. */
export const isnAfterTimeWait = (tw: TimeWaitEntry): number => seqAdd(tw.sndNxt, 65535 + 2) || 1;


/** What the TIME_WAIT table needs of its host (and, for a SYN that reuses a 4-tuple, listen.ts's). */
export interface TimeWaitEnv extends ListenEnv {
  /** Arms (or re-arms) a wheel entry at `at` µs; disarm takes it off. */
  arm(t: TcpTimer, at: number): void;
  disarm(t: TcpTimer): void;
  /** The entry now holding a 4-tuple in the demux table, and its removal. */
  lookup(key: string): TcpConn | TimeWaitEntry | undefined;
  hash(key: string, e: TimeWaitEntry): void;
  unhash(key: string): void;
  /** The listener a SYN to addr:port would reach (inet_lookup_listener). */
  lookupListener(addr: string, port: number): Listener | undefined;
  /** Sends a segment from a 4-tuple that has no full socket (builds IP, checksums, traces, counts). */
  transmitBare(src: string, dst: string, seg: TcpRepr, label: string, note: string): void;
  /** The timestamp offset of the 4-tuple's addresses (secure_tcp_ts_off). */
  tsOffsetFor(laddr: string, raddr: string): number;
}

/**
 * The host's TIME_WAIT and orphan FIN_WAIT2 entries and their timers (Linux's
 * tcp_death_row with the action half of tcp_timewait_state_process): entries wait in one
 * TimeWaitQueue per timeout, each queue one wheel timer.
 */
export class TimeWaitTable {
  /** Live entries (tw_count), bounded by tcp_max_tw_buckets. */
  count = 0;
  private readonly queues = new Map<number, TimeWaitQueue>();
  /** tw_last_oow_ack_time of the few entries that answered an out-of-window segment. */
  private readonly oowAck = new Map<TimeWaitEntry, number>();

  constructor(private readonly env: TimeWaitEnv) {}

  /** TIME_WAIT's length: Linux's fixed 60 s, or the load-balancer profile's (config.ts). */
  private get timewaitLen(): number {
    return this.env.cfg.lb_time_wait_timeout_ms * 1000;
  }

  /**
   * inet_twsk_alloc, inet_twsk_hashdance and the first schedule: the entry takes the 4-tuple
   * from the full socket, for TIME_WAIT's length or, as FIN_WAIT2, for `fin2TimeoutUs`. False
   * over tcp_max_tw_buckets (no entry; the caller closes the socket).
   */
  enter(conn: TcpConn, substate: 'TIME_WAIT' | 'FIN_WAIT2', fin2TimeoutUs: number): boolean {
    const env = this.env;
    const timeoutUs = substate === 'TIME_WAIT' ? this.timewaitLen : fin2TimeoutUs;
    if (this.count >= env.cfg.tcp_max_tw_buckets) {
      if (env.lookup(conn.key) === conn) env.unhash(conn.key);
      return false;
    }
    const tw = new TimeWaitEntry(
      conn.key, substate, conn.sndMax, conn.rcvNxt, conn.rcvWnd, conn.rcvWscale, conn.tsOk, conn.tsRecent,
      conn.tsOk ? conn.tsRecentStamp || env.now() : 0,
    );
    env.hash(conn.key, tw);
    this.count++;
    // __inet_twsk_schedule counts at creation: TWKilled for a timeout of 4 s or less, else TW
    // (observed on 6.18: the counters move when the entry is made, not when it expires).
    env.counters.inc(timeoutUs <= 4_000_000 ? 'TWKilled' : 'TW');
    this.schedule(tw, timeoutUs);
    return true;
  }

  /** A segment for an entry (tcp_v4_rcv's TCP_TIME_WAIT branch acting on the verdict). */
  input(tw: TimeWaitEntry, ip: IpRepr, seg: TcpRepr): void {
    const env = this.env;
    const o = parseSegOpts(seg);
    const ts = o.hasTs ? { val: o.tsVal, ecr: o.tsEcr } : undefined;
    const v = timewaitProcess(tw, seg, ts, env.now(), env.cfg.tcp_rfc1337);
    switch (v.kind) {
      case 'success':
        return;
      case 'reschedule':
        this.schedule(tw, this.timewaitLen);
        return;
      case 'kill':
        // Observed on 6.18: the assassination moves no counter.
        this.remove(tw, `rcv RST (tcp_rfc1337=${env.cfg.tcp_rfc1337})`, 'segment');
        return;
      case 'rst':
        env.sendReset(ip, seg);
        this.remove(tw, 'rcv data after close: RST', 'segment');
        return;
      case 'fin':
        env.trace({ kind: 'state', t: env.now(), host: env.name, socket: tw.label, from: 'FIN_WAIT2', to: 'TIME_WAIT', cause: 'rcv FIN', causeKind: 'segment' });
        this.schedule(tw, this.timewaitLen);
        this.ack(tw);
        return;
      case 'syn': {
        const l = env.lookupListener(ip.dst, seg.dstPort);
        if (l) {
          const isn = isnAfterTimeWait(tw);
          this.remove(tw, 'rcv SYN with higher seq: 4-tuple reused', 'segment');
          listenInput(env, l, ip, seg, isn);
          return;
        }
        this.ack(tw);
        return;
      }
      case 'ack':
        if (v.paws) env.counters.inc('PAWSEstab');
        if (v.reschedule) this.schedule(tw, this.timewaitLen);
        if (payloadLength(seg) === 0 || seg.flags & SYN) {
          // tcp_timewait_check_oow_rate_limit
          if (oowRateLimited(env.cfg, env.now(), this.oowAck.get(tw) ?? -Infinity)) {
            env.counters.inc('TCPACKSkippedTimeWait');
            return;
          }
          this.oowAck.set(tw, env.now());
        }
        this.ack(tw);
        return;
    }
  }

  /** connect() takes over the entry's 4-tuple (tcp_tw_reuse). */
  reuse(tw: TimeWaitEntry): void {
    this.env.counters.inc('TWRecycled');
    this.remove(tw, 'connect() reused the 4-tuple (tcp_tw_reuse)', 'call');
  }

  /** A queue's timer fired: every entry of it due now expires, in arming order. */
  fire(q: TimeWaitQueue): void {
    const now = this.env.now();
    for (let tw = q.takeDue(now); tw; tw = q.takeDue(now)) this.expire(tw);
    this.settle(q);
  }

  /** The host lost its state (crash): every queue and timer goes; the entries are already unhashed. */
  clear(): void {
    for (const q of this.queues.values()) this.env.disarm(q);
    this.queues.clear();
    this.oowAck.clear();
    this.count = 0;
  }

  /** tcp_v4_timewait_ack: ACK with the entry's SND.NXT / RCV.NXT, window and timestamps. */
  private ack(tw: TimeWaitEntry): void {
    const env = this.env;
    const options = tw.tsOk ? timestampOptions((Math.floor(env.now() / 1000) + env.tsOffsetFor(tw.localAddr, tw.remoteAddr)) >>> 0, tw.tsRecent) : [];
    const seg: TcpRepr = {
      srcPort: tw.localPort, dstPort: tw.remotePort, seq: tw.sndNxt, ack: tw.rcvNxt, flags: ACK,
      window: Math.min(tw.rcvWnd >>> tw.rcvWscale, 65535), urgent: 0, options, payload: new Uint8Array(0),
    };
    env.transmitBare(tw.localAddr, tw.remoteAddr, seg, tw.label, tw.substate === 'TIME_WAIT' ? 'TIME_WAIT ACK' : 'FIN_WAIT2 ACK');
  }

  /** (Re)arms an entry: it joins the queue of its timeout; a place it leaves behind goes stale. */
  private schedule(tw: TimeWaitEntry, us: number): void {
    const was = this.headQueues(tw);
    tw.deadline = this.env.now() + us;
    let q = this.queues.get(us);
    if (!q) this.queues.set(us, (q = new TimeWaitQueue(us)));
    q.push(tw);
    if (!q.armed) this.env.arm(q, tw.deadline);
    for (const w of was) this.settle(w);
  }

  /** The queues whose first place is this entry's (their timers are armed for it). */
  private headQueues(tw: TimeWaitEntry): TimeWaitQueue[] {
    const out: TimeWaitQueue[] = [];
    for (const q of this.queues.values()) if (q.isHead(tw)) out.push(q);
    return out;
  }

  /** Arms a queue's timer for its first live entry, or disarms it. */
  private settle(q: TimeWaitQueue): void {
    const first = q.first();
    if (!first) {
      this.env.disarm(q);
      if (this.queues.get(q.timeoutUs) === q) this.queues.delete(q.timeoutUs);
    } else if (q.deadline !== first.deadline) this.env.arm(q, first.deadline);
  }

  private expire(tw: TimeWaitEntry): void {
    const env = this.env;
    env.trace({ kind: 'timer', t: env.now(), host: env.name, socket: tw.label, timer: tw.substate === 'TIME_WAIT' ? 'time-wait' : 'fin-wait2', action: 'fired' });
    this.remove(tw, tw.substate === 'TIME_WAIT' ? `TIME_WAIT timer (${env.cfg.lb_time_wait_timeout_ms / 1000} s)` : 'tcp_fin_timeout', 'timer');
  }

  private remove(tw: TimeWaitEntry, cause: string, causeKind: 'segment' | 'timer' | 'call'): void {
    const env = this.env;
    const was = this.headQueues(tw);
    tw.deadline = -1;
    for (const q of was) this.settle(q);
    this.oowAck.delete(tw);
    if (env.lookup(tw.key) === tw) env.unhash(tw.key);
    this.count--;
    env.trace({ kind: 'state', t: env.now(), host: env.name, socket: tw.label, from: tw.substate, to: 'CLOSED', cause, causeKind });
  }
}
