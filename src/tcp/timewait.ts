// TIME_WAIT as Linux keeps it (net/ipv4/tcp_minisocks.c): a small entry, not a full socket,
// that owns the 4-tuple after tcp_time_wait(). It also carries orphaned FIN_WAIT2 sockets
// (substate FIN_WAIT2, timeout tcp_fin_timeout), which ss shows with timer:(timewait,...).

import { ACK, FIN, RST, SYN, type TcpRepr } from '../wire/types.ts';
import { taggedFields } from './storage.ts';
import { TcpTimer } from './timer.ts';
import { keyLocalAddr, keyLocalPort, keyRemoteAddr, keyRemotePort } from './key.ts';
import { seqAdd, seqGt, seqLt } from './seq.ts';

export const TCP_TIMEWAIT_LEN = 60_000_000; // µs, fixed in Linux (include/net/tcp.h)
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
    return `${ep(this.localAddr, this.localPort)}>${ep(this.remoteAddr, this.remotePort)}`;
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

const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);

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

/** PAWS for a TIME_WAIT entry (tcp_paws_reject). nowSec: seconds of the virtual clock. */
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
  const endSeq = seqAdd(seq, seg.payload.length + (syn ? 1 : 0) + (fin ? 1 : 0));
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

/** tcp_twsk_unique: may connect() take over this TIME_WAIT 4-tuple (tcp_tw_reuse)? */
export function twReusable(tw: TimeWaitEntry, nowUs: number, reuse: number, reuseDelayMs: number, loopback: boolean): boolean {
  if (!tw.tsRecentStamp) return false;
  if (reuse === 0 || (reuse === 2 && !loopback)) return false;
  return nowUs - tw.tsRecentStamp > reuseDelayMs * 1000;
}

/** Linux picks the new ISN after a reused TIME_WAIT as tw_snd_nxt + 65535 + 2. */
export const isnAfterTimeWait = (tw: TimeWaitEntry): number => seqAdd(tw.sndNxt, 65535 + 2) || 1;

