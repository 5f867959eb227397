// The corpus as the kernel runs it: scripts split by script time (from test/golden/drill.txt,
// linger's virtual time, which the kernel's real time follows), for test/drill/kernel.test.ts
// (the short ones, in npm test as root) and scripts/drill-kernel-record.ts (all of them).
import { readFileSync } from 'node:fs';

/** Script time under which a script runs in npm test on the kernel. */
export const SHORT_US = 10_000_000;

export function kernelCorpus(): { short: string[]; long: string[]; scriptUs: Map<string, number> } {
  const short: string[] = [];
  const long: string[] = [];
  const scriptUs = new Map<string, number>();
  for (const line of readFileSync('test/golden/drill.txt', 'utf8').split('\n')) {
    const [, , us, , file] = line.split(/\s+/);
    if (!file) continue;
    scriptUs.set(file, Number(us));
    (Number(us) < SHORT_US ? short : long).push(file);
  }
  return { short, long, scriptUs };
}
