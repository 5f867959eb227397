// Real time for one linger host: a monotonic µs clock, a driver that runs the host's timers on
// Node's event loop (one setTimeout armed at host.nextDeadline()) and hands it packets from a
// link as they arrive, and a RealtimeRuntime so src/net's node:net bindings run on it.

import type { Host } from '../host/host.ts';
import type { Clock } from '../time/clock.ts';
import type { NetRuntime, VTimer } from '../net/runtime.ts';

/** Monotonic real time in integer µs since the clock was made (never goes backwards). */
export class RealClock implements Clock {
  private readonly t0 = process.hrtime.bigint();
  private last = 0;
  now(): number {
    const t = Number((process.hrtime.bigint() - this.t0) / 1000n);
    if (t > this.last) this.last = t;
    return this.last;
  }
}

/** The node:net layer's runtime in real time: socket timeouts are real (unref'd) timers. */
export class RealtimeRuntime implements NetRuntime {
  readonly names = new Map<string, string[]>();
  constructor(private readonly clock: Clock) {}
  get now(): number {
    return this.clock.now();
  }
  timer(delayUs: number, fn: () => void): VTimer {
    const t: VTimer = { cancelled: false, at: this.clock.now() + Math.max(0, Math.round(delayUs)) };
    // Unref'd like Node's own socket timers: a pending idle timeout does not keep the process up.
    setTimeout(() => {
      if (!t.cancelled) fn();
    }, Math.max(0, Math.ceil(delayUs / 1000))).unref();
    return t;
  }
}

/**
 * Drives a host in real time. Packets go to the host as they come (`input`); the host's packets
 * go to `output`. One Node timer is armed at the host's next deadline; arming an earlier engine
 * timer (from a packet, a timer or an application call) re-arms it at once.
 */
export class RealtimeDriver {
  private timeout: NodeJS.Timeout | null = null;
  private armedAt = Infinity;
  private rearmQueued = false;
  private stopped = false;

  constructor(readonly host: Host, readonly clock: Clock, output: (p: Uint8Array, gsoSize?: number) => void) {
    host.setEmit(output);
    // An engine timer armed earlier than the Node timer re-arms it (after the current
    // synchronous work, so a burst of arms costs one re-arm).
    host.onTimerArmed((deadlineUs) => {
      if (deadlineUs < this.armedAt && !this.rearmQueued && !this.stopped) {
        this.rearmQueued = true;
        queueMicrotask(() => {
          this.rearmQueued = false;
          this.arm();
        });
      }
    });
  }

  /** A packet from the link, with what the link knows of it (Host.deliver). */
  input(packet: Uint8Array, csumValid = false, gsoSize = 0): void {
    if (this.stopped) return;
    this.host.deliver(packet, csumValid, gsoSize);
  }

  /** Arms the Node timer at the host's next deadline (call after a batch of input). */
  arm(): void {
    if (this.stopped) return;
    const d = this.host.nextDeadline();
    if (d >= this.armedAt && this.timeout) return; // the armed timer fires first and re-arms
    if (this.timeout) clearTimeout(this.timeout);
    this.timeout = null;
    this.armedAt = d;
    if (d === Infinity) return;
    const ms = Math.max(0, Math.ceil((d - this.clock.now()) / 1000));
    this.timeout = setTimeout(() => this.fire(), ms);
  }

  private fire(): void {
    this.timeout = null;
    this.armedAt = Infinity;
    if (this.stopped) return;
    this.host.advance();
    this.arm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timeout) clearTimeout(this.timeout);
    this.timeout = null;
  }
}
