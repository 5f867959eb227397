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

/** The rows of the window: each event in it takes a place in its host's row at its instant. */
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
  const rows = new RowPacker();
  for (const e of view.events) {
    if (!inWindow(e.t)) continue;
    const item = itemOf(e, byOut, byIn, win.toUs, opts.timers !== false);
    if (item) rows.place(e, item);
  }
  const { instants } = rows;
  const height = instants.map(() => 1);
  for (const r of rows.rows) height[r.i] = Math.max(height[r.i]!, r.idx + 1);
  return { arrows, window: win, instants, rows: rows.rows, height, latencyUs: typicalLatency(arrows) };
}

/** What an event puts in a row: one end of an arrow, a state change or a note. */
type Item = { slot: 'out'; arrow: Arrow } | { slot: 'in'; arrow: Arrow } | { slot: 'state'; state: StateEvent } | { slot: 'note'; note: Note };

/** The event's item, or null for what is not drawn (an arrow sent after the window, a timer when they are off). */
function itemOf(e: LabEvent, byOut: Map<LabEvent, Arrow>, byIn: Map<LabEvent, Arrow>, toUs: number, timers: boolean): Item | null {
  if (e.kind === 'segment') {
    const arrow = e.dir === 'out' ? byOut.get(e) : byIn.get(e);
    if (!arrow) return null;
    if (e.dir === 'out' && arrow.tOut > toUs) return null;
    return e.dir === 'out' ? { slot: 'out', arrow } : { slot: 'in', arrow };
  }
  if (e.kind === 'state') return { slot: 'state', state: e };
  if (e.kind === 'timer' && !timers) return null;
  const note = noteOf(e);
  return note ? { slot: 'note', note } : null;
}

/**
 * Places items in rows, in trace order: a host's item goes into its current row at the instant
 * unless that row already has one of the kind (then a new row below), and an arrival is never
 * above the row its segment was sent from at the same instant.
 */
class RowPacker {
  readonly instants: number[] = [];
  readonly rows: Row[] = [];
  /** Each host's current row at the current instant. */
  private readonly cur = new Map<string, Row>();
  private readonly outRow = new Map<Arrow, Row>();
  /** How many calls a merged call note stands for. */
  private readonly merged = new Map<Row, number>();

  place(e: LabEvent, item: Item): void {
    if (!this.instants.length || this.instants[this.instants.length - 1] !== e.t) {
      this.instants.push(e.t);
      this.cur.clear();
    }
    const i = this.instants.length - 1;
    let row = this.cur.get(e.host);
    let min = 0;
    if (item.slot === 'in' && item.arrow.tOut === e.t) {
      const o = this.outRow.get(item.arrow);
      if (o) min = o.idx;
    }
    if (item.slot === 'note' && row && this.mergeCall(row, item.note)) return;
    const busy = (r: Row) => (item.slot === 'out' || item.slot === 'in' ? r.out || r.in : item.slot === 'state' ? r.state : r.note);
    if (!row || busy(row) || row.idx < min) {
      row = { host: e.host, i, idx: row ? Math.max(row.idx + 1, min) : min, t: e.t };
      this.rows.push(row);
      this.cur.set(e.host, row);
    }
    if (item.slot === 'out') {
      row.out = item.arrow;
      this.outRow.set(item.arrow, row);
    } else if (item.slot === 'in') row.in = item.arrow;
    else if (item.slot === 'state') row.state = item.state;
    else row.note = item.note;
  }

  /** Repeated calls of one kind at one instant (a proxy's setsockopt()s) share one row: `(+n more)`. */
  private mergeCall(row: Row, note: Note): boolean {
    if (!(note.kind === 'call' && row.note?.kind === 'call' && row.note.text.split('(')[0] === note.text.split('(')[0])) return false;
    const n = (this.merged.get(row) ?? 1) + 1;
    this.merged.set(row, n);
    const base = row.note.text.replace(/ \(\+\d+ more\)$/, '');
    row.note = { kind: 'call', text: `${base} (+${n - 1} more)`, full: `${row.note.full}\n${note.full}` };
    return true;
  }
}
