// TIME_WAIT as Linux keeps it (net/ipv4/tcp_minisocks.c): a small entry, not a full socket,
// that owns the 4-tuple after tcp_time_wait(). It also carries orphaned FIN_WAIT2 sockets
// (substate FIN_WAIT2, timeout tcp_fin_timeout), which ss shows with timer:(timewait,...).

import { ACK, FIN, RST, SYN, type TcpRepr } from '../wire/types.ts';
import type { Timer } from '../time/wheel.ts';
import { seqAdd, seqGt, seqLt } from './seq.ts';

export const TCP_TIMEWAIT_LEN = 60_000_000; // µs, fixed in Linux (include/net/tcp.h)
const TCP_PAWS_MSL = 60; // s
const TCP_PAWS_24DAYS = 24 * 24 * 3600; // s

export class TimeWaitEntry {
  substate: 'TIME_WAIT' | 'FIN_WAIT2';
  deadline = 0;
  timer!: Timer<TimeWaitEntry | import('./conn.ts').TcpConn>;
  lastOowAck = -Infinity; // tcp_timewait_check_oow_rate_limit
  constructor(
    readonly key: string,
    readonly localAddr: string,
    readonly localPort: number,
    readonly remoteAddr: string,
    readonly remotePort: number,
    substate: 'TIME_WAIT' | 'FIN_WAIT2',
    public sndNxt: number,
    public rcvNxt: number,
    public rcvWnd: number, // bytes
    readonly rcvWscale: number,
    readonly tsOk: boolean,
    public tsRecent: number,
    public tsRecentStamp: number, // µs; 0 = never saw a timestamp
    readonly tsOffset: number,
    readonly createdAt: number,
  ) {
    this.substate = substate;
  }

  /** addr:port>addr:port as traces show it; built on demand (entries are many, traces few). */
  get label(): string {
    return `${ep(this.localAddr, this.localPort)}>${ep(this.remoteAddr, this.remotePort)}`;
  }
}

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

