// RACK: time-based loss detection (RFC 8985 §6, Linux tcp_recovery.c). A segment is lost when
// a segment sent after it has been delivered and more than an RTT plus a reordering window has
// passed since it was sent; when that time has not come yet, the reordering timer waits for it.

import type { TcpConn } from './conn.ts';
import { CaState, SK_EVER_RETRANS, SK_LOST, SK_RETRANS, SK_SACKED, type LossState } from './rtxqueue.ts';
import { jiffyUs, roundUpToJiffies } from '../time/jiffies.ts';
import { seqGt } from './seq.ts';

/** TCP_TIMEOUT_MIN: the smallest TCP timer, 2 jiffies. */
export const TCP_TIMEOUT_MIN_JIFFIES = 2;

/** tcp_min_rtt: the windowed minimum RTT, ~0U before the first sample. */
export const minRtt = (L: LossState): number => (L.minRtt > 0 ? L.minRtt : 0xffffffff);

/**
 * tcp_mark_skb_lost: a segment not SACKed is marked lost (counted in tp->lost); one already
 * lost whose retransmission is now judged lost too loses its retransmission (TCPLostRetransmit).
 */
export function markLost(c: TcpConn, L: LossState, i: number): void {
  const f = L.q.flags(i);
  if (f & SK_SACKED) return;
  if (f & SK_LOST) {
    if (f & SK_RETRANS) {
      L.q.setFlags(i, f & ~SK_RETRANS);
      c.env.counters.inc('TCPLostRetransmit');
      L.lost++;
    }
  } else {
    L.q.setFlags(i, f | SK_LOST);
    L.lost++;
  }
}

/** tcp_rack_sent_after: t1/seq1 was sent after t2/seq2. */
const sentAfter = (t1: number, t2: number, seq1: number, seq2: number): boolean =>
  t1 > t2 || (t1 === t2 && seqGt(seq1, seq2));

/**
 * tcp_rack_advance: a segment sent at `xmitTime` was delivered. A retransmitted one delivered
 * sooner than min_rtt after its retransmission may be the original's delivery: it moves nothing.
 */
export function rackAdvance(L: LossState, flags: number, endSeq: number, xmitTime: number, now: number): void {
  const rtt = now - xmitTime;
  if (rtt < minRtt(L) && flags & (SK_RETRANS | SK_EVER_RETRANS)) return;
  L.rackAdvanced = true;
  L.rackRttUs = rtt;
  if (sentAfter(xmitTime, L.rackMstamp, endSeq, L.rackEndSeq)) {
    L.rackMstamp = xmitTime;
    L.rackEndSeq = endSeq;
  }
}

/**
 * tcp_rack_reo_wnd: no window while no reordering was seen and recovery is under way (or the
 * DUPACK threshold has been met); else min_rtt/4 per step, at most SRTT.
 */
function reoWnd(c: TcpConn, L: LossState): number {
  if (!L.reordSeen) {
    if (L.caState >= CaState.Recovery) return 0;
    if (L.q.sackedOut >= L.reordering && !(c.env.cfg.tcp_recovery & 0x4)) return 0;
  }
  return Math.min(Math.floor(minRtt(L) / 4) * L.rackReoWndSteps, Math.floor(c.srtt));
}

/**
 * tcp_rack_detect_loss: every segment sent before the most recently delivered one and not
 * delivered within rack.rtt + the reordering window is lost. Returns the longest wait left for
 * the others (µs, 0 = none). Linux walks its time-ordered list; a walk of the whole queue that
 * skips what RACK says nothing about marks the same segments.
 */
export function rackDetectLoss(c: TcpConn, L: LossState): number {
  const now = c.env.now();
  const wnd = reoWnd(c, L);
  const q = L.q;
  let wait = 0;
  for (let i = 0; i < q.length; i++) {
    const f = q.flags(i);
    if (f & SK_SACKED) continue; // delivered
    if (f & SK_LOST && !(f & SK_RETRANS)) continue; // lost, not yet retransmitted
    if (!sentAfter(L.rackMstamp, q.time(i), L.rackEndSeq, q.end(i))) continue;
    const remaining = L.rackRttUs + wnd - (now - q.time(i));
    if (remaining <= 0) markLost(c, L, i);
    else if (remaining > wait) wait = remaining;
  }
  return wait;
}

/**
 * tcp_rack_mark_lost: after an ACK that advanced RACK, marks losses and arms the reordering
 * timer for the segments whose time has not come (usecs_to_jiffies + TCP_TIMEOUT_MIN, never
 * past the RTO). Returns true when that timer was armed.
 */
export function rackMarkLost(c: TcpConn, L: LossState, rto: number): boolean {
  if (!L.rackAdvanced) return false;
  L.rackAdvanced = false;
  const wait = rackDetectLoss(c, L);
  if (wait > 0) {
    const hz = c.env.cfg.hz;
    c.rtxKind = 'rack-reorder';
    c.rtxDeadline = c.env.now() + Math.min(roundUpToJiffies(wait, hz) + TCP_TIMEOUT_MIN_JIFFIES * jiffyUs(hz), rto);
    return true;
  }
  return false;
}

/** TCP_RACK_RECOVERY_THRESH: recoveries a widened reordering window persists for. */
export const TCP_RACK_RECOVERY_THRESH = 16;

/**
 * tcp_rack_update_reo_wnd: a D-SACK in a round after the last adjustment widens the window by
 * one step (min_rtt/4), kept for TCP_RACK_RECOVERY_THRESH recoveries; then it falls back to one.
 * `priorDelivered` stands for the rate sample's prior_delivered: tp->delivered before this ACK.
 */
export function rackUpdateReoWnd(c: TcpConn, L: LossState, priorDelivered: number): void {
  if (c.env.cfg.tcp_recovery & 0x2 || !priorDelivered) return;
  if (priorDelivered < L.rackLastDelivered) L.rackDsackSeen = false;
  if (L.rackDsackSeen) {
    L.rackReoWndSteps = Math.min(0xff, L.rackReoWndSteps + 1);
    L.rackDsackSeen = false;
    L.rackLastDelivered = L.delivered;
    L.rackReoWndPersist = TCP_RACK_RECOVERY_THRESH;
  } else if (!L.rackReoWndPersist) {
    L.rackReoWndSteps = 1;
  }
}
