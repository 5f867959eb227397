// What the kernel runner's parent (files.ts) and its runner processes (child.ts) say to each
// other: a job per line on the child's stdin, a DrillResult per line on its stdout, and READY on
// its stderr once it is set up.

/** One script to run on the kernel. */
export interface KernelJob {
  file: string;
  flags: Array<[string, string | undefined]>;
  /** -D NAME=VALUE symbols. */
  defines?: Array<[string, string]>;
  /** How long the run may take, all told (default 60 min). */
  timeoutMs?: number;
}

/** What a runner process says on stderr once it is set up. */
export const READY = 'linger-kernel-child: ready';
