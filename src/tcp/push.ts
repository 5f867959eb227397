// Where PSH goes: Linux sets TCPHDR_PSH on an skb (tcp_mark_push) and the flag stays with that
// skb, whenever it is sent or resent. linger's send queue is a byte stream, so the marks are
// kept as the sequence numbers at which a PSH-carrying skb ends (tcp_fragment leaves PSH on the
// later part, so the flag belongs to the skb's end; a segment carries PSH when a mark falls in
// it). skbs are MSS-sized (size_goal with gso_max_segs 1): the unsent ones are cut at the MSS
// from SND.NXT, all full but the tail.

import { PushMarks, type TcpConn } from './conn.ts';
import { seqAdd, seqGt, seqLe, seqLt } from './seq.ts';

function marks(c: TcpConn): PushMarks {
  // tcp_connect and tcp_create_openreq_child: pushed_seq = write_seq = ISN + 1.
  return c.push ?? (c.push = new PushMarks(seqAdd(c.iss, 1)));
}

/** tcp_mark_push: the skb ending at `end` carries PSH; pushed_seq = write_seq (= end here). */
function markPush(c: TcpConn, end: number): void {
  const p = marks(c);
  const e = p.ends;
  let drop = 0;
  while (drop < e.length && seqLe(e[drop]!, c.sndUna)) drop++;
  // In place, the array keeping its room: splice would build an array of the dropped marks, and
  // an array emptied shrinks, the next push allocating again.
  if (drop && drop === e.length) {
    e[0] = end >>> 0;
    e.length = 1;
  } else {
    if (drop) {
      e.copyWithin(0, drop);
      e.length -= drop;
    }
    if (e.length === 0 || seqGt(end, e[e.length - 1]!)) e.push(end >>> 0);
  }
  p.pushedSeq = end >>> 0;
}

/** forced_push: write_seq past pushed_seq + max_window / 2. */
const forcedPush = (c: TcpConn, writeSeq: number, p: PushMarks | null): boolean =>
  seqGt(writeSeq, seqAdd(p ? p.pushedSeq : seqAdd(c.iss, 1), c.maxWindow >>> 1));

/**
 * tcp_sendmsg_locked's marks for `n` bytes appended at c.writeSeq (before it moves): the first
 * copy into a non-full unsent tail skb clears its PSH; each skb the write fills, while more data
 * follows, is marked when forced_push holds; tcp_push marks the new tail unless MSG_MORE (or
 * forced_push). `more`: MSG_MORE, and the write was not cut short by the send buffer (the
 * wait_for_space push marks without MSG_MORE). Seen on 6.18: write(1500) then write(1000)
 * behind cwnd (MSS 1000) -> no PSH on the skb the second filled; send(200, MSG_MORE) after
 * write(1500) -> the 700-byte tail without PSH; 100000 bytes against a 65535 window -> PSH on
 * the skbs ending at 33001, 66001, 99001 and 100001.
 */
export function queueWrite(c: TcpConn, n: number, more: boolean): void {
  const mss = c.mssCache;
  const start = c.writeSeq;
  const end = (start + n) | 0; // as int32, as the skb ends below
  const unsent = seqLt(c.sndNxt, start) ? (start - c.sndNxt) >>> 0 : 0;
  const tail = unsent % mss; // bytes in a non-full unsent tail skb
  const p = c.push;
  if (tail && p !== null && p.ends.length && p.ends[p.ends.length - 1] === start) p.ends.pop();
  // Each skb end as an int32 (the same 32 bits; markPush stores the u32, the helpers compare mod
  // 2^32): no boxed number per skb.
  for (let e = (start + (tail ? mss - tail : mss)) | 0; seqLt(e, end); e = (e + mss) | 0) {
    if (forcedPush(c, e, c.push)) markPush(c, e);
  }
  if (!more || forcedPush(c, end, c.push)) markPush(c, end);
}

/** Whether a segment [seq, end) carries PSH: a marked skb end falls in (seq, end] (either may be an int32). */
export function pshIn(c: TcpConn, seq: number, end: number): boolean {
  const p = c.push;
  if (p === null) return false;
  const e = p.ends;
  for (let i = 0; i < e.length; i++) { // no iterator per segment sent
    const m = e[i]!;
    if (seqGt(m, end)) return false;
    if (seqGt(m, seq)) return true;
  }
  return false;
}

/** The first marked skb end in (seq, end] (either may be an int32), or null. */
export function firstPushMark(c: TcpConn, seq: number, end: number): number | null {
  const p = c.push;
  if (p === null) return null;
  const e = p.ends;
  for (let i = 0; i < e.length; i++) {
    const m = e[i]!;
    if (seqGt(m, end)) return null;
    if (seqGt(m, seq)) return m;
  }
  return null;
}

/**
 * tcp_write_wakeup sets PSH on the skb it sends part of; split by tcp_fragment, both parts keep
 * it. `sent`: the bytes that go from SND.NXT.
 */
export function markWindowProbe(c: TcpConn, sent: number): void {
  const seq = c.sndNxt;
  const skbEnd = seqAdd(seq, Math.min(c.mssCache, (c.writeSeq - seq) >>> 0));
  const end = seqAdd(seq, sent);
  const p = marks(c); // the flag set directly: pushed_seq stays
  if (seqLt(end, skbEnd)) insertMark(p, skbEnd);
  insertMark(p, end);
}

function insertMark(p: PushMarks, m: number): void {
  const e = p.ends;
  let i = e.length;
  while (i > 0 && seqGt(e[i - 1]!, m)) i--;
  if (i > 0 && e[i - 1] === m) return;
  e.splice(i, 0, m >>> 0);
}
