// Memory bounds. Receive side (Linux tcp_input.c): whether a received segment may be charged to the
// socket (tcp_try_rmem_schedule, tcp_can_ingest), and what is done when it may not: the
// queues are compacted (tcp_prune_queue, tcp_collapse, tcp_collapse_ofo_queue), then
// out-of-order data is thrown away from the highest sequence down (tcp_prune_ofo_queue), and
// only then is the segment itself dropped. sk_rmem_alloc is autotune.ts rmemAlloc. Send side:
// sk_wmem_queued, and tcp_fragment's refusal to split when the queue is far over sk_sndbuf
// (CVE-2019-11478). Host side: the pages a socket holds toward tcp_mem (host.ts sums them),
// and tcp_check_oom for orphans (tcp_max_orphans) and memory.

import { rcvbuf, rcvSpace, rmemAlloc, winFromSpace } from './autotune.ts';
import { ACK, PSH, type TcpRepr } from '../wire/types.ts';
import { RxSegment } from '../wire/segment.ts';
import { COLLAPSE_CHUNK, collapsedTruesize } from './buffer.ts';
import { NO_SACKED, type OfoSegment, type TcpConn } from './conn.ts';
import { seqGt } from './seq.ts';
import { TcpState } from './states.ts';

/**
 * tcp_can_ingest (6.16+, "tcp: stronger sk_rcvbuf checks", then skb->len): the arriving
 * segment's bytes fit under sk_rcvbuf with what is charged. Seen on 6.18 (ss -tm after each
 * segment, docs/linux-observations.md): out of order, sk_rcvbuf 8800 took an 11th 1-byte segment
 * over 8320 charged (832 each) and refused a 12th over 9152; in order, a 4th 1000-byte one over 6912.
 */
export const canIngest = (c: TcpConn, len: number): boolean => rmemAlloc(c) + len <= rcvbuf(c);

/** tcp_under_memory_pressure: the host's tcp_mem pressure state. */
export const underMemoryPressure = (c: TcpConn): boolean => c.env.memoryPressure();

const PAGE = 4096;

/**
 * sk_forward_alloc: receive memory reserved from tcp_mem and not yet charged. linger keeps the
 * receive side's only; Linux's send side draws on the same reserve.
 */
export const forwardAlloc = (c: TcpConn): number => (c.rcvSpace ? c.rcvSpace.reserved : 0) - rmemAlloc(c);

/** sk_rmem_schedule: reserve the pages `truesize` needs beyond sk_forward_alloc, if tcp_mem allows. */
function rmemSchedule(c: TcpConn, truesize: number): boolean {
  const delta = truesize - forwardAlloc(c);
  if (delta <= 0) return true;
  if (!c.env.rmemSchedule(c, delta)) return false;
  reservePages(c, delta);
  return true;
}

/** sk_forward_alloc grows in whole pages (sk_mem_pages). */
const reservePages = (c: TcpConn, delta: number): void => {
  rcvSpace(c).reserved += Math.ceil(delta / PAGE) * PAGE;
};

/** sk_forced_mem_schedule: the pages reserved whatever tcp_mem says. */
export function forcedMemSchedule(c: TcpConn, truesize: number): void {
  const delta = truesize - forwardAlloc(c);
  if (delta > 0) reservePages(c, delta);
}

/** sk_mem_reclaim, after memory is uncharged (6.x, every sk_mem_uncharge): whole free pages go back. */
export function memReclaim(c: TcpConn): void {
  const f = forwardAlloc(c);
  if (f >= PAGE) rcvSpace(c).reserved -= Math.floor(f / PAGE) * PAGE;
}

/**
 * tcp_fast_path_on: header prediction expects the peer's window as it is now (pred_flags); the
 * header length and flags it expects are checked in headerPredicted.
 */
export function fastPathOn(c: TcpConn): void {
  rcvSpace(c).predWnd = c.sndWnd >>> c.sndWscale;
}

/** pred_flags = 0: out-of-order data, a zero window offered, a window update to recheck. */
export function fastPathOff(c: TcpConn): void {
  if (c.rcvSpace) c.rcvSpace.predWnd = -1;
}

/** tcp_fast_path_check: on again when no out-of-order data waits, the window is open and the memory under sk_rcvbuf. */
export function fastPathCheck(c: TcpConn): void {
  if (!c.ofo.length && c.rcvWnd && rmemAlloc(c) < rcvbuf(c)) fastPathOn(c);
}

/**
 * tcp_rcv_established's header prediction, at the segment's arrival: ESTABLISHED, pred_flags
 * on and matched (only ACK, PSH aside; the window field it expects; the header length
 * negotiated: no options, or exactly nop,nop,timestamp with a TSval not older than TS.Recent),
 * SEQ = RCV.NXT and an ACK of nothing unsent. Its "bulk data transfer" path queues in-order
 * data with no sk_rcvbuf check when sk_forward_alloc covers the truesize (see dataQueue).
 */
export function headerPredicted(c: TcpConn, seg: TcpRepr): boolean {
  const r = c.rcvSpace;
  if (!r || r.predWnd < 0 || c.state !== TcpState.ESTABLISHED) return false;
  if ((seg.flags & ~PSH) !== ACK || seg.window !== r.predWnd || seg.seq !== c.rcvNxt || seqGt(seg.ack, c.sndMax)) return false;
  // A segment the fast decoder read says its layout without building the option list.
  const layout = seg instanceof RxSegment ? seg.fastLayout : null;
  if (layout !== null) {
    if (!c.tsOk) return layout === 'none';
    return layout === 'ts' && (((seg as RxSegment).tsVal - c.tsRecent) | 0) >= 0;
  }
  const o = seg.options;
  if (!c.tsOk) return o.length === 0;
  if (o.length !== 3 || o[0]!.kind !== 'nop' || o[1]!.kind !== 'nop') return false;
  const ts = o[2]!;
  return ts.kind === 'timestamp' && ((ts.val - c.tsRecent) | 0) >= 0;
}

/**
 * tcp_try_rmem_schedule for a segment of `len` bytes starting at `seq` that would be charged
 * `truesize`: true when it may be queued. Over sk_rcvbuf (or refused by tcp_mem, sk_rmem_schedule)
 * the queues are pruned first; false means the caller drops it (TCPRcvQDrop or TCPOFODrop).
 */
export function tryRmemSchedule(c: TcpConn, seq: number, len: number, truesize: number): boolean {
  if (canIngest(c, len) && rmemSchedule(c, truesize)) return true;
  if (!pruneQueue(c, seq, len)) return false;
  while (!rmemSchedule(c, truesize)) {
    if (!pruneOfoQueue(c, seq, len)) return false;
  }
  return true;
}

/**
 * tcp_prune_queue: counted PruneCalled; the window is clamped to what the socket holds; then
 * both queues are collapsed, then out-of-order data pruned; false (RcvPruned) when the segment
 * still does not fit ("Massive buffer overcommit").
 */
function pruneQueue(c: TcpConn, seq: number, len: number): boolean {
  const counters = c.env.counters;
  counters.inc('PruneCalled');
  if (!canIngest(c, len)) clampWindow(c);
  else if (underMemoryPressure(c)) c.rcvSsthresh = Math.min(c.rcvSsthresh, 4 * c.advMss); // tcp_adjust_rcv_ssthresh
  if (canIngest(c, len)) return true;
  collapseOfoQueue(c);
  if (c.rcvBuf.length) {
    const collapsed = c.rcvBuf.collapse((truesize, n) => winFromSpace(c, truesize) > n, COLLAPSE_CHUNK, collapsedTruesize);
    if (collapsed) counters.inc('TCPRcvCollapsed', collapsed);
  }
  memReclaim(c); // the collapsed skbs freed
  if (canIngest(c, len)) return true;
  pruneOfoQueue(c, seq, len);
  if (canIngest(c, len)) return true;
  counters.inc('RcvPruned');
  return false;
}

/**
 * tcp_clamp_window: quickack mode ends; an unlocked buffer below tcp_rmem[2] grows to what is
 * charged (not under memory pressure nor above tcp_mem[0]); still over it, rcv_ssthresh falls to
 * two segments.
 */
function clampWindow(c: TcpConn): void {
  const r = rcvSpace(c);
  const rmem2 = c.env.cfg.tcp_rmem[2];
  c.quick = 0;
  const alloc = rmemAlloc(c);
  if (r.rcvbuf < rmem2 && !c.opts.rcvbufLocked && !underMemoryPressure(c) && c.env.memoryAllocated() < c.env.cfg.tcp_mem[0]) {
    r.rcvbuf = Math.min(alloc, rmem2);
  }
  if (alloc > r.rcvbuf) c.rcvSsthresh = Math.min(c.windowClamp || c.rcvSsthresh, 2 * c.advMss);
}

/**
 * tcp_collapse_ofo_queue: each range of contiguous out-of-order data held in more than one skb
 * (or a page or more) whose memory is worth more window than its bytes is copied into compact
 * buffers; ranges of a single tiny skb are left as they are, and once those add up to an eighth
 * of the buffer the walk stops (CVE-2018-5390, "do not attempt collapsing tiny skbs").
 *
 * linger keeps a range as one entry with its skb count, so "wasteful" is judged on the range's
 * total, where Linux judges skb by skb.
 */
function collapseOfoQueue(c: TcpConn): void {
  let sumTiny = 0;
  for (const s of c.ofo) {
    const len = s.end - s.seq;
    if (s.skbs > 1 || len >= COLLAPSE_CHUNK) {
      if (winFromSpace(c, s.truesize) > len) collapseOfo(c, s, len);
    } else {
      sumTiny += s.truesize;
      if (sumTiny > rcvbuf(c) >> 3) return;
    }
  }
}

function collapseOfo(c: TcpConn, s: OfoSegment, len: number): void {
  c.env.counters.inc('TCPRcvCollapsed', s.skbs);
  let truesize = 0;
  let skbs = 0;
  let last = 0;
  for (let at = 0; at < len; at += COLLAPSE_CHUNK) {
    last = Math.min(COLLAPSE_CHUNK, len - at);
    truesize += collapsedTruesize(last);
    skbs++;
  }
  s.truesize = truesize;
  s.skbs = skbs;
  s.tailroom = 0; // a collapsed buffer takes no coalescing (it is not the rbtree's receiving skb)
}

/**
 * tcp_prune_ofo_queue: out-of-order data goes from the highest sequence down, an eighth of the
 * buffer at a time until the segment fits (and the host is not under pressure), never the data
 * above which the arriving segment would land; the SACK blocks are forgotten (tcp_sack_reset).
 * OfoPruned when anything went. linger drops a whole range where Linux may keep its lower skbs.
 */
export function pruneOfoQueue(c: TcpConn, seq: number, len: number): boolean {
  const q = c.ofo;
  if (!q.length) return false;
  let goal = rcvbuf(c) >> 3;
  let pruned = false;
  while (q.length) {
    const s = q[q.length - 1]!;
    if (seqGt(seq, s.seq)) break; // the arriving segment would land last: stop
    pruned = true;
    q.pop();
    goal -= s.truesize;
    if (!q.length || goal <= 0) {
      if (canIngest(c, len) && !underMemoryPressure(c)) break;
      goal = rcvbuf(c) >> 3;
    }
  }
  if (pruned) {
    memReclaim(c);
    c.env.counters.inc('OfoPruned');
    if (c.sackOk) {
      c.rcvSacks = NO_SACKED;
      c.dsack = null;
    }
  }
  return pruned;
}

/** The truesize of an skb of the write queue: alloc_skb_fclone(MAX_TCP_HEADER) (896) plus its payload in page fragments. */
export const TX_SKB_OVERHEAD = 896;

/** sk_wmem_queued: the write queue (sent and not acknowledged, and unsent) as one-MSS skbs. */
export function wmemQueued(c: TcpConn): number {
  const bytes = c.sndBuf.length;
  if (!bytes) return 0;
  return bytes + Math.ceil(bytes / Math.max(1, c.mssCache)) * TX_SKB_OVERHEAD;
}

/** SKB_TRUESIZE(GSO_LEGACY_MAX_SIZE): the slack tcp_fragment allows twice over sk_sndbuf. */
const GSO_LEGACY_TRUESIZE = 65536 + 256 + 320;

/**
 * tcp_fragment's guard (CVE-2019-11478): an skb of the retransmission queue that is neither its
 * head nor its tail is not split while half of sk_wmem_queued exceeds sk_sndbuf plus twice a
 * 64 KiB skb's truesize (TCPWqueueTooBig; the caller gets -ENOMEM and sends nothing).
 */
export function fragmentAllowed(c: TcpConn, i: number): boolean {
  const q = c.loss.q;
  if (i === 0 || i === q.length - 1) return true;
  if (wmemQueued(c) >> 1 <= c.sndBuf.limit + 2 * GSO_LEGACY_TRUESIZE) return true;
  c.env.counters.inc('TCPWqueueTooBig');
  return false;
}

/**
 * The pages a connection holds in tcp_memory_allocated: what its receive side reserved
 * (sk_forward_alloc + sk_rmem_alloc, whole pages) and sk_wmem_queued (an estimate).
 */
export const memPages = (c: TcpConn): number => Math.ceil((Math.max(c.rcvSpace ? c.rcvSpace.reserved : 0, rmemAlloc(c)) + wmemQueued(c)) / PAGE);

/**
 * tcp_check_oom (tcp.c): too many orphans (the count seen, shifted left by `shift`, above
 * tcp_max_orphans) or out of socket memory (tcp_out_of_memory: more than SOCK_MIN_SNDBUF queued
 * while tcp_mem[2] is exceeded); each logs its kernel line (net_info_ratelimited), here a trace note.
 */
export function checkOom(c: TcpConn, shift: number): boolean {
  const orphans = c.env.tooManyOrphans(shift);
  const oom = wmemQueued(c) > SOCK_MIN_SNDBUF && c.env.memoryAllocated() > c.env.cfg.tcp_mem[2];
  if (orphans) c.env.kernelNote('too many orphaned sockets');
  if (oom) c.env.kernelNote('out of memory -- consider tuning tcp_mem');
  return orphans || oom;
}

/** SOCK_MIN_SNDBUF: 2 * (2048 + sizeof(struct sk_buff)), as 6.x computes it. */
const SOCK_MIN_SNDBUF = 4608;
