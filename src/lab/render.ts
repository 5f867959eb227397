// The text timeline of a lab run: one line per event (segments as tcpdump prints them), then each
// host's counters and socket table (as ss prints it). It reads the same trace events as the JSON,
// the pcap and the diagrams, so they cannot disagree.

import type { LabEvent } from './scenario.ts';
import type { LabRun } from './runner.ts';
import { colorEventLine, colorHeader } from './ansi.ts';
import { ssLine } from './ss.ts';
import { fmtAt, httpConnection, keyValues, statesCount } from './view.ts';

/** A readable line for one event, or null for events the timeline skips. */
export function eventLine(e: LabEvent, opts: { timers?: boolean } = {}): string | null {
  const head = `${fmtAt(e.t).padEnd(16)} ${e.host.padEnd(7)}`;
  switch (e.kind) {
    case 'segment': {
      const arrow = e.dir === 'out' ? '>' : '<';
      const opt = e.options ? `, options [${e.options}]` : '';
      const ack = e.flags.includes('.') ? `, ack ${e.ack}` : '';
      const note = e.note ? `   (${e.note})` : '';
      return `${head} ${arrow} ${e.src} > ${e.dst}: Flags [${e.flags}], seq ${e.seq}${ack}, win ${e.win}${opt}, length ${e.len}${note}`;
    }
    case 'state':
      return `${head} * ${e.socket}  ${e.from} -> ${e.to}  [${e.cause}]`;
    case 'timer':
      return opts.timers === false ? null : `${head} ~ timer ${e.timer} fired${e.detail ? `: ${e.detail}` : ''}`;
    case 'call':
      if (e.call === 'note') return `${head} # ${e.args}`;
      return `${head} $ ${e.call}(${e.args ?? ''})${e.result !== undefined ? ` = ${e.result}` : ''}`;
    case 'error':
      return `${head} ! ${e.code} (errno ${e.errno}): ${e.message}`;
    case 'drop':
      return `${head} x dropped: ${e.reason}`;
    case 'stats':
      return `${head} S ${statesCount(e.byState)}`;
    case 'http': {
      const conn = httpConnection(e);
      if (e.phase === 'request') return `${head} H ${e.method} ${e.path}${conn}`;
      if (e.phase === 'response') return `${head} H ${e.status} for ${e.method} ${e.path}${conn}`;
      return `${head} H ${e.method} ${e.path} failed: ${e.error}${e.detail ? ` (${e.detail})` : ''}${conn}`;
    }
  }
}

/** The readable timeline; `color` adds ANSI colours (for a terminal). */
export function toTimeline(run: LabRun, opts: { maxLines?: number; color?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`# ${run.scenario.id}: ${run.scenario.title}`);
  lines.push(`# seed ${run.seed}; ${keyValues(run.params)}`);
  lines.push(`# > sent  < received  * state change  $ call  ! error  ~ timer  x drop  H http`);
  if (opts.color) for (let i = 0; i < lines.length; i++) lines[i] = colorHeader(lines[i]!);
  let n = 0;
  let skipped = 0;
  for (const e of run.events) {
    const l = eventLine(e);
    if (l === null) continue;
    if (opts.maxLines !== undefined && n >= opts.maxLines) {
      skipped++;
      continue;
    }
    lines.push(opts.color ? colorEventLine(e, l) : l);
    n++;
  }
  if (skipped) lines.push(`... ${skipped} more events (use --json for all)`);
  lines.push('');
  for (const h of run.hosts) {
    const c = h.counters.snapshot(true);
    lines.push(`counters ${h.name}: ${keyValues(c) || '(none)'}`);
  }
  for (const h of run.hosts) {
    const rows = h.sockets();
    lines.push(`sockets ${h.name} at the end:`);
    if (!rows.length) lines.push('  (none)');
    for (const r of rows) lines.push(`  ${ssLine(r)}`);
  }
  return lines.join('\n');
}
