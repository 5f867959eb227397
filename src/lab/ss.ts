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

export interface SsTableOptions {
  /** -H: no header line. */
  noHeader?: boolean;
  /** -o: the timer, ` timer:(timewait,59sec,0)`, in the Process column. */
  timers?: boolean;
  /** -i: tcp_info on a second line, `\t` then the fields (in the Process column, as ss does). */
  info?: boolean;
}

/**
 * `-i`'s fields of one row, in the order iproute2's tcp_show_info prints them, each only when
 * ss would (bytes_* and retrans when non-zero, ssthresh when below infinity). linger's row has
 * no congestion control name, ts/sack/ecn flags, ato, pmtu, segs_* or pacing/delivery rates.
 */
function ssInfo(r: SocketRow): string {
  if (r.rtoMs === undefined) return '';
  const f: string[] = [];
  if (r.wscale) f.push(`wscale:${r.wscale}`);
  f.push(`rto:${r.rtoMs}`, `rtt:${r.rttMs}/${r.rttvarMs}`, `mss:${r.mss}`, `cwnd:${r.cwnd}`);
  if (r.ssthresh) f.push(`ssthresh:${r.ssthresh}`);
  if (r.bytesSent) f.push(`bytes_sent:${r.bytesSent}`);
  if (r.bytesAcked) f.push(`bytes_acked:${r.bytesAcked}`);
  if (r.bytesReceived) f.push(`bytes_received:${r.bytesReceived}`);
  if (r.lastsndMs !== undefined) f.push(`lastsnd:${Math.round(r.lastsndMs)}`);
  if (r.lastrcvMs !== undefined) f.push(`lastrcv:${Math.round(r.lastrcvMs)}`);
  if (r.lastackMs !== undefined) f.push(`lastack:${Math.round(r.lastackMs)}`);
  if (r.retrans && r.retrans !== '0/0') f.push(`retrans:${r.retrans}`);
  return ' ' + f.join(' ');
}

/** addr:port split the way ss fills its two columns: `127.0.0.1:` and `80`. */
function splitEndpoint(e: string): [string, string] {
  const i = e.lastIndexOf(':');
  return [e.slice(0, i + 1), e.slice(i + 1)];
}

/**
 * Rows as `ss -t` prints them to a pipe (iproute2 6.1, misc/ss.c render_calc_width): each
 * column as wide as its widest cell (the header's included), the columns after the first led
 * by their one-space delimiter (none before the ports and Process), addresses right-aligned,
 * Recv-Q/Send-Q printed `%-6d`, the last column padded too. On a terminal ss also spreads the
 * spare width of the screen over the columns; that is not done here.
 */
export function ssTable(rows: readonly SocketRow[], o: SsTableOptions = {}): string[] {
  const cols: Array<{ title: string; delim: string; right: boolean }> = [
    { title: 'State', delim: '', right: false },
    { title: 'Recv-Q', delim: ' ', right: false },
    { title: 'Send-Q', delim: ' ', right: false },
    { title: 'Local Address:', delim: ' ', right: true },
    { title: 'Port', delim: '', right: false },
    { title: 'Peer Address:', delim: ' ', right: true },
    { title: 'Port', delim: '', right: false },
    { title: 'Process', delim: '', right: false },
  ];
  const lines: string[][] = [];
  if (!o.noHeader) lines.push(cols.map((c) => c.title));
  for (const r of rows) {
    const [la, lp] = splitEndpoint(r.local);
    const [ra, rp] = splitEndpoint(r.remote);
    const proc = (o.timers && r.timer ? ` ${ssTimer(r)}` : '') + (o.info ? `\n\t${ssInfo(r)}` : '');
    lines.push([ssState(r), String(r.recvQ).padEnd(6), String(r.sendQ).padEnd(6), la, lp, ra, rp, proc]);
  }
  let first = true;
  const widths = cols.map((c, i) => {
    const max = Math.max(0, ...lines.map((l) => l[i]!.length));
    const w = max && !first ? max + c.delim.length : max;
    if (w) first = false;
    return w;
  });
  return lines.map((cells) => {
    let out = '';
    let lead = true;
    cells.forEach((cell, i) => {
      const w = widths[i]!;
      if (!w) return;
      const c = cols[i]!;
      const d = lead ? '' : c.delim;
      lead = false;
      out += d + (c.right ? cell.padStart(w - d.length) : cell.padEnd(w - d.length));
    });
    return out;
  });
}
