// NewReno congestion control (RFC 5681, RFC 6582), counted in segments as Linux counts
// snd_cwnd (tcp_reno_cong_avoid, tcp_reno_ssthresh). Initial cwnd 10 (RFC 6928, Linux).

import { APPROXIMATED_SYSCTLS } from '../base/config.ts';
import type { TcpConn } from './conn.ts';
import { sndbufExpand } from './output.ts';

/** A new socket's congestion control: net.ipv4.tcp_congestion_control as linger behaves (reno). */
export const DEFAULT_CONGESTION_CONTROL = APPROXIMATED_SYSCTLS['net.ipv4.tcp_congestion_control']!.value;

/**
 * The congestion controls a socket may choose (TCP_CONGESTION): reno is this file; cubic is
 * accepted and runs as reno until CUBIC is implemented (README, known gaps). Any other name is
 * ENOENT, as Linux says for a name it has no module for.
 */
export const CONGESTION_CONTROLS: readonly string[] = [DEFAULT_CONGESTION_CONTROL, 'cubic'];

/** New data acknowledged outside recovery: slow start, then congestion avoidance. */
export function onNewAck(c: TcpConn, ackedBytes: number, flightBefore: number): void {
  const mss = c.mssCache;
  const before = c.cwnd;
  growCwnd(c, ackedBytes, flightBefore, mss);
  if (c.cwnd > before) sndbufExpand(c); // tcp_new_space -> tcp_should_expand_sndbuf
}

function growCwnd(c: TcpConn, ackedBytes: number, flightBefore: number, mss: number): void {
  // tcp_is_cwnd_limited: an application-limited flow does not grow cwnd.
  if (flightBefore * 2 < c.cwnd * mss) return;
  let segs = Math.max(1, Math.round(ackedBytes / mss));
  if (c.cwnd < c.ssthresh) {
    // tcp_slow_start: grow by the segments acknowledged, up to ssthresh; the rest goes to CA.
    const nc = Math.min(c.cwnd + segs, c.ssthresh);
    segs -= nc - c.cwnd;
    c.cwnd = nc;
    if (segs <= 0) return;
  }
  // tcp_cong_avoid_ai: one segment per cwnd's worth of acknowledged segments.
  c.cwndCnt += segs;
  if (c.cwndCnt >= c.cwnd) {
    c.cwndCnt -= c.cwnd;
    c.cwnd++;
  }
}

/** ssthresh after a loss (icsk_ca_ops->ssthresh; tcp_reno_ssthresh: half of cwnd, at least 2). */
export function lossSsthresh(c: TcpConn): number {
  return Math.max(c.cwnd >> 1, 2);
}

/** cwnd when a reduction is undone (icsk_ca_ops->undo_cwnd; tcp_reno_undo_cwnd: the larger of cwnd and prior_cwnd). */
export function undoCwnd(c: TcpConn, priorCwnd: number): number {
  return Math.max(c.cwnd, priorCwnd);
}
