// The scenario page's other views of a run: socket states over time (one row per socket), counts
// of sockets per state and the nstat counters over time, and the `ss -tano` table at a moment.
// All share one compressed time axis, like the sequence diagram's: long idle gaps shrink to a mark.

import type { TraceView, SocketLife } from '../../src/lab/view.ts';
import { buildLives, fmtAt, fmtDuration, stateColor } from '../../src/lab/view.ts';
import type { Sample, WebRun } from '../../src/lab/record.ts';
import { t } from './i18n.ts';

export const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface Scale {
  /** 0..1 along the axis. */
  x(tUs: number): number;
  breaks: Array<{ x: number; dt: number }>;
  ticks: Array<{ x: number; t: number }>;
  start: number;
  end: number;
}

/** A compressed time axis through the given instants: equal room per instant, log room per gap, a break for long gaps. */
export function makeScale(times: number[], endUs: number, latencyUs: number): Scale {
  const pts = [...new Set([0, ...times, endUs])].sort((a, b) => a - b);
  const lat = Math.max(50, latencyUs);
  const pos: number[] = [0];
  const breaks: Array<{ x: number; dt: number }> = [];
  const breakAt: number[] = [];
  for (let i = 1; i < pts.length; i++) {
    const dt = pts[i]! - pts[i - 1]!;
    let w: number;
    if (dt > 12 * lat) {
      w = 2.2;
      breakAt.push(i);
    } else w = 0.25 + Math.log2(1 + dt / lat) * 0.6;
    pos.push(pos[i - 1]! + w);
  }
  // Activity spread over many bursts reads better on a plain linear axis.
  if (breakAt.length > 6) return linearScale(pts[0]!, pts[pts.length - 1]!);
  const total = pos[pos.length - 1]! || 1;
  for (const i of breakAt) breaks.push({ x: (pos[i - 1]! + pos[i]!) / 2 / total, dt: pts[i]! - pts[i - 1]! });
  const x = (tt: number): number => {
    if (tt <= pts[0]!) return 0;
    if (tt >= pts[pts.length - 1]!) return 1;
    let lo = 0;
    let hi = pts.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (pts[mid]! <= tt) lo = mid;
      else hi = mid;
    }
    const f = (tt - pts[lo]!) / Math.max(1, pts[hi]! - pts[lo]!);
    return (pos[lo]! + f * (pos[hi]! - pos[lo]!)) / total;
  };
  // Ticks: instants spread at least 9 % apart.
  const ticks: Array<{ x: number; t: number }> = [];
  let lastX = -1;
  for (const p of pts) {
    const px = x(p);
    if (px - lastX >= 0.09 || p === pts[pts.length - 1]) {
      if (ticks.length && px - ticks[ticks.length - 1]!.x < 0.09) ticks.pop();
      ticks.push({ x: px, t: p });
      lastX = px;
    }
  }
  return { x, breaks, ticks, start: pts[0]!, end: pts[pts.length - 1]! };
}

function linearScale(start: number, end: number): Scale {
  const span = Math.max(1, end - start);
  const x = (tt: number) => Math.min(1, Math.max(0, (tt - start) / span));
  // Round steps (1, 2 or 5 times a power of ten µs), about eight of them.
  const raw = span / 8;
  const p10 = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p10).find((v) => v >= raw) ?? raw;
  const ticks: Array<{ x: number; t: number }> = [];
  for (let tt = Math.ceil(start / step) * step; tt <= end; tt += step) ticks.push({ x: x(tt), t: tt });
  if (!ticks.length || ticks[ticks.length - 1]!.t < end && x(end) - ticks[ticks.length - 1]!.x > 0.09) ticks.push({ x: 1, t: end });
  return { x, breaks: [], ticks, start, end };
}

const W = 1200;
const LABEL_W = 260;
const PLOT_W = W - LABEL_W - 70;

/** The light bands behind a chart where long gaps were compressed (drawn before the data). */
function breakBands(scale: Scale, y: number, h: number): string {
  return scale.breaks
    .map((b) => `<g class="brk"><title>${esc(t('svgGap', { d: fmtDuration(b.dt) }))}</title><rect x="${(LABEL_W + b.x * PLOT_W - 4).toFixed(1)}" y="${y - h}" width="8" height="${h}" fill="#f3f4f6"/></g>`)
    .join('');
}

function axis(scale: Scale, y: number): string {
  const out: string[] = [];
  out.push(`<line x1="${LABEL_W}" y1="${y}" x2="${LABEL_W + PLOT_W}" y2="${y}" stroke="#9ca3af"/>`);
  for (const tk of scale.ticks) {
    const px = LABEL_W + tk.x * PLOT_W;
    out.push(`<line x1="${px}" y1="${y}" x2="${px}" y2="${y + 4}" stroke="#9ca3af"/><text x="${px}" y="${y + 15}" text-anchor="middle" class="tick">${esc(fmtAt(tk.t))}</text>`);
  }
  for (const b of scale.breaks) {
    const px = LABEL_W + b.x * PLOT_W;
    out.push(`<path d="M${px - 5},${y + 3} l4,-7 M${px + 1},${y + 3} l4,-7" stroke="#6b7280" stroke-width="1.3"/>`);
  }
  return out.join('');
}

/** One row per socket life, coloured by state. */
export function stateTimelines(view: TraceView, scale: Scale, maxRows = 40): { svg: string; hidden: number } {
  const lives = buildLives(view).filter((l) => l.spans.length);
  const shown = lives.slice(0, maxRows);
  const rowH = 22;
  const top = 8;
  const h = top + shown.length * rowH + 30;
  const out: string[] = [`<svg class="chart states" viewBox="0 0 ${W} ${h}" width="100%" data-rows="${shown.length}">`];
  out.push(breakBands(scale, top + shown.length * rowH + 4, shown.length * rowH + 4));
  shown.forEach((life: SocketLife, i) => {
    const y = top + i * rowH;
    out.push(`<text x="${LABEL_W - 8}" y="${y + 15}" text-anchor="end" class="rowlabel"><tspan font-weight="600">${esc(life.host)}</tspan> <tspan class="mono">${esc(shortSocket(life.socket))}</tspan><title>${esc(`${life.host} ${life.socket}`)}</title></text>`);
    for (const s of life.spans) {
      const x0 = LABEL_W + scale.x(s.from) * PLOT_W;
      const x1 = LABEL_W + scale.x(s.to ?? view.endUs) * PLOT_W;
      const w = Math.max(1.5, x1 - x0);
      out.push(`<g class="span" data-state="${s.state}"><title>${esc(`${s.state}: ${fmtAt(s.from)} – ${s.to === null ? '…' : fmtAt(s.to)} (${s.cause})`)}</title><rect x="${x0.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" rx="3" fill="${stateColor(s.state)}"/>`);
      if (w > s.state.length * 6.4 + 8) out.push(`<text x="${(x0 + w / 2).toFixed(1)}" y="${y + 15}" text-anchor="middle" class="inbar">${esc(s.state)}</text>`);
      out.push('</g>');
    }
  });
  out.push(axis(scale, top + shown.length * rowH + 4));
  out.push(`<line class="cursor" x1="0" x2="0" y1="0" y2="${top + shown.length * rowH + 4}" stroke="#ef4444" stroke-width="1.5" visibility="hidden"/>`);
  out.push('</svg>');
  return { svg: out.join(''), hidden: lives.length - shown.length };
}

export const shortSocket = (s: string): string => s.replace('>', ' → ');

const STATE_ORDER = ['LISTEN', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSING', 'TIME_WAIT', 'CLOSE_WAIT', 'LAST_ACK'];

/** Per host: a stacked chart of sockets per state, then one step line per counter that moved. */
export function counterCharts(view: TraceView, run: WebRun, scale: Scale): string {
  const lives = buildLives(view);
  const out: string[] = [];
  for (const h of view.hosts) {
    // Sockets per state over time, from the state changes (exact).
    const changes: Array<{ t: number; state: string; d: number }> = [];
    for (const l of lives.filter((x) => x.host === h.name)) for (const s of l.spans) {
      changes.push({ t: s.from, state: s.state, d: 1 });
      if (s.to !== null) changes.push({ t: s.to, state: s.state, d: -1 });
    }
    changes.sort((a, b) => a.t - b.t || a.d - b.d);
    const states = STATE_ORDER.filter((s) => changes.some((c) => c.state === s));
    const counts: Record<string, number> = {};
    const steps: Array<{ t: number; c: Record<string, number> }> = [{ t: scale.start, c: {} }];
    for (const c of changes) {
      counts[c.state] = (counts[c.state] ?? 0) + c.d;
      const last = steps[steps.length - 1]!;
      if (last.t === c.t) last.c = { ...counts };
      else steps.push({ t: c.t, c: { ...counts } });
    }
    const peak = Math.max(1, ...steps.map((s) => states.reduce((n, k) => n + (s.c[k] ?? 0), 0)));
    const series = countersOf(run.samples, h.name);
    const names = Object.keys(series).filter((n) => !n.startsWith('Ip') && series[n]!.some((p) => p.v !== 0));
    const stackH = 90;
    const rowH = 26;
    const top = 24;
    const height = top + stackH + 26 + names.length * rowH + 30;
    const svg: string[] = [`<svg class="chart counters" viewBox="0 0 ${W} ${height}" width="100%" data-host="${esc(h.name)}">`];
    svg.push(breakBands(scale, height - 26, height - 26 - top));
    svg.push(`<text x="0" y="16" class="hosthead">${esc(h.name)} <tspan class="mono dim">${esc(h.addresses.join(', '))}</tspan></text>`);
    // The stack.
    const y0 = top + stackH;
    svg.push(`<text x="${LABEL_W - 8}" y="${top + 14}" text-anchor="end" class="rowlabel">${esc(t('socketsByState'))}</text><text x="${LABEL_W - 8}" y="${top + 30}" text-anchor="end" class="dim">max ${peak}</text>`);
    svg.push(`<line x1="${LABEL_W}" y1="${y0}" x2="${LABEL_W + PLOT_W}" y2="${y0}" stroke="#e5e7eb"/>`);
    for (let i = 0; i < steps.length; i++) {
      const s = steps[i]!;
      const x0 = LABEL_W + scale.x(s.t) * PLOT_W;
      const x1 = LABEL_W + scale.x(i + 1 < steps.length ? steps[i + 1]!.t : scale.end) * PLOT_W;
      let acc = 0;
      for (const st of states) {
        const n = s.c[st] ?? 0;
        if (!n) continue;
        const hh = (n / peak) * stackH;
        svg.push(`<rect x="${x0.toFixed(1)}" y="${(y0 - acc - hh).toFixed(1)}" width="${Math.max(0.5, x1 - x0).toFixed(1)}" height="${hh.toFixed(1)}" fill="${stateColor(st)}"><title>${esc(`${fmtAt(s.t)}: ${st} ${n}`)}</title></rect>`);
        acc += hh;
      }
    }
    // Its key.
    let kx = LABEL_W;
    for (const st of states) {
      svg.push(`<rect x="${kx}" y="${y0 + 8}" width="10" height="10" rx="2" fill="${stateColor(st)}"/><text x="${kx + 14}" y="${y0 + 17}" class="dim">${st}</text>`);
      kx += 24 + st.length * 6.5;
    }
    // Counters.
    names.forEach((n, i) => {
      const pts = series[n]!;
      const max = Math.max(1, ...pts.map((p) => p.v));
      const yb = y0 + 26 + (i + 1) * rowH - 4;
      const hgt = rowH - 8;
      let d = '';
      pts.forEach((p, j) => {
        const px = LABEL_W + scale.x(p.t) * PLOT_W;
        const py = yb - (p.v / max) * hgt;
        d += j === 0 ? `M${px.toFixed(1)},${py.toFixed(1)}` : `H${px.toFixed(1)}V${py.toFixed(1)}`;
      });
      d += `H${LABEL_W + PLOT_W}`;
      const final = pts.length ? pts[pts.length - 1]!.v : 0;
      svg.push(`<g class="counter" data-name="${esc(n)}"><text x="${LABEL_W - 8}" y="${yb - 2}" text-anchor="end" class="mono rowlabel">${esc(n)}</text><line x1="${LABEL_W}" y1="${yb}" x2="${LABEL_W + PLOT_W}" y2="${yb}" stroke="#f3f4f6"/><path d="${d}" fill="none" stroke="#2563eb" stroke-width="1.6"/><text x="${LABEL_W + PLOT_W + 8}" y="${yb - 2}" class="mono val">${final}</text></g>`);
    });
    svg.push(axis(scale, height - 26));
    svg.push(`<line class="cursor" x1="0" x2="0" y1="${top}" y2="${height - 26}" stroke="#ef4444" stroke-width="1.5" visibility="hidden"/>`);
    svg.push('</svg>');
    out.push(svg.join(''));
  }
  return out.join('');
}

/** Each counter's value at each sample (only where it changed). */
function countersOf(samples: Sample[], host: string): Record<string, Array<{ t: number; v: number }>> {
  const out: Record<string, Array<{ t: number; v: number }>> = {};
  const names = new Set<string>();
  for (const s of samples) for (const k of Object.keys(s.counters[host] ?? {})) names.add(k);
  for (const n of names) {
    const pts: Array<{ t: number; v: number }> = [{ t: 0, v: 0 }];
    for (const s of samples) {
      const v = s.counters[host]?.[n] ?? 0;
      if (v !== pts[pts.length - 1]!.v) pts.push({ t: s.t, v });
    }
    out[n] = pts;
  }
  return out;
}

/** The sample in force at a time: the last one at or before it. */
export function sampleAt(samples: Sample[], tUs: number): Sample | null {
  let lo = 0;
  let hi = samples.length - 1;
  if (hi < 0 || samples[0]!.t > tUs) return null;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (samples[mid]!.t <= tUs) lo = mid;
    else hi = mid - 1;
  }
  return samples[lo]!;
}

/** `ss -tano` for each host, as an HTML table. */
export function ssTables(view: TraceView, s: Sample | null, tUs: number): string {
  const out: string[] = [];
  for (const h of view.hosts) {
    const rows = s?.sockets[h.name] ?? [];
    const cut = s?.cut[h.name] ?? 0;
    out.push(`<div class="ss" data-host="${esc(h.name)}"><div class="ss-head"><b>${esc(h.name)}</b> <span class="mono dim">$ ss -tano</span>${s && s.t !== tUs ? ` <span class="dim">(${esc(t('sampleNote', { t: fmtAt(s.t) }))})</span>` : ''}</div>`);
    out.push('<table class="mono"><thead><tr><th>State</th><th class="num">Recv-Q</th><th class="num">Send-Q</th><th>Local Address:Port</th><th>Peer Address:Port</th><th>Timer</th></tr></thead><tbody>');
    if (!rows.length) out.push(`<tr><td colspan="6" class="dim">${esc(t('noSockets'))}</td></tr>`);
    for (const r of rows) {
      out.push(`<tr data-state="${esc(r.state)}"><td><span class="chip" style="background:${stateColor(r.state)}">${esc(r.ss)}</span></td><td class="num">${r.recvQ}</td><td class="num">${r.sendQ}</td><td>${esc(r.local)}</td><td>${esc(r.remote)}</td><td class="dim">${esc(r.timer)}</td></tr>`);
    }
    if (cut) out.push(`<tr><td colspan="6" class="dim">${esc(t('moreRows', { n: cut }))}</td></tr>`);
    out.push('</tbody></table></div>');
  }
  return out.join('');
}

/** Moves the red cursor line of every chart to a time. */
export function placeChartCursors(root: ParentNode, scale: Scale, tUs: number): void {
  const x = LABEL_W + scale.x(tUs) * PLOT_W;
  root.querySelectorAll<SVGLineElement>('svg.chart line.cursor').forEach((l) => {
    l.setAttribute('x1', x.toFixed(1));
    l.setAttribute('x2', x.toFixed(1));
    l.setAttribute('visibility', 'visible');
  });
}
