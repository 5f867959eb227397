// The sequence diagram as text for a terminal: one column per host, time flowing down, each segment
// an arrow on the line where it was sent (labelled as tcpdump prints it, without "Flags" and the
// zero lengths), lost segments ending in X, state changes and calls beside the lifelines, long idle
// gaps as a "~" line with the time skipped. Optional ANSI colour. Browser-safe.

import { ARROW_SGR, stateSgr, type Style } from './ansi.ts';
import { layoutRows, type Layout, type LayoutOptions, type Row } from './layout.ts';
import { fmtAt, fmtDuration, type Arrow, type TraceView } from './view.ts';

export interface AsciiOptions extends LayoutOptions {
  /** Total width in columns (default 132, at least 90). */
  width?: number;
  /** ANSI colours (default false). */
  color?: boolean;
}

class Line {
  chars: string[];
  styles: Style[];
  constructor(readonly width: number) {
    this.chars = Array.from({ length: width }, () => ' ');
    this.styles = Array.from({ length: width }, () => '');
  }
  put(x: number, s: string, style: Style = ''): void {
    const cs = [...s];
    for (let i = 0; i < cs.length; i++) {
      const p = x + i;
      if (p < 0 || p >= this.width) continue;
      this.chars[p] = cs[i]!;
      this.styles[p] = style;
    }
  }
  render(color: boolean): string {
    let out = '';
    let cur = '';
    for (let i = 0; i < this.width; i++) {
      const st = color ? this.styles[i]! : '';
      if (st !== cur) {
        out += cur ? '\x1b[0m' : '';
        if (st) out += `\x1b[${st}m`;
        cur = st;
      }
      out += this.chars[i];
    }
    if (cur) out += '\x1b[0m';
    return out.replace(/\s+$/, '');
  }
}

/** The arrow label in the short tcpdump form the terminal has room for. */
export function shortLabel(a: Arrow): string {
  return a.label.replace(/^Flags /, '').replace(/, length 0$/, '');
}

const clip = (s: string, n: number) => (n <= 0 ? '' : s.length <= n ? s : s.slice(0, Math.max(0, n - 1)) + '~');

/** Words wrapped to lines of at most n characters (a word longer than n is cut). */
function wrap(s: string, n: number): string[] {
  if (!s) return [];
  const out: string[] = [];
  let cur = '';
  for (const w of s.split(' ')) {
    if (!cur) cur = clip(w, n);
    else if (cur.length + 1 + w.length <= n) cur += ' ' + w;
    else {
      out.push(cur);
      cur = clip(w, n);
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** A piece of text and its colour. */
interface Part {
  text: string;
  style: Style;
}

/** The columns of the diagram: the time, each host's lifeline, the spans between, notes beside. */
interface Columns {
  width: number;
  color: boolean;
  hosts: string[];
  index: Map<string, number>;
  lifeX: number[];
  /** Between two lifelines, where the arrows run. */
  spanW: number;
  /** Beside the outer lifelines, where the notes go. */
  sideW: number;
}

const TIME_W = 13;

export function renderAscii(view: TraceView, opts: AsciiOptions = {}): string {
  const L = layoutRows(view, { ...opts, maxArrows: opts.maxArrows ?? 200 });
  const c = columns(view, L, Math.max(90, opts.width ?? 132), opts.color === true);
  const lat = Math.max(50, L.latencyUs);
  const lines = headerLines(view, c);
  const rowsAt = new Map<string, Row>();
  for (const r of L.rows) rowsAt.set(`${r.i}|${r.idx}|${r.host}`, r);
  let prevT: number | null = null;
  for (let i = 0; i < L.instants.length; i++) {
    const t = L.instants[i]!;
    if (prevT !== null && t - prevT > 12 * lat) lines.push(gapLine(c, t - prevT));
    prevT = t;
    lines.push(...instantLines(c, L, i, rowsAt));
  }
  const win = L.window;
  const endT = win.atEnd ? Math.max(view.endUs, prevT ?? 0) : prevT ?? 0;
  if (prevT !== null && endT - prevT > 12 * lat) lines.push(gapLine(c, endT - prevT));
  const foot = new Line(c.width);
  for (const x of c.lifeX) foot.put(x - 1, '---', '90');
  lines.push(foot.render(c.color));
  lines.push(win.atEnd ? `end of run at ${fmtAt(endT)}${win.fromUs > 0 ? ` (segments ${win.shown} of ${win.total})` : ''}` : `... cut after ${win.shown} of ${win.total} segments (next from ${fmtAt(win.nextFromUs!)})`);
  return lines.join('\n');
}

/** The spans between lifelines get what the longest label needs; the notes beside them the rest. */
function columns(view: TraceView, L: Layout, width: number, color: boolean): Columns {
  const hosts = view.hosts.map((h) => h.name);
  const nh = hosts.length;
  let longest = 30;
  for (const r of L.rows) if (r.out) longest = Math.max(longest, shortLabel(r.out).length);
  const avail = width - TIME_W - nh;
  const want = Math.min(62, longest + 7);
  const spanW = nh < 2 ? 0 : (nh - 1) * want + 2 * 20 <= avail ? want : Math.max(28, Math.floor((avail - 40) / (nh - 1)));
  const sideW = nh > 1 ? Math.max(20, Math.floor((avail - spanW * (nh - 1)) / 2)) : 30;
  const lifeX = hosts.map((_, i) => TIME_W + sideW + i * (spanW + 1));
  return { width, color, hosts, index: new Map(hosts.map((h, i) => [h, i])), lifeX, spanW, sideW };
}

/** An empty line with the lifelines. */
function blankLine(c: Columns): Line {
  const l = new Line(c.width);
  for (const x of c.lifeX) l.put(x, '|', '90');
  return l;
}

/** Host names and addresses centred over their lifelines. */
function headerLines(view: TraceView, c: Columns): string[] {
  const head1 = new Line(c.width);
  const head2 = new Line(c.width);
  view.hosts.forEach((h, i) => {
    head1.put(c.lifeX[i]! - Math.floor(h.name.length / 2), h.name, '1');
    const a = h.addresses.join(', ');
    head2.put(c.lifeX[i]! - Math.floor(a.length / 2), a, '90');
  });
  return [head1.render(c.color), head2.render(c.color), blankLine(c).render(c.color)];
}

/** A long idle gap: "~" on the lifelines and the time skipped. */
function gapLine(c: Columns, dt: number): string {
  const { lifeX } = c;
  const l = new Line(c.width);
  for (const x of lifeX) l.put(x, '~', '90');
  const label = ` ${fmtDuration(dt)} later `;
  const mid = lifeX.length > 1 ? Math.floor((lifeX[0]! + lifeX[1]!) / 2) : lifeX[0]! + 10;
  l.put(mid - Math.floor(label.length / 2), label, '3;90');
  return l.render(c.color);
}

/** What a row says beside its lifeline: the note (a timer that changed a state goes unsaid), the cause and the new state. */
function rowParts(r: Row): Part[] {
  const parts: Part[] = [];
  if (r.note && !(r.note.kind === 'timer' && r.state)) {
    const k = r.note.kind;
    parts.push({ text: k === 'timer' ? `(${r.note.text} fired)` : r.note.text, style: k === 'error' || k === 'drop' ? '1;31' : k === 'call' ? '36' : k === 'http' ? '35' : k === 'note' ? '1' : '90' });
  }
  if (r.state) {
    if (!(r.note && r.note.kind === 'call' && r.state.causeKind === 'call')) parts.push({ text: `[${r.state.cause}]`, style: '90' });
    parts.push({ text: r.state.to, style: stateSgr(r.state.to) });
  }
  return parts;
}

/** The lines of one instant: its rows, each with its arrows and the notes wrapped beside it. */
function instantLines(c: Columns, L: Layout, i: number, rowsAt: Map<string, Row>): string[] {
  const { hosts, lifeX } = c;
  const nh = hosts.length;
  const lines: string[] = [];
  let first = true;
  for (let k = 0; k < L.height[i]!; k++) {
    const hostRows = hosts.map((h) => rowsAt.get(`${i}|${k}|${h}`));
    // Rows that only record an arrival have nothing to print.
    const shows = hostRows.some((r) => r && (r.out || r.state || r.note || (r.in && (r.in.from === null || r.in.duplicate))));
    if (!shows) continue;
    const { left: leftLines, right: rightLines } = notesBeside(c, hostRows);
    const n = Math.max(1, leftLines.length, rightLines.length);
    for (let m = 0; m < n; m++) {
      const l = blankLine(c);
      if (first && m === 0) l.put(0, fmtAt(L.instants[i]!).padStart(TIME_W - 2), '90');
      const left = leftLines[m];
      if (left) {
        let x = lifeX[0]! - 2 - left.reduce((s, p) => s + p.text.length, 0) - (left.length - 1);
        for (const p of left) {
          l.put(x, p.text, p.style);
          x += p.text.length + 1;
        }
      }
      const right = rightLines[m];
      if (right) {
        let x = lifeX[nh - 1]! + 2;
        for (const p of right) {
          l.put(x, p.text, p.style);
          x += p.text.length + 1;
        }
      }
      if (m === 0) for (const r of hostRows) if (r?.out) drawArrow(c, l, r.out);
      if (m === 0) for (const r of hostRows) if (r?.in && (r.in.from === null || r.in.duplicate)) drawArrow(c, l, r.in);
      lines.push(l.render(c.color));
    }
    first = false;
  }
  return lines;
}

/** Notes wrapped into lines: host 0's on the left (the state nearest its lifeline), the others' on the right. */
function notesBeside(c: Columns, hostRows: Array<Row | undefined>): { left: Part[][]; right: Part[][] } {
  const { hosts, lifeX } = c;
  const nh = hosts.length;
  const leftParts = hostRows[0] && nh > 1 ? rowParts(hostRows[0]) : [];
  const rightParts: Part[] = [];
  for (let j = nh > 1 ? 1 : 0; j < nh; j++) {
    const r = hostRows[j];
    if (!r) continue;
    const p = rowParts(r).reverse();
    if (!p.length) continue;
    if (j < nh - 1) p.unshift({ text: `${hosts[j]}:`, style: '1;90' });
    if (rightParts.length) rightParts.push({ text: '|', style: '90' });
    rightParts.push(...p);
  }
  return { left: wrapParts(leftParts, c.sideW - 2), right: wrapParts(rightParts, c.width - lifeX[nh - 1]! - 3) };
}

/** A segment's arrow on line l, labelled; a lost one ends in X short of its lifeline. */
function drawArrow(c: Columns, l: Line, a: Arrow): void {
  const { lifeX, spanW } = c;
  const fi = a.from !== null ? c.index.get(a.from) : undefined;
  const ti = a.to !== null ? c.index.get(a.to) : undefined;
  if (ti === undefined && fi === undefined) return;
  const right = fi !== undefined && ti !== undefined ? ti > fi : ti !== undefined ? ti > 0 : true;
  const x1 = fi !== undefined ? lifeX[fi]! : Math.floor((lifeX[ti!]! + lifeX[ti! > 0 ? ti! - 1 : 1]!) / 2);
  const x2 = ti !== undefined ? lifeX[ti]! : x1 + (right ? spanW : -spanW);
  const a0 = Math.min(x1, x2) + 1;
  const a1 = Math.max(x1, x2) - 1;
  const len = a1 - a0 + 1;
  const style = ARROW_SGR[a.kind];
  const label = ` ${clip(shortLabel(a) + (a.note ? ` (${a.note})` : ''), len - 6)} `;
  const body = Array.from({ length: len }, () => '-');
  let stop = len;
  if (a.lost) stop = Math.max(label.length + 4, Math.floor(len * 0.75));
  if (right) {
    for (let i = stop; i < len; i++) body[i] = ' ';
    body[stop - 1] = a.lost ? 'X' : '>';
    [...label].forEach((ch, i) => (body[2 + i] = ch));
  } else {
    for (let i = 0; i < len - stop; i++) body[i] = ' ';
    body[len - stop] = a.lost ? 'X' : '<';
    const start = len - stop + 2;
    [...label].forEach((ch, i) => (body[start + i] = ch));
  }
  // A segment that crosses a middle lifeline (none in the lab's topologies) passes over it.
  l.put(a0, body.join(''), a.lost ? '1;31' : style);
  for (let i = 0; i < lifeX.length; i++) if (lifeX[i]! > a0 && lifeX[i]! < a1) l.put(lifeX[i]!, '+', style);
}

/** Parts wrapped into lines of at most `width` columns, keeping each word's colour. */
function wrapParts(parts: Part[], width: number): Part[][] {
  const lines: Part[][] = [];
  let cur: Part[] = [];
  let used = 0;
  for (const p of parts) {
    for (const w of wrap(p.text, width)) {
      const need = (used ? 1 : 0) + w.length;
      if (used && used + need > width) {
        lines.push(cur);
        cur = [];
        used = 0;
      }
      cur.push({ text: w, style: p.style });
      used += (used ? 1 : 0) + w.length;
    }
  }
  if (cur.length) lines.push(cur);
  return lines;
}
