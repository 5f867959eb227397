// Blocking-call plumbing: building a Call that sleeps until a deadline (SO_RCVTIMEO,
// SO_SNDTIMEO, O_NONBLOCK as a zero timeout), tracing its return, and awaiting it in
// virtual time through a Driver.

import { BlockedError, Call, type Attempt, type Driver } from './call.ts';
import type { Proc, SockFile } from './file.ts';

/** A call that returned at once. */
export const returned = <R>(p: Proc, name: string, result: R): Call<R> => Call.done(name, p.now, result);

/** A call on a socket that may sleep for timeoutUs (0: it does not block), traced when it returns after blocking. */
export function sleeping<R>(p: Proc, name: string, f: SockFile, attempt: Attempt<R>, giveUp: () => R, timeoutUs: number): Call<R> {
  return track(p, new Call(name, p.now, attempt, giveUp, p.now() + timeoutUs), f);
}

/** Traces the return of a call that blocked (the engine traced its start). */
function track<R>(p: Proc, c: Call<R>, f: SockFile): Call<R> {
  return trackCall(p, c, () => f.sock.traceLabel);
}

export function trackCall<R>(p: Proc, c: Call<R>, label: string | (() => string)): Call<R> {
  const host = p.host;
  c.onReturn = () => {
    const r = c.result as { ret: number; errno?: string };
    host.trace({
      kind: 'call', t: host.now(), host: host.name, socket: typeof label === 'string' ? label : label(),
      call: c.name, args: `returns after blocking ${((host.now() - c.startedAt) / 1000).toFixed(3)} ms`,
      result: r.errno ?? String(r.ret),
    });
  };
  return c;
}

/** Waits for a Call in virtual time through the driver; BlockedError when it cannot return. */
export async function waitFor<R>(c: Call<R>, d: Driver | null, blockLimitUs: number, now: () => number): Promise<R> {
  if (c.done) return c.result as R;
  if (!d) throw new BlockedError(c.name, 'the call blocks and this Syscalls has no driver (use begin.* and poll() the Call)');
  const limit = Math.min(c.deadline, c.startedAt + blockLimitUs);
  await d.runUntil(() => c.poll(), Math.max(limit, now()));
  if (!c.poll()) {
    throw new BlockedError(c.name, now() >= limit && limit < c.deadline
      ? `blocked for ${blockLimitUs / 1e6} s of virtual time (blockLimitUs)`
      : 'nothing left to happen in the simulation (it would block forever)');
  }
  return c.result as R;
}
