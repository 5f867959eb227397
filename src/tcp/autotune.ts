// The receive buffer and its autotuning (Linux tcp_input.c): the memory a received segment is
// charged (skb truesize), the bytes-to-window ratio (scaling_ratio), tcp_init_buffer_space, the
// receiver's RTT estimate (tcp_rcv_rtt_measure, tcp_rcv_rtt_measure_ts) and Dynamic Right-Sizing
// (tcp_rcv_space_adjust, tcp_rcvbuf_grow) under net.ipv4.tcp_moderate_rcvbuf.

import type { RcvSpace as RcvSpaceState, TcpConn } from './conn.ts';
import { skbTruesize } from './buffer.ts';
import { seqLt } from './seq.ts';

export { skbTruesize };

/** TCP_RMEM_TO_WIN_SCALE: scaling_ratio is the share of buffer memory a window may use, in 1/256. */
const RMEM_TO_WIN_SCALE = 8;
/** TCP_DEFAULT_SCALING_RATIO: 50 % until the first segment is measured (observed on 6.18: window clamp 65536 - 1448 for tcp_rmem[1] 131072). */
export const DEFAULT_SCALING_RATIO = 128;
/** TCP_INIT_CWND: rcvq_space starts at no more than ten segments. */
const TCP_INIT_CWND = 10;

/** The receive-side memory state of a connection (sk_rcvbuf, scaling_ratio, rcvq_space, rcv_rtt_est). */
export class RcvSpace implements RcvSpaceState {
  /** sk_rcvbuf: what DRS grows. */
  rcvbuf: number;
  /** tp->scaling_ratio. */
  ratio = DEFAULT_SCALING_RATIO;
  /** rcvq_space.space, .seq, .time: bytes the application read in the last measured RTT. */
  space = 0;
  seq = 0;
  time = 0;
  /** rcv_rtt_est.rtt_us (<< 3, as Linux keeps it), .seq, .time; rcv_rtt_last_tsecr. */
  rttUs = 0;
  rttSeq = 0;
  rttTime = 0;
  lastTsecr = 0;
  nomem = false;
  reserved = 0;
  predWnd = -1;
  constructor(rcvbuf: number) {
    this.rcvbuf = rcvbuf;
  }
}

/** The connection's receive memory state, made on first use. */
export function rcvSpace(c: TcpConn): RcvSpace {
  return c.rcvSpace ?? (c.rcvSpace = new RcvSpace(c.opts.rcvbuf));
}

/** sk_rcvbuf: SO_RCVBUF or tcp_rmem[1], as DRS grew it. */
export const rcvbuf = (c: TcpConn): number => (c.rcvSpace ? c.rcvSpace.rcvbuf : c.opts.rcvbuf);

/** tcp_win_from_space: the window `space` bytes of buffer memory are worth. */
export const winFromSpace = (c: TcpConn, space: number): number =>
  Math.floor((space * (c.rcvSpace ? c.rcvSpace.ratio : DEFAULT_SCALING_RATIO)) / (1 << RMEM_TO_WIN_SCALE));

/** tcp_space_from_win: the buffer memory a window needs. */
export const spaceFromWin = (c: TcpConn, win: number): number =>
  Math.floor((win * (1 << RMEM_TO_WIN_SCALE)) / (c.rcvSpace ? c.rcvSpace.ratio : DEFAULT_SCALING_RATIO));

/** tcp_full_space. */
export const fullSpace = (c: TcpConn): number => winFromSpace(c, rcvbuf(c));

/** sk_rmem_alloc: the truesize of every skb held, in order (receive queue) and out of order. */
export function rmemAlloc(c: TcpConn): number {
  let charged = c.rcvBuf.charged;
  const ofo = c.ofo;
  for (let i = 0; i < ofo.length; i++) charged += ofo[i]!.truesize; // no iterator per call
  return charged;
}

/** tcp_space: the window the memory not yet charged (in order and out of order) is worth. */
export function freeSpace(c: TcpConn): number {
  return Math.max(0, winFromSpace(c, rcvbuf(c) - rmemAlloc(c)));
}

/** advmss once established: the timestamp option taken out (tcp_rcv_state_process, tcp_rcv_synsent_state_process). */
export const advmssEst = (c: TcpConn): number => c.advMss - (c.tsOk ? 12 : 0);

/**
 * tcp_init_buffer_space, when the connection is established: the window clamp becomes the full
 * space less one segment (tcp_app_win 31 reserves one), rcv_ssthresh no more than it, and the
 * first measure of the reading rate starts, at no more than ten segments.
 */
export function initBufferSpace(c: TcpConn): void {
  const r = rcvSpace(c);
  const advmss = advmssEst(c);
  r.time = c.env.now();
  r.seq = c.rcvNxt;
  const maxwin = fullSpace(c);
  let clamp = c.windowClamp || 0xffff << 14;
  if (clamp >= maxwin) clamp = maxwin;
  if (clamp > 2 * advmss && clamp + advmss > maxwin) clamp = Math.max(2 * advmss, maxwin - advmss);
  c.windowClamp = clamp;
  c.rcvSsthresh = Math.min(c.rcvSsthresh, clamp);
  r.space = Math.min(c.rcvSsthresh, c.rcvWnd, TCP_INIT_CWND * advmss);
}

/**
 * tcp_set_window_clamp: a smaller clamp pulls rcv_ssthresh down (__tcp_adjust_rcv_ssthresh); a
 * larger one lets it up to the window offered.
 */
function setWindowClamp(c: TcpConn, val: number): void {
  const old = c.windowClamp;
  const clamp = Math.max(2304 / 2, val); // SOCK_MIN_RCVBUF / 2
  if (clamp === old) return;
  c.windowClamp = clamp;
  if (clamp < old) c.rcvSsthresh = Math.min(c.rcvSsthresh, clamp);
  else c.rcvSsthresh = Math.max(Math.min(c.rcvWnd, clamp), c.rcvSsthresh);
}

/**
 * tcp_measure_rcv_mss for a segment of at least rcv_mss bytes (`len`: gso_size for a GRO
 * packet, else its length): when that differs from rcv_mss, scaling_ratio becomes the skb's
 * length / truesize, and the window clamp follows the buffer.
 */
export function measureRcvMss(c: TcpConn, len: number, skbLen = len, truesize = skbTruesize(skbLen)): void {
  if (len < c.rcvMss) return;
  if (len !== c.rcvMss) {
    const r = rcvSpace(c);
    const old = r.ratio;
    r.ratio = Math.floor((skbLen * (1 << RMEM_TO_WIN_SCALE)) / truesize) || 1;
    if (r.ratio !== old && c.windowClamp) {
      setWindowClamp(c, winFromSpace(c, r.rcvbuf));
      if (c.windowClamp < r.space) r.space = c.windowClamp;
    }
  }
  c.rcvMss = Math.min(len, advmssEst(c));
}

/**
 * tcp_grow_window for an in-order segment of `len` bytes (at least 128): rcv_ssthresh climbs by
 * two segments when the segment's memory is worth no more window than it carries, else by
 * __tcp_grow_window's rule, up to the clamp and the free space.
 */
export function growWindow(c: TcpConn, len: number, truesize = skbTruesize(len)): void {
  const clamp = c.windowClamp || fullSpace(c);
  const room = Math.min(clamp, freeSpace(c)) - c.rcvSsthresh;
  if (room <= 0) return;
  let incr: number;
  if (winFromSpace(c, truesize) <= len) incr = 2 * advmssEst(c);
  else {
    incr = 0;
    let ts = winFromSpace(c, truesize) >> 1;
    let window = winFromSpace(c, c.env.cfg.tcp_rmem[2]) >> 1;
    while (c.rcvSsthresh <= window) {
      if (ts <= len) {
        incr = 2 * c.rcvMss;
        break;
      }
      ts >>= 1;
      window >>= 1;
    }
  }
  if (incr) {
    c.rcvSsthresh += Math.min(room, Math.max(incr, 2 * len));
    c.quick |= 1; // icsk_ack.quick |= 1: the ACK of this segment goes at once
  }
}

/** tcp_rcv_rtt_update: the receiver's RTT, in µs << 3; a per-window sample only lowers it. */
function rcvRttUpdate(r: RcvSpace, sample: number, winDep: boolean): void {
  let est = r.rttUs;
  if (est !== 0) {
    if (!winDep) est += sample - (est >> 3);
    else if (sample << 3 < est) est = sample << 3;
  } else est = sample << 3;
  r.rttUs = est;
}

/** tcp_rcv_rtt_measure (tcp_event_data_recv): once per window of data received, without timestamps. */
export function rcvRttMeasure(c: TcpConn): void {
  const r = rcvSpace(c);
  const now = c.env.now();
  if (r.rttTime !== 0) {
    if (seqLt(c.rcvNxt, r.rttSeq)) return;
    rcvRttUpdate(r, Math.max(1, now - r.rttTime), true);
  }
  r.rttSeq = (c.rcvNxt + c.rcvWnd) >>> 0;
  r.rttTime = now;
}

/**
 * tcp_rcv_rtt_measure_ts: a segment of at least rcv_mss bytes echoing a TS val not seen before
 * gives a sample, our clock now less the echoed value, in whole milliseconds (0 gives none).
 * Both stamps come as int32 (the same 32 bits as the u32s): only compared and subtracted.
 */
export function rcvRttMeasureTs(c: TcpConn, tsEcr: number, len: number, tsNowMs: number): void {
  const r = rcvSpace(c);
  if (tsEcr === r.lastTsecr) return;
  r.lastTsecr = tsEcr;
  if (len < c.rcvMss) return;
  const delta = (tsNowMs - tsEcr) >>> 0;
  if (delta === 0 || delta >= 0x7fffffff / 1000) return;
  rcvRttUpdate(r, delta * 1000, false);
}

/**
 * tcp_rcv_space_adjust, after the application read (tcp_recvmsg): once per receiver RTT, the
 * bytes read in it (less what is still queued) measure the rate; a rate above the last grows
 * the buffer (tcp_rcvbuf_grow), unless SO_RCVBUF fixed it or tcp_moderate_rcvbuf is 0.
 */
export function rcvSpaceAdjust(c: TcpConn, copiedSeq: number): void {
  const r = c.rcvSpace;
  if (!r) return;
  const now = c.env.now();
  const time = now - r.time;
  if (r.rttUs === 0 || time < r.rttUs >> 3) return;
  const inq = (c.rcvNxt - copiedSeq) | 0;
  const copied = ((copiedSeq - r.seq) | 0) - inq;
  if (copied > r.space) rcvbufGrow(c, r, copied);
  r.seq = copiedSeq;
  r.time = now;
}

/**
 * tcp_rcvbuf_grow: the window wanted is twice what was read in the last RTT (DRS is an RTT
 * late), plus room for the sender doubling its rate again as it just did, plus the out-of-order
 * data; the buffer is the memory that window needs, up to tcp_rmem[2], and the clamp follows.
 */
export function rcvbufGrow(c: TcpConn, r: RcvSpace, newval: number): void {
  const oldval = r.space;
  r.space = newval;
  if (!c.env.cfg.tcp_moderate_rcvbuf || c.opts.rcvbufLocked) return;
  let rcvwin = newval * 2;
  rcvwin += Math.floor((rcvwin * (newval - oldval)) / oldval) * 2;
  if (c.ofo.length) rcvwin += (c.ofo[c.ofo.length - 1]!.end - c.rcvNxt) >>> 0;
  const buf = Math.min(spaceFromWin(c, rcvwin), c.env.cfg.tcp_rmem[2]);
  if (buf > r.rcvbuf) {
    c.rcvBuf.limit += buf - r.rcvbuf; // the queue's byte limit keeps its slack (RCV_SLACK)
    r.rcvbuf = buf;
    c.windowClamp = winFromSpace(c, buf);
  }
}
