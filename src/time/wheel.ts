// Hierarchical timer wheel with exact deadlines.
//
// 9 levels of 64 slots cover 54 bits at 1 µs resolution, so every safe-integer deadline fits
// and no overflow list is needed. A timer sits at the level of the highest 6-bit group in which
// its deadline differs from the wheel position `pos` (the Tokio layout): level 0 slots hold one
// exact deadline each; a level L >= 1 slot holds deadlines within one 64^L µs span and is cascaded
// down when `pos` reaches the start of that span. Deadlines below `pos` (armed in the past) go to
// an overdue list that fires first. Each level has a 64-bit occupancy bitmap (two int32 words)
// and each slot caches its minimum deadline, so nextDeadline() is exact without scanning timers.
// Order: deadline, then arming sequence. Every slot list is in arming order by construction (a cascade
// empties a slot into lower slots that are all empty, before any direct arm can reach them), so only the
// overdue list, whose deadlines differ, is ever sorted: lazily, when it fires.

const LEVELS = 9;
const OVERDUE = LEVELS * 64; // index of the overdue list
const NSLOTS = OVERDUE + 1;
const POW: readonly number[] = Array.from({ length: LEVELS + 1 }, (_, l) => 2 ** (6 * l));
const TWO32 = 4294967296;

/** An intrusive timer: allocate once, arm and cancel as often as needed without allocation. */
export class Timer<T> {
  /** What the wheel hands to `fire`; an intrusive entry sets it to itself (TcpTimer). */
  protected _payload: T;
  /** @internal */ _next: Timer<T> | null = null;
  /** @internal */ _prev: Timer<T> | null = null;
  /** @internal slot index in the owning wheel, -1 when not armed */ _slot = -1;
  /** @internal -1 when not armed (a small integer, not a NaN box) */ _deadline = -1;
  /** @internal arming sequence, breaks deadline ties */ _seq = 0;
  /** @internal */ _wheel: TimerWheel<T> | null = null;

  constructor(payload: T) {
    this._payload = payload;
  }

  get payload(): T {
    return this._payload;
  }

  get armed(): boolean {
    return this._slot >= 0;
  }

  /** The deadline in µs while armed; NaN when not armed (also after it fired or was cancelled). */
  get deadline(): number {
    return this._slot >= 0 ? this._deadline : NaN;
  }
}

/** Index of the first set bit at position >= k (0..64) in the 64-bit map (lo, hi), or -1. */
function firstFrom(lo: number, hi: number, k: number): number {
  if (k < 32) {
    const m = lo & (-1 << k);
    if (m !== 0) return 31 - Math.clz32(m & -m);
    return hi !== 0 ? 63 - Math.clz32(hi & -hi) : -1;
  }
  if (k < 64) {
    const m = hi & (-1 << (k - 32));
    return m !== 0 ? 63 - Math.clz32(m & -m) : -1;
  }
  return -1;
}

/** Level for deadline d >= pos: index of the highest differing bit, divided by 6. */
function levelFor(d: number, pos: number): number {
  const xh = Math.floor(d / TWO32) ^ Math.floor(pos / TWO32);
  if (xh !== 0) return ((63 - Math.clz32(xh)) / 6) | 0;
  return ((31 - Math.clz32(d ^ pos)) / 6) | 0; // -1/6 | 0 === 0 when equal
}

export class TimerWheel<T> {
  private pos: number;
  private count = 0;
  private seq = 0;
  private firing = false;
  private readonly heads: Array<Timer<T> | null> = new Array<Timer<T> | null>(NSLOTS).fill(null);
  private readonly tails: Array<Timer<T> | null> = new Array<Timer<T> | null>(NSLOTS).fill(null);
  /** Occupancy: level L uses words 2L (slots 0..31) and 2L+1 (slots 32..63). */
  private readonly bits = new Int32Array(LEVELS * 2);
  /** Per-slot minimum deadline; NaN = unknown (recomputed on demand). */
  private readonly mins = new Float64Array(NSLOTS);
  /** How many timers of the slot have its cached minimum deadline: removing one of several keeps the cache. */
  private readonly minCounts = new Uint32Array(NSLOTS);
  /** The overdue list is not in (deadline, seq) order. */
  private overdueUnsorted = false;

  constructor(nowUs = 0) {
    if (!Number.isSafeInteger(nowUs) || nowUs < 0) throw new RangeError(`TimerWheel: bad start time ${nowUs}`);
    this.pos = nowUs;
  }

  /** Number of armed timers. */
  get size(): number {
    return this.count;
  }

  /** The time of the last expire() (or the start time). */
  get now(): number {
    return this.pos;
  }

  /** Arm, or re-arm (which counts as a new arming for tie order). O(1). */
  schedule(timer: Timer<T>, deadlineUs: number): void {
    if (!Number.isSafeInteger(deadlineUs)) throw new RangeError(`TimerWheel.schedule: deadline must be a safe integer, got ${deadlineUs}`);
    if (timer._slot >= 0) {
      if (timer._wheel !== this) throw new Error('TimerWheel.schedule: timer is armed on another wheel');
      this.unlink(timer);
    } else {
      timer._wheel = this;
      this.count++;
    }
    timer._deadline = deadlineUs;
    timer._seq = ++this.seq;
    this.insert(timer);
  }

  /** Disarm. O(1); no-op if not armed. */
  cancel(timer: Timer<T>): void {
    if (timer._slot < 0) return;
    if (timer._wheel !== this) throw new Error('TimerWheel.cancel: timer is armed on another wheel');
    this.unlink(timer);
    this.count--;
    timer._deadline = -1;
    timer._wheel = null;
  }

  /** Exact earliest deadline, Infinity when empty. O(levels), plus one slot scan if its cached minimum was cancelled. */
  nextDeadline(): number {
    if (this.heads[OVERDUE] !== null) return this.slotMin(OVERDUE);
    const pos = this.pos;
    const b = this.bits;
    const s0 = firstFrom(b[0], b[1], pos & 63);
    if (s0 >= 0) return pos - (pos & 63) + s0;
    for (let l = 1; l < LEVELS; l++) {
      const s = firstFrom(b[2 * l], b[2 * l + 1], (Math.floor(pos / POW[l]) & 63) + 1);
      if (s >= 0) return this.slotMin(l * 64 + s);
    }
    return Infinity;
  }

  /**
   * Fire every timer with deadline <= nowUs, in (deadline, arming order). The timer is disarmed before
   * its callback, which may schedule or cancel anything; timers it arms due <= nowUs fire in this call.
   * nowUs must not be before the previous expire(). Returns the number fired.
   */
  expire(nowUs: number, fire: (payload: T, deadline: number) => void): number {
    if (!Number.isSafeInteger(nowUs)) throw new RangeError(`TimerWheel.expire: bad time ${nowUs}`);
    if (nowUs < this.pos) throw new RangeError(`TimerWheel.expire: ${nowUs} is before ${this.pos}`);
    if (this.firing) throw new Error('TimerWheel.expire: re-entered from a callback');
    this.firing = true;
    let n = 0;
    const b = this.bits;
    try {
      outer: for (;;) {
        if (this.heads[OVERDUE] !== null) {
          this.fireHead(OVERDUE, fire);
          n++;
          continue;
        }
        const pos = this.pos;
        const s0 = firstFrom(b[0], b[1], pos & 63);
        if (s0 >= 0) {
          const t = pos - (pos & 63) + s0;
          if (t > nowUs) break;
          this.pos = t;
          this.fireHead(s0, fire);
          n++;
          continue;
        }
        for (let l = 1; l < LEVELS; l++) {
          const s = firstFrom(b[2 * l], b[2 * l + 1], (Math.floor(pos / POW[l]) & 63) + 1);
          if (s < 0) continue;
          const t = pos - (pos % POW[l + 1]) + s * POW[l];
          if (t > nowUs) break outer;
          this.pos = t;
          this.cascade(l * 64 + s);
          continue outer;
        }
        break;
      }
      this.pos = nowUs;
    } finally {
      this.firing = false;
    }
    return n;
  }

  private insert(timer: Timer<T>): void {
    const d = timer._deadline;
    let idx: number;
    if (d < this.pos) {
      idx = OVERDUE;
    } else {
      const l = levelFor(d, this.pos);
      const s = l === 0 ? d & 63 : Math.floor(d / POW[l]) & 63;
      idx = l * 64 + s;
      this.bits[2 * l + (s >>> 5)] |= 1 << (s & 31);
    }
    const tail = this.tails[idx];
    timer._slot = idx;
    timer._prev = tail;
    timer._next = null;
    if (tail === null) {
      this.heads[idx] = timer;
      this.mins[idx] = d;
      this.minCounts[idx] = 1;
    } else {
      tail._next = timer;
      if (d < this.mins[idx]) {
        this.mins[idx] = d; // NaN stays NaN
        this.minCounts[idx] = 1;
      } else if (d === this.mins[idx]) this.minCounts[idx]!++;
      if (tail._deadline > d && idx === OVERDUE) this.overdueUnsorted = true;
    }
    this.tails[idx] = timer;
  }

  private unlink(timer: Timer<T>): void {
    const idx = timer._slot;
    const p = timer._prev;
    const nx = timer._next;
    if (p === null) this.heads[idx] = nx;
    else p._next = nx;
    if (nx === null) this.tails[idx] = p;
    else nx._prev = p;
    timer._prev = null;
    timer._next = null;
    timer._slot = -1;
    if (this.heads[idx] === null) {
      if (idx !== OVERDUE) this.bits[2 * (idx >>> 6) + ((idx & 63) >>> 5)] &= ~(1 << (idx & 31));
      else this.overdueUnsorted = false;
    } else if (timer._deadline === this.mins[idx] && --this.minCounts[idx]! === 0) {
      this.mins[idx] = NaN;
    }
  }

  private fireHead(idx: number, fire: (payload: T, deadline: number) => void): void {
    if (idx === OVERDUE && this.overdueUnsorted) this.sortOverdue();
    const timer = this.heads[idx]!;
    const d = timer._deadline;
    this.unlink(timer);
    this.count--;
    timer._deadline = -1;
    timer._wheel = null;
    fire(timer.payload, d);
  }

  /** Move every timer of a higher-level slot down, relative to the current position. */
  private cascade(idx: number): void {
    let t = this.heads[idx];
    this.heads[idx] = null;
    this.tails[idx] = null;
    this.bits[2 * (idx >>> 6) + ((idx & 63) >>> 5)] &= ~(1 << (idx & 31));
    while (t !== null) {
      const nx = t._next;
      this.insert(t);
      t = nx;
    }
  }

  private sortOverdue(): void {
    const idx = OVERDUE;
    const list: Array<Timer<T>> = [];
    for (let t = this.heads[idx]; t !== null; t = t._next) list.push(t);
    list.sort((x, y) => x._deadline - y._deadline || x._seq - y._seq);
    let prev: Timer<T> | null = null;
    for (const t of list) {
      t._prev = prev;
      if (prev === null) this.heads[idx] = t;
      else prev._next = t;
      prev = t;
    }
    prev!._next = null;
    this.tails[idx] = prev;
    this.overdueUnsorted = false;
  }

  private slotMin(idx: number): number {
    let m = this.mins[idx];
    if (Number.isNaN(m)) {
      m = Infinity;
      let n = 0;
      for (let t = this.heads[idx]; t !== null; t = t._next) {
        if (t._deadline < m) {
          m = t._deadline;
          n = 1;
        } else if (t._deadline === m) n++;
      }
      this.mins[idx] = m;
      this.minCounts[idx] = n;
    }
    return m;
  }
}
