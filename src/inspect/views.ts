// The reports of `linger inspect` and its subcommands, as text and as JSON, and the sampler that
// every mode shares (one sample, two samples, watch, Prometheus).

import { AgeTracker, analyze, type AnalyzeOptions, type Finding, type Report } from './analyze.ts';
import type { Snapshot } from './collect.ts';
import { diagnose } from './rules.ts';
import {
  renderCloseWait, renderFindings, renderFull, renderHeader, renderKeepalive, renderNotes, renderOrphans,
  renderStates, renderSummary, renderTimeWait,
} from './render.ts';

export type View = 'full' | 'summary' | 'time-wait' | 'close-wait' | 'orphans' | 'keepalive';

/** Which findings each view shows. */
const VIEW_FINDINGS: Record<View, (f: Finding) => boolean> = {
  full: () => true,
  summary: () => false,
  'time-wait': (f) => f.id.startsWith('time-wait') || f.id === 'tw-recycle',
  'close-wait': (f) => f.id === 'close-wait',
  orphans: (f) => ['fin-wait2-orphans', 'fin-wait2-held', 'orphans-limit', 'listen-overflow', 'syn-recv', 'syn-sent', 'resets'].includes(f.id),
  keepalive: (f) => f.id.startsWith('keepalive'),
};

export function viewFindings(view: View, r: Report): Finding[] {
  return r.findings.filter(VIEW_FINDINGS[view]);
}

/** The JSON object of a view; `full` is the whole report (states, sockets, counters, findings, ...). */
export function viewJson(view: View, r: Report): object {
  const head = { tool: r.tool, view, host: r.host, takenAt: r.takenAt, intervalSec: r.intervalSec, states: r.states };
  const findings = viewFindings(view, r);
  switch (view) {
    case 'full': return r;
    case 'summary': return { ...head, summary: r.summary, sockstat: r.sockstat, notes: r.notes };
    case 'time-wait': return { ...head, timeWait: r.timeWait, counters: pick(r, ['TcpExtTW', 'TcpExtTWRecycled', 'TcpExtTWKilled', 'TcpExtTCPTimeWaitOverflow', 'TcpActiveOpens']), findings };
    case 'close-wait': return { ...head, closeWait: r.closeWait, sockets: r.sockets.filter((s) => s.state === 'CLOSE_WAIT'), findings };
    case 'orphans': return { ...head, orphans: r.orphans, counters: r.resets, sockstat: r.sockstat, findings };
    case 'keepalive': return { ...head, keepalive: r.keepalive, sockets: r.sockets.filter((s) => s.state === 'ESTABLISHED'), findings };
  }
}

function pick(r: Report, names: string[]): Record<string, { value: number; delta: number | null }> {
  const out: Record<string, { value: number; delta: number | null }> = {};
  for (const n of names) if (r.counters[n] !== undefined) out[n] = { value: r.counters[n]!, delta: r.deltas?.[n] ?? null };
  return out;
}

export function viewText(view: View, r: Report): string {
  if (view === 'full') return renderFull(r);
  const body = {
    summary: () => renderSummary(r),
    'time-wait': () => renderTimeWait(r),
    'close-wait': () => renderCloseWait(r),
    orphans: () => renderOrphans(r),
    keepalive: () => renderKeepalive(r),
  }[view]();
  const f = view === 'summary' ? '' : `\n\n${renderFindings(viewFindings(view, r))}`;
  const notes = renderNotes(r);
  return `${renderHeader(r)}\n${renderStates(r)}\n\n${body}${f}${notes ? '\n' + notes : ''}`;
}

/** Takes samples; keeps the previous one (for rates and deltas) and the CLOSE_WAIT age tracker. */
export class Sampler {
  private prev: Snapshot | null = null;
  readonly tracker = new AgeTracker();
  constructor(private readonly collect: () => Snapshot, private readonly opts: AnalyzeOptions) {}

  sample(): Report {
    const snap = this.collect();
    this.tracker.update(snap);
    const r = analyze(snap, this.prev, this.opts);
    r.findings = diagnose(r);
    this.prev = snap;
    return r;
  }
}
