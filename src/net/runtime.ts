// The driver that lets ordinary asynchronous Node code (streams, node:http, undici, fastify)
// run on simulated hosts in virtual time. The network advances in virtual microseconds; between
// steps the runtime yields to Node's event loop so that callbacks, promises and stream work at
// that instant settle before the clock moves. With `fakeTimers` the global setTimeout,
// setInterval, Date, performance.now and process.hrtime follow the same virtual clock
// (@sinonjs/fake-timers), so a library's one-hour idle timer costs milliseconds.
// setImmediate, process.nextTick and queueMicrotask stay real: they are how the runtime yields.

import FakeTimers from '@sinonjs/fake-timers';
import type { Host } from '../host/host.ts';
import type { Network } from '../sim/network.ts';

const realSetImmediate = globalThis.setImmediate;

/** Options of a Runtime. */
export interface RuntimeOptions {
  /** Fake the global timers and clocks (default true). */
  fakeTimers?: boolean;
  /** Wall-clock time that virtual time 0 stands for (Date.now()), default 2026-01-01T00:00:00Z. */
  epochMs?: number;
}

/** What the runtime uses of an installed fake clock. */
interface FakeClock {
  now: number;
  tick(ms: number): number;
  uninstall(): void;
  /** fake-timers 15 keeps timers in a Map and a min-heap by callAt (internal, read-only here). */
  timers?: Map<number, { callAt: number }>;
  timerHeap?: { peek(): { callAt: number } | undefined };
}

/** A cancellable virtual-time timer of the runtime (used by the net layer). */
export interface VTimer {
  cancelled: boolean;
  at: number;
}

/**
 * What the node:net layer needs of whatever drives a host: a resolver table, the host's clock
 * (µs) and cancellable timers on it. Runtime (virtual time) and the TUN driver's RealtimeRuntime
 * (src/link/realtime.ts, real time) both provide it.
 */
export interface NetRuntime {
  readonly names: Map<string, string[]>;
  readonly now: number;
  /** Calls fn after delayUs microseconds of the host's time; cancel with `timer.cancelled = true`. */
  timer(delayUs: number, fn: () => void): VTimer;
}

/** Drives a Network in virtual time for ordinary asynchronous Node code: between steps it lets Node's event loop settle, and (by default) it fakes the global timers and clocks so that they follow the virtual clock. One Runtime owns the global timers at a time: dispose() gives them back. */
export class Runtime implements NetRuntime {
  readonly net: Network;
  readonly epochMs: number;
  private clock: FakeClock | null = null;
  /** Host names the simulated resolver knows (dns.lookup stand-in): name -> addresses. */
  readonly names = new Map<string, string[]>();
  private hosts = new Map<string, Host>();

  constructor(net: Network, opts: RuntimeOptions = {}) {
    this.net = net;
    this.epochMs = opts.epochMs ?? Date.UTC(2026, 0, 1);
    if (opts.fakeTimers ?? true) {
      // One runtime owns the global timers at a time; a runtime left behind (a test that
      // failed before disposing) gives them up rather than breaking every later one.
      Runtime.active?.dispose();
      Runtime.active = this;
      this.clock = FakeTimers.withGlobal(globalThis).install({
        now: this.epochMs + Math.floor(net.now / 1000),
        toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance', 'hrtime'],
        shouldClearNativeTimers: false,
        loopLimit: 1_000_000,
        // Library boundary: FakeClock names the installed clock's public members and two
        // internals of fake-timers 15 (timers, timerHeap) that its typings do not declare.
      }) as unknown as FakeClock;
    }
  }

  /** Restores the real timers. */
  dispose(): void {
    this.clock?.uninstall();
    this.clock = null;
    if (Runtime.active === this) Runtime.active = null;
  }
  private static active: Runtime | null = null;

  get now(): number {
    return this.net.now;
  }

  /** Makes a host already on the network known to the resolver and to host(). */
  register(host: Host): Host {
    this.hosts.set(host.name, host);
    this.names.set(host.name, host.addresses.slice());
    return host;
  }

  /** Adds a host to the network and to the resolver under its name. */
  addHost(host: Host): Host {
    this.net.addNode(host);
    this.hosts.set(host.name, host);
    this.names.set(host.name, host.addresses.slice());
    return host;
  }

  /** The host of that name (an Error if there is none). */
  host(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`runtime: no host named ${name}`);
    return h;
  }

  /** A virtual-time timer that does not depend on fake timers (the net layer's socket timeouts). */
  timer(delayUs: number, fn: () => void): VTimer {
    const t: VTimer = { cancelled: false, at: this.net.now + Math.max(0, Math.round(delayUs)) };
    this.net.at(t.at, () => {
      if (!t.cancelled) fn();
    });
    return t;
  }

  private fakeNext(): number {
    const c = this.clock;
    if (!c) return Infinity;
    let min = Infinity;
    if (c.timerHeap) min = c.timerHeap.peek()?.callAt ?? Infinity;
    else if (c.timers) for (const t of c.timers.values()) if (t.callAt < min) min = t.callAt;
    if (min === Infinity) return Infinity;
    return Math.max(0, (min - this.epochMs) * 1000);
  }

  /** Lets Node run everything queued now (callbacks, promises, stream work). */
  async settle(rounds = 1): Promise<void> {
    for (let i = 0; i < rounds; i++) await new Promise<void>((r) => realSetImmediate(r));
  }

  /**
   * Runs the simulation until pred() is true (returns true) or nothing is due before maxUs
   * (returns false, clock at maxUs when finite). Node code runs between steps.
   */
  async runUntil(pred: () => boolean, maxUs = Infinity): Promise<boolean> {
    for (;;) {
      await this.settle();
      if (pred()) return true;
      let t = Math.min(this.net.nextEventTime(), this.fakeNext());
      if (t > this.net.now) {
        // Before time moves, let chained asynchronous work at this instant finish.
        await this.settle(3);
        if (pred()) return true;
        t = Math.min(this.net.nextEventTime(), this.fakeNext());
      }
      if (t === Infinity || t > maxUs) {
        if (Number.isFinite(maxUs) && maxUs > this.net.now) this.advanceTo(maxUs);
        await this.settle(3);
        return pred();
      }
      this.advanceTo(t);
    }
  }

  /** Runs for dUs of virtual time. */
  async runFor(dUs: number): Promise<void> {
    await this.runUntil(() => false, this.net.now + dUs);
  }

  /** Runs until nothing is scheduled any more (or maxUs). */
  async runUntilIdle(maxUs = Infinity): Promise<void> {
    await this.runUntil(() => false, maxUs);
  }

  /** Waits (in virtual time) for a promise made by simulated code. */
  async wait<T>(p: Promise<T>, maxUs = this.net.now + 3_600_000_000): Promise<T> {
    let done = false;
    let value: T | undefined;
    let error: unknown;
    let failed = false;
    p.then((v) => { done = true; value = v; }, (e: unknown) => { done = true; failed = true; error = e; });
    const ok = await this.runUntil(() => done, maxUs);
    if (!ok) throw new Error(`runtime.wait: not settled by virtual time ${maxUs} µs`);
    if (failed) throw error;
    return value as T;
  }

  private advanceTo(t: number): void {
    const us = Math.ceil(t);
    this.net.run(us);
    if (this.clock) {
      const target = this.epochMs + Math.floor(us / 1000);
      const d = target - this.clock.now;
      if (d > 0) this.clock.tick(d);
      // A fake timer set during this millisecond with no delay (setTimeout(fn, 0): callAt = now)
      // fires only on a tick; without one the loop would pick it again and again at the same
      // instant (a livelock, seen as http11-keepalive-race --seed 7 stuck at 1186.024 s).
      else if (this.fakeNext() <= us) this.clock.tick(0);
    }
  }
}
