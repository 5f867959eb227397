// A byte ring: the send queue (bytes from SND.UNA on) and the receive queue (in-order bytes
// not yet read). Capacity grows on demand up to a limit (SO_SNDBUF / SO_RCVBUF style).
//
// Like Linux, whose idle socket holds no skb, an empty ring holds no memory: its storage is
// taken on the first byte and, when it is of the base size, handed back to a small shared pool
// as soon as the ring empties (the next burst takes it back without allocating). Grown storage
// stays with its ring: a connection that needed it is moving data.

const BASE = 4096;
const POOL_MAX = 256;

/** A stack whose array keeps its room: Array pop() shrinks a nearly empty array and the next push() allocates again. */
class Stack<T> {
  private readonly a: Array<T | null> = [];
  length = 0;
  push(x: T): void {
    this.a[this.length++] = x;
  }
  pop(): T | undefined {
    if (this.length === 0) return undefined;
    const x = this.a[--this.length]!;
    this.a[this.length] = null;
    return x;
  }
}

const pool = new Stack<Uint8Array>();
const NONE = new Uint8Array(0);

/**
 * Memory for a copy handed to the application (recv): as with Node's Buffer.allocUnsafe, sizes
 * under 4 KiB come out of a shared pool (each a view no other copy overlaps) instead of an
 * ArrayBuffer of their own, whose allocation (zeroed memory) costs more than the copy. The pool
 * is 32 KiB, not Node's 8 KiB: a bulk reader takes one segment a wake-up, and a fresh 8 KiB
 * every five reads cost 7 % of a bulk transfer. A view kept for long keeps its pool alive.
 * Small copies too: a typed array V8 keeps in its heap (64 bytes or less) is moved out,
 * allocating and copying, the first time anyone takes a subarray.
 */
export function allocBytes(n: number): Uint8Array {
  if (n === 0 || n >= 4096) return new Uint8Array(n);
  if (poolOff + n > SMALL_POOL) {
    smallPool = new ArrayBuffer(SMALL_POOL);
    poolOff = 0;
  }
  const out = new Uint8Array(smallPool, poolOff, n);
  poolOff += (n + 7) & ~7;
  return out;
}
const SMALL_POOL = 32768;
let smallPool = new ArrayBuffer(0); // the first call takes a fresh pool
let poolOff = SMALL_POOL;

/**
 * A ring of STAGE_FROM bytes or more (a sender moving data) has a staging room of STAGE bytes
 * after its bytes, in the same ArrayBuffer: view() copies a segment of up to STAGE bytes there
 * with copyWithin and returns the room's view, made once per length. JavaScript copies a range
 * of one array into another only through a view of it (an object per segment sent) or a loop
 * (measured: 4x slower than a view and set for 1448 bytes); copyWithin and set of the kept view
 * cost what subarray and set did (43 vs 41 ns), with nothing allocated.
 */
const STAGE = 16384;
const STAGE_FROM = 65536;

/** What only a ring that moves data needs, apart (an idle connection's ring holds one null for it). */
class RingScratch {
  /** The ring's bytes and its staging room after them (one ArrayBuffer), or null when it has none. */
  whole: Uint8Array | null = null;
  /** The staging room's view view() last returned. */
  staged: Uint8Array | null = null;
  /**
   * The view push() last made of a source it took part of, and that source: a writer handing the
   * same buffer again and again, cut to the free space, has it made once. Kept while the ring
   * holds data.
   */
  partView: Uint8Array | null = null;
  partSrc: Uint8Array | null = null;
}

export class ByteRing {
  private buf: Uint8Array = NONE;
  private head = 0; // index of the first byte
  private len = 0;
  private readonly initial: number;
  private x: RingScratch | null = null;

  constructor(initial = BASE, public limit = 1 << 22) {
    this.initial = Math.max(16, Math.min(initial, limit));
  }

  /** New storage of cap bytes (with a staging room for a large ring). */
  private storage(cap: number): Uint8Array {
    const x = this.x;
    if (cap < STAGE_FROM) {
      if (x !== null) x.whole = x.staged = null;
      return new Uint8Array(cap);
    }
    const ab = new ArrayBuffer(cap + STAGE);
    const y = x ?? (this.x = new RingScratch());
    y.whole = new Uint8Array(ab);
    y.staged = null;
    return new Uint8Array(ab, 0, cap);
  }

  private take(need: number): void {
    if (this.initial === BASE && need <= BASE && pool.length) {
      this.buf = pool.pop()!;
      if (this.x !== null) this.x.whole = this.x.staged = null;
    } else {
      let cap = this.initial;
      while (cap < need) cap *= 2;
      this.buf = this.storage(cap);
    }
    this.head = 0;
  }

  private release(): void {
    if (this.buf.length === BASE && pool.length < POOL_MAX) {
      pool.push(this.buf);
      this.buf = NONE;
      this.x = null;
    } else if (this.x !== null) this.x.partView = this.x.partSrc = null;
    this.head = 0;
  }

  get length(): number {
    return this.len;
  }
  get free(): number {
    return this.limit - this.len;
  }

  private grow(need: number): void {
    let cap = this.buf.length;
    while (cap < need) cap *= 2;
    const nb = this.storage(cap);
    this.copyOut(0, this.len, nb, 0);
    this.buf = nb;
    this.head = 0;
  }

  /** Appends up to `free` bytes of src; returns how many were taken. */
  push(src: Uint8Array, start = 0, end = src.length): number {
    const n = Math.min(end - start, this.limit - this.len);
    if (n <= 0) return 0;
    if (this.buf.length === 0) this.take(n);
    if (this.len + n > this.buf.length) this.grow(this.len + n);
    const cap = this.buf.length;
    const tail = (this.head + this.len) % cap;
    const first = Math.min(n, cap - tail);
    if (n <= 32 && first === n) {
      // Small writes: a byte loop beats making a subarray view to copy from.
      const b = this.buf;
      for (let k = 0; k < n; k++) b[tail + k] = src[start + k]!;
    } else {
      this.buf.set(start === 0 && first === src.length ? src : this.part(src, start, first), tail);
      if (first < n) this.buf.set(src.subarray(start + first, start + n), 0);
    }
    this.len += n;
    return n;
  }

  /** src[start, start + n) as a view: the one push() last made when it is the same. */
  private part(src: Uint8Array, start: number, n: number): Uint8Array {
    const x = this.x ?? (this.x = new RingScratch());
    const v = x.partView;
    if (v !== null && x.partSrc === src && v.length === n && v.byteOffset === src.byteOffset + start) return v;
    const view = src.subarray(start, start + n);
    x.partView = view;
    x.partSrc = src;
    return view;
  }

  /** Copies bytes [offset, offset+n) of the queue into dst at dstOff. */
  copyOut(offset: number, n: number, dst: Uint8Array, dstOff: number): void {
    if (n <= 0) return;
    const cap = this.buf.length;
    const s = (this.head + offset) % cap;
    const first = Math.min(n, cap - s);
    dst.set(this.buf.subarray(s, s + first), dstOff);
    if (first < n) dst.set(this.buf.subarray(0, n - first), dstOff + first);
  }

  /** A fresh copy of bytes [offset, offset+n). */
  slice(offset: number, n: number): Uint8Array {
    const out = allocBytes(n);
    this.copyOut(offset, n, out, 0);
    return out;
  }

  /**
   * Bytes [offset, offset+n): in a ring with a staging room and up to STAGE bytes, copied there
   * (the same view for the same length, nothing allocated); else without a copy when they are
   * contiguous in the ring (a copy when they wrap). Valid only until the ring next changes or
   * view() is called again: for a segment encoded at once.
   */
  view(offset: number, n: number): Uint8Array {
    const cap = this.buf.length;
    const s = (this.head + offset) % cap;
    const x = this.x;
    const w = x === null ? null : x.whole;
    if (w !== null && n <= STAGE) {
      const first = Math.min(n, cap - s);
      w.copyWithin(cap, s, s + first);
      if (first < n) w.copyWithin(cap + first, 0, n - first);
      let v = x!.staged;
      if (v === null || v.length !== n) x!.staged = v = new Uint8Array(w.buffer, cap, n);
      return v;
    }
    if (s + n <= cap) return this.buf.subarray(s, s + n);
    return this.slice(offset, n);
  }

  /** Drops n bytes from the front. */
  consume(n: number): void {
    if (n > this.len) n = this.len;
    if (n <= 0) return;
    this.head = (this.head + n) % this.buf.length;
    this.len -= n;
    if (this.len === 0) this.release();
  }

  clear(): void {
    this.len = 0;
    this.release();
  }
}

const NO_SEGS: Uint8Array[] = [];
const NO_META: number[] = [];
/** Arrays of emptied queues, for the next queue that fills (no arrays built per burst). */
const segsPool = new Stack<Uint8Array[]>();
const metaPool = new Stack<number[]>();

/**
 * The truesize of a received segment of `len` bytes as the kernel's link (tun, linear skbs)
 * allocates it: NET_SKB_PAD + IPv4 and TCP headers with timestamps, aligned to 64, plus
 * skb_shared_info (320), in a power-of-two kmalloc bucket, plus struct sk_buff (256). A 1448-byte
 * segment costs 2304 (observed on 6.18: window clamp 80480 = (131072 - 2304) * 160 / 256).
 */
export function skbTruesize(len: number): number {
  return kmallocBucket(Math.ceil((64 + 72 + len) / 64) * 64 + 320) + 256;
}

/**
 * The truesize of a GSO/GRO super-packet of `len` bytes in segments of `gsoSize`: each segment's
 * skbTruesize, summed, as skb_gro_receive adds each merged skb's truesize, so a link that hands
 * over super-packets charges the receive queue what the same segments one by one would.
 */
export function groTruesize(len: number, gsoSize: number): number {
  const full = Math.floor(len / gsoSize);
  const rest = len - full * gsoSize;
  return full * skbTruesize(gsoSize) + (rest ? skbTruesize(rest) : 0);
}

/**
 * Where a head of `size` bytes comes from (kmalloc_reserve): the skb_small_head_cache (576 bytes,
 * SKB_HEAD_ALIGN(MAX_TCP_HEADER)) when it fits, else a power-of-two kmalloc bucket. Seen on
 * 6.18: a 1-byte segment charges 832 = 576 + 256 (ss -tm, out-of-order flood on tun).
 */
function kmallocBucket(size: number): number {
  if (size <= SKB_SMALL_HEAD) return SKB_SMALL_HEAD;
  let bucket = 1024;
  while (bucket < size) bucket *= 2;
  return bucket;
}

/**
 * The room left at the end of such a segment's buffer: skb_try_coalesce copies a following
 * segment's payload into it when it fits (delta truesize 0); a tun skb's head is not a page
 * fragment, so a payload that does not fit stays a separate skb.
 */
export function skbTailroom(len: number): number {
  return kmallocBucket(Math.ceil((64 + 72 + len) / 64) * 64 + 320) - 320 - (64 + 72 + len);
}

/** SKB_MAX_ORDER(0, 0): the most a buffer tcp_collapse allocates holds (a page less skb_shared_info). */
export const COLLAPSE_CHUNK = 4096 - 320;

/** SKB_SMALL_HEAD_CACHE_SIZE on x86-64. */
const SKB_SMALL_HEAD = 576;

/** The truesize of a buffer tcp_collapse allocates for `len` bytes (alloc_skb: kmalloc bucket + struct sk_buff). */
export function collapsedTruesize(len: number): number {
  return kmallocBucket(Math.ceil(len / 64) * 64 + 320) + 256;
}

/**
 * The receive queue: in-order bytes not yet read, kept as the payload views of the segments
 * that brought them (as Linux's sk_receive_queue keeps the skbs), not copied into a ring; the
 * one copy is recv()'s, into memory the application owns. A packet handed to the host must not
 * be modified afterwards (as a driver hands an skb over). Empty, it holds no array.
 */
export class SegmentQueue {
  /** Entry i: bytes segs[i][meta[3i], meta[3i+1]), charged meta[3i+2] (its skb truesize). */
  private segs: Uint8Array[] = NO_SEGS;
  private meta: number[] = NO_META;
  private first = 0; // the first live entry
  private count = 0; // entries in use, from 0: [first, count) are live
  private skip = 0; // bytes already consumed from the first entry
  private len = 0;
  /** Memory charged for the queued segments (Linux sk_rmem_alloc: each skb's truesize until it is read whole). */
  charged = 0;
  /** The room left in the last queued segment's buffer (skb_tailroom of the queue's tail). */
  private tailroom = 0;

  /**
   * `cost`: the memory one queued segment of that many bytes is charged (0 by default); `room`:
   * the tailroom its buffer leaves (none by default).
   */
  constructor(public limit = 1 << 22, private readonly cost: (len: number) => number = () => 0, private readonly room: (len: number) => number = () => 0) {}

  get length(): number {
    return this.len;
  }
  get free(): number {
    return this.limit - this.len;
  }

  /**
   * Queues up to `free` bytes of src[start, end) (no copy: the range of src is kept as the
   * segment's, no view is made), charged `charge` (default: the cost of its length); returns
   * how many.
   */
  push(src: Uint8Array, start = 0, end = src.length, charge = -1): number {
    const n = Math.min(end - start, this.limit - this.len);
    if (n <= 0) return 0;
    if (this.segs === NO_SEGS) {
      this.segs = segsPool.pop() ?? [];
      this.meta = metaPool.pop() ?? [];
    }
    if (this.len > 0 && charge < 0 && n <= this.tailroom) {
      // tcp_queue_rcv -> tcp_try_coalesce: the payload is copied into the tail skb's room (delta
      // truesize 0); the tail's charge moves to the new last entry, released when it is read.
      this.tailroom -= n;
      const last = 3 * (this.count - 1) + 2;
      const moved = this.meta[last]!;
      this.meta[last] = 0;
      this.put(src, start, start + n, moved);
    } else {
      const cost = charge >= 0 ? charge : this.cost(n);
      this.put(src, start, start + n, cost);
      this.charged += cost;
      // A GRO packet's payload sits in page fragments: no tailroom to coalesce into.
      this.tailroom = charge >= 0 ? 0 : this.room(n);
    }
    this.len += n;
    return n;
  }

  private put(src: Uint8Array, start: number, end: number, cost: number): void {
    const i = this.count++;
    if (i < this.segs.length) {
      this.segs[i] = src;
      this.meta[3 * i] = start;
      this.meta[3 * i + 1] = end;
      this.meta[3 * i + 2] = cost;
    } else {
      this.segs.push(src);
      this.meta.push(start, end, cost);
    }
  }

  private entryLength(i: number): number {
    return this.meta[3 * i + 1]! - this.meta[3 * i]!;
  }

  /** Copies bytes [offset, offset+n) of the queue into out at outOff (a whole entry without a view). */
  copyOut(offset: number, n: number, out: Uint8Array, outOff = 0): void {
    let at = 0;
    let skip = this.skip + offset;
    for (let i = this.first; at < n && i < this.count; i++) {
      const s = this.segs[i]!;
      const a = this.meta[3 * i]!;
      const l = this.meta[3 * i + 1]! - a;
      if (skip >= l) {
        skip -= l;
        continue;
      }
      const take = Math.min(l - skip, n - at);
      out.set(a + skip === 0 && take === s.length ? s : s.subarray(a + skip, a + skip + take), outOff + at);
      at += take;
      skip = 0;
    }
  }

  /** A fresh copy of bytes [offset, offset+n). */
  slice(offset: number, n: number): Uint8Array {
    const out = allocBytes(n);
    this.copyOut(offset, n, out);
    return out;
  }

  /**
   * Whether a queued entry is `a` or `b` (a packet, or the payload view made of it), looking at
   * the last `limit` entries only: with more queued and neither found, it cannot tell and says yes.
   */
  holds(a: Uint8Array, b: Uint8Array | null, limit = 16): boolean {
    if (this.len === 0) return false;
    const segs = this.segs;
    const stop = Math.max(this.first, this.count - limit);
    for (let i = this.count - 1; i >= stop; i--) if (segs[i] === a || segs[i] === b) return true;
    return stop > this.first;
  }

  /** Bytes left in the first queued segment (Linux: the skb a read copies from next). */
  headLength(): number {
    return this.len === 0 ? 0 : this.entryLength(this.first) - this.skip;
  }

  /** Drops n bytes from the front. */
  consume(n: number): void {
    if (n > this.len) n = this.len;
    if (n <= 0) return;
    this.len -= n;
    if (this.len === 0) {
      this.clear();
      return;
    }
    const segs = this.segs;
    let skip = this.skip + n;
    let i = this.first;
    while (skip >= this.entryLength(i)) {
      skip -= this.entryLength(i);
      this.charged -= this.meta[3 * i + 2]!;
      segs[i++] = NONE; // let the packet go
    }
    this.first = i;
    this.skip = skip;
    if (i > 64 && i * 2 > this.count) {
      segs.copyWithin(0, i, this.count);
      this.meta.copyWithin(0, 3 * i, 3 * this.count);
      for (let k = this.count - i; k < this.count; k++) segs[k] = NONE;
      this.count -= i;
      this.first = 0;
    }
  }

  /**
   * tcp_collapse on the receive queue (from copied_seq to rcv_nxt): from the first segment whose
   * charge is worth more window than the bytes it holds (`wasteful`), every byte left is copied
   * into compact buffers of at most `chunk` bytes, each charged `chunkCost`. Returns how many
   * segments were freed (TCPRcvCollapsed).
   */
  collapse(wasteful: (truesize: number, len: number) => boolean, chunk: number, chunkCost: (len: number) => number): number {
    let i = this.first;
    while (i < this.count && !wasteful(this.meta[3 * i + 2]!, this.entryLength(i))) i++;
    if (i >= this.count) return 0;
    const skip = i === this.first ? this.skip : 0;
    let bytes = 0;
    for (let k = i; k < this.count; k++) bytes += this.entryLength(k);
    bytes -= skip;
    const offset = this.len - bytes;
    const data = this.slice(offset, bytes);
    const freed = this.count - i;
    for (let k = i; k < this.count; k++) {
      this.charged -= this.meta[3 * k + 2]!;
      this.segs[k] = NONE;
    }
    this.count = i;
    if (i === this.first) this.skip = 0;
    for (let at = 0; at < bytes; at += chunk) {
      const n = Math.min(chunk, bytes - at);
      const cost = chunkCost(n);
      this.put(data, at, at + n, cost);
      this.charged += cost;
    }
    this.tailroom = 0; // a collapsed buffer is sized to its bytes
    return freed;
  }

  /** Empty: the arrays go back to the pool (an empty queue holds none). */
  clear(): void {
    if (this.segs !== NO_SEGS) {
      for (let k = this.first; k < this.count; k++) this.segs[k] = NONE;
      if (segsPool.length < POOL_MAX && this.segs.length <= 1024) {
        segsPool.push(this.segs);
        metaPool.push(this.meta);
      }
    }
    this.segs = NO_SEGS;
    this.meta = NO_META;
    this.first = 0;
    this.count = 0;
    this.skip = 0;
    this.len = 0;
    this.charged = 0;
    this.tailroom = 0;
  }
}
