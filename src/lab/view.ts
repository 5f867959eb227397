// The model the diagram renderers draw (SVG, ASCII, the web page's timelines): a lab trace read as
// arrows (a segment sent, and where and when it arrived or was lost), socket lives (each socket's
// states over time) and annotations (calls, errors, timers, notes, HTTP). Browser-safe: no Node imports.

import { LINK_LOSS, type HttpEvent, type LabEvent } from './scenario.ts';
import type { DropEvent, SegmentEvent, StateEvent } from '../base/trace.ts';
import type { LabJson } from './export.ts';
import type { LabRun } from './runner.ts';
import type { WebRun } from './record.ts';

export interface HostInfo {
  name: string;
  addresses: string[];
}

/** A trace ready to draw: events in trace order (virtual µs) and the hosts from left to right. */
export interface TraceView {
  id: string;
  title: string;
  events: LabEvent[];
  hosts: HostInfo[];
  /** Virtual time at which the run ended. */
  endUs: number;
}

export function viewOfRun(run: LabRun): TraceView {
  const last = run.events.length ? run.events[run.events.length - 1]!.t : 0;
  return {
    id: run.scenario.id,
    title: run.scenario.title,
    events: run.events,
    hosts: run.hosts.map((h) => ({ name: h.name, addresses: [...h.addresses] })),
    endUs: Math.max(run.net.now, last),
  };
}

/** The same view from the JSON a run printed (`linger lab run --json`); times back to integer µs. */
export function viewOfJson(j: LabJson, opts: { title?: string; endUs?: number } = {}): TraceView {
  const events = j.events.map((e) => {
    const { t_ms, ...rest } = e;
    return { ...rest, t: Math.round(t_ms * 1000) } as LabEvent;
  });
  const names = Object.keys(j.counters);
  for (const e of events) if (!names.includes(e.host)) names.push(e.host);
  const addrs = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
  for (const e of events) {
    if (e.kind === 'segment') addrs.get(e.host)?.add(addrOf(e.dir === 'out' ? e.src : e.dst));
  }
  const last = events.length ? events[events.length - 1]!.t : 0;
  return {
    id: j.scenario,
    title: opts.title ?? j.scenario,
    events,
    hosts: names.map((n) => ({ name: n, addresses: [...addrs.get(n)!] })),
    endUs: Math.max(opts.endUs ?? 0, last),
  };
}

/** The view of a run the web page got (from the page's own run or a precomputed one). */
export function viewOfWebRun(w: WebRun): TraceView {
  const v = viewOfJson(w, { title: w.title, endUs: w.endUs });
  v.hosts = w.hosts.map((h) => ({ name: h.name, addresses: [...h.addresses] }));
  return v;
}

/** '10.0.0.1:80' -> '10.0.0.1', '[fd00::1]:80' -> 'fd00::1', '0.0.0.0:*' -> '0.0.0.0'. */
export function addrOf(ep: string): string {
  const m = /^\[(.*)\]:[^:]*$/.exec(ep);
  if (m) return m[1]!;
  const i = ep.lastIndexOf(':');
  return i < 0 ? ep : ep.slice(0, i);
}

// ---------------------------------------------------------------------------------------------
// Segments as arrows.

export type ArrowKind = 'syn' | 'fin' | 'rst' | 'data' | 'ack';

export interface Arrow {
  /** Index in arrow order (order of sending). */
  n: number;
  /** Sending host, or null for a segment that arrived from nowhere we saw (a middlebox's). */
  from: string | null;
  /** Receiving host (for a lost segment: the host it was addressed to, when known). */
  to: string | null;
  out: SegmentEvent | null;
  in: SegmentEvent | null;
  tOut: number;
  tIn: number | null;
  lost: boolean;
  dropReason?: string;
  duplicate?: boolean;
  kind: ArrowKind;
  flags: string;
  /** tcpdump's line without the addresses and options: `Flags [P.], seq 1:33, ack 1, win 502, length 32`. */
  label: string;
  /** The whole tcpdump line, with addresses and options. */
  full: string;
  note?: string;
}

export const arrowKind = (flags: string, len: number): ArrowKind =>
  flags.includes('R') ? 'rst' : flags.includes('S') ? 'syn' : flags.includes('F') ? 'fin' : len > 0 ? 'data' : 'ack';

const segKey = (s: SegmentEvent) => `${s.flags}|${s.seq}|${s.ack}|${s.len}`;

/**
 * tcpdump's numbering: SYNs (and SYN-ACKs) with absolute numbers, everything after relative to the
 * ISN of each direction; `seq` shown only for data, SYN, FIN and RST; `ack` only with the ACK flag.
 */
export class TcpdumpNumbering {
  private isn = new Map<string, number>();

  label(s: SegmentEvent): { label: string; full: string } {
    const dirKey = `${s.src}>${s.dst}`;
    const revKey = `${s.dst}>${s.src}`;
    const syn = s.flags.includes('S');
    if (syn) this.isn.set(dirKey, s.seq);
    const base = this.isn.get(dirKey);
    const rbase = this.isn.get(revKey);
    const rel = (x: number, b: number | undefined) => (syn || b === undefined ? x : (x - b) >>> 0);
    const parts = [`Flags [${s.flags}]`];
    if (s.len > 0 || syn || s.flags.includes('F') || s.flags.includes('R')) {
      const a = rel(s.seq, base);
      parts.push(s.len > 0 ? `seq ${a}:${(a + s.len) >>> 0}` : `seq ${a}`);
    }
    if (s.flags.includes('.')) parts.push(`ack ${rel(s.ack, rbase)}`);
    parts.push(`win ${s.win}`);
    const opts = s.options ? `options [${s.options}]` : '';
    const label = [...parts, `length ${s.len}`].join(', ');
    const full = `${s.src} > ${s.dst}: ${[...parts, ...(opts ? [opts] : []), `length ${s.len}`].join(', ')}`;
    return { label, full };
  }
}

/** Each address of the view's hosts, and the host that owns it. */
const hostsByAddress = (view: TraceView): Map<string, string> => {
  const m = new Map<string, string>();
  for (const h of view.hosts) for (const a of h.addresses) m.set(a, h.name);
  return m;
};

/** Pairs every segment sent with its arrival (or its loss), in sending order. */
export function buildArrows(view: TraceView): Arrow[] {
  const p = new SegmentPairing(view);
  for (const e of view.events) {
    if (e.kind === 'segment' && e.dir === 'out') p.sent(e);
    else if (e.kind === 'segment' && e.dir === 'in') p.arrived(e);
    else if (e.kind === 'drop') p.dropped(e);
  }
  return p.finish();
}

/**
 * The pairing buildArrows does, segment by segment: a segment that arrives is the earliest one
 * sent by another host with the same flags, seq, ack and length (segKey) and not yet arrived.
 */
class SegmentPairing {
  private readonly arrows: Arrow[] = [];
  private readonly hostOfAddr: Map<string, string>;
  private readonly numbering = new TcpdumpNumbering();
  /** Sent and not arrived yet, and arrived, by segKey. */
  private readonly pending = new Map<string, Arrow[]>();
  private readonly delivered = new Map<string, Arrow[]>();
  private lastOut: Arrow | null = null;
  /** Drops by a host (not by the link): the fate of segments that never arrive. */
  private readonly hostDrops: Array<{ host: string; t: number; reason: string; used: boolean }> = [];

  constructor(private readonly view: TraceView) {
    this.hostOfAddr = hostsByAddress(view);
  }

  /** The host a segment goes to: the owner of its destination address, else the only other host. */
  private guessTo(s: SegmentEvent, from: string): string | null {
    const h = this.hostOfAddr.get(addrOf(s.dst));
    if (h && h !== from) return h;
    const others = this.view.hosts.filter((x) => x.name !== from);
    return others.length === 1 ? others[0]!.name : null;
  }

  sent(e: SegmentEvent): void {
    const { label, full } = this.numbering.label(e);
    const a: Arrow = {
      n: this.arrows.length, from: e.host, to: this.guessTo(e, e.host), out: e, in: null, tOut: e.t, tIn: null, lost: false,
      kind: arrowKind(e.flags, e.len), flags: e.flags, label, full, note: e.note,
    };
    this.arrows.push(a);
    const k = segKey(e);
    let l = this.pending.get(k);
    if (!l) this.pending.set(k, (l = []));
    l.push(a);
    this.lastOut = a;
  }

  arrived(e: SegmentEvent): void {
    const k = segKey(e);
    const l = this.pending.get(k);
    const i = l ? l.findIndex((a) => a.from !== e.host && a.tOut <= e.t) : -1;
    if (l && i >= 0) {
      const a = l[i]!;
      l.splice(i, 1);
      a.in = e;
      a.tIn = e.t;
      a.to = e.host;
      let d = this.delivered.get(k);
      if (!d) this.delivered.set(k, (d = []));
      d.push(a);
      return;
    }
    // A second copy (link duplication) or a segment from something we did not trace.
    const prev = this.delivered.get(k)?.filter((a) => a.to === e.host).pop();
    const { label, full } = this.numbering.label(e);
    this.arrows.push({
      n: this.arrows.length, from: prev ? prev.from : null, to: e.host, out: prev ? prev.out : null, in: e,
      tOut: prev ? prev.tOut : e.t, tIn: e.t, lost: false, duplicate: !!prev, kind: arrowKind(e.flags, e.len),
      flags: e.flags, label, full, note: prev ? 'duplicate' : e.note ?? 'from the network',
    });
  }

  /** A loss on the link is the segment its host just sent; other drops are kept for finish(). */
  dropped(e: DropEvent): void {
    const last = this.lastOut;
    if (e.reason.startsWith(LINK_LOSS) && last && last.from === e.host && last.tOut === e.t && !last.lost && !last.in) {
      last.lost = true;
      last.dropReason = e.reason;
      const l = this.pending.get(segKey(last.out!));
      const i = l ? l.indexOf(last) : -1;
      if (i >= 0) l!.splice(i, 1);
    } else this.hostDrops.push({ host: e.host, t: e.t, reason: e.reason, used: false });
  }

  /** The arrows in sending order; whatever never arrived was lost too: dropped by the receiving host, or still in flight at the end. */
  finish(): Arrow[] {
    for (const l of this.pending.values()) {
      for (const a of l) {
        a.lost = true;
        const d = this.hostDrops.find((x) => !x.used && x.host === a.to && x.t >= a.tOut);
        if (d) {
          d.used = true;
          a.dropReason = `dropped by ${d.host}: ${d.reason}`;
        } else a.dropReason = 'not delivered before the end of the run';
      }
    }
    const arrows = this.arrows;
    arrows.sort((a, b) => a.tOut - b.tOut || a.n - b.n);
    arrows.forEach((a, i) => (a.n = i));
    return arrows;
  }
}

// ---------------------------------------------------------------------------------------------
// Socket lives: one per socket from its first state (out of CLOSED) to CLOSED.

export interface StateSpan {
  state: string;
  from: number;
  /** End of this state, or null if the socket was still in it when the run ended. */
  to: number | null;
  cause: string;
}

export interface SocketLife {
  host: string;
  socket: string;
  listen: boolean;
  start: number;
  end: number | null;
  spans: StateSpan[];
  /** 'left' or 'right' of the host's lifeline; the lane counts outwards from the lifeline. */
  side: 'left' | 'right';
  /** Lane index on its side, or -1 when there were more sockets than lanes. */
  lane: number;
}

export function buildLives(view: TraceView): SocketLife[] {
  const lives: SocketLife[] = [];
  const open = new Map<string, SocketLife>();
  for (const e of view.events) {
    if (e.kind !== 'state') continue;
    const k = `${e.host}|${e.socket}`;
    let life = open.get(k);
    if (!life) {
      life = { host: e.host, socket: e.socket, listen: e.to === 'LISTEN', start: e.t, end: null, spans: [], side: 'right', lane: -1 };
      lives.push(life);
      open.set(k, life);
    }
    const cur = life.spans[life.spans.length - 1];
    if (cur && cur.to === null) cur.to = e.t;
    if (e.to === 'CLOSED') {
      life.end = e.t;
      open.delete(k);
    } else life.spans.push({ state: e.to, from: e.t, to: null, cause: e.cause });
  }
  return lives;
}

/** Puts each socket life on a side of its host's lifeline and on a lane there (lanes are reused). */
export function assignLanes(view: TraceView, lives: SocketLife[], maxLanes: number): { hidden: number; lanes: Map<string, { left: number; right: number }> } {
  const index = new Map(view.hosts.map((h, i) => [h.name, i]));
  const hostOfAddr = hostsByAddress(view);
  const last = view.hosts.length - 1;
  const laneEnds = new Map<string, number[]>();
  let hidden = 0;
  const used = new Map<string, { left: number; right: number }>(view.hosts.map((h) => [h.name, { left: 0, right: 0 }]));
  for (const life of [...lives].sort((a, b) => a.start - b.start)) {
    const hi = index.get(life.host) ?? 0;
    let side: 'left' | 'right';
    if (hi === 0 && last > 0) side = 'left';
    else if (hi === last) side = 'right';
    else if (life.listen) side = 'left';
    else {
      const remote = life.socket.includes('>') ? life.socket.slice(life.socket.indexOf('>') + 1) : '';
      const peer = hostOfAddr.get(addrOf(remote));
      side = peer !== undefined && (index.get(peer) ?? 0) < hi ? 'left' : 'right';
    }
    life.side = side;
    const k = `${life.host}|${side}`;
    let ends = laneEnds.get(k);
    if (!ends) laneEnds.set(k, (ends = []));
    let lane = ends.findIndex((end) => end <= life.start);
    if (lane < 0 && ends.length < maxLanes) {
      lane = ends.length;
      ends.push(0);
    }
    if (lane < 0) {
      hidden++;
      life.lane = -1;
      continue;
    }
    ends[lane] = life.end ?? Infinity;
    life.lane = lane;
    const u = used.get(life.host)!;
    u[side] = Math.max(u[side], lane + 1);
  }
  return { hidden, lanes: used };
}

// ---------------------------------------------------------------------------------------------
// Annotations and presentation helpers shared by the renderers.

export type NoteKind = 'call' | 'error' | 'timer' | 'http' | 'drop' | 'note' | 'stats';

export interface Note {
  kind: NoteKind;
  text: string;
  /** The longer form (a tooltip). */
  full: string;
}

/** The annotation an event puts beside its host's lifeline, or null for events drawn otherwise. */
export function noteOf(e: LabEvent): Note | null {
  switch (e.kind) {
    case 'call': {
      if (e.call === 'note') return { kind: 'note', text: e.args ?? '', full: e.args ?? '' };
      const res = e.result !== undefined ? ` = ${e.result}` : '';
      const t = `${e.call}(${e.args ?? ''})${res}`;
      return { kind: 'call', text: t, full: `${e.socket !== '-' ? `${e.socket}: ` : ''}${t}` };
    }
    case 'error':
      return { kind: 'error', text: `${e.code} (errno ${e.errno})`, full: `${e.code} (errno ${e.errno}): ${e.message}${e.socket ? ` on ${e.socket}` : ''}` };
    case 'timer':
      return { kind: 'timer', text: `${e.timer} timer`, full: `timer ${e.timer} fired${e.detail ? `: ${e.detail}` : ''}` };
    case 'drop':
      return e.reason.startsWith(LINK_LOSS) ? null : { kind: 'drop', text: `dropped: ${e.reason}`, full: `dropped: ${e.reason}` };
    case 'http': {
      const text = e.phase === 'request' ? `${e.method} ${e.path}` : e.phase === 'response' ? `${e.status} ${e.method} ${e.path}` : `${e.method} ${e.path} failed: ${e.error ?? ''}`;
      return { kind: e.phase === 'error' ? 'error' : 'http', text, full: `HTTP ${text}${e.detail ? ` (${e.detail})` : ''}${httpConnection(e)}` };
    }
    case 'stats': {
      const s = statesCount(e.byState);
      return { kind: 'stats', text: s, full: `sockets by state: ${s}` };
    }
    case 'segment':
    case 'state':
    default:
      return null;
  }
}

/** Counts or parameters as `name=value name=value`. */
export const keyValues = (r: Record<string, number>): string => Object.entries(r).map(([k, v]) => `${k}=${v}`).join(' ');

/** A stats sample's sockets per state, `ESTABLISHED=3 TIME_WAIT=2`, or '(no sockets)'. */
export const statesCount = (byState: Record<string, number>): string => keyValues(byState) || '(no sockets)';

/** The connection an HTTP event went over, ` on <4-tuple> (reused)`, or ''. */
export const httpConnection = (e: HttpEvent): string => (e.connection ? ` on ${e.connection}${e.reusedSocket ? ' (reused)' : ''}` : '');

/** State colours (light fills, readable under dark text); the same in SVG, the web page and ANSI. */
export const STATE_COLORS: Record<string, string> = {
  LISTEN: '#cbd5e1',
  SYN_SENT: '#99f6e4',
  SYN_RECV: '#5eead4',
  ESTABLISHED: '#86efac',
  FIN_WAIT1: '#bae6fd',
  FIN_WAIT2: '#7dd3fc',
  CLOSING: '#c4b5fd',
  TIME_WAIT: '#fcd34d',
  CLOSE_WAIT: '#fca5a5',
  LAST_ACK: '#f9a8d4',
  CLOSED: '#e5e7eb',
};
export const stateColor = (s: string): string => STATE_COLORS[s] ?? '#e5e7eb';

export const ARROW_COLORS: Record<ArrowKind, string> = {
  syn: '#15803d',
  fin: '#1d4ed8',
  rst: '#dc2626',
  data: '#111827',
  ack: '#6b7280',
};

/** A short duration: `40 ms`, `59.865 s`, `2 h 0 min 10 s`. */
export function fmtDuration(us: number): string {
  if (us < 1000) return `${us} µs`;
  const msv = us / 1000;
  if (msv < 1000) return `${+msv.toFixed(3)} ms`;
  const s = us / 1e6;
  if (s < 120) return `${+s.toFixed(3)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = +(s % 60).toFixed(3);
  return h ? `${h} h ${m} min${r ? ` ${r} s` : ''}` : `${m} min${r ? ` ${r} s` : ''}`;
}

/** A time on the run's clock: `20.000 ms`, `60.130 s`, `2h00m10.000s` (as the timeline prints it). */
export function fmtAt(us: number): string {
  const msv = us / 1000;
  if (msv < 10_000) return `${msv.toFixed(3)} ms`;
  const s = us / 1e6;
  if (s < 3600) return `${s.toFixed(3)} s`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}h${String(m).padStart(2, '0')}m${(s % 60).toFixed(3).padStart(6, '0')}s`;
}

/** The typical one-way delay of the run: the median of the delivered segments' transit times. */
export function typicalLatency(arrows: Arrow[]): number {
  const d = arrows.filter((a) => a.tIn !== null && !a.duplicate && a.tIn > a.tOut).map((a) => a.tIn! - a.tOut).sort((a, b) => a - b);
  return d.length ? d[Math.floor(d.length / 2)]! : 1000;
}

export const isStateEvent = (e: LabEvent): e is StateEvent => e.kind === 'state';
