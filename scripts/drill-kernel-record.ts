// `npm run drill:kernel-record`: the whole drill corpus through `linger drill --kernel` (as
// root), the scripts under 10 s of script time one per core, the long ones all at once (they
// sleep), and the result written to docs/kernel-corpus.md with this machine's kernel and the
// date. CI runs the short ones in `npm test` (test/drill/kernel.test.ts); this records the rest.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { kernelUnavailable, runKernelFiles } from '../src/drill/kernel/files.ts';
import type { DrillResult } from '../src/drill/result.ts';
import { kernelCorpus } from '../test/drill/kernel-corpus.ts';

const why = kernelUnavailable();
if (why) {
  console.error(`drill:kernel-record: ${why}`);
  process.exit(2);
}
const { short, long, scriptUs } = kernelCorpus();
const t0 = Date.now();
// A long script may take its script time and a half, and two minutes more.
const timeoutMs = (f: string): number => Math.max(10 * 60_000, ((scriptUs.get(f) ?? 0) / 1000) * 1.5 + 120_000);
const results: DrillResult[] = [
  ...(await runKernelFiles(short, [], 2)),
  ...(await runKernelFiles(long, [], long.length, { timeoutMs, staggerMs: 3000 })),
];
const wall = (Date.now() - t0) / 1000;
const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
const ok = results.filter((r) => r.status === 'ok');
const linger = results.filter((r) => r.status === 'UNSUPPORTED');
const failed = results.filter((r) => r.status === 'FAIL');
const retried = ok.filter((r) => r.warnings.some((w) => w.startsWith('try ')));
const line = (r: DrillResult): string => `| ${r.file} | ${r.status} | ${(r.failure?.message ?? r.unsupported?.join('; ') ?? r.warnings.filter((w) => w.startsWith('try ')).join('; ')).replace(/\|/g, '\\|')} |`;
const md = [
  '# The drill corpus on the kernel',
  '',
  `Recorded by \`npm run drill:kernel-record\` on ${new Date().toISOString().slice(0, 10)}, Linux ${kernel}, in ${wall.toFixed(0)} s:`,
  `every script in test/drill through \`linger drill --kernel\`, each in a network namespace of its own, the`,
  `${short.length} under 10 s of script time two at a time, the ${long.length} longer ones at once (started 3 s apart).`,
  '',
  `**${ok.length} ok, ${failed.length} FAIL, ${linger.length} linger-only** (of ${results.length}).` +
    ` ${retried.length} passed on a second or third try after a timing failure (a virtual machine's late wake-up; listed below).`,
  '',
  'The namespace starts with the sysctls linger behaves as (src/base/config.ts lingerSysctls), and tun0',
  'takes no super-packets (gso_max_segs 1), as linger\'s link; see README, "linger drill --kernel".',
  '',
  '| script | status | why |',
  '| --- | --- | --- |',
  ...[...failed, ...linger, ...retried].map(line),
  '',
];
writeFileSync('docs/kernel-corpus.md', md.join('\n'));
console.log(`drill:kernel-record: ${ok.length} ok, ${failed.length} FAIL, ${linger.length} linger-only of ${results.length} (${wall.toFixed(0)} s) -> docs/kernel-corpus.md`);
