// Reports of drill runs: text (per script ok / FAIL / UNSUPPORTED, and for a failure the
// script line, expected against actual, the differences and the trace leading there),
// JSON and TAP.

import { fmtTime, type DrillResult, type TraceLine } from './result.ts';

export interface Summary {
  scripts: number;
  ok: number;
  fail: number;
  unsupported: number;
  wallMs: number;
}

export function summarize(results: DrillResult[], wallMs: number): Summary {
  return {
    scripts: results.length,
    ok: results.filter((r) => r.status === 'ok').length,
    fail: results.filter((r) => r.status === 'FAIL').length,
    unsupported: results.filter((r) => r.status === 'UNSUPPORTED').length,
    wallMs,
  };
}

function traceLine(t: TraceLine): string {
  return `${fmtTime(t.t).padStart(10)}  ${t.mark} ${t.text}${t.line ? `   [line ${t.line}]` : ''}`;
}

/** How many trace lines a failure report shows before the failure. */
export const TRACE_TAIL = 14;

export function formatResult(r: DrillResult, opts: { verbose?: boolean } = {}): string {
  const out: string[] = [];
  const head = r.status === 'ok' ? 'ok         ' : r.status === 'FAIL' ? 'FAIL       ' : 'UNSUPPORTED';
  if (r.status === 'ok') {
    out.push(`${head} ${r.file}  (${r.events} events, ${fmtTime(r.virtualUs)} s of ${r.host === 'kernel' ? 'real time on the kernel' : 'virtual time'})`);
  } else if (r.status === 'UNSUPPORTED') {
    out.push(`${head} ${r.file}: uses what ${r.host === 'kernel' ? 'the runner' : 'linger'} does not implement:`);
    for (const u of r.unsupported ?? []) out.push(`    ${u}`);
  } else {
    const f = r.failure!;
    out.push(`${head} ${r.file}:${f.line}:${f.col}: ${f.message}`);
    const src = r.lines[f.line - 1];
    if (src !== undefined) {
      out.push(`    ${String(f.line).padStart(4)} | ${src.trimEnd()}`);
      out.push(`         | ${' '.repeat(Math.max(0, f.col - 1))}^`);
    }
    if (f.expected !== undefined || f.actual !== undefined) {
      out.push(`    expected  ${f.expected ?? ''}`);
      out.push(`    actual    ${f.actual ?? ''}`);
    }
    if (f.diff?.length) out.push(`    differs   ${f.diff.join('\n              ')}`);
    for (const d of f.detail ?? []) out.push(`    ${d}`);
    if (!opts.verbose && r.trace.length) {
      const tail = r.trace.slice(-TRACE_TAIL);
      out.push(`    trace (${tail.length < r.trace.length ? `last ${tail.length} of ${r.trace.length}` : 'all'} lines; time in s, < injected, > sent by ${r.host ?? 'linger'}, $ call, * state, ~ timer, # script):`);
      for (const t of tail) out.push(`    ${traceLine(t)}`);
    }
  }
  for (const w of r.warnings) out.push(`    warning: ${w}`);
  if (opts.verbose && r.trace.length) {
    out.push('    trace:');
    for (const t of r.trace) out.push(`    ${traceLine(t)}`);
  }
  return out.join('\n');
}

export function formatSummary(s: Summary): string {
  return `drill: ${s.scripts} script${s.scripts === 1 ? '' : 's'}: ${s.ok} ok, ${s.fail} FAIL, ${s.unsupported} UNSUPPORTED (${(s.wallMs / 1000).toFixed(2)} s)`;
}

export function toJson(results: DrillResult[], s: Summary, verbose = false): unknown {
  return {
    summary: s,
    scripts: results.map((r) => ({
      file: r.file,
      status: r.status,
      events: r.events,
      virtual_s: r.virtualUs / 1e6,
      ...(r.failure ? { failure: { ...r.failure, source: r.lines[r.failure.line - 1]?.trim() } } : {}),
      ...(r.unsupported ? { unsupported: r.unsupported } : {}),
      warnings: r.warnings,
      ...(r.failure || verbose ? { trace: (verbose ? r.trace : r.trace.slice(-TRACE_TAIL)).map((t) => ({ t_s: t.t / 1e6, mark: t.mark, text: t.text, ...(t.line ? { line: t.line } : {}) })) } : {}),
    })),
  };
}

const yamlStr = (s: string): string => JSON.stringify(s);

export function toTap(results: DrillResult[], s: Summary, verbose = false): string {
  const out = ['TAP version 13', `1..${results.length}`];
  results.forEach((r, i) => {
    const n = i + 1;
    if (r.status === 'ok') {
      out.push(`ok ${n} - ${r.file}`);
      if (verbose) for (const t of r.trace) out.push(`# ${traceLine(t)}`);
      return;
    }
    out.push(`not ok ${n} - ${r.file}${r.status === 'UNSUPPORTED' ? ' # UNSUPPORTED' : ''}`);
    out.push('  ---');
    if (r.failure) {
      const f = r.failure;
      out.push(`  message: ${yamlStr(f.message)}`);
      out.push(`  at: ${yamlStr(`${r.file}:${f.line}:${f.col}`)}`);
      const src = r.lines[f.line - 1];
      if (src !== undefined) out.push(`  source: ${yamlStr(src.trim())}`);
      if (f.expected !== undefined) out.push(`  expected: ${yamlStr(f.expected)}`);
      if (f.actual !== undefined) out.push(`  actual: ${yamlStr(f.actual)}`);
      if (f.diff?.length) out.push(`  differs: [${f.diff.map(yamlStr).join(', ')}]`);
      out.push('  trace:');
      for (const t of r.trace.slice(-TRACE_TAIL)) out.push(`    - ${yamlStr(traceLine(t).trim())}`);
    } else {
      out.push('  unsupported:');
      for (const u of r.unsupported ?? []) out.push(`    - ${yamlStr(u)}`);
    }
    out.push('  ...');
  });
  out.push(`# ${formatSummary(s)}`);
  return out.join('\n');
}
