// Congestion control, counted in segments as Linux counts snd_cwnd: the connection's
// tcp_congestion_ops (CUBIC by default, cubic.ts; Reno, tcp_cong.c) and the calls around them
// that tcp_input.c and tcp_output.c make: cwnd growth on ACKs (tcp_cong_avoid), cwnd validation
// at send time (tcp_cwnd_validate, RFC 7661's predecessor RFC 2861), slow start after idle
// (tcp_cwnd_restart), CA_EVENT_TX_START. Initial cwnd 10 (RFC 6928, Linux).
// Loss recovery itself is recovery.ts.

import { CONGESTION_CONTROL_NAMES } from '../base/config.ts';
import type { TcpConn } from './conn.ts';
import {
  CUBIC, jiffiesAt,
  tcpCongAvoidAi, tcpInSlowStart, tcpIsCwndLimited, tcpJiffies32, tcpSlowStart, type CongestionOps,
} from './cubic.ts';
import { CaState } from './rtxqueue.ts';
import { seqLt } from './seq.ts';

/** A new socket's congestion control when net.ipv4.tcp_congestion_control is left alone. */
export const DEFAULT_CONGESTION_CONTROL = CONGESTION_CONTROL_NAMES[0]!;

/** The congestion controls a socket may choose (TCP_CONGESTION); any other name is ENOENT, as Linux says for a name it has no module for. */
export const CONGESTION_CONTROLS: readonly string[] = CONGESTION_CONTROL_NAMES;

/** tcp_reno_cong_avoid, tcp_reno_ssthresh, tcp_reno_undo_cwnd (net/ipv4/tcp_cong.c). */
export const RENO: CongestionOps = {
  name: 'reno',
  ssthresh: (c) => Math.max(c.cwnd >>> 1, 2),
  congAvoid(c, acked) {
    if (!tcpIsCwndLimited(c)) return;
    // In the "safe" area, increase; then in the dangerous area, slowly.
    if (tcpInSlowStart(c)) {
      acked = tcpSlowStart(c, acked);
      if (!acked) return;
    }
    tcpCongAvoidAi(c, c.cwnd, acked);
  },
  undoCwnd: (c) => Math.max(c.cwnd, c.priorCwnd),
  setState() {},
  txStart() {},
  pktsAcked() {},
  init() {},
};

/** icsk_ca_ops: the socket's TCP_CONGESTION, else the host's tcp_congestion_control. */
export function caOps(c: TcpConn): CongestionOps {
  return (c.opts.congestion ?? c.env.cfg.tcp_congestion_control) === 'reno' ? RENO : CUBIC;
}

/** tcp_reinit_congestion_control: a connected socket switched congestion control (TCP_CONGESTION). */
export function caReinit(c: TcpConn): void {
  c.caPriv = null;
  caOps(c).init(c);
}

/** Segments in `bytes` of sequence space (tcp_skb_pcount summed, at full-sized segments). */
const segs = (c: TcpConn, bytes: number): number => Math.ceil(bytes / c.mssCache);

/**
 * tcp_cong_avoid: `ackedSegs` packets delivered outside a cwnd reduction; the ops grow cwnd
 * while the flow is cwnd-limited (tcp_is_cwnd_limited reads what tcp_cwnd_validate recorded at
 * send time).
 */
export function congAvoid(c: TcpConn, ackedSegs: number): void {
  const before = c.cwnd;
  caOps(c).congAvoid(c, Math.max(1, ackedSegs));
  c.cwndStamp = tcpJiffies32(c);
  if (c.cwnd > before) sndbufExpand(c); // tcp_new_space -> tcp_should_expand_sndbuf
}

/** The ops' ssthresh after a loss (tcp_enter_loss, tcp_init_cwnd_reduction). */
export function lossSsthresh(c: TcpConn): number {
  return caOps(c).ssthresh(c);
}

/** The ops' undo_cwnd: cwnd after a spurious reduction. */
export function undoCwnd(c: TcpConn): number {
  return caOps(c).undoCwnd(c);
}

/** tcp_set_ca_state's call into the ops (the caller keeps c.caState). */
export function caSetState(c: TcpConn, state: number): void {
  caOps(c).setState(c, state);
}

/** pkts_acked: an ACK delivered `ackedSegs` segments; `rttUs` < 0 when it gave no RTT sample. */
export function caPktsAcked(c: TcpConn, ackedSegs: number, rttUs: number): void {
  caOps(c).pktsAcked(c, ackedSegs, rttUs);
}

/** CA_EVENT_TX_START: data goes out with nothing in flight (tcp_event_data_sent). */
export function caTxStart(c: TcpConn): void {
  caOps(c).txStart(c);
}

/**
 * tcp_event_data_sent for a segment with data: CA_EVENT_TX_START with nothing in flight, and
 * the segment's send time for the RTT samples the ops take (before SND.NXT, SND.MAX and
 * lsndtime move past it).
 */
export function caDataSent(c: TcpConn): void {
  if (c.sndNxt === c.sndUna) caTxStart(c);
}

/** tcp_in_cwnd_reduction: CWR or Recovery, where PRR sets cwnd. */
export const inCwndReduction = (c: TcpConn): boolean => c.caState === CaState.CWR || c.caState === CaState.Recovery;

/** tcp_current_ssthresh: ssthresh, or 3/4 of cwnd if that is more, outside cwnd reduction. */
export function currentSsthresh(c: TcpConn): number {
  if (inCwndReduction(c)) return c.ssthresh;
  return Math.max(c.ssthresh, (c.cwnd >>> 1) + (c.cwnd >>> 2));
}

/**
 * tcp_slow_start_after_idle_check (tcp_skb_entail, a write that queues new data): nothing in
 * flight and no data sent for longer than the RTO -> tcp_cwnd_restart: cwnd halves per RTO of
 * idle time, down to the restart window min(initial cwnd, cwnd) (RFC 2861, RFC 5681 §4.1).
 */
export function slowStartAfterIdleCheck(c: TcpConn): void {
  const cfg = c.env.cfg;
  if (!cfg.tcp_slow_start_after_idle || c.sndMax !== c.sndUna) return;
  const hz = cfg.hz;
  let delta = (tcpJiffies32(c) - jiffiesAt(c, c.lsndtime)) | 0;
  const rto = Math.round(c.rto / (1_000_000 / hz));
  if (delta <= rto) return;
  c.ssthresh = currentSsthresh(c);
  const restart = Math.min(cfg.tcp_initial_cwnd, c.cwnd);
  let cwnd = c.cwnd;
  while ((delta -= rto) > 0 && cwnd > restart) cwnd >>>= 1;
  c.cwnd = Math.max(cwnd, restart);
  c.cwndStamp = tcpJiffies32(c);
  c.cwndUsed = 0;
}

/**
 * tcp_cwnd_validate, after tcp_write_xmit sent new data or found cwnd full: records whether
 * this window is cwnd-limited and the most segments out (tcp_is_cwnd_limited reads them);
 * while not cwnd-limited for an RTO, cwnd decays towards what was used
 * (tcp_cwnd_application_limited).
 */
export function cwndValidate(c: TcpConn, isCwndLimited: boolean): void {
  const packetsOut = c.lossIfAny?.q.length ?? segs(c, c.flight); // tp->packets_out
  if (!seqLt(c.sndUna, c.cwndUsageSeq) || isCwndLimited || (!c.isCwndLimited && packetsOut > c.maxPacketsOut)) {
    c.isCwndLimited = isCwndLimited;
    c.maxPacketsOut = packetsOut;
    c.cwndUsageSeq = c.sndMax;
  }
  const now = tcpJiffies32(c);
  if (tcpIsCwndLimited(c)) {
    // The network is not under-utilized.
    c.cwndUsed = 0;
    c.cwndStamp = now;
    return;
  }
  // The network starves.
  if (packetsOut > c.cwndUsed) c.cwndUsed = packetsOut;
  const cfg = c.env.cfg;
  const rto = Math.round(c.rto / (1_000_000 / cfg.hz));
  if (cfg.tcp_slow_start_after_idle && ((now - c.cwndStamp) | 0) >= rto) {
    // tcp_cwnd_application_limited (SOCK_NOSPACE taken as a full send buffer).
    if (c.caState === CaState.Open && c.socket && c.sndBuf.free > 0) {
      const winUsed = Math.max(c.cwndUsed, cfg.tcp_initial_cwnd);
      if (winUsed < c.cwnd) {
        c.ssthresh = currentSsthresh(c);
        c.cwnd = (c.cwnd + winUsed) >>> 1;
      }
      c.cwndUsed = 0;
    }
    c.cwndStamp = now;
  }
}

/**
 * tcp_sndbuf_expand: Linux grows the send buffer with cwnd to 2 x cwnd x per-segment memory
 * (a 1448-byte segment costs a 4096-byte skb), between tcp_wmem[1] and tcp_wmem[2], unless
 * SO_SNDBUF fixed it. linger's buffer counts payload bytes, which skbs pack almost fully.
 */
export function sndbufExpand(c: TcpConn): void {
  if (c.opts.sndbufLocked) return;
  const cfg = c.env.cfg;
  const perMss = 2 ** Math.ceil(Math.log2(c.mssCache + 320 + 576)); // SKB_TRUESIZE(mss + MAX_TCP_HEADER), rounded up
  const want = Math.min(cfg.tcp_wmem[2], Math.max(c.opts.sndbuf, 2 * Math.max(c.cwnd, cfg.tcp_initial_cwnd) * perMss));
  if (want > c.sndBuf.limit) c.sndBuf.limit = want;
}
