// The event trace: one discriminated union that every renderer (timeline, JSON, pcap, socket
// tables) reads, so they can never disagree. Times are virtual microseconds.

/** The TCP timers a trace names. */
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

/** What caused a state change: a segment, a timer or a call. */
export type CauseKind = 'segment' | 'timer' | 'call';

/** A segment sent or received, with its fields as tcpdump shows them. */
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

/** A socket changed state (CLOSED, SYN_SENT, ESTABLISHED, TIME_WAIT...), and why. */
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

/** A timer armed, fired or cancelled. */
export interface TimerEvent {
  kind: 'timer';
  t: number;
  host: string;
  socket: string;
  timer: TimerKind;
  action: 'fired';
  detail?: string;
}

/** A call made by the application (connect, close, shutdown...) and its result. */
export interface CallEvent {
  kind: 'call';
  t: number;
  host: string;
  socket: string;
  call: string;
  args?: string;
  result?: string;
}

/** An error reported to the application (ECONNRESET, ETIMEDOUT...). */
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

/** One event of a host's trace. */
export type TraceEvent = SegmentEvent | StateEvent | TimerEvent | CallEvent | ErrorEvent | DropEvent;
/** Receives trace events (Host.onTrace, HostOptions.trace). */
export type TraceSink = (ev: TraceEvent) => void;

/** Formats addr:port, with brackets for IPv6 (RFC 3986 style). */
export const endpoint = (addr: string, port: number): string =>
  addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;

/** A connection's trace label: local>remote, as `addr:port>addr:port`. */
export const connLabel = (laddr: string, lport: number, raddr: string, rport: number): string =>
  `${endpoint(laddr, lport)}>${endpoint(raddr, rport)}`;
