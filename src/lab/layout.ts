// Row layout of a sequence diagram, shared by the SVG and ASCII renderers: which events fall in
// the window drawn, the distinct instants, and for each host the rows each instant needs (one row
// holds at most one segment end, one state change and one note, in trace order).

import type { LabEvent } from './scenario.ts';
import type { StateEvent } from '../base/trace.ts';
import { buildArrows, noteOf, typicalLatency, type Arrow, type Note, type TraceView } from './view.ts';

export interface Row {
  host: string;
  /** Index of the instant. */
  i: number;
  /** Row within the instant, for this host. */
  idx: number;
  t: number;
  out?: Arrow;
  in?: Arrow;
  state?: StateEvent;
  note?: Note;
}

export interface Window {
  fromUs: number;
  toUs: number;
  /** Arrows (segments sent) in the window, and in the whole run. */
  shown: number;
  total: number;
  /** Where the next window starts, or null if this one reaches the end. */
  nextFromUs: number | null;
  /** Where the previous window starts, or null at the start. */
  prevFromUs: number | null;
  atEnd: boolean;
}

export interface Layout {
  arrows: Arrow[];
  window: Window;
  instants: number[];
  rows: Row[];
  /** Rows each instant takes (the most any host needs). */
  height: number[];
  latencyUs: number;
}

export interface LayoutOptions {
  /** Start of the window (virtual µs); default 0. */
  fromUs?: number;
  /** Most segments drawn; the window ends after the instant where this many were sent. Default 400. */
  maxArrows?: number;
  /** Show timer expiries as notes (default true). */
  timers?: boolean;
}

/** Picks the window: from fromUs, up to maxArrows segments sent, plus where they arrive. */
export function pickWindow(arrows: Arrow[], endUs: number, fromUs: number, maxArrows: number): Window {
  const sent = arrows.filter((a) => a.out !== null || a.duplicate);
  const first = sent.findIndex((a) => a.tOut >= fromUs);
  const total = sent.length;
  let toUs = endUs;
  let shown = first < 0 ? 0 : total - first;
  let nextFromUs: number | null = null;
  if (first >= 0 && total - first > maxArrows) {
    let last = first + maxArrows - 1;
    const tLast = sent[last]!.tOut;
    while (last + 1 < total && sent[last + 1]!.tOut === tLast) last++;
    shown = last - first + 1;
    toUs = tLast;
    nextFromUs = last + 1 < total ? sent[last + 1]!.tOut : null;
    if (nextFromUs === null) toUs = endUs;
  }
  let prevFromUs: number | null = null;
  if (first > 0) prevFromUs = sent[Math.max(0, first - maxArrows)]!.tOut;
  if (first < 0 && total > 0) prevFromUs = sent[Math.max(0, total - maxArrows)]!.tOut;
  return { fromUs, toUs, shown, total, nextFromUs, prevFromUs, atEnd: nextFromUs === null };
}

export function layoutRows(view: TraceView, opts: LayoutOptions = {}): Layout {
  const arrows = buildArrows(view);
  const win = pickWindow(arrows, view.endUs, opts.fromUs ?? 0, opts.maxArrows ?? 400);
  // Arrivals of the segments sent in the window belong to it even when they land later.
  let until = win.toUs;
  for (const a of arrows) if (a.tOut >= win.fromUs && a.tOut <= win.toUs && a.tIn !== null && a.tIn > until) until = a.tIn;
  const inWindow = (t: number) => t >= win.fromUs && t <= until;
  const byOut = new Map<LabEvent, Arrow>();
  const byIn = new Map<LabEvent, Arrow>();
  for (const a of arrows) {
    if (a.out && !a.duplicate) byOut.set(a.out, a);
    if (a.in) byIn.set(a.in, a);
  }
  const instants: number[] = [];
  const rows: Row[] = [];
  const cur = new Map<string, Row>();
  const outRow = new Map<Arrow, Row>();
  const merged = new Map<Row, number>();
  for (const e of view.events) {
    if (!inWindow(e.t)) continue;
    let slot: 'out' | 'in' | 'state' | 'note';
    let arrow: Arrow | undefined;
    let note: Note | null = null;
    if (e.kind === 'segment') {
      arrow = e.dir === 'out' ? byOut.get(e) : byIn.get(e);
      if (!arrow) continue;
      if (e.dir === 'out' && arrow.tOut > win.toUs) continue;
      slot = e.dir === 'out' ? 'out' : 'in';
    } else if (e.kind === 'state') slot = 'state';
    else {
      if (e.kind === 'timer' && opts.timers === false) continue;
      note = noteOf(e);
      if (!note) continue;
      slot = 'note';
    }
    if (!instants.length || instants[instants.length - 1] !== e.t) {
      instants.push(e.t);
      cur.clear();
    }
    const i = instants.length - 1;
    let row = cur.get(e.host);
    let min = 0;
    if (slot === 'in' && arrow && arrow.tOut === e.t) {
      const o = outRow.get(arrow);
      if (o) min = o.idx;
    }
    // Repeated calls of one kind at one instant (a proxy's setsockopt()s) share one row.
    if (slot === 'note' && note!.kind === 'call' && row && row.note?.kind === 'call' && row.note.text.split('(')[0] === note!.text.split('(')[0]) {
      const n = (merged.get(row) ?? 1) + 1;
      merged.set(row, n);
      const base = row.note.text.replace(/ \(\+\d+ more\)$/, '');
      row.note = { kind: 'call', text: `${base} (+${n - 1} more)`, full: `${row.note.full}\n${note!.full}` };
      continue;
    }
    const busy = (r: Row) => (slot === 'out' || slot === 'in' ? r.out || r.in : slot === 'state' ? r.state : r.note);
    if (!row || busy(row) || row.idx < min) {
      row = { host: e.host, i, idx: row ? Math.max(row.idx + 1, min) : min, t: e.t };
      rows.push(row);
      cur.set(e.host, row);
    }
    if (slot === 'out') {
      row.out = arrow;
      outRow.set(arrow!, row);
    } else if (slot === 'in') row.in = arrow;
    else if (slot === 'state') row.state = e as StateEvent;
    else row.note = note!;
  }
  const height = instants.map(() => 1);
  for (const r of rows) height[r.i] = Math.max(height[r.i]!, r.idx + 1);
  return { arrows, window: win, instants, rows, height, latencyUs: typicalLatency(arrows) };
}
