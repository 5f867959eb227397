// `--watch [interval]`: samples every interval and redraws a terminal view: counts per state over
// time (a chart and one sparkline per state), the top offenders, the counters that moved and the
// findings. Memory is bounded: a fixed-size ring of per-state counts, one previous sample and the
// age tracker, which keeps only sockets still alive. Ctrl-C (SIGINT) or SIGTERM stops it cleanly.

import * as asciichart from 'asciichart';
import type { Report } from './analyze.ts';
import { ALL_STATES } from './analyze.ts';
import { renderFindings, renderStates, table } from './render.ts';
import { duration, num } from './rules.ts';
import { viewFindings, viewJson, viewText, type Sampler, type View } from './views.ts';

/** A fixed-capacity ring of samples: the chart's memory never grows. */
export class Ring<T> {
  private buf: T[] = [];
  private start = 0;
  constructor(readonly capacity: number) {}
  push(x: T): void {
    if (this.buf.length < this.capacity) this.buf.push(x);
    else {
      this.buf[this.start] = x;
      this.start = (this.start + 1) % this.capacity;
    }
  }
  toArray(): T[] {
    return [...this.buf.slice(this.start), ...this.buf.slice(0, this.start)];
  }
  get length(): number {
    return this.buf.length;
  }
}

export interface Point {
  t: number;
  states: Record<string, number>;
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** One-line chart of a series, scaled from 0 to its maximum. */
export function sparkline(values: number[]): string {
  const max = Math.max(...values, 0);
  return values.map((v) => (max === 0 ? BLOCKS[0] : BLOCKS[Math.min(7, Math.round((v / max) * 7))])).join('');
}

const CHARTED = ['TIME_WAIT', 'CLOSE_WAIT'] as const;

export function renderFrame(r: Report, history: Point[], o: { view: View; intervalSec: number; sample: number; color: boolean; width: number }): string {
  const lines: string[] = [];
  const clock = r.takenAt.slice(11, 19);
  lines.push(`linger inspect --watch ${duration(o.intervalSec)}   ${r.host.hostname} (Linux ${r.host.kernel})   sample ${o.sample} at ${clock} UTC   Ctrl-C quits`);
  lines.push(renderStates(r));
  lines.push('');
  // Chart of the two states this tool is about: one axis in colour, one chart each without.
  const series = CHARTED.map((st) => history.map((p) => p.states[st] ?? 0));
  const span = `the last ${duration(Math.max(0, history.length - 1) * o.intervalSec)} (${history.length} samples)`;
  const plot = (s: number[][], colors?: string[]): string => {
    const max = Math.max(1, ...s.flat());
    return asciichart.plot(s, { height: Math.min(o.color ? 8 : 4, Math.max(2, max)), min: 0, max, colors, format: (x: number) => num(Math.round(x)).padStart(7) });
  };
  if (o.color) {
    lines.push(`Sockets over ${span}: ${asciichart.yellow}TIME_WAIT${asciichart.reset}  ${asciichart.red}CLOSE_WAIT${asciichart.reset}`);
    lines.push(plot(series, [asciichart.yellow, asciichart.red]));
  } else {
    CHARTED.forEach((st, i) => {
      lines.push(`${st} over ${span}:`);
      lines.push(plot([series[i]!]));
    });
  }
  lines.push('');
  const spark: string[][] = [];
  for (const st of ALL_STATES) {
    const vals = history.map((p) => p.states[st] ?? 0);
    if (!vals.some((v) => v > 0)) continue;
    spark.push([st, sparkline(vals), num(vals[vals.length - 1]!), `max ${num(Math.max(...vals))}`]);
  }
  if (spark.length) lines.push(table(spark, '  '));
  lines.push('');
  lines.push('Top offenders');
  const off: string[] = [];
  for (const g of r.closeWait.groups.slice(0, 5)) {
    off.push(`  CLOSE_WAIT  ${g.pid !== null ? `${g.process}[${g.pid}]` : g.process}: ${num(g.count)} ${g.direction === 'incoming' ? `on ${g.service} from ${g.peer}` : `to ${g.service}`}, oldest ${g.oldestAgeSec === null ? 'new' : `>= ${duration(g.oldestAgeSec)}`}`);
  }
  for (const d of r.timeWait.destinations.slice(0, 5)) {
    off.push(`  TIME_WAIT   ${d.key}: ${num(d.count)}, ${num(d.ratePerSec)}/s new = ${d.ratePct} % of capacity, ${d.usedPct} % of ports used`);
  }
  if (r.timeWait.incoming) off.push(`  TIME_WAIT   ${num(r.timeWait.incoming)} of incoming connections (this host closed first as a server)`);
  for (const l of r.orphans.listeners.filter((x) => x.acceptQueue > 0 || x.synRecv > 0).slice(0, 3)) {
    off.push(`  LISTEN      ${l.local} ${l.process ?? '?'}[${l.pid ?? '?'}]: ${num(l.acceptQueue)} waiting for accept(), ${num(l.synRecv)} SYN_RECV`);
  }
  if (r.orphans.finWait2Orphaned) off.push(`  FIN_WAIT2   ${num(r.orphans.finWait2Orphaned)} orphaned (tcp_fin_timeout ${r.orphans.finTimeout ?? '?'} s)`);
  if (!off.length) off.push('  none');
  lines.push(...off);
  const moved = r.resets.filter((c) => c.delta);
  if (moved.length) lines.push(`Counters in the last ${duration(r.intervalSec ?? o.intervalSec)}: ${moved.map((c) => `${c.name} +${num(c.delta!)}`).join(', ')}`);
  lines.push('');
  lines.push(renderFindings(viewFindings(o.view === 'summary' ? 'full' : o.view, r), { brief: true }));
  if (o.view !== 'full' && o.view !== 'summary') {
    // The view's own table under the live part: skip its header lines (already shown above).
    const own = viewText(o.view, r).split('\n').slice(3);
    const cut = own.findIndex((l) => l.startsWith('Findings'));
    lines.push('', ...(cut >= 0 ? own.slice(0, cut) : own));
  }
  // Cut long lines to the terminal's width; coloured lines (the chart) are sized to fit already.
  const fit = (x: string): string => (x.length > o.width && !x.includes('\x1b') ? x.slice(0, o.width - 1) + '…' : x);
  return lines.map((l) => l.split('\n').map(fit).join('\n')).join('\n').trimEnd();
}

export interface WatchOptions {
  sampler: Sampler;
  view: View;
  intervalSec: number;
  /** Stop after this many samples (null: until Ctrl-C). */
  count: number | null;
  json: boolean;
  out: (s: string) => void;
  tty: boolean;
  columns: number;
  /** Called with each report (the Prometheus exporter keeps the latest). */
  onReport?: (r: Report) => void;
}

const CLEAR = '\x1b[H\x1b[2J\x1b[3J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** Runs until `count` samples are drawn or SIGINT/SIGTERM arrives; resolves with the number of samples. */
export function watch(o: WatchOptions): Promise<number> {
  const history = new Ring<Point>(Math.max(10, Math.min(120, o.columns - 12)));
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let n = 0;
    let done = false;
    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (o.tty && !o.json) o.out(`${SHOW_CURSOR}\nlinger inspect: stopped after ${n} samples`);
      if (err) reject(err);
      else resolve(n);
    };
    const onSignal = (): void => finish();
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    if (o.tty && !o.json) o.out(HIDE_CURSOR);
    const tick = (): void => {
      if (done) return;
      const started = Date.now();
      try {
        const r = o.sampler.sample();
        n++;
        history.push({ t: Date.parse(r.takenAt), states: { ...r.states } });
        o.onReport?.(r);
        if (o.json) o.out(JSON.stringify(viewJson(o.view, r)));
        else {
          const frame = renderFrame(r, history.toArray(), { view: o.view, intervalSec: o.intervalSec, sample: n, color: o.tty, width: o.columns });
          o.out(o.tty ? CLEAR + frame : `${frame}\n${'-'.repeat(Math.min(100, o.columns))}`);
        }
      } catch (e) {
        finish(e);
        return;
      }
      if (o.count !== null && n >= o.count) {
        finish();
        return;
      }
      // The next sample is due one interval after this one started, whatever the work took.
      timer = setTimeout(tick, Math.max(0, o.intervalSec * 1000 - (Date.now() - started)));
    };
    tick();
  });
}
