// Memory bounds. Receive side (Linux tcp_input.c): whether a received segment may be charged to the
// socket (tcp_try_rmem_schedule, tcp_can_ingest), and what is done when it may not: the
// queues are compacted (tcp_prune_queue, tcp_collapse, tcp_collapse_ofo_queue), then
// out-of-order data is thrown away from the highest sequence down (tcp_prune_ofo_queue), and
// only then is the segment itself dropped. sk_rmem_alloc is autotune.ts rmemAlloc. Send side:
// sk_wmem_queued, and tcp_fragment's refusal to split when the queue is far over sk_sndbuf
// (CVE-2019-11478). Host side: the pages a socket holds toward tcp_mem (host.ts sums them),
// and tcp_check_oom for orphans (tcp_max_orphans) and memory.

import { rcvbuf, rcvSpace, rmemAlloc, winFromSpace } from './autotune.ts';
import { COLLAPSE_CHUNK, collapsedTruesize } from './buffer.ts';
import { NO_SACKED, type OfoSegment, type TcpConn } from './conn.ts';
import { seqGt } from './seq.ts';

/**
 * tcp_can_ingest (6.16+, "tcp: stronger sk_rcvbuf checks"): what the arriving segment counts
 * (`size`) fits under sk_rcvbuf with what is charged. Seen on 6.18: out of order, sk_rcvbuf 8192
 * holds ten 1-byte segments (768 each) and 8800 eleven, as if the segment counted its truesize;
 * in order, 8800 takes a fourth 1000-byte segment over 6912 charged, as if it counted its length
 * (input.ts passes each).
 */
export const canIngest = (c: TcpConn, size: number): boolean => rmemAlloc(c) + size <= rcvbuf(c);

/** tcp_under_memory_pressure: the host's tcp_mem pressure state. */
export const underMemoryPressure = (c: TcpConn): boolean => c.env.memoryPressure();

/**
 * tcp_try_rmem_schedule for a segment starting at `seq` that would be charged
 * `truesize`: true when it may be queued. Over sk_rcvbuf (or refused by tcp_mem, sk_rmem_schedule)
 * the queues are pruned first; false means the caller drops it (TCPRcvQDrop or TCPOFODrop).
 */
export function tryRmemSchedule(c: TcpConn, seq: number, truesize: number): boolean {
  if (canIngest(c, truesize) && c.env.rmemSchedule(c, truesize)) return true;
  if (!pruneQueue(c, seq, truesize)) return false;
  while (!c.env.rmemSchedule(c, truesize)) {
    if (!pruneOfoQueue(c, seq, truesize)) return false;
  }
  return true;
}

/**
 * tcp_prune_queue: counted PruneCalled; the window is clamped to what the socket holds; then
 * both queues are collapsed, then out-of-order data pruned; false (RcvPruned) when the segment
 * still does not fit ("Massive buffer overcommit").
 */
function pruneQueue(c: TcpConn, seq: number, truesize: number): boolean {
  const counters = c.env.counters;
  counters.inc('PruneCalled');
  if (!canIngest(c, truesize)) clampWindow(c);
  else if (underMemoryPressure(c)) c.rcvSsthresh = Math.min(c.rcvSsthresh, 4 * c.advMss); // tcp_adjust_rcv_ssthresh
  if (canIngest(c, truesize)) return true;
  collapseOfoQueue(c);
  if (c.rcvBuf.length) {
    const collapsed = c.rcvBuf.collapse((truesize, n) => winFromSpace(c, truesize) > n, COLLAPSE_CHUNK, collapsedTruesize);
    if (collapsed) counters.inc('TCPRcvCollapsed', collapsed);
  }
  if (canIngest(c, truesize)) return true;
  pruneOfoQueue(c, seq, truesize);
  if (canIngest(c, truesize)) return true;
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
export function pruneOfoQueue(c: TcpConn, seq: number, truesize: number): boolean {
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
      if (canIngest(c, truesize) && !underMemoryPressure(c)) break;
      goal = rcvbuf(c) >> 3;
    }
  }
  if (pruned) {
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

/** sk_mem_pages of what a connection holds (sk_rmem_alloc + sk_wmem_queued), its share of tcp_memory_allocated. */
export const memPages = (c: TcpConn): number => Math.ceil((rmemAlloc(c) + wmemQueued(c)) / 4096);

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
