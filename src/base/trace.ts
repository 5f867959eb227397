// The event trace: one discriminated union that every renderer (timeline, JSON, pcap, socket
// tables) reads, so they can never disagree. Times are virtual microseconds.

export type TimerKind =
  | 'retransmit'
  | 'syn-retransmit'
  | 'synack-retransmit'
  | 'delayed-ack'
  | 'keepalive'
  | 'persist'
  | 'loss-probe'
  | 'rack-reorder'
  | 'time-wait'
  | 'fin-wait2'
  | 'linger';

export type CauseKind = 'segment' | 'timer' | 'call';

export interface SegmentEvent {
  kind: 'segment';
  t: number;
  host: string;
  dir: 'in' | 'out';
  socket?: string;
  src: string; // addr:port
  dst: string;
  flags: string; // tcpdump letters: S, S., ., P., F., R, R.
  seq: number;
  ack: number;
  win: number;
  len: number;
  options: string; // tcpdump style, without brackets; '' when none
  /** e.g. 'retransmission', 'keepalive probe', 'challenge ACK', 'window probe', 'dropped: ...' */
  note?: string;
  /** The IP packet, for pcap output; never serialised to JSON. */
  packet?: Uint8Array;
}

export interface StateEvent {
  kind: 'state';
  t: number;
  host: string;
  socket: string;
  from: string;
  to: string;
  cause: string;
  causeKind: CauseKind;
}

export interface TimerEvent {
  kind: 'timer';
  t: number;
  host: string;
  socket: string;
  timer: TimerKind;
  action: 'fired';
  detail?: string;
}

export interface CallEvent {
  kind: 'call';
  t: number;
  host: string;
  socket: string;
  call: string;
  args?: string;
  result?: string;
}

export interface ErrorEvent {
  kind: 'error';
  t: number;
  host: string;
  socket: string;
  code: string;
  errno: number;
  message: string;
}

/** A packet the host could not use (malformed, no route, wrong address). */
export interface DropEvent {
  kind: 'drop';
  t: number;
  host: string;
  reason: string;
  packet?: Uint8Array;
}

export type TraceEvent = SegmentEvent | StateEvent | TimerEvent | CallEvent | ErrorEvent | DropEvent;
export type TraceSink = (ev: TraceEvent) => void;

/** Formats addr:port, with brackets for IPv6 (RFC 3986 style). */
export const endpoint = (addr: string, port: number): string =>
  addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;

/** A connection's trace label: local>remote, as `addr:port>addr:port`. */
export const connLabel = (laddr: string, lport: number, raddr: string, rport: number): string =>
  `${endpoint(laddr, lport)}>${endpoint(raddr, rport)}`;
