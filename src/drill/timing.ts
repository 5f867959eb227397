// Script time. The script starts at 0; `+T` is relative to the previous event. An event is due
// within its tolerance: max(--tolerance_usecs, --tolerance_percent of the time since the previous
// event). ScriptClock holds those rules; Timeline runs them on a virtual clock (running linger
// to a time fires its timers on the way, each at its exact time, and polls the blocked calls
// after every step); the kernel runner's RealTimeline (kernel/clock.ts) runs them in real time.

import { VirtualClock } from '../time/clock.ts';
import type { TimeSpec } from './ast.ts';
import type { DrillConfig } from './config.ts';

/** The virtual clock at script time 0 (host µs). */
export const BASE = 1_000_000;
/** How long `*` and a blocked call may wait, in virtual time. */
export const LIMIT_ANY_US = 24 * 3600 * 1e6;
/** How far a failure report looks for what came instead, in virtual time. */
export const REPORT_LOOKAHEAD_US = 120 * 1e6;

/** When an event is due, in script µs: `at`, within [lo, hi]; `any` for `*`. */
export interface Due {
  at: number;
  lo: number;
  hi: number;
  any: boolean;
}

/** What time drives: the host's timers. */
export interface Timed {
  nextDeadline(): number;
  advance(): void;
}

/** Script time and its tolerances; how time moves is the subclass's. */
export abstract class ScriptClock {
  /** Script time of the previous event: what `+T` counts from. */
  lastEventUs = 0;
  /** How long `*` may wait (script µs). */
  abstract readonly anyLimitUs: number;
  /** How far a failure report looks for what came instead (script µs). */
  abstract readonly lookaheadUs: number;

  constructor(private readonly cfg: Pick<DrillConfig, 'toleranceUsecs' | 'tolerancePercent'>) {}

  /** Script time (µs). */
  abstract now(): number;
  /** The clock calls are timed on (host µs: script time + BASE). */
  hostNow(): number {
    return this.now() + BASE;
  }
  /** A host time (µs) in script time. */
  scriptTime(hostUs: number): number {
    return hostUs - BASE;
  }
  /** Moves to script time t, handling what happens on the way. */
  abstract advanceTo(t: number): void;
  /** Moves to the next instant something happens, if it is at or before `limit`; false if nothing is. */
  abstract step(limit: number): boolean;

  tolerance(at: number, since: number): number {
    return Math.max(this.cfg.toleranceUsecs, Math.floor(((at - since) * this.cfg.tolerancePercent) / 100));
  }

  /** When the event is due: [at, lo, hi] in script µs (lo/hi: the tolerance window). */
  when(t: TimeSpec): Due {
    const last = this.lastEventUs;
    let at: number;
    let end: number;
    switch (t.kind) {
      case 'any': return { at: this.now(), lo: -Infinity, hi: Infinity, any: true };
      case 'abs': at = end = t.us; break;
      case 'rel': at = end = last + t.us; break;
      case 'absRange': at = t.us; end = t.endUs; break;
      case 'relRange': at = last + t.us; end = last + t.endUs; break;
    }
    const tol = this.tolerance(at, last);
    return { at, lo: at - tol, hi: end + this.tolerance(end, last), any: false };
  }

  /** Runs to the event's time; returns when it is due. */
  reach(t: TimeSpec): Due {
    const w = this.when(t);
    this.advanceTo(w.at);
    return w;
  }

  /** The event due at `w` happened: later `+T` count from it. */
  settle(w: Due): void {
    this.lastEventUs = w.any ? this.now() : w.at;
  }

  /** Where a relative `+T...END` counts END from: the previous event (T = base + start). */
  endOf(t: TimeSpec, at: number, endUs: number): number {
    return t.kind === 'rel' ? at - t.us + endUs : endUs;
  }
}

/** Script time on linger's virtual clock. */
export class Timeline extends ScriptClock {
  readonly clock = new VirtualClock(BASE);
  readonly anyLimitUs = LIMIT_ANY_US;
  readonly lookaheadUs = REPORT_LOOKAHEAD_US;
  private host: Timed | null = null;

  /**
   * @param callDeadline the earliest deadline of a blocked call (host µs, Infinity: none).
   * @param afterStep polls the blocked calls after each step of time.
   */
  constructor(
    cfg: Pick<DrillConfig, 'toleranceUsecs' | 'tolerancePercent'>,
    private readonly callDeadline: () => number,
    private readonly afterStep: () => void,
  ) {
    super(cfg);
  }

  attach(host: Timed): void {
    this.host = host;
  }

  now(): number {
    return this.clock.now() - BASE;
  }

  /** The earliest time something will happen: a host timer or a blocked call's deadline (script µs). */
  private nextWake(): number {
    const d = Math.min(this.host!.nextDeadline(), this.callDeadline());
    return d === Infinity ? Infinity : d - BASE;
  }

  /** Runs the host to script time t: timers in order, blocked calls polled after each step. */
  advanceTo(t: number): void {
    const host = this.host!;
    for (let guard = 0; ; guard++) {
      const d = this.nextWake();
      if (d > t) break;
      if (d > this.now()) this.clock.set(BASE + d);
      host.advance();
      this.afterStep();
      if (guard > 10_000_000) throw new Error('the host keeps timers due without moving on');
    }
    if (t > this.now()) this.clock.set(BASE + t);
    host.advance();
    this.afterStep();
  }

  step(limit: number): boolean {
    const d = this.nextWake();
    if (d > limit) return false;
    this.advanceTo(Math.max(d, this.now()));
    return true;
  }
}
