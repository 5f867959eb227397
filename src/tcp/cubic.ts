// CUBIC (RFC 9438) with HyStart, computed as Linux's net/ipv4/tcp_cubic.c (6.x) computes it:
// the same integer arithmetic (cube root by table and one Newton step, K in 1/1024 s, the
// cubic curve scaled for a 100 ms RTT), in jiffies where Linux counts jiffies and µs where it
// counts µs (HyStart). Also here: the tcp_cong.c helpers both controls use (tcp_slow_start,
// tcp_cong_avoid_ai, tcp_is_cwnd_limited) and the ops interface (struct tcp_congestion_ops).
// Module parameters at their defaults (/sys/module/tcp_cubic/parameters on 6.18): beta 717,
// bic_scale 41, fast_convergence 1, tcp_friendliness 1, hystart 1, hystart_detect 3,
// hystart_low_window 16, hystart_ack_delta_us 2000, initial_ssthresh 0.

import type { TcpConn } from './conn.ts';
import { jiffyUs, usecsToJiffies } from '../time/jiffies.ts';
import { CaState } from './rtxqueue.ts';
import { seqGt } from './seq.ts';

/** TCP_INFINITE_SSTHRESH: ssthresh before the first loss (tcpi_snd_ssthresh 2147483647). */
export const TCP_INFINITE_SSTHRESH = 0x7fffffff;

/** struct tcp_congestion_ops: what a congestion control decides, per connection. */
export interface CongestionOps {
  readonly name: string;
  /** .ssthresh: the slow-start threshold after a loss (called once per loss episode). */
  ssthresh(c: TcpConn): number;
  /** .cong_avoid: cwnd growth for `acked` segments newly delivered outside cwnd reduction. */
  congAvoid(c: TcpConn, acked: number): void;
  /** .undo_cwnd: cwnd when a reduction proves spurious. */
  undoCwnd(c: TcpConn): number;
  /** .set_state: the connection enters tcp_ca_state `state`. */
  setState(c: TcpConn, state: number): void;
  /** .cwnd_event(CA_EVENT_TX_START): data is sent with nothing in flight. */
  txStart(c: TcpConn): void;
  /** .pkts_acked: an ACK delivered `acked` segments; `rttUs` is its RTT sample, < 0 for none. */
  pktsAcked(c: TcpConn, acked: number, rttUs: number): void;
  /** .init (tcp_init_congestion_control, tcp_reinit_congestion_control). */
  init(c: TcpConn): void;
  /** The ops want a per-ACK RTT sample (pkts_acked does something). */
}

/**
 * tcp_jiffies32 at `us` of the connection's clock: jiffies start at INITIAL_JIFFIES (-300 s) as
 * Linux's do. The u32 is returned as an int32 (the same 32 bits; a uint32 that high would be a
 * boxed number): its users only compare stamps with each other or take differences (| 0).
 */
export function jiffiesAt(c: TcpConn, us: number): number {
  const hz = c.env.cfg.hz;
  return (Math.floor(us / jiffyUs(hz)) - 300 * hz) | 0;
}

export const tcpJiffies32 = (c: TcpConn): number => jiffiesAt(c, c.env.now());


/** tcp_in_slow_start. */
export const tcpInSlowStart = (c: TcpConn): boolean => c.cwnd < c.ssthresh;

/**
 * tcp_is_cwnd_limited: the last flight filled cwnd (tcp_cwnd_validate's is_cwnd_limited), or,
 * in slow start, cwnd is below twice the most segments that were out in the last window.
 */
export function tcpIsCwndLimited(c: TcpConn): boolean {
  if (c.isCwndLimited) return true;
  if (tcpInSlowStart(c)) return c.cwnd < 2 * c.maxPacketsOut;
  return false;
}

/** tcp_slow_start: cwnd grows by the segments acknowledged up to ssthresh; returns those left over. */
export function tcpSlowStart(c: TcpConn, acked: number): number {
  const cwnd = Math.min(c.cwnd + acked, c.ssthresh);
  acked -= cwnd - c.cwnd;
  c.cwnd = cwnd;
  return acked;
}

/** tcp_cong_avoid_ai: one segment per `w` segments acknowledged (snd_cwnd_cnt keeps the count). */
export function tcpCongAvoidAi(c: TcpConn, w: number, acked: number): void {
  // If credits accumulated at a higher w, apply them gently now.
  if (c.cwndCnt >= w) {
    c.cwndCnt = 0;
    c.cwnd++;
  }
  let cnt = c.cwndCnt + acked;
  if (cnt >= w) {
    const delta = Math.floor(cnt / w);
    cnt -= delta * w;
    c.cwnd += delta;
  }
  c.cwndCnt = cnt;
}

// --- CUBIC -------------------------------------------------------------------------------

const BICTCP_BETA_SCALE = 1024;
const BICTCP_HZ = 10;
const BETA = 717;
const BIC_SCALE = 41;
const HYSTART_LOW_WINDOW = 16;
const HYSTART_ACK_DELTA_US = 2000;
const HYSTART_MIN_SAMPLES = 8;
const HYSTART_DELAY_MIN = 4000;
const HYSTART_DELAY_MAX = 16000;

/** 8*(1024+717)/3/(1024-717) = 15: TCP friendliness' Reno-equivalent growth, scaled by 8. */
export const BETA_SCALE = Math.floor(Math.floor((8 * (BICTCP_BETA_SCALE + BETA)) / 3) / (BICTCP_BETA_SCALE - BETA));
/** bic_scale * 10 = 410: 1024*C/rtt with C = 0.4 and rtt 100 ms. */
export const CUBE_RTT_SCALE = BIC_SCALE * 10;
/** 2^40 / 410 = 2681735677: (wmax - cwnd) to K^3 in (1/1024 s)^3. */
export const CUBE_FACTOR = 2n ** BigInt(10 + 3 * BICTCP_HZ) / BigInt(BIC_SCALE * 10);

/** cbrt(x) MSB values for x MSB values in [0..63] (cubic_root's table, by Willy Tarreau). */
const CBRT_V = [
  0, 54, 54, 54, 118, 118, 118, 118,
  123, 129, 134, 138, 143, 147, 151, 156,
  157, 161, 164, 168, 170, 173, 176, 179,
  181, 185, 187, 190, 192, 194, 197, 199,
  200, 202, 204, 206, 209, 211, 213, 215,
  217, 219, 221, 222, 224, 225, 227, 229,
  231, 232, 234, 236, 237, 239, 240, 242,
  244, 245, 246, 248, 250, 251, 252, 254,
];

/** cubic_root: the cube root of a u64 by table lookup and one Newton-Raphson step (avg error 0.195%). */
export function cubicRoot(a: bigint): number {
  let b = a === 0n ? 0 : a.toString(2).length; // fls64
  if (b < 7) return (CBRT_V[Number(a)]! + 35) >>> 6;
  b = ((b * 84) >>> 8) - 1;
  const shift = Number(a >> BigInt(b * 3));
  let x = (((CBRT_V[shift]! + 10) << b) >>> 0) >>> 6;
  // x(k+1) = (2 * x(k) + a / x(k)^2) / 3, with x*(x-1) for x^2 as Linux has it.
  x = (2 * x + Number(a / (BigInt(x) * BigInt(x - 1)))) >>> 0;
  x = ((x * 341) >>> 10) >>> 0; // the multiplication stays within 2^53: x < 2^22
  return x;
}

/** struct bictcp: CUBIC's and HyStart's state (icsk_ca_priv), allocated on first use. */
export class Bictcp {
  cnt = 0; // increase cwnd by 1 after this many ACKed segments
  lastMaxCwnd = 0; // W_max
  lastCwnd = 0;
  lastTime = 0; // jiffies of the last update
  bicOriginPoint = 0;
  bicK = 0; // time to the origin point, in 1/1024 s
  delayMin = 0; // µs
  epochStart = 0; // jiffies, 0 = no epoch
  ackCnt = 0;
  tcpCwnd = 0; // the Reno-equivalent window (TCP friendliness)
  sampleCnt = 0;
  found = false;
  roundStart = 0; // µs
  endSeq = 0;
  lastAck = 0; // µs
  currRtt = 0; // µs, the minimum RTT of this round
}

function ca(c: TcpConn): Bictcp {
  let s = c.caPriv as Bictcp | null;
  if (!s) {
    s = new Bictcp();
    c.caPriv = s;
    hystartReset(c, s);
  }
  return s;
}

/** bictcp_reset: everything but HyStart's round back to zero. */
function bictcpReset(s: Bictcp): void {
  s.cnt = s.lastMaxCwnd = s.lastCwnd = s.lastTime = s.bicOriginPoint = s.bicK = 0;
  s.delayMin = s.epochStart = s.ackCnt = s.tcpCwnd = s.sampleCnt = 0;
  s.found = false;
}

/** bictcp_hystart_reset: a new round starts now, ending when snd_nxt (SND.MAX) is acknowledged. */
function hystartReset(c: TcpConn, s: Bictcp): void {
  s.roundStart = s.lastAck = c.env.now();
  s.endSeq = c.sndMax;
  s.currRtt = 0xffffffff;
  s.sampleCnt = 0;
}

/** The state of a connection's CUBIC, for tests and inspection (allocated if it was not). */
export const cubicState = (c: TcpConn): Bictcp => ca(c);

/**
 * bictcp_update: cnt, the segments to acknowledge per cwnd increment, from the cubic curve
 * W(t) = C(t - K)^3 + W_max and the Reno-equivalent window (TCP friendliness).
 */
export function bictcpUpdate(c: TcpConn, s: Bictcp, cwnd: number, acked: number): void {
  const hz = c.env.cfg.hz;
  const now = tcpJiffies32(c);
  s.ackCnt = (s.ackCnt + acked) >>> 0;
  // Update 32 times per second if RTT > 1/32 s, or every RTT if shorter, even when
  // last_cwnd == cwnd (6.11's "run bictcp_update() at least once per RTT").
  if (s.lastCwnd === cwnd && ((now - s.lastTime) | 0) <= Math.min(Math.floor(hz / 32), usecsToJiffies(s.delayMin, hz))) return;
  // The cubic function updates cnt at most once per jiffy; a reduction zeroes epoch_start.
  if (!(s.epochStart && now === s.lastTime)) {
    s.lastCwnd = cwnd;
    s.lastTime = now;
    if (s.epochStart === 0) {
      s.epochStart = now; // record the beginning of an epoch
      s.ackCnt = acked; // start counting
      s.tcpCwnd = cwnd; // sync with cubic
      if (s.lastMaxCwnd <= cwnd) {
        s.bicK = 0;
        s.bicOriginPoint = cwnd;
      } else {
        // K = cbrt((wmax - cwnd) * rtt / C), in 1/1024 s
        s.bicK = cubicRoot(CUBE_FACTOR * BigInt(s.lastMaxCwnd - cwnd));
        s.bicOriginPoint = s.lastMaxCwnd;
      }
    }
    // t: time since the epoch began plus the minimum delay, in 1/1024 s (BICTCP_HZ).
    let t = ((now - s.epochStart) | 0) + usecsToJiffies(s.delayMin, hz);
    t = Math.floor((t * 1024) / hz);
    const offs = t < s.bicK ? s.bicK - t : t - s.bicK;
    // c/rtt * (t-K)^3, in u32 as Linux keeps delta
    const delta = Number((BigInt(CUBE_RTT_SCALE) * BigInt(offs) ** 3n) >> BigInt(10 + 3 * BICTCP_HZ)) >>> 0;
    const bicTarget = (t < s.bicK ? s.bicOriginPoint - delta : s.bicOriginPoint + delta) >>> 0;
    s.cnt = bicTarget > cwnd ? Math.floor(cwnd / (bicTarget - cwnd)) : 100 * cwnd;
    // The initial growth may be too conservative while the bandwidth is unknown: 5% per RTT.
    if (s.lastMaxCwnd === 0 && s.cnt > 20) s.cnt = 20;
  }
  // TCP friendliness: grow as Reno with beta 0.7 would, and never slower than that.
  const delta = (cwnd * BETA_SCALE) >>> 3;
  if (delta > 0 && s.ackCnt > delta) {
    const n = Math.floor(s.ackCnt / delta);
    s.ackCnt -= n * delta;
    s.tcpCwnd += n;
  }
  if (s.tcpCwnd > cwnd) {
    const maxCnt = Math.floor(cwnd / (s.tcpCwnd - cwnd));
    if (s.cnt > maxCnt) s.cnt = maxCnt;
  }
  // At most one segment per two acknowledged: cwnd grows at most 1.5x per RTT.
  s.cnt = Math.max(s.cnt, 2);
}

/** hystart_update: the ACK-train and delay detectors end slow start (ssthresh = cwnd). */
function hystartUpdate(c: TcpConn, s: Bictcp, delay: number): void {
  if (seqGt(c.sndUna, s.endSeq)) hystartReset(c, s);
  // HyStart triggers when cwnd is larger than some threshold.
  if (c.cwnd < HYSTART_LOW_WINDOW) return;
  const counters = c.env.counters;
  // ACK train: ACKs closely spaced (2 ms) for longer than delay_min / 2 since the round began
  // (no pacing: sk_pacing_rate 0 without fq, so hystart_ack_delay is 0).
  const now = c.env.now();
  if (((now - s.lastAck) | 0) <= HYSTART_ACK_DELTA_US) {
    s.lastAck = now;
    const threshold = s.delayMin >>> 1;
    if (((now - s.roundStart) | 0) > threshold) {
      s.found = true;
      counters.inc('TCPHystartTrainDetect');
      counters.inc('TCPHystartTrainCwnd', c.cwnd);
      c.ssthresh = c.cwnd;
    }
  }
  // Delay: the round's minimum RTT over 8 samples exceeds delay_min by delay_min/8 (4..16 ms).
  if (s.currRtt > delay) s.currRtt = delay;
  if (s.sampleCnt < HYSTART_MIN_SAMPLES) {
    s.sampleCnt++;
  } else if (s.currRtt > s.delayMin + Math.min(Math.max(s.delayMin >>> 3, HYSTART_DELAY_MIN), HYSTART_DELAY_MAX)) {
    s.found = true;
    counters.inc('TCPHystartDelayDetect');
    counters.inc('TCPHystartDelayCwnd', c.cwnd);
    c.ssthresh = c.cwnd;
  }
}

export const CUBIC: CongestionOps = {
  name: 'cubic',
  init(c) {
    const s = ca(c);
    bictcpReset(s);
    hystartReset(c, s);
  },
  /** cubictcp_recalc_ssthresh: W_max with fast convergence; cwnd * 717/1024, at least 2. */
  ssthresh(c) {
    const s = ca(c);
    s.epochStart = 0; // end of epoch
    if (c.cwnd < s.lastMaxCwnd) s.lastMaxCwnd = Math.floor((c.cwnd * (BICTCP_BETA_SCALE + BETA)) / (2 * BICTCP_BETA_SCALE));
    else s.lastMaxCwnd = c.cwnd;
    return Math.max(Math.floor((c.cwnd * BETA) / BICTCP_BETA_SCALE), 2);
  },
  /** cubictcp_cong_avoid. */
  congAvoid(c, acked) {
    if (!tcpIsCwndLimited(c)) return;
    if (tcpInSlowStart(c)) {
      acked = tcpSlowStart(c, acked);
      if (!acked) return;
    }
    const s = ca(c);
    bictcpUpdate(c, s, c.cwnd, acked);
    tcpCongAvoidAi(c, s.cnt, acked);
  },
  undoCwnd: (c) => Math.max(c.cwnd, c.priorCwnd),
  /** cubictcp_state: a retransmission timeout forgets the curve and restarts HyStart. */
  setState(c, state) {
    if (state !== CaState.Loss) return;
    const s = ca(c);
    bictcpReset(s);
    hystartReset(c, s);
  },
  /** cubictcp_cwnd_event(CA_EVENT_TX_START): idle time does not count on the cubic curve. */
  txStart(c) {
    const s = c.caPriv as Bictcp | null;
    if (!s || !s.epochStart) return;
    const now = tcpJiffies32(c);
    const delta = (now - jiffiesAt(c, c.lsndtime)) | 0;
    if (delta <= 0) return;
    s.epochStart = (s.epochStart + delta) >>> 0;
    if (seqGt(s.epochStart, now)) s.epochStart = now;
  },
  /** cubictcp_acked: delay_min, and HyStart while in slow start. */
  pktsAcked(c, _acked, rttUs) {
    if (rttUs < 0) return; // some calls are for duplicates without timestamps
    const s = ca(c);
    // Discard delay samples right after fast recovery.
    if (s.epochStart && ((tcpJiffies32(c) - s.epochStart) | 0) < c.env.cfg.hz) return;
    const delay = rttUs === 0 ? 1 : rttUs;
    if (s.delayMin === 0 || s.delayMin > delay) s.delayMin = delay;
    if (!s.found && tcpInSlowStart(c)) hystartUpdate(c, s, delay);
  },
};

