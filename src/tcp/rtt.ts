// RTT estimation and RTO (RFC 6298 as Linux computes it: tcp_rtt_estimator, tcp_set_rto).
// Linux differs from the RFC's RTO = SRTT + max(G, 4*RTTVAR) with a 1 s floor: it uses
// RTO = SRTT + max(mdev_max, rto_min), so on a fast path RTO is about SRTT + 200 ms.

import type { TcpConn } from './conn.ts';

export function rttSample(c: TcpConn, m: number): void {
  if (m <= 0) m = 1;
  const rtoMin = c.env.cfg.tcp_rto_min_us;
  if (c.srtt === 0) {
    c.srtt = m;
    c.mdev = m / 2;
    c.rttvar = Math.max(c.mdev * 4, rtoMin);
  } else {
    const err = m - c.srtt;
    c.srtt += err / 8;
    const aerr = Math.abs(err);
    c.mdev += (aerr - c.mdev) / 4;
    c.rttvar = Math.max(c.mdev * 4, rtoMin);
  }
  setRto(c);
}

export function setRto(c: TcpConn): void {
  const cfg = c.env.cfg;
  c.rto = Math.min(Math.round(c.srtt + c.rttvar), cfg.tcp_rto_max_us);
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
