// Time is an integer number of microseconds in a plain number (exact up to 2^53).

/** A source of time in integer microseconds. */
export interface Clock {
  /** Now, in microseconds. */
  now(): number;
}

/** A clock that moves only when told to, and never backwards. */
export class VirtualClock implements Clock {
  private t: number;

  constructor(startUs = 0) {
    checkTime(startUs, 'startUs');
    this.t = startUs;
  }

  /** Now, in microseconds. */
  now(): number {
    return this.t;
  }

  /** Jump to an absolute time; RangeError if it is earlier than now. */
  set(us: number): void {
    checkTime(us, 'us');
    if (us < this.t) throw new RangeError(`VirtualClock.set: ${us} is before now (${this.t})`);
    this.t = us;
  }

  /** Moves the clock forward by deltaUs microseconds. */
  advance(deltaUs: number): void {
    checkTime(deltaUs, 'deltaUs');
    this.set(this.t + deltaUs);
  }
}

function checkTime(v: number, what: string): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${what} must be a non-negative safe integer, got ${v}`);
}
