// The text timeline of a lab run: one line per event (segments as tcpdump prints them), then each
// host's counters and socket table (as ss prints it). It reads the same trace events as the JSON,
// the pcap and the diagrams, so they cannot disagree.

import type { LabEvent } from './scenario.ts';
import type { SocketRow } from '../host/host.ts';
import { SS_NAMES, type TcpState } from '../tcp/states.ts';
import type { LabRun } from './runner.ts';
import { colorEventLine, colorHeader } from './ansi.ts';

const pad = (s: string, n: number) => (s.length >= n ? s : s + ' '.repeat(n - s.length));

export function fmtTime(us: number): string {
  const msv = us / 1000;
  if (msv < 10_000) return `${msv.toFixed(3)} ms`;
  const s = us / 1e6;
  if (s < 3600) return `${s.toFixed(3)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}h${String(m).padStart(2, '0')}m${(s % 60).toFixed(3).padStart(6, '0')}s`;
}

/** A readable line for one event, or null for events the timeline skips. */
export function eventLine(e: LabEvent, opts: { timers?: boolean } = {}): string | null {
  const head = `${pad(fmtTime(e.t), 16)} ${pad(e.host, 7)}`;
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
      return `${head} S ${Object.entries(e.byState).map(([k, v]) => `${k}=${v}`).join(' ') || '(no sockets)'}`;
    case 'http': {
      const conn = e.connection ? ` on ${e.connection}${e.reusedSocket ? ' (reused)' : ''}` : '';
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
  lines.push(`# seed ${run.seed}; ${Object.entries(run.params).map(([k, v]) => `${k}=${v}`).join(' ')}`);
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
    lines.push(`counters ${h.name}: ${Object.entries(c).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`);
  }
  for (const h of run.hosts) {
    const rows = h.sockets();
    lines.push(`sockets ${h.name} at the end:`);
    if (!rows.length) lines.push('  (none)');
    for (const r of rows) lines.push(`  ${ssLine(r)}`);
  }
  return lines.join('\n');
}

/** One row the way `ss -tanoi` prints it. */
export function ssLine(r: SocketRow): string {
  const timer = r.timer ? ` timer:(${r.timer.kind},${fmtMs(r.timer.expiresMs)},${r.timer.retrans})` : '';
  const info = r.rtoMs !== undefined
    ? ` ${r.wscale ? `wscale:${r.wscale} ` : ''}rto:${r.rtoMs} rtt:${r.rttMs}/${r.rttvarMs} mss:${r.mss} cwnd:${r.cwnd}${r.ssthresh ? ` ssthresh:${r.ssthresh}` : ''} bytes_sent:${r.bytesSent} bytes_acked:${r.bytesAcked} bytes_received:${r.bytesReceived} retrans:${r.retrans}`
    : '';
  return `${pad(ssState(r), 11)} ${pad(String(r.recvQ), 6)} ${pad(String(r.sendQ), 6)} ${pad(r.local, 22)} ${pad(r.remote, 22)}${timer}${info}`;
}

const ssState = (r: SocketRow): string => SS_NAMES[r.stateNum as TcpState] ?? r.state;

function fmtMs(msv: number): string {
  if (msv >= 60_000) return `${Math.floor(msv / 60_000)}min`;
  if (msv >= 1000) return `${(msv / 1000).toFixed(0)}sec`;
  return `${Math.round(msv)}ms`;
}
