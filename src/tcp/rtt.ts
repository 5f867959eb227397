// RTT estimation and RTO exactly as Linux's tcp_rtt_estimator and tcp_set_rto compute them
// (Jacobson/Karels with Linux's twists): mdev is kept as 4 x mean deviation, its maximum over
// the last RTT feeds rttvar (at least tcp_rto_min), rttvar decays once per RTT, a falling RTT
// barely moves mdev (Eifel-like), and RTO = SRTT + rttvar rounded up to whole jiffies.
// RFC 6298 would give SRTT + 4 x RTTVAR with a 1 s floor; Linux's floor is rto_min (200 ms).

import type { TcpConn } from './conn.ts';
import { roundUpToJiffies } from '../time/jiffies.ts';
import { seqGt } from './seq.ts';

export function rttSample(c: TcpConn, m: number): void {
  m = Math.max(1, Math.round(m));
  const rtoMin = c.env.cfg.tcp_rto_min_us;
  if (c.srtt !== 0) {
    let err = m - c.srtt; // error in the estimate
    c.srtt += err / 8; // srtt = 7/8 srtt + 1/8 m
    if (err < 0) {
      err = -err - c.mdevUs / 4;
      if (err > 0) err /= 8; // a falling RTT moves mdev with a finer gain
    } else {
      err -= c.mdevUs / 4;
    }
    c.mdevUs += err; // mdev = 3/4 mdev + 1/4 |err|
    if (c.mdevUs > c.mdevMaxUs) {
      c.mdevMaxUs = c.mdevUs;
      if (c.mdevMaxUs > c.rttvar) c.rttvar = c.mdevMaxUs;
    }
    if (seqGt(c.sndUna32, c.rttVarSeq)) { // SND.UNA as stored: not boxed
      // Once per RTT: rttvar decays towards the largest mdev seen in that RTT.
      if (c.mdevMaxUs < c.rttvar) c.rttvar -= (c.rttvar - c.mdevMaxUs) / 4;
      c.rttVarSeq = c.sndMax;
      c.mdevMaxUs = rtoMin;
    }
  } else {
    c.srtt = m;
    c.mdevUs = m * 2; // so that the first RTO is 3 x RTT
    c.rttvar = Math.max(c.mdevUs, rtoMin);
    c.mdevMaxUs = c.rttvar;
    c.rttVarSeq = c.sndMax;
  }
  setRto(c);
}

/** RTO = SRTT + rttvar in whole jiffies (usecs_to_jiffies rounds up), at most TCP_RTO_MAX. */
export function setRto(c: TcpConn): void {
  const cfg = c.env.cfg;
  c.rto = Math.min(roundUpToJiffies(c.srtt + c.rttvar, cfg.hz), cfg.tcp_rto_max_us);
}

/**
 * tcp_model_timeout / retransmits_timed_out: the time budget for `boundary` retransmissions
 * when the RTO starts at rtoBase and doubles up to TCP_RTO_MAX. tcp_retries2 = 15 gives 924.6 s;
 * tcp_syn_retries = 6 with a 1 s base gives 127 s.
 */
export function retransTimeoutBudget(boundary: number, rtoBase: number, rtoMax: number): number {
  const linearBackoffThresh = Math.floor(Math.log2(rtoMax / rtoBase));
  if (boundary <= linearBackoffThresh) return ((2 << boundary) - 1) * rtoBase;
  return ((2 << linearBackoffThresh) - 1) * rtoBase + (boundary - linearBackoffThresh) * rtoMax;
}

/** inet_csk_rto_backoff: the RTO doubled per backoff, at most TCP_RTO_MAX. */
export const rtoBackoff = (c: TcpConn): number => Math.min(c.rto * 2 ** c.backoff, c.env.cfg.tcp_rto_max_us);

/** tcp_probe0_when: the zero-window probe interval, from max(RTO, TCP_RTO_MIN) doubled per backoff. */
export const probe0When = (c: TcpConn): number =>
  Math.min(Math.max(c.rto, c.env.cfg.tcp_rto_min_us) * 2 ** c.backoff, c.env.cfg.tcp_rto_max_us);
