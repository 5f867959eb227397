// The kernel's timer unit: a jiffy is 1/HZ s. TCP timers are armed in whole jiffies, so linger
// rounds their durations as usecs_to_jiffies does (up).

/** One jiffy in µs. */
export const jiffyUs = (hz: number): number => 1_000_000 / hz;

/** usecs_to_jiffies: whole jiffies, rounded up. */
export const usecsToJiffies = (us: number, hz: number): number => Math.ceil(us / jiffyUs(hz));

/** A duration rounded up to whole jiffies, in µs (usecs_to_jiffies, back in µs). */
export const roundUpToJiffies = (us: number, hz: number): number => usecsToJiffies(us, hz) * jiffyUs(hz);
