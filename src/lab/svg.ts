// The SVG sequence diagram of a lab run: hosts as lifelines, time flowing down, every segment an
// arrow from its sending to its arrival (so latency slants it), labelled as tcpdump prints it; lost
// segments stop midway with a cross; each socket's states as a coloured band beside its host's
// lifeline, labelled at each change with the state and its cause; calls, errors, timers and HTTP
// events noted beside the lifeline; long idle gaps compressed and labelled with the time skipped.
// Browser-safe: it builds a string.

import type { StateEvent } from '../base/trace.ts';
import { layoutRows, type Layout, type LayoutOptions, type Row } from './layout.ts';
import {
  ARROW_COLORS, assignLanes, buildLives, fmtAt, fmtDuration, stateColor,
  type Arrow, type ArrowKind, type Note, type NoteKind, type SocketLife, type TraceView,
} from './view.ts';

export interface SvgText {
  /** Label of a compressed gap, given the time skipped. */
  gap: (d: string) => string;
  lost: string;
  end: (t: string) => string;
  legend: { syn: string; fin: string; rst: string; data: string; ack: string; lost: string };
  cut: (shown: number, total: number) => string;
  hiddenSockets: (n: number) => string;
}

export const SVG_TEXT_EN: SvgText = {
  gap: (d) => `${d} later`,
  lost: 'lost',
  end: (t) => `end of run at ${t}`,
  legend: { syn: 'SYN', fin: 'FIN', rst: 'RST', data: 'data', ack: 'ACK', lost: 'lost' },
  cut: (shown, total) => `segments shown: ${shown} of ${total}`,
  hiddenSockets: (n) => `${n} more sockets not drawn as bands`,
};

export interface SvgOptions extends LayoutOptions {
  /** Draw the scenario title above the diagram (default true). */
  title?: boolean;
  /** Most lanes (sockets drawn side by side) on each side of a lifeline (default 6). */
  maxLanes?: number;
  text?: SvgText;
}

export interface SvgResult {
  svg: string;
  width: number;
  height: number;
  layout: Layout;
  /** The y coordinate of a virtual time within the window (for a cursor). */
  yOf(tUs: number): number;
  /** The instant drawn nearest above a y coordinate (the inverse of yOf, for clicks). */
  tAt(y: number): number;
}

const ROW = 20;
const LANE_W = 9;
const LANE_STEP = 12;
const PILL_W = 92;
const NOTES_W = 230;
const MID_NOTES_W = 160;
const AXIS_W = 104;
const CHAR_W = 6.6; // 11px monospace

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f1 = (x: number) => (Math.round(x * 10) / 10).toString();
const clip = (s: string, n: number) => (s.length <= n ? s : s.slice(0, Math.max(1, n - 1)) + '…');

/** Height of the space between two instants dt apart; beyond 12 typical latencies the gap is compressed. */
function gapHeight(dt: number, lat: number): { h: number; compressed: boolean } {
  if (dt <= 0) return { h: 0, compressed: false };
  if (dt > 12 * lat) return { h: 56, compressed: true };
  return { h: Math.max(6, 18 * Math.log2(1 + dt / lat)), compressed: false };
}

type Side = 'left' | 'right';

/** A compressed gap: the y band it takes and the time it stands for. */
interface Gap {
  y0: number;
  y1: number;
  dt: number;
}

/** Where everything goes: each lifeline's x, each instant's y (long idle gaps compressed). */
interface Geometry {
  view: TraceView;
  layout: Layout;
  text: SvgText;
  /** Host names, left to right, and the index of each. */
  hosts: string[];
  index: Map<string, number>;
  /** Index of the rightmost host. */
  last: number;
  lifeX: number[];
  /** The room between two hosts' lanes, where the arrows run. */
  span: number;
  width: number;
  /** Top of the time axis, the y of each instant's first row, and the bottom of the lifelines. */
  top: number;
  Y: number[];
  gaps: Gap[];
  bottom: number;
  /** Of the whole picture. */
  height: number;
  /** Time at the bottom: the end of the run, or of the window. */
  endT: number;
  /** x of the outer edge of a host's lanes on one side. */
  edge(h: string, side: Side): number;
  /** x of a lane's state band. */
  laneX(h: string, side: Side, lane: number): number;
  yOf(t: number): number;
  /** y of the middle of a row. */
  rowY(r: Row): number;
}

/** The diagram, drawn back to front: frame, gaps, lifelines, state bands, times, arrows, notes. */
export function renderSvg(view: TraceView, opts: SvgOptions = {}): SvgResult {
  const layout = layoutRows(view, opts);
  const lives = buildLives(view);
  const { hidden, lanes } = assignLanes(view, lives, opts.maxLanes ?? 6);
  const showTitle = opts.title !== false;
  const g = geometry(view, layout, lanes, showTitle, hidden, opts.text ?? SVG_TEXT_EN);
  const winFrom = layout.window.fromUs;
  const bandLives = lives.filter((l) => l.lane >= 0 && l.start <= g.endT && (l.end === null || l.end >= winFrom));
  const headY = showTitle ? 42 : 8; // below the title
  const boxY = headY + 30;
  const out = [
    ...svgHead(g, showTitle),
    ...legend(g.text, headY + 12),
    ...hostBoxes(g, boxY),
    ...gapBands(g),
    ...lifelines(g, boxY + 40),
    ...stateBands(g, bandLives),
    ...timeAxis(g),
    ...arrows(g),
    ...annotations(g, lives),
    ...(winFrom > 0 ? statesAtWindowTop(g, bandLives) : []),
    ...footer(g, hidden),
    '</svg>',
  ];
  return { svg: out.join('\n'), width: g.width, height: g.height, layout, yOf: g.yOf, tAt: (y) => instantAt(g, y) };
}

// ---------------------------------------------------------------------------------------------
// Geometry.

function geometry(view: TraceView, layout: Layout, lanes: Map<string, { left: number; right: number }>, showTitle: boolean, hidden: number, text: SvgText): Geometry {
  const hosts = view.hosts.map((h) => h.name);
  const index = new Map(hosts.map((h, i) => [h, i]));
  const lanesW = (h: string, side: Side) => (lanes.get(h)?.[side] ?? 0) * LANE_STEP;
  const { lifeX, span, width } = columns(hosts, lanesW);
  const top = (showTitle ? 34 : 8) + 28 + 52;
  const { Y, gaps, endT, bottom } = timeRows(view, layout, top);
  const g: Geometry = {
    view, layout, text, hosts, index, last: hosts.length - 1, lifeX, span, width, top, Y, gaps, bottom, endT,
    height: Math.ceil(bottom + 44 + (hidden ? 16 : 0)),
    edge: (h, side) => lifeX[index.get(h)!]! + (side === 'left' ? -lanesW(h, 'left') : lanesW(h, 'right')),
    laneX: (h, side, lane) => (side === 'left' ? lifeX[index.get(h)!]! - 3 - lane * LANE_STEP - LANE_W : lifeX[index.get(h)!]! + 3 + lane * LANE_STEP),
    yOf: (t) => yAt(g, t),
    rowY: (r) => Y[r.i]! + r.idx * ROW + ROW / 2,
  };
  return g;
}

/** Left to right: notes, state pills and lanes outside the outer lifelines; lanes and a span between. */
function columns(hosts: string[], lanesW: (h: string, side: Side) => number): { lifeX: number[]; span: number; width: number } {
  const nh = hosts.length;
  const span = nh > 2 ? 580 : 540;
  const lifeX: number[] = [];
  let x = AXIS_W + NOTES_W + PILL_W + 14 + lanesW(hosts[0]!, 'left');
  for (let i = 0; i < nh; i++) {
    if (i > 0) x += lanesW(hosts[i - 1]!, 'right') + span + lanesW(hosts[i]!, 'left');
    lifeX.push(x);
  }
  const last = nh - 1;
  const width = Math.ceil(lifeX[last]! + lanesW(hosts[last]!, 'right') + 14 + PILL_W + NOTES_W + 10);
  return { lifeX, span, width };
}

/** Top to bottom: each instant's rows, and between instants a gap that grows with the time between. */
function timeRows(view: TraceView, layout: Layout, top: number): { Y: number[]; gaps: Gap[]; endT: number; bottom: number } {
  const { instants, height, window: win } = layout;
  const lat = Math.max(50, layout.latencyUs);
  const Y: number[] = [];
  const gaps: Gap[] = [];
  let y = top + 10;
  for (let i = 0; i < instants.length; i++) {
    if (i > 0) {
      const dt = instants[i]! - instants[i - 1]!;
      const gap = gapHeight(dt, lat);
      if (gap.compressed) gaps.push({ y0: y, y1: y + gap.h, dt });
      y += gap.h;
    }
    Y.push(y);
    y += height[i]! * ROW;
  }
  // The end of the run (or of the window).
  const lastT = instants.length ? instants[instants.length - 1]! : win.fromUs;
  const endT = win.atEnd ? Math.max(view.endUs, lastT) : lastT;
  if (endT > lastT) {
    const gap = gapHeight(endT - lastT, lat);
    if (gap.compressed) gaps.push({ y0: y, y1: y + gap.h, dt: endT - lastT });
    y += gap.h;
  }
  return { Y, gaps, endT, bottom: y + 8 };
}

/** The y of a virtual time: an instant's first row, or in between, in proportion to the time. */
function yAt(g: Geometry, t: number): number {
  const { instants, height } = g.layout;
  const Y = g.Y;
  if (!instants.length) return g.top;
  if (t <= instants[0]!) return Y[0]!;
  let lo = 0;
  let hi = instants.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (instants[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  const i0 = lo;
  if (instants[i0] === t) return Y[i0]!;
  const yEnd = Y[i0]! + height[i0]! * ROW;
  const tNext = i0 + 1 < instants.length ? instants[i0 + 1]! : g.endT;
  const yNext = i0 + 1 < instants.length ? Y[i0 + 1]! : g.bottom - 8;
  if (t >= tNext) return yNext;
  return yEnd + ((t - instants[i0]!) / Math.max(1, tNext - instants[i0]!)) * (yNext - yEnd);
}

/** The instant drawn nearest above y (the end of the run below the last one). */
function instantAt(g: Geometry, yy: number): number {
  const { instants, height, window: win } = g.layout;
  let best = instants.length ? instants[0]! : win.fromUs;
  for (let i = 0; i < instants.length && g.Y[i]! <= yy; i++) best = instants[i]!;
  if (instants.length && yy > g.Y[instants.length - 1]! + height[instants.length - 1]! * ROW + 20) best = g.endT;
  return best;
}

// ---------------------------------------------------------------------------------------------
// The frame: header, legend, hosts, gaps, lifelines, the time axis and the footer.

function svgHead(g: Geometry, showTitle: boolean): string[] {
  const { view, width, height } = g;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="linger-seq" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="ui-sans-serif, system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', sans-serif" font-size="12" data-scenario="${esc(view.id)}" data-from-us="${g.layout.window.fromUs}" data-to-us="${g.endT}">`,
    `<defs>${Object.entries(ARROW_COLORS).map(([k, c]) => `<marker id="ah-${k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`).join('')}</defs>`,
    `<style>.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono','Noto Sans Mono CJK SC',monospace;font-size:11px}.halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}.arrow:hover line,.arrow:hover polyline{stroke-width:2.6}.arrow:hover text{font-weight:600}</style>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  ];
  if (showTitle) out.push(`<text x="12" y="26" font-size="16" font-weight="600" fill="#111827">${esc(view.id)}: ${esc(view.title)}</text>`);
  return out;
}

/** One sample arrow per kind of segment, and a lost one. */
function legend(T: SvgText, ly: number): string[] {
  const kinds: ArrowKind[] = ['syn', 'fin', 'rst', 'data', 'ack'];
  const out = ['<g class="legend">'];
  let lx = 12;
  for (const kind of kinds) {
    const c = ARROW_COLORS[kind];
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="${c}" stroke-width="1.6" marker-end="url(#ah-${kind})"/><text x="${lx + 32}" y="${ly + 4}" fill="#374151">${esc(T.legend[kind])}</text>`);
    lx += 40 + T.legend[kind].length * 7 + 14;
  }
  out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 16}" y2="${ly}" stroke="#6b7280" stroke-width="1.6"/>${cross(lx + 20, ly, 'legend-cross')}<text x="${lx + 30}" y="${ly + 4}" fill="#374151">${esc(T.legend.lost)}</text>`);
  out.push('</g>');
  return out;
}

/** Each host's name and addresses in a box above its lifeline. */
function hostBoxes(g: Geometry, boxY: number): string[] {
  return g.view.hosts.map((h, i) => {
    const cx = g.lifeX[i]!;
    const addr = h.addresses.join(', ');
    const w = Math.max(120, addr.length * 7 + 24, h.name.length * 8 + 24);
    return `<g class="host" data-host="${esc(h.name)}"><rect x="${f1(cx - w / 2)}" y="${boxY}" width="${w}" height="40" rx="6" fill="#f3f4f6" stroke="#9ca3af"/><text x="${cx}" y="${boxY + 17}" text-anchor="middle" font-weight="600" fill="#111827">${esc(h.name)}</text><text x="${cx}" y="${boxY + 32}" text-anchor="middle" class="mono" fill="#4b5563">${esc(addr)}</text></g>`;
  });
}

/** Compressed gaps: a band across the diagram with the time skipped. */
function gapBands(g: Geometry): string[] {
  const { lifeX } = g;
  const out: string[] = [];
  for (const gap of g.gaps) {
    out.push(`<g class="gap" data-us="${gap.dt}"><rect x="${AXIS_W - 4}" y="${f1(gap.y0 + 6)}" width="${g.width - AXIS_W - 4}" height="${f1(gap.y1 - gap.y0 - 12)}" fill="#f9fafb"/>`);
    for (const lxp of lifeX) out.push(`<path d="M${lxp - 7},${f1(gap.y0 + 16)} l14,-5 M${lxp - 7},${f1(gap.y1 - 12)} l14,-5" stroke="#9ca3af" stroke-width="1.2"/>`);
    const label = g.text.gap(fmtDuration(gap.dt));
    const mid = lifeX.length > 1 ? (lifeX[0]! + lifeX[1]!) / 2 : lifeX[0]! + 120;
    out.push(`<text x="${f1(mid)}" y="${f1((gap.y0 + gap.y1) / 2 + 4)}" text-anchor="middle" font-style="italic" fill="#6b7280">⋯ ${esc(label)} ⋯</text></g>`);
  }
  return out;
}

function lifelines(g: Geometry, y0: number): string[] {
  return g.lifeX.map((x) => `<line class="lifeline" x1="${x}" y1="${y0}" x2="${x}" y2="${f1(g.bottom)}" stroke="#9ca3af" stroke-width="1.2" stroke-dasharray="4 3"/>`);
}

/** The time of each instant, where there is room for it. */
function timeAxis(g: Geometry): string[] {
  const out: string[] = [];
  let lastLabelY = -100;
  g.layout.instants.forEach((t, i) => {
    const ty = g.Y[i]! + ROW / 2 + 4;
    if (ty - lastLabelY < 14) return;
    lastLabelY = ty;
    out.push(`<text class="mono t" x="${AXIS_W - 10}" y="${f1(ty)}" text-anchor="end" fill="#6b7280">${esc(fmtAt(t))}</text>`);
  });
  return out;
}

/** A bar closing each lifeline, then where the run (or the window) ends. */
function footer(g: Geometry, hidden: number): string[] {
  const { bottom, text: T } = g;
  const win = g.layout.window;
  const out = g.lifeX.map((x) => `<rect x="${x - 30}" y="${f1(bottom)}" width="60" height="4" rx="2" fill="#9ca3af"/>`);
  const foot = win.atEnd ? T.end(fmtAt(g.endT)) : T.cut(win.shown, win.total);
  out.push(`<text class="footer" x="${AXIS_W}" y="${f1(bottom + 24)}" fill="#6b7280">${esc(foot)}${win.atEnd && win.fromUs > 0 ? ` · ${esc(T.cut(win.shown, win.total))}` : ''}</text>`);
  if (hidden) out.push(`<text x="${AXIS_W}" y="${f1(bottom + 40)}" fill="#6b7280">${esc(T.hiddenSockets(hidden))}</text>`);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Socket states: a band per socket on its lane, beside its host's lifeline.

function stateBands(g: Geometry, bandLives: SocketLife[]): string[] {
  const { top, bottom, endT } = g;
  const winFrom = g.layout.window.fromUs;
  const out: string[] = [];
  for (const life of bandLives) {
    const bx = g.laneX(life.host, life.side, life.lane);
    out.push(`<g class="band-socket" data-host="${esc(life.host)}" data-socket="${esc(life.socket)}">`);
    for (const s of life.spans) {
      const to = s.to ?? endT;
      if (to < winFrom || s.from > endT) continue;
      const y0 = s.from < winFrom ? top : g.yOf(s.from);
      const y1 = s.to === null ? bottom : to > endT ? bottom : g.yOf(to);
      if (y1 - y0 < 0.5) continue;
      out.push(`<rect class="band" data-state="${s.state}" x="${f1(bx)}" y="${f1(y0)}" width="${LANE_W}" height="${f1(y1 - y0)}" fill="${stateColor(s.state)}" stroke="${darken(stateColor(s.state))}" stroke-width="0.6"><title>${esc(`${life.host} ${life.socket}: ${s.state} (${s.cause})`)}</title></rect>`);
    }
    out.push('</g>');
  }
  return out;
}

/** Above a window that starts mid-run: the state each band's socket is already in. */
function statesAtWindowTop(g: Geometry, bandLives: SocketLife[]): string[] {
  const winFrom = g.layout.window.fromUs;
  const out: string[] = [];
  for (const life of bandLives) {
    const sp = life.spans.find((s) => s.from < winFrom && (s.to === null || s.to >= winFrom));
    if (!sp) continue;
    const bx = g.laneX(life.host, life.side, life.lane);
    out.push(`<text x="${f1(bx + LANE_W / 2)}" y="${g.top - 2}" text-anchor="middle" font-size="9" fill="#374151">${esc(sp.state)}</text>`);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Segments: an arrow from the sending to the arrival, labelled as tcpdump prints it.

function arrows(g: Geometry): string[] {
  const outRows = new Map<Arrow, Row>();
  const inRows = new Map<Arrow, Row>();
  for (const r of g.layout.rows) {
    if (r.out) outRows.set(r.out, r);
    if (r.in) inRows.set(r.in, r);
  }
  const drawn = new Set<Arrow>();
  const labelBoxes: Seg[] = [];
  const out: string[] = [];
  for (const a of [...outRows.keys(), ...inRows.keys()]) {
    if (drawn.has(a)) continue;
    drawn.add(a);
    out.push(drawArrow(g, a, outRows.get(a), inRows.get(a), labelBoxes));
  }
  return out;
}

/** Where an arrow starts and ends, and which host indexes it joins. */
interface ArrowEnds {
  fromI: number | undefined;
  toI: number | undefined;
  rightward: boolean;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

function arrowEnds(g: Geometry, a: Arrow, ro: Row | undefined, ri: Row | undefined): ArrowEnds {
  const fromI = a.from !== null ? g.index.get(a.from) : undefined;
  const toI = a.to !== null ? g.index.get(a.to) : undefined;
  const rightward = fromI !== undefined && toI !== undefined ? toI > fromI : toI !== undefined ? toI > 0 ? true : false : true;
  let x1: number;
  let y1: number;
  if (fromI !== undefined && ro) {
    x1 = g.edge(a.from!, rightward ? 'right' : 'left');
    y1 = g.rowY(ro);
  } else if (fromI !== undefined) {
    x1 = g.edge(a.from!, rightward ? 'right' : 'left');
    y1 = g.top; // sent before the window
  } else {
    // From something we did not trace: start in the middle of the span.
    const ti = toI ?? 0;
    const other = ti > 0 ? ti - 1 : Math.min(1, g.last);
    x1 = (g.lifeX[ti]! + g.lifeX[other]!) / 2;
    y1 = ri ? g.rowY(ri) - ROW : g.top;
  }
  let x2: number;
  let y2: number;
  if (toI !== undefined) x2 = g.edge(a.to!, rightward ? 'left' : 'right');
  else x2 = x1 + (rightward ? g.span : -g.span);
  const lat = g.layout.latencyUs;
  if (ri) y2 = g.rowY(ri);
  else if (a.tIn !== null) y2 = a.tIn > g.endT ? g.bottom : g.yOf(a.tIn);
  else y2 = g.yOf(a.tOut + lat) + (ro && g.yOf(a.tOut + lat) <= y1 ? ROW : 0);
  return { fromI, toI, rightward, x1, y1, x2, y2 };
}

function drawArrow(g: Geometry, a: Arrow, ro: Row | undefined, ri: Row | undefined, labelBoxes: Seg[]): string {
  const T = g.text;
  const c = ARROW_COLORS[a.kind];
  const ends = arrowEnds(g, a, ro, ri);
  const { x1, y1, x2, y2 } = ends;
  const cls = `arrow k-${a.kind}${a.lost ? ' lost' : ''}${a.duplicate ? ' dup' : ''}${a.from === null ? ' foreign' : ''}`;
  const attrs = `data-n="${a.n}" data-flags="${esc(a.flags)}" data-from="${esc(a.from ?? '')}" data-to="${esc(a.to ?? '')}" data-t-out="${a.tOut}"${a.tIn !== null ? ` data-t-in="${a.tIn}"` : ''}`;
  const title = `${fmtAt(a.tOut)} ${a.from ?? '?'} → ${a.to ?? '?'}${a.tIn !== null ? ` (arrives ${fmtAt(a.tIn)})` : ''}\n${a.full}${a.note ? `\n(${a.note})` : ''}${a.lost ? `\n${a.dropReason ?? T.lost}` : ''}`;
  const parts: string[] = [`<g class="${cls}" ${attrs}><title>${esc(title)}</title>`];
  const dash = a.from === null || a.duplicate ? ' stroke-dasharray="5 3"' : '';
  // A lost segment stops midway, with a cross.
  let ex = x2;
  if (a.lost) {
    ex = x1 + (x2 - x1) * 0.55;
    const ey = y1 + (y2 - y1) * 0.55;
    parts.push(`<line x1="${f1(x1)}" y1="${f1(y1)}" x2="${f1(ex)}" y2="${f1(ey)}" stroke="${c}" stroke-width="1.6"${dash}/>`);
    parts.push(cross(ex, ey));
  } else {
    parts.push(`<line x1="${f1(x1)}" y1="${f1(y1)}" x2="${f1(x2)}" y2="${f1(y2)}" stroke="${c}" stroke-width="1.6"${dash} marker-end="url(#ah-${a.kind})"/>`);
  }
  parts.push(...arrowLabel(g, a, ends, ex, labelBoxes));
  parts.push('</g>');
  return parts.join('');
}

/**
 * The label (and the note or "lost" below it) along the arrow, centred on the free middle of the
 * span; where it would cover another label (a burst of segments) it moves along the arrow, and if
 * no place is free it stays in the tooltip only. `ex` is where a lost arrow stops.
 */
function arrowLabel(g: Geometry, a: Arrow, ends: ArrowEnds, ex: number, labelBoxes: Seg[]): string[] {
  const { fromI, toI, rightward, x1, y1, x2, y2 } = ends;
  const xa = Math.min(x1, x2);
  const xb = Math.max(x1, x2);
  // The host at each end of the span; a middle host keeps notes on its right and pills on its left.
  const leftHost = fromI !== undefined && rightward ? fromI : toI !== undefined && !rightward ? toI : -1;
  const rightHost = fromI !== undefined && !rightward ? fromI : toI !== undefined && rightward ? toI : -1;
  const padL = leftHost > 0 && leftHost < g.last ? PILL_W + 110 : 0;
  const padR = rightHost > 0 && rightHost < g.last ? PILL_W + 10 : 0;
  const maxChars = Math.floor((a.lost ? Math.abs(ex - x1) : xb - xa - padL - padR) / CHAR_W) - 2;
  const label = clip(a.label, Math.max(12, maxChars));
  const sub = [a.note, a.lost ? g.text.lost : ''].filter(Boolean).join(' · ');
  const centre = a.lost ? (x1 + ex) / 2 : (xa + padL + xb - padR) / 2;
  const halfLen = (label.length * CHAR_W) / 2;
  const ux = (x2 - x1) / Math.hypot(x2 - x1, y2 - y1 || 0.0001);
  const uy = (y2 - y1) / Math.hypot(x2 - x1, y2 - y1 || 0.0001);
  const ang = (Math.atan2(y2 - y1, x2 - x1) * 180) / Math.PI;
  const rot = Math.abs(ang) > 90 ? ang - 180 * Math.sign(ang) : ang;
  const room = Math.max(0, (a.lost ? Math.abs(ex - x1) : xb - xa - padL - padR) / 2 - halfLen * Math.abs(ux));
  for (const xm of [0, -0.5, 0.5, -1, 1].map((f) => centre + f * room)) {
    const f = x2 === x1 ? 0.5 : (xm - x1) / (x2 - x1);
    const ym = y1 + (y2 - y1) * f;
    const seg = { ax: xm - ux * halfLen, ay: ym - uy * halfLen, bx: xm + ux * halfLen, by: ym + uy * halfLen };
    if (!labelBoxes.every((b) => segDist(b, seg) >= 12)) continue;
    labelBoxes.push(seg);
    const tc = a.kind === 'ack' ? '#4b5563' : ARROW_COLORS[a.kind];
    const out = [`<text class="mono halo lbl" x="${f1(xm)}" y="${f1(ym - 5)}" text-anchor="middle" fill="${tc}" transform="rotate(${f1(rot)} ${f1(xm)} ${f1(ym)})">${esc(label)}</text>`];
    if (sub) out.push(`<text class="halo sub" x="${f1(xm)}" y="${f1(ym + 13)}" text-anchor="middle" font-size="10.5" font-style="italic" fill="${a.lost ? '#b91c1c' : '#6b7280'}" transform="rotate(${f1(rot)} ${f1(xm)} ${f1(ym)})">${esc(sub)}</text>`);
    return out;
  }
  return [];
}

// ---------------------------------------------------------------------------------------------
// Annotations beside the lifelines: a pill for each state change, notes for calls, errors,
// timers, HTTP and the scenario's narration, with the cause of the change.

function annotations(g: Geometry, lives: SocketLife[]): string[] {
  const lifeOf = new Map<string, SocketLife>();
  for (const l of lives) lifeOf.set(`${l.host}|${l.socket}`, l);
  const out: string[] = [];
  for (const r of g.layout.rows) {
    const i = g.index.get(r.host);
    if (i === undefined) continue;
    const outer: Side = i === 0 && g.last > 0 ? 'left' : 'right';
    let cause: string | null = null;
    if (r.state) {
      out.push(statePill(g, r, r.state, lifeOf.get(`${r.host}|${r.state.socket}`)?.side ?? outer));
      // The cause, unless the note beside it already says it (a call, or the timer that fired).
      if (!(r.note && r.note.kind === 'call' && r.state.causeKind === 'call')) cause = r.state.cause;
    }
    const note = r.note && !(r.note.kind === 'timer' && r.state) ? r.note : null;
    if (note) {
      const mark = lifelineMark(g.lifeX[i]!, g.rowY(r), note.kind);
      if (mark) out.push(mark);
    }
    if (note || cause) out.push(noteText(g, r, i, outer, note, cause));
  }
  return out;
}

function statePill(g: Geometry, r: Row, st: StateEvent, side: Side): string {
  const ry = g.rowY(r);
  const px = side === 'left' ? g.edge(r.host, 'left') - 6 - PILL_W : g.edge(r.host, 'right') + 6;
  return `<g class="state-label" data-state="${st.to}" data-host="${esc(r.host)}"><title>${esc(`${r.host} ${st.socket}: ${st.from} -> ${st.to} [${st.cause}]`)}</title><rect x="${f1(px)}" y="${f1(ry - 8)}" width="${PILL_W}" height="16" rx="8" fill="${stateColor(st.to)}" stroke="${darken(stateColor(st.to))}"/><text x="${f1(px + PILL_W / 2)}" y="${f1(ry + 4)}" text-anchor="middle" font-size="10.5" font-weight="600" fill="#111827">${esc(st.to)}</text></g>`;
}

/** The mark on the lifeline for an error or drop (!), a call (a square) or a timer (a circle). */
function lifelineMark(x: number, ry: number, kind: NoteKind): string | null {
  if (kind === 'error' || kind === 'drop') return `<circle class="err-mark" cx="${x}" cy="${f1(ry)}" r="5.5" fill="#dc2626"/><text x="${x}" y="${f1(ry + 3.5)}" text-anchor="middle" font-size="9" font-weight="700" fill="#fff">!</text>`;
  if (kind === 'call') return `<rect class="call-mark" x="${x - 3}" y="${f1(ry - 3)}" width="6" height="6" fill="#1d4ed8"/>`;
  if (kind === 'timer') return `<circle class="timer-mark" cx="${x}" cy="${f1(ry)}" r="3.5" fill="#fff" stroke="#6b7280" stroke-width="1.4"/>`;
  return null;
}

/** The text attributes of a note of one kind. */
function noteAttrs(kind: NoteKind): string {
  const color = kind === 'error' || kind === 'drop' ? '#b91c1c' : kind === 'call' ? '#1d4ed8' : kind === 'http' ? '#7c3aed' : kind === 'note' ? '#111827' : '#6b7280';
  const mono = kind === 'call' || kind === 'error';
  return `${mono ? 'class="mono" ' : ''}fill="${color}"${kind === 'timer' ? ' font-style="italic"' : ''}${kind === 'error' || kind === 'note' ? ' font-weight="600"' : ''}`;
}

/** The note and the cause in the notes column outside the host's pills (the outer side). */
function noteText(g: Geometry, r: Row, i: number, outer: Side, note: Note | null, cause: string | null): string {
  const ry = g.rowY(r);
  const middle = i > 0 && i < g.last;
  const w = middle ? MID_NOTES_W : NOTES_W;
  const nx = outer === 'left' ? g.edge(r.host, 'left') - 6 - PILL_W - 8 : g.edge(r.host, 'right') + 6 + PILL_W + 8;
  const anchor = outer === 'left' ? 'end' : 'start';
  const full = [cause ? `${r.state!.from} -> ${r.state!.to}: ${cause}` : '', note?.full ?? ''].filter(Boolean).join('\n');
  // A scenario's narration that does not fit runs onto a second, smaller line.
  if (note && note.kind === 'note' && !cause && note.text.length > Math.floor(w / 7)) {
    const max = Math.floor(w / 7);
    const cut = note.text.lastIndexOf(' ', max);
    const first = note.text.slice(0, cut > 0 ? cut : max);
    const rest = clip(note.text.slice(first.length).trim(), Math.floor(w / 6.2));
    return `<text class="note n-note${middle ? ' halo' : ''}" x="${f1(nx)}" y="${f1(ry + 1)}" text-anchor="${anchor}" fill="#111827" font-weight="600"><title>${esc(full)}</title>${esc(first)}<tspan x="${f1(nx)}" dy="12" font-size="10.5">${esc(rest)}</tspan></text>`;
  }
  const parts: Array<{ text: string; attrs: string }> = [];
  if (cause) parts.push({ text: cause, attrs: 'font-style="italic" fill="#6b7280"' });
  if (note) parts.push({ text: note.kind === 'timer' ? `${note.text} fired` : note.text, attrs: noteAttrs(note.kind) });
  if (outer === 'left') parts.reverse();
  const texts = fitTexts(parts.map((p) => p.text), Math.floor(w / 7) - (parts.length - 1) * 2);
  const kindCls = note ? `n-${note.kind}` : 'n-cause';
  return `<text class="note ${kindCls}${middle ? ' halo' : ''}" x="${f1(nx)}" y="${f1(ry + 4)}" text-anchor="${anchor}"><title>${esc(full)}</title>${parts.map((p, j) => `<tspan ${p.attrs}>${j > 0 ? '  ' : ''}${esc(texts[j]!)}</tspan>`).join('')}</text>`;
}

/** Texts cut to fit `budget` characters together, the longest first. */
function fitTexts(texts: string[], budget: number): string[] {
  const t = [...texts];
  const total = () => t.reduce((n, s) => n + s.length, 0);
  while (total() > budget && budget > 0) {
    const k = t.reduce((bi, s, j) => (s.length > t[bi]!.length ? j : bi), 0);
    t[k] = clip(t[k]!, Math.max(4, t[k]!.length - (total() - budget)));
    if (t.every((s) => s.length <= 4)) budget = 0;
  }
  return t;
}

interface Seg {
  ax: number;
  ay: number;
  bx: number;
  by: number;
}

/** Shortest distance between two line segments. */
function segDist(p: Seg, q: Seg): number {
  const cross = (ax: number, ay: number, bx: number, by: number) => ax * by - ay * bx;
  const d1x = p.bx - p.ax, d1y = p.by - p.ay, d2x = q.bx - q.ax, d2y = q.by - q.ay;
  const den = cross(d1x, d1y, d2x, d2y);
  if (den !== 0) {
    const s = cross(q.ax - p.ax, q.ay - p.ay, d2x, d2y) / den;
    const t = cross(q.ax - p.ax, q.ay - p.ay, d1x, d1y) / den;
    if (s >= 0 && s <= 1 && t >= 0 && t <= 1) return 0;
  }
  const pt = (px: number, py: number, s: Seg) => {
    const dx = s.bx - s.ax, dy = s.by - s.ay;
    const l2 = dx * dx + dy * dy || 1e-9;
    const u = Math.max(0, Math.min(1, ((px - s.ax) * dx + (py - s.ay) * dy) / l2));
    return Math.hypot(px - (s.ax + u * dx), py - (s.ay + u * dy));
  };
  return Math.min(pt(p.ax, p.ay, q), pt(p.bx, p.by, q), pt(q.ax, q.ay, p), pt(q.bx, q.by, p));
}

function cross(x: number, y: number, cls = 'cross'): string {
  return `<path class="${cls}" d="M${f1(x - 5)},${f1(y - 5)} L${f1(x + 5)},${f1(y + 5)} M${f1(x - 5)},${f1(y + 5)} L${f1(x + 5)},${f1(y - 5)}" stroke="#dc2626" stroke-width="2.2"/>`;
}

/** A darker shade of a #rrggbb colour, for outlines. */
function darken(hex: string): string {
  const n = parseInt(hex.slice(1), 16);
  const d = (v: number) => Math.round(v * 0.7).toString(16).padStart(2, '0');
  return `#${d((n >> 16) & 255)}${d((n >> 8) & 255)}${d(n & 255)}`;
}
