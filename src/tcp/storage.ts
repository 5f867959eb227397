// How the connection state is stored, in one place. A host may hold a million idle connections
// and a million TIME_WAIT entries; every field of a V8 object costs 8 bytes, plus a 16-byte box
// when it holds a number that is not a small integer. So, without changing what any field means:
// - the 4-tuple is read back from the demux key (key.ts); trace labels are built on demand;
// - 32-bit sequence numbers are kept as int32 behind accessors (`v | 0` in, `>>> 0` out);
// - "no deadline" (Infinity) is kept as -1 (deadlineIn/deadlineOut);
// - booleans share one bit field, as Linux packs tcp_sock's bit flags;
// - a connection and a TIME_WAIT queue are their own wheel timers (TcpTimer, timer.ts);
// - what an idle connection does not use lives in ConnRare (conn.ts), allocated on first use;
// - time fields that pass 2^31 µs are declared tagged up front (taggedFields).

export const deadlineIn = (v: number): number => (v === Infinity ? -1 : v);
export const deadlineOut = (d: number): number => (d < 0 ? Infinity : d);

/**
 * µs times pass 2^31 after 36 minutes of virtual time, out of the small-integer range. Left to
 * V8, the first such store turns the field into a boxed double in every instance, each object
 * migrated when next touched (a second of work for 10^5 connections at minute 36, and 16
 * bytes more each). Made "any value" fields up front, on a throwaway instance, small times
 * stay unboxed and a large one costs a heap number only where it is stored.
 */
export function taggedFields(dummy: object, names: readonly string[]): void {
  for (const k of names) (dummy as Record<string, unknown>)[k] = null;
}
