// A host's socket table the way `ss -tanoi` prints it: the state names, the timer column and
// whole rows. The text timeline and the web page's samples both use it. Browser-safe.

import type { SocketRow } from '../host/host.ts';
import { SS_NAMES, type TcpState } from '../tcp/states.ts';

/** One row of `ss -tano`. */
export interface SsRow {
  state: string;
  /** The name `ss` prints (ESTAB, TIME-WAIT, ...). */
  ss: string;
  recvQ: number;
  sendQ: number;
  local: string;
  remote: string;
  /** `timer:(timewait,59sec,0)` or ''. */
  timer: string;
}

/** The state name `ss` prints (ESTAB, TIME-WAIT, ...). */
const ssState = (r: SocketRow): string => SS_NAMES[r.stateNum as TcpState] ?? r.state;

/** A timer's time left as ss rounds it: `2min`, `59sec`, `200ms`. */
function ssDuration(msv: number): string {
  if (msv >= 60_000) return `${Math.floor(msv / 60_000)}min`;
  if (msv >= 1000) return `${(msv / 1000).toFixed(0)}sec`;
  return `${Math.round(msv)}ms`;
}

/** The timer column, `timer:(timewait,59sec,0)`, or '' for a socket with no timer running. */
export const ssTimer = (r: SocketRow): string => (r.timer ? `timer:(${r.timer.kind},${ssDuration(r.timer.expiresMs)},${r.timer.retrans})` : '');

export const ssRow = (r: SocketRow): SsRow => ({
  state: r.state, ss: ssState(r), recvQ: r.recvQ, sendQ: r.sendQ, local: r.local, remote: r.remote, timer: ssTimer(r),
});

/** One row the way `ss -tanoi` prints it. */
export function ssLine(r: SocketRow): string {
  const timer = r.timer ? ` ${ssTimer(r)}` : '';
  const info = r.rtoMs !== undefined
    ? ` ${r.wscale ? `wscale:${r.wscale} ` : ''}rto:${r.rtoMs} rtt:${r.rttMs}/${r.rttvarMs} mss:${r.mss} cwnd:${r.cwnd}${r.ssthresh ? ` ssthresh:${r.ssthresh}` : ''} bytes_sent:${r.bytesSent} bytes_acked:${r.bytesAcked} bytes_received:${r.bytesReceived} retrans:${r.retrans}`
    : '';
  return `${ssState(r).padEnd(11)} ${String(r.recvQ).padEnd(6)} ${String(r.sendQ).padEnd(6)} ${r.local.padEnd(22)} ${r.remote.padEnd(22)}${timer}${info}`;
}
