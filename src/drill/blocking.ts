// System-call events in time. A call written without `...END` must return at once (within the
// tolerance); a blocking call `T...END call()` starts at T and must return at END while later
// events run. packetdrill waits for a blocking call still running before it starts the next.

import type { DrillEvent, SyscallSpec } from './ast.ts';
import type { CallView, StartedCall } from './calls.ts';
import { callOnly, callText, fail, fmtTime, type TraceLog } from './result.ts';
import { type Due, type ScriptClock } from './timing.ts';
import { fmtRet } from './verify.ts';

/** The blocking call the script expects to return later. */
interface Outstanding {
  ev: DrillEvent;
  started: StartedCall;
  startAt: number; // script µs
  endAt: number; // script µs the script expects it to return
  tol: number;
  text: string;
}

export class CallEvents {
  private outstanding: Outstanding | null = null;
  /** Calls that should return at once, blocked while time moves within the tolerance. */
  private waiting: CallView[] = [];

  constructor(
    private readonly time: ScriptClock,
    private readonly trace: TraceLog,
    private readonly make: (c: SyscallSpec) => StartedCall,
  ) {}

  /** The earliest deadline of a blocked call (host µs; Infinity: none). */
  deadline(): number {
    let d = Infinity;
    const o = this.outstanding;
    if (o && !o.started.call.done) d = Math.min(d, o.started.call.deadline);
    for (const c of this.waiting) if (!c.done) d = Math.min(d, c.deadline);
    return d;
  }

  /** Retries the blocked calls (after each step of time). */
  poll(): void {
    const o = this.outstanding;
    if (o && !o.started.call.done && o.started.call.poll()) {
      this.trace.note('$', `${callOnly(o.text)} returned ${fmtRet(o.started.call.result!)}`, o.ev.line);
    }
    for (const c of this.waiting) c.poll();
  }

  /** A call event. */
  run(ev: DrillEvent, c: SyscallSpec): void {
    this.finish();
    const w = this.time.reach(ev.time);
    const text = ev.text;
    const started = this.make(c);
    const { call } = started;
    const startAt = this.time.now();
    this.time.settle(w);
    if (c.endUs !== undefined) {
      this.trace.note('$', `${callOnly(text)}${call.done ? ` = ${fmtRet(call.result!)}` : '  (blocks)'}`, ev.line);
      const endAt = this.time.endOf(ev.time, w.at, c.endUs);
      const tol = this.time.tolerance(endAt, startAt);
      this.outstanding = { ev, started, startAt, endAt, tol, text };
      if (call.done) this.finish();
      return;
    }
    // A call due at once is traced when it returned (on the kernel, a pool thread makes it).
    if (!call.done) this.waitAtOnce(ev, c, call, w, startAt);
    this.trace.note('$', `${callOnly(text)} = ${fmtRet(call.result!)}`, ev.line, startAt);
    started.verify();
  }

  /** A call without `...END` that blocked: it must return within the tolerance. */
  private waitAtOnce(ev: DrillEvent, c: SyscallSpec, call: CallView, w: Due, startAt: number): void {
    const tol = this.time.tolerance(w.at, w.at);
    this.waiting.push(call);
    while (!call.done && this.time.step(startAt + tol)) { /* run */ }
    if (!call.done) {
      while (!call.done && this.time.step(this.time.now() + this.time.lookaheadUs)) { /* for the report */ }
      this.waiting = this.waiting.filter((x) => x !== call);
      fail(ev, `${c.name}() blocked, but the script expects it to return at once (write it as T...END for a blocking call)`, {
        expected: `${fmtTime(w.at)} ${callText(ev.text)}`,
        actual: call.done ? `returned ${fmtRet(call.result!)} at ${fmtTime(this.time.scriptTime(call.endedAt))} s` : `still blocked at ${fmtTime(this.time.now())} s (nothing would wake it)`,
      });
    }
    this.waiting = this.waiting.filter((x) => x !== call);
  }

  /** Waits for the outstanding blocking call and checks when it returned and what. */
  finish(): void {
    const o = this.outstanding;
    if (!o) return;
    const call = o.started.call;
    while (!call.done && this.time.step(o.endAt + o.tol)) { /* run */ }
    const t = call.done ? this.time.scriptTime(call.endedAt) : null;
    if (t === null || t < o.endAt - o.tol || t > o.endAt + o.tol) {
      let actual: string;
      if (t === null) {
        while (!call.done && this.time.step(this.time.now() + this.time.lookaheadUs)) { /* look further, for the report */ }
        actual = call.done ? `returned ${fmtRet(call.result!)} at ${fmtTime(this.time.scriptTime(call.endedAt))} s` : `still blocked at ${fmtTime(this.time.now())} s`;
      } else actual = `returned ${fmtRet(call.result!)} at ${fmtTime(t)} s`;
      fail(o.ev, `timing error: expected the blocking ${o.ev.body.kind === 'syscall' ? o.ev.body.call.name : ''}() to return at ${fmtTime(o.endAt)} s (tolerance ${fmtTime(o.tol)} s)`, {
        expected: `${fmtTime(o.startAt)}...${fmtTime(o.endAt)} ${callText(o.text)}`, actual: `${fmtTime(o.startAt)} ${callOnly(o.text)} ${actual}`,
      });
    }
    this.outstanding = null;
    o.started.verify();
  }
}
