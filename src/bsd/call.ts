// Blocking calls in virtual time. A call that may block is a Call: its first attempt runs at
// once (what a non-blocking socket returns); while it is blocked, poll() tries again, as the
// kernel retries a sleeping call when the socket is woken. Whoever moves time (a Driver for
// the async API, or a script runner stepping the network itself) calls poll() after each step.

import type { Network } from '../sim/network.ts';

/** Returned by an attempt that has to wait. */
export const BLOCKED: unique symbol = Symbol('blocked');
export type Attempt<R> = () => R | typeof BLOCKED;

export class Call<R> {
  private res: R | undefined;
  private isDone = false;
  /** Virtual time (µs) the call was made. */
  readonly startedAt: number;
  /** Set when the call completed: the virtual time it returned. */
  endedAt = -1;
  /** Called when a call that blocked returns (not for a call that returned at once). */
  onReturn: ((call: Call<R>) => void) | null = null;

  /**
   * @param attempt tries the call; BLOCKED when it has to wait.
   * @param giveUp the result once the call stops waiting: at once for a non-blocking call,
   *   at `deadline` for a timed one (EAGAIN, EINPROGRESS, a poll() count of 0, a partial count).
   * @param deadline virtual µs at which a blocked call gives up (Infinity: never).
   */
  constructor(
    readonly name: string,
    private readonly clock: () => number,
    private readonly attempt: Attempt<R>,
    private readonly giveUp: () => R,
    readonly deadline: number,
  ) {
    this.startedAt = clock();
    const r = attempt();
    if (r !== BLOCKED) this.finish(r);
    else if (this.clock() >= deadline) this.finish(giveUp());
  }

  /** A call that returned at once. */
  static done<R>(name: string, clock: () => number, result: R): Call<R> {
    return new Call(name, clock, () => result, () => result, Infinity);
  }

  get done(): boolean {
    return this.isDone;
  }
  /** The call's result; undefined while it blocks. */
  get result(): R | undefined {
    return this.res;
  }
  /** Still blocked (not done). */
  get blocked(): boolean {
    return !this.isDone;
  }

  /** Retries a blocked call (and applies its deadline); true once it has returned. */
  poll(): boolean {
    if (this.isDone) return true;
    const r = this.attempt();
    if (r !== BLOCKED) this.finish(r);
    else if (this.clock() >= this.deadline) this.finish(this.giveUp());
    if (this.isDone) this.onReturn?.(this);
    return this.isDone;
  }

  private finish(r: R): void {
    this.res = r;
    this.isDone = true;
    this.endedAt = this.clock();
  }
}

/** What the async API needs to make progress while a call blocks (src/net/runtime.ts Runtime has it). */
export interface Driver {
  /**
   * Runs the simulation until pred() is true (resolves true) or nothing is due at or before
   * maxUs (resolves false, the clock at maxUs when it is finite).
   */
  runUntil(pred: () => boolean, maxUs: number): Promise<boolean>;
}

/** Thrown by the async API when a call can never return (or outlives the block limit). */
export class BlockedError extends Error {
  constructor(readonly call: string, detail: string) {
    super(`${call}() still blocked: ${detail}`);
    this.name = 'BlockedError';
  }
}

interface Waiter {
  pred: () => boolean;
  maxUs: number;
  resolve: (v: boolean) => void;
  reject: (e: unknown) => void;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A Driver for a plain Network: one loop moves virtual time for every waiting call. Before
 * each instant it lets the event loop run, so that every coroutine has issued its next call
 * (and every satisfied call has returned) before time moves on; then it runs the network to
 * the next instant something happens. Calls blocked on several hosts of one network can wait
 * together (Promise.all) and each returns at the exact virtual time its condition became true.
 */
export class NetworkDriver implements Driver {
  private waiters: Waiter[] = [];
  private running = false;

  constructor(readonly net: Network) {}

  runUntil(pred: () => boolean, maxUs: number): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.waiters.push({ pred, maxUs, resolve, reject });
      if (!this.running) {
        this.running = true;
        void this.loop();
      }
    });
  }

  private async loop(): Promise<void> {
    const net = this.net;
    try {
      while (this.waiters.length) {
        await turn();
        if (this.release((w) => w.pred(), true)) continue;
        const now = net.now;
        let limit = Infinity;
        for (const w of this.waiters) limit = Math.min(limit, w.maxUs);
        const next = net.nextEventTime();
        if (next > limit) {
          if (limit > now) net.run(limit);
          this.release((w) => w.maxUs <= net.now, false);
          continue;
        }
        if (next === Infinity) {
          // Nothing will ever happen again: every waiter gives up.
          this.release(() => true, false);
          continue;
        }
        net.run(next);
      }
    } catch (e) {
      for (const w of this.waiters.splice(0)) w.reject(e);
    } finally {
      this.running = false;
    }
  }

  /** Resolves the waiters that `which` selects (with their pred(), or `value`); true if any. */
  private release(which: (w: Waiter) => boolean, value: boolean): boolean {
    let any = false;
    for (const w of this.waiters.slice()) {
      if (!which(w)) continue;
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve(value || w.pred());
      any = true;
    }
    return any;
  }
}
