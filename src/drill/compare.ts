// `linger drill --both`: one script on linger and on the kernel, and where they part, the first
// divergence side by side. What is compared is what the script sees: each packet the runner
// injected or the host sent (flags, sequence and acknowledgment numbers, window, options) and
// each call's return value, in order. Not compared: times (the kernel runs in real time; the
// script's tolerances judged those already), TCP timestamp values (each host has its own clock
// offset), descriptor numbers (the kernel's process has its own), and what only linger traces
// (state changes, timers).

import { fmtTime, type DrillResult, type TraceLine } from './result.ts';

const FD_CALL = /^(socket|accept4?|dup[23]?|epoll_create1?)\((.*)\) = \d+$/;

/** A trace line as compared; null for lines only one host has. */
export function comparable(t: TraceLine): string | null {
  if (t.mark !== '<' && t.mark !== '>' && t.mark !== '$') return null;
  let s = t.text.replace(/TS val \d+ ecr \d+/g, 'TS val _ ecr _');
  if (t.mark === '$') {
    if (s.endsWith('(blocks)')) return null;
    s = s.replace(/ returned /, ' = ').replace(FD_CALL, '$1($2) = fd');
  }
  return `${t.mark} ${s}`;
}

export interface Divergence {
  /** Index among the compared lines. */
  index: number;
  line?: number;
  linger: TraceLine | null;
  kernel: TraceLine | null;
  /** The compared lines before it (both sides agree on them). */
  before: Array<[TraceLine, TraceLine]>;
}

export interface Comparison {
  file: string;
  linger: DrillResult;
  kernel: DrillResult;
  /** Same status, and the same packets and return values in the same order. */
  same: boolean;
  /** The script says it cannot run on the kernel (`// linger-only:`): nothing to compare. */
  lingerOnly: boolean;
  divergence: Divergence | null;
}

/** How many agreeing lines a divergence report shows before it. */
const CONTEXT = 6;

/**
 * The first place the two runs part. Packets and calls are compared as two sequences: where a
 * blocked call's return falls among the packets depends on when the runner looked, not on the
 * host (on linger it is seen at the instant; on the kernel when the call's thread reports).
 */
export function compareRuns(linger: DrillResult, kernel: DrillResult): Comparison {
  const lingerOnly = kernel.status === 'UNSUPPORTED' && !!kernel.unsupported?.[0]?.startsWith('linger-only: ');
  const streams = (r: DrillResult): [TraceLine[], TraceLine[]] => {
    const lines = r.trace.filter((t) => comparable(t) !== null);
    return [lines.filter((t) => t.mark !== '$'), lines.filter((t) => t.mark === '$')];
  };
  const [ap, ac] = streams(linger);
  const [bp, bc] = streams(kernel);
  const firstDiff = (a: TraceLine[], b: TraceLine[]): number => {
    let i = 0;
    while (i < a.length && i < b.length && comparable(a[i]!) === comparable(b[i]!)) i++;
    return i < a.length || i < b.length ? i : -1;
  };
  const dp = firstDiff(ap, bp);
  const dc = firstDiff(ac, bc);
  // The divergence that comes first in linger's trace (or the kernel's, past linger's end).
  const when = (a: TraceLine[], b: TraceLine[], i: number): number => (i < 0 ? Infinity : (a[i] ?? b[i])!.t);
  const usePackets = dp >= 0 && (dc < 0 || when(ap, bp, dp) <= when(ac, bc, dc));
  const [a, b, i] = usePackets ? [ap, bp, dp] : [ac, bc, dc];
  const same = dp < 0 && dc < 0 && linger.status === kernel.status;
  if (same || lingerOnly) return { file: linger.file, linger, kernel, same, lingerOnly, divergence: null };
  const at = Math.max(0, i < 0 ? Math.min(a.length, b.length) : i);
  const before: Array<[TraceLine, TraceLine]> = [];
  for (let j = Math.max(0, at - CONTEXT); j < at; j++) before.push([a[j]!, b[j]!]);
  const la = a[at] ?? null;
  const kb = b[at] ?? null;
  const line = la?.line ?? kb?.line;
  return {
    file: linger.file, linger, kernel, same, lingerOnly,
    divergence: { index: at, ...(line !== undefined ? { line } : {}), linger: la, kernel: kb, before },
  };
}

const WIDTH = 58;
const cell = (t: TraceLine | null, end: string): string => (t ? `${fmtTime(t.t).padStart(8)} ${t.mark} ${t.text}` : `         ${end}`).slice(0, WIDTH).padEnd(WIDTH);

function endOf(r: DrillResult): string {
  if (r.status === 'ok') return '(script done)';
  if (r.status === 'UNSUPPORTED') return '(UNSUPPORTED)';
  return `(FAIL at line ${r.failure?.line ?? '?'})`;
}

export function formatComparison(c: Comparison): string {
  const head = `${c.same ? 'same     ' : c.lingerOnly ? 'linger-only' : 'DIFFER   '} ${c.file}  linger ${c.linger.status}, kernel ${c.kernel.status}`;
  if (c.lingerOnly) return `${head}\n    ${c.kernel.unsupported?.[0] ?? ''}`;
  if (c.same || !c.divergence) return head;
  const d = c.divergence;
  const out = [head, `    first divergence${d.line ? ` at line ${d.line}` : ''}${d.line ? `: ${(c.linger.lines[d.line - 1] ?? c.kernel.lines[d.line - 1] ?? '').trim()}` : ''}`];
  out.push(`    ${'linger'.padEnd(WIDTH)} | kernel`);
  for (const [x, y] of d.before) out.push(`    ${cell(x, '')} | ${cell(y, '').trimEnd()}`);
  out.push(`  > ${cell(d.linger, endOf(c.linger))} | ${cell(d.kernel, endOf(c.kernel)).trimEnd()}`);
  for (const [who, r] of [['linger', c.linger], ['kernel', c.kernel]] as const) {
    if (r.status === 'FAIL' && r.failure) out.push(`    ${who}: ${r.failure.message}`);
    if (r.status === 'UNSUPPORTED') out.push(`    ${who}: ${(r.unsupported ?? []).join('; ')}`);
  }
  return out.join('\n');
}

export function comparisonsJson(cs: Comparison[]): unknown {
  return {
    summary: { scripts: cs.length, same: cs.filter((c) => c.same).length, differ: cs.filter((c) => !c.same && !c.lingerOnly).length, lingerOnly: cs.filter((c) => c.lingerOnly).length },
    scripts: cs.map((c) => ({
      file: c.file, same: c.same, lingerOnly: c.lingerOnly, linger: c.linger.status, kernel: c.kernel.status,
      ...(c.divergence ? {
        divergence: {
          line: c.divergence.line,
          linger: c.divergence.linger ? `${c.divergence.linger.mark} ${c.divergence.linger.text}` : endOf(c.linger),
          kernel: c.divergence.kernel ? `${c.divergence.kernel.mark} ${c.divergence.kernel.text}` : endOf(c.kernel),
        },
      } : {}),
      ...(c.linger.failure ? { linger_failure: c.linger.failure.message } : {}),
      ...(c.kernel.failure ? { kernel_failure: c.kernel.failure.message } : {}),
    })),
  };
}
