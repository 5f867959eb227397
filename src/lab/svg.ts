// The SVG sequence diagram of a lab run: hosts as lifelines, time flowing down, every segment an
// arrow from its sending to its arrival (so latency slants it), labelled as tcpdump prints it; lost
// segments stop midway with a cross; each socket's states as a coloured band beside its host's
// lifeline, labelled at each change with the state and its cause; calls, errors, timers and HTTP
// events noted beside the lifeline; long idle gaps compressed and labelled with the time skipped.
// Browser-safe: it builds a string.

import { layoutRows, type Layout, type LayoutOptions, type Row } from './layout.ts';
import {
  ARROW_COLORS, assignLanes, buildLives, fmtAt, fmtDuration, stateColor,
  type Arrow, type SocketLife, type TraceView,
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

/** Height of the space between two instants dt apart; beyond `breakAt` the gap is compressed. */
function gapHeight(dt: number, lat: number): { h: number; compressed: boolean } {
  if (dt <= 0) return { h: 0, compressed: false };
  if (dt > 12 * lat) return { h: 56, compressed: true };
  return { h: Math.max(6, 18 * Math.log2(1 + dt / lat)), compressed: false };
}

export function renderSvg(view: TraceView, opts: SvgOptions = {}): SvgResult {
  const T = opts.text ?? SVG_TEXT_EN;
  const L = layoutRows(view, opts);
  const { instants, rows, height, window: win } = L;
  const lat = Math.max(50, L.latencyUs);
  const lives = buildLives(view);
  const { hidden, lanes } = assignLanes(view, lives, opts.maxLanes ?? 6);
  const hosts = view.hosts.map((h) => h.name);
  const nh = hosts.length;
  const showTitle = opts.title !== false;

  // Horizontal geometry.
  const lanesW = (h: string, side: 'left' | 'right') => (lanes.get(h)?.[side] ?? 0) * LANE_STEP;
  const span = nh > 2 ? 580 : 540;
  const lifeX: number[] = [];
  let x = AXIS_W + NOTES_W + PILL_W + 14 + lanesW(hosts[0]!, 'left');
  for (let i = 0; i < nh; i++) {
    if (i > 0) x += lanesW(hosts[i - 1]!, 'right') + span + lanesW(hosts[i]!, 'left');
    lifeX.push(x);
  }
  const last = nh - 1;
  const width = Math.ceil(lifeX[last]! + lanesW(hosts[last]!, 'right') + 14 + PILL_W + NOTES_W + 10);
  const hi = new Map(hosts.map((h, i) => [h, i]));
  const edge = (h: string, side: 'left' | 'right') => lifeX[hi.get(h)!]! + (side === 'left' ? -lanesW(h, 'left') : lanesW(h, 'right'));
  const laneX = (h: string, side: 'left' | 'right', lane: number) =>
    side === 'left' ? lifeX[hi.get(h)!]! - 3 - lane * LANE_STEP - LANE_W : lifeX[hi.get(h)!]! + 3 + lane * LANE_STEP;

  // Vertical geometry.
  const top = (showTitle ? 34 : 8) + 28 + 52;
  const Y: number[] = [];
  const gaps: Array<{ y0: number; y1: number; dt: number }> = [];
  let y = top + 10;
  for (let i = 0; i < instants.length; i++) {
    if (i > 0) {
      const dt = instants[i]! - instants[i - 1]!;
      const g = gapHeight(dt, lat);
      if (g.compressed) gaps.push({ y0: y, y1: y + g.h, dt });
      y += g.h;
    }
    Y.push(y);
    y += height[i]! * ROW;
  }
  // The end of the run (or of the window).
  const lastT = instants.length ? instants[instants.length - 1]! : win.fromUs;
  const endT = win.atEnd ? Math.max(view.endUs, lastT) : lastT;
  if (endT > lastT) {
    const g = gapHeight(endT - lastT, lat);
    if (g.compressed) gaps.push({ y0: y, y1: y + g.h, dt: endT - lastT });
    y += g.h;
  }
  const bottom = y + 8;
  const svgHeight = Math.ceil(bottom + 44 + (hidden ? 16 : 0));

  const yOf = (t: number): number => {
    if (!instants.length) return top;
    if (t <= instants[0]!) return Y[0]!;
    let lo = 0;
    let hiI = instants.length - 1;
    while (lo < hiI) {
      const mid = (lo + hiI + 1) >> 1;
      if (instants[mid]! <= t) lo = mid;
      else hiI = mid - 1;
    }
    const i0 = lo;
    if (instants[i0] === t) return Y[i0]!;
    const yEnd = Y[i0]! + height[i0]! * ROW;
    const tNext = i0 + 1 < instants.length ? instants[i0 + 1]! : endT;
    const yNext = i0 + 1 < instants.length ? Y[i0 + 1]! : bottom - 8;
    if (t >= tNext) return yNext;
    return yEnd + ((t - instants[i0]!) / Math.max(1, tNext - instants[i0]!)) * (yNext - yEnd);
  };
  const rowY = (r: Row) => Y[r.i]! + r.idx * ROW + ROW / 2;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" class="linger-seq" width="${width}" height="${svgHeight}" viewBox="0 0 ${width} ${svgHeight}" font-family="ui-sans-serif, system-ui, -apple-system, 'Segoe UI', 'Noto Sans', 'Noto Sans CJK SC', sans-serif" font-size="12" data-scenario="${esc(view.id)}" data-from-us="${win.fromUs}" data-to-us="${endT}">`);
  out.push(`<defs>${Object.entries(ARROW_COLORS).map(([k, c]) => `<marker id="ah-${k}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="${c}"/></marker>`).join('')}</defs>`);
  out.push(`<style>.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,'DejaVu Sans Mono','Noto Sans Mono CJK SC',monospace;font-size:11px}.halo{paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}.arrow:hover line,.arrow:hover polyline{stroke-width:2.6}.arrow:hover text{font-weight:600}</style>`);
  out.push(`<rect width="${width}" height="${svgHeight}" fill="#ffffff"/>`);
  let hy = 8;
  if (showTitle) {
    out.push(`<text x="12" y="26" font-size="16" font-weight="600" fill="#111827">${esc(view.id)}: ${esc(view.title)}</text>`);
    hy = 42;
  }
  // Legend.
  const legend: Array<[keyof SvgText['legend'], string]> = [['syn', 'syn'], ['fin', 'fin'], ['rst', 'rst'], ['data', 'data'], ['ack', 'ack']];
  let lx = 12;
  const ly = hy + 12;
  out.push('<g class="legend">');
  for (const [k, kind] of legend) {
    const c = ARROW_COLORS[kind as keyof typeof ARROW_COLORS];
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 26}" y2="${ly}" stroke="${c}" stroke-width="1.6" marker-end="url(#ah-${kind})"/><text x="${lx + 32}" y="${ly + 4}" fill="#374151">${esc(T.legend[k])}</text>`);
    lx += 40 + T.legend[k].length * 7 + 14;
  }
  out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 16}" y2="${ly}" stroke="#6b7280" stroke-width="1.6"/>${cross(lx + 20, ly, 'legend-cross')}<text x="${lx + 30}" y="${ly + 4}" fill="#374151">${esc(T.legend.lost)}</text>`);
  out.push('</g>');
  // Hosts.
  const boxY = hy + 30;
  for (let i = 0; i < nh; i++) {
    const h = view.hosts[i]!;
    const cx = lifeX[i]!;
    const addr = h.addresses.join(', ');
    const w = Math.max(120, addr.length * 7 + 24, h.name.length * 8 + 24);
    out.push(`<g class="host" data-host="${esc(h.name)}"><rect x="${f1(cx - w / 2)}" y="${boxY}" width="${w}" height="40" rx="6" fill="#f3f4f6" stroke="#9ca3af"/><text x="${cx}" y="${boxY + 17}" text-anchor="middle" font-weight="600" fill="#111827">${esc(h.name)}</text><text x="${cx}" y="${boxY + 32}" text-anchor="middle" class="mono" fill="#4b5563">${esc(addr)}</text></g>`);
  }
  // Compressed gaps: a band across the diagram with the time skipped.
  for (const g of gaps) {
    out.push(`<g class="gap" data-us="${g.dt}"><rect x="${AXIS_W - 4}" y="${f1(g.y0 + 6)}" width="${width - AXIS_W - 4}" height="${f1(g.y1 - g.y0 - 12)}" fill="#f9fafb"/>`);
    for (const lxp of lifeX) out.push(`<path d="M${lxp - 7},${f1(g.y0 + 16)} l14,-5 M${lxp - 7},${f1(g.y1 - 12)} l14,-5" stroke="#9ca3af" stroke-width="1.2"/>`);
    const label = T.gap(fmtDuration(g.dt));
    const mid = nh > 1 ? (lifeX[0]! + lifeX[1]!) / 2 : lifeX[0]! + 120;
    out.push(`<text x="${f1(mid)}" y="${f1((g.y0 + g.y1) / 2 + 4)}" text-anchor="middle" font-style="italic" fill="#6b7280">⋯ ${esc(label)} ⋯</text></g>`);
  }
  // Lifelines.
  for (let i = 0; i < nh; i++) out.push(`<line class="lifeline" x1="${lifeX[i]}" y1="${boxY + 40}" x2="${lifeX[i]}" y2="${f1(bottom)}" stroke="#9ca3af" stroke-width="1.2" stroke-dasharray="4 3"/>`);
  // State bands.
  const winFrom = win.fromUs;
  const bandLives = lives.filter((l) => l.lane >= 0 && l.start <= endT && (l.end === null || l.end >= winFrom));
  for (const life of bandLives) {
    const bx = laneX(life.host, life.side, life.lane);
    out.push(`<g class="band-socket" data-host="${esc(life.host)}" data-socket="${esc(life.socket)}">`);
    for (const s of life.spans) {
      const to = s.to ?? endT;
      if (to < winFrom || s.from > endT) continue;
      const y0 = s.from < winFrom ? top : yOf(s.from);
      const y1 = s.to === null ? bottom : to > endT ? bottom : yOf(to);
      if (y1 - y0 < 0.5) continue;
      out.push(`<rect class="band" data-state="${s.state}" x="${f1(bx)}" y="${f1(y0)}" width="${LANE_W}" height="${f1(y1 - y0)}" fill="${stateColor(s.state)}" stroke="${darken(stateColor(s.state))}" stroke-width="0.6"><title>${esc(`${life.host} ${life.socket}: ${s.state} (${s.cause})`)}</title></rect>`);
    }
    out.push('</g>');
  }
  // Time axis: the time of each instant, when there is room.
  let lastLabelY = -100;
  for (let i = 0; i < instants.length; i++) {
    const ty = Y[i]! + ROW / 2 + 4;
    if (ty - lastLabelY < 14) continue;
    lastLabelY = ty;
    out.push(`<text class="mono t" x="${AXIS_W - 10}" y="${f1(ty)}" text-anchor="end" fill="#6b7280">${esc(fmtAt(instants[i]!))}</text>`);
  }
  // Arrows.
  const drawn = new Set<Arrow>();
  const labelBoxes: Seg[] = [];
  const outRows = new Map<Arrow, Row>();
  const inRows = new Map<Arrow, Row>();
  for (const r of rows) {
    if (r.out) outRows.set(r.out, r);
    if (r.in) inRows.set(r.in, r);
  }
  for (const a of [...outRows.keys(), ...inRows.keys()]) {
    if (drawn.has(a)) continue;
    drawn.add(a);
    out.push(drawArrow(a, outRows.get(a), inRows.get(a)));
  }
  // Annotations: state pills (with the cause) and notes.
  const sideOfSocket = new Map<string, SocketLife>();
  for (const l of lives) sideOfSocket.set(`${l.host}|${l.socket}`, l);
  for (const r of rows) {
    const i = hi.get(r.host);
    if (i === undefined) continue;
    const ry = rowY(r);
    const middle = i > 0 && i < last;
    const outer: 'left' | 'right' = i === 0 && last > 0 ? 'left' : 'right';
    let cause: string | null = null;
    if (r.state) {
      const life = sideOfSocket.get(`${r.host}|${r.state.socket}`);
      const side = life?.side ?? outer;
      const px = side === 'left' ? edge(r.host, 'left') - 6 - PILL_W : edge(r.host, 'right') + 6;
      const st = r.state.to;
      out.push(`<g class="state-label" data-state="${st}" data-host="${esc(r.host)}"><title>${esc(`${r.host} ${r.state.socket}: ${r.state.from} -> ${st} [${r.state.cause}]`)}</title><rect x="${f1(px)}" y="${f1(ry - 8)}" width="${PILL_W}" height="16" rx="8" fill="${stateColor(st)}" stroke="${darken(stateColor(st))}"/><text x="${f1(px + PILL_W / 2)}" y="${f1(ry + 4)}" text-anchor="middle" font-size="10.5" font-weight="600" fill="#111827">${esc(st)}</text></g>`);
      // The cause, unless the note beside it already says it (a call, or the timer that fired).
      if (!(r.note && r.note.kind === 'call' && r.state.causeKind === 'call')) cause = r.state.cause;
    }
    const note = r.note && !(r.note.kind === 'timer' && r.state) ? r.note : null;
    if (note || cause) {
      const w = middle ? MID_NOTES_W : NOTES_W;
      const nx = outer === 'left' ? edge(r.host, 'left') - 6 - PILL_W - 8 : edge(r.host, 'right') + 6 + PILL_W + 8;
      const anchor = outer === 'left' ? 'end' : 'start';
      const parts: Array<{ text: string; attrs: string }> = [];
      if (cause) parts.push({ text: cause, attrs: 'font-style="italic" fill="#6b7280"' });
      if (note) {
        const kind = note.kind;
        const color = kind === 'error' || kind === 'drop' ? '#b91c1c' : kind === 'call' ? '#1d4ed8' : kind === 'http' ? '#7c3aed' : kind === 'note' ? '#111827' : '#6b7280';
        const mono = kind === 'call' || kind === 'error';
        const style = `${mono ? 'class="mono" ' : ''}fill="${color}"${kind === 'timer' ? ' font-style="italic"' : ''}${kind === 'error' || kind === 'note' ? ' font-weight="600"' : ''}`;
        parts.push({ text: kind === 'timer' ? `${note.text} fired` : note.text, attrs: style });
        if (kind === 'error' || kind === 'drop') out.push(`<circle class="err-mark" cx="${lifeX[i]}" cy="${f1(ry)}" r="5.5" fill="#dc2626"/><text x="${lifeX[i]}" y="${f1(ry + 3.5)}" text-anchor="middle" font-size="9" font-weight="700" fill="#fff">!</text>`);
        else if (kind === 'call') out.push(`<rect class="call-mark" x="${lifeX[i]! - 3}" y="${f1(ry - 3)}" width="6" height="6" fill="#1d4ed8"/>`);
        else if (kind === 'timer') out.push(`<circle class="timer-mark" cx="${lifeX[i]}" cy="${f1(ry)}" r="3.5" fill="#fff" stroke="#6b7280" stroke-width="1.4"/>`);
      }
      if (outer === 'left') parts.reverse();
      // Fit the parts into the notes column, cutting the longest first.
      let budget = Math.floor(w / 7) - (parts.length - 1) * 2;
      const texts = parts.map((p) => p.text);
      while (texts.reduce((n, t) => n + t.length, 0) > budget && budget > 0) {
        const k = texts.reduce((bi, t, j) => (t.length > texts[bi]!.length ? j : bi), 0);
        texts[k] = clip(texts[k]!, Math.max(4, texts[k]!.length - (texts.reduce((n, t) => n + t.length, 0) - budget)));
        if (texts.every((t) => t.length <= 4)) budget = 0;
      }
      const full = [cause ? `${r.state!.from} -> ${r.state!.to}: ${cause}` : '', note?.full ?? ''].filter(Boolean).join('\n');
      const kindCls = note ? `n-${note.kind}` : 'n-cause';
      // A scenario's narration that does not fit runs onto a second, smaller line.
      if (note && note.kind === 'note' && !cause && note.text.length > Math.floor(w / 7)) {
        const max = Math.floor(w / 7);
        const cut = note.text.lastIndexOf(' ', max);
        const first = note.text.slice(0, cut > 0 ? cut : max);
        const rest = clip(note.text.slice(first.length).trim(), Math.floor(w / 6.2));
        out.push(`<text class="note n-note${middle ? ' halo' : ''}" x="${f1(nx)}" y="${f1(ry + 1)}" text-anchor="${anchor}" fill="#111827" font-weight="600"><title>${esc(full)}</title>${esc(first)}<tspan x="${f1(nx)}" dy="12" font-size="10.5">${esc(rest)}</tspan></text>`);
        continue;
      }
      out.push(`<text class="note ${kindCls}${middle ? ' halo' : ''}" x="${f1(nx)}" y="${f1(ry + 4)}" text-anchor="${anchor}"><title>${esc(full)}</title>${parts.map((p, j) => `<tspan ${p.attrs}>${j > 0 ? '  ' : ''}${esc(texts[j]!)}</tspan>`).join('')}</text>`);
    }
  }
  // Window top continuation pills: sockets already in a state when the window starts.
  if (winFrom > 0) {
    for (const life of bandLives) {
      const sp = life.spans.find((s) => s.from < winFrom && (s.to === null || s.to >= winFrom));
      if (!sp) continue;
      const bx = laneX(life.host, life.side, life.lane);
      out.push(`<text x="${f1(bx + LANE_W / 2)}" y="${top - 2}" text-anchor="middle" font-size="9" fill="#374151">${esc(sp.state)}</text>`);
    }
  }
  // Footer.
  for (let i = 0; i < nh; i++) out.push(`<rect x="${lifeX[i]! - 30}" y="${f1(bottom)}" width="60" height="4" rx="2" fill="#9ca3af"/>`);
  const foot = win.atEnd ? T.end(fmtAt(endT)) : T.cut(win.shown, win.total);
  out.push(`<text class="footer" x="${AXIS_W}" y="${f1(bottom + 24)}" fill="#6b7280">${esc(foot)}${win.atEnd && win.fromUs > 0 ? ` · ${esc(T.cut(win.shown, win.total))}` : ''}</text>`);
  if (hidden) out.push(`<text x="${AXIS_W}" y="${f1(bottom + 40)}" fill="#6b7280">${esc(T.hiddenSockets(hidden))}</text>`);
  out.push('</svg>');
  const tAt = (yy: number): number => {
    let best = instants.length ? instants[0]! : win.fromUs;
    for (let i = 0; i < instants.length && Y[i]! <= yy; i++) best = instants[i]!;
    if (instants.length && yy > Y[instants.length - 1]! + height[instants.length - 1]! * ROW + 20) best = endT;
    return best;
  };
  return { svg: out.join('\n'), width, height: svgHeight, layout: L, yOf, tAt };

  function drawArrow(a: Arrow, ro: Row | undefined, ri: Row | undefined): string {
    const fromI = a.from !== null ? hi.get(a.from) : undefined;
    const toI = a.to !== null ? hi.get(a.to) : undefined;
    const c = ARROW_COLORS[a.kind];
    const rightward = fromI !== undefined && toI !== undefined ? toI > fromI : toI !== undefined ? toI > 0 ? true : false : true;
    let x1: number;
    let y1: number;
    if (fromI !== undefined && ro) {
      x1 = edge(a.from!, rightward ? 'right' : 'left');
      y1 = rowY(ro);
    } else if (fromI !== undefined) {
      x1 = edge(a.from!, rightward ? 'right' : 'left');
      y1 = top; // sent before the window
    } else {
      // From something we did not trace: start in the middle of the span.
      const ti = toI ?? 0;
      const other = ti > 0 ? ti - 1 : Math.min(1, last);
      x1 = (lifeX[ti]! + lifeX[other]!) / 2;
      y1 = ri ? rowY(ri) - ROW : top;
    }
    let x2: number;
    let y2: number;
    if (toI !== undefined) x2 = edge(a.to!, rightward ? 'left' : 'right');
    else x2 = x1 + (rightward ? span : -span);
    if (ri) y2 = rowY(ri);
    else if (a.tIn !== null) y2 = a.tIn > endT ? bottom : yOf(a.tIn);
    else y2 = yOf(a.tOut + L.latencyUs) + (ro && yOf(a.tOut + L.latencyUs) <= y1 ? ROW : 0);
    const cls = `arrow k-${a.kind}${a.lost ? ' lost' : ''}${a.duplicate ? ' dup' : ''}${a.from === null ? ' foreign' : ''}`;
    const attrs = `data-n="${a.n}" data-flags="${esc(a.flags)}" data-from="${esc(a.from ?? '')}" data-to="${esc(a.to ?? '')}" data-t-out="${a.tOut}"${a.tIn !== null ? ` data-t-in="${a.tIn}"` : ''}`;
    const title = `${fmtAt(a.tOut)} ${a.from ?? '?'} → ${a.to ?? '?'}${a.tIn !== null ? ` (arrives ${fmtAt(a.tIn)})` : ''}\n${a.full}${a.note ? `\n(${a.note})` : ''}${a.lost ? `\n${a.dropReason ?? T.lost}` : ''}`;
    const parts: string[] = [`<g class="${cls}" ${attrs}><title>${esc(title)}</title>`];
    const dash = a.from === null || a.duplicate ? ' stroke-dasharray="5 3"' : '';
    let ex = x2;
    let ey = y2;
    if (a.lost) {
      ex = x1 + (x2 - x1) * 0.55;
      ey = y1 + (y2 - y1) * 0.55;
      parts.push(`<line x1="${f1(x1)}" y1="${f1(y1)}" x2="${f1(ex)}" y2="${f1(ey)}" stroke="${c}" stroke-width="1.6"${dash}/>`);
      parts.push(cross(ex, ey));
    } else {
      parts.push(`<line x1="${f1(x1)}" y1="${f1(y1)}" x2="${f1(x2)}" y2="${f1(y2)}" stroke="${c}" stroke-width="1.6"${dash} marker-end="url(#ah-${a.kind})"/>`);
    }
    // The label runs along the arrow, centred on the free middle of the span.
    const xa = Math.min(x1, x2);
    const xb = Math.max(x1, x2);
    // The host at each end of the span; a middle host keeps notes on its right and pills on its left.
    const leftHost = fromI !== undefined && rightward ? fromI : toI !== undefined && !rightward ? toI : -1;
    const rightHost = fromI !== undefined && !rightward ? fromI : toI !== undefined && rightward ? toI : -1;
    const padL = leftHost > 0 && leftHost < last ? PILL_W + 110 : 0;
    const padR = rightHost > 0 && rightHost < last ? PILL_W + 10 : 0;
    const maxChars = Math.floor((a.lost ? Math.abs(ex - x1) : xb - xa - padL - padR) / CHAR_W) - 2;
    const label = clip(a.label, Math.max(12, maxChars));
    const sub = [a.note, a.lost ? T.lost : ''].filter(Boolean).join(' · ');
    // The label runs along the arrow; where it would cover another label (a burst of segments),
    // it moves along the arrow, and if no place is free it stays in the tooltip only.
    const centre = a.lost ? (x1 + ex) / 2 : (xa + padL + xb - padR) / 2;
    const halfLen = (label.length * CHAR_W) / 2;
    const ux = (x2 - x1) / Math.hypot(x2 - x1, y2 - y1 || 0.0001);
    const uy = (y2 - y1) / Math.hypot(x2 - x1, y2 - y1 || 0.0001);
    const ang = (Math.atan2(y2 - y1, x2 - x1) * 180) / Math.PI;
    const rot = Math.abs(ang) > 90 ? ang - 180 * Math.sign(ang) : ang;
    const room = Math.max(0, (a.lost ? Math.abs(ex - x1) : xb - xa - padL - padR) / 2 - halfLen * Math.abs(ux));
    const tries = [0, -0.5, 0.5, -1, 1].map((f) => centre + f * room);
    let placed: { xm: number; ym: number } | null = null;
    for (const xm of tries) {
      const f = x2 === x1 ? 0.5 : (xm - x1) / (x2 - x1);
      const ym = y1 + (y2 - y1) * f;
      const seg = { ax: xm - ux * halfLen, ay: ym - uy * halfLen, bx: xm + ux * halfLen, by: ym + uy * halfLen };
      if (labelBoxes.every((b) => segDist(b, seg) >= 12)) {
        labelBoxes.push(seg);
        placed = { xm, ym };
        break;
      }
    }
    const tc = a.kind === 'ack' ? '#4b5563' : c;
    if (placed) {
      const { xm, ym } = placed;
      parts.push(`<text class="mono halo lbl" x="${f1(xm)}" y="${f1(ym - 5)}" text-anchor="middle" fill="${tc}" transform="rotate(${f1(rot)} ${f1(xm)} ${f1(ym)})">${esc(label)}</text>`);
      if (sub) parts.push(`<text class="halo sub" x="${f1(xm)}" y="${f1(ym + 13)}" text-anchor="middle" font-size="10.5" font-style="italic" fill="${a.lost ? '#b91c1c' : '#6b7280'}" transform="rotate(${f1(rot)} ${f1(xm)} ${f1(ym)})">${esc(sub)}</text>`);
    }
    parts.push('</g>');
    return parts.join('');
  }
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
