// The sender's chronographs (tcp_chrono_start, tcp_chrono_stop, tcp_chrono_set in
// net/ipv4/tcp_output.c): how long the connection has had data to send (busy), and how much of
// that time the peer's receive window held it back (rwnd limited) or the send buffer did
// (sndbuf limited), in jiffies, reported by TCP_INFO in µs (tcpi_busy_time is the sum of all three).
// Linux: busy starts when data or a FIN is queued behind no unsent data
// (tcp_add_write_queue_tail), stops when an ACK leaves nothing in flight and nothing unsent
// (tcp_clean_rtx_queue); rwnd limited starts when tcp_write_xmit stops at the send window and
// stops at the next tcp_write_xmit that does not. The highest type running wins.

import { Chrono, type TcpConn } from './conn.ts';
import { seqLt } from './seq.ts';

export { Chrono };

/** tcp_jiffies32 at the connection's clock. */
const jiffies = (c: TcpConn): number => Math.floor(c.env.now() / (1_000_000 / c.env.cfg.hz));

/** Data (or the FIN) queued and never sent: Linux's write queue is not empty. */
export const writeQueued = (c: TcpConn): boolean => seqLt(c.sndMax, c.writeSeq) || (c.finQueued && c.sndMax === c.writeSeq);

function set(c: TcpConn, type: Chrono): void {
  const now = jiffies(c);
  const old = c.chronoType;
  if (old !== Chrono.Unspec) c.addChronoStat(old, now - c.chronoStart);
  c.chronoStart = now;
  c.chronoType = type;
}

/** tcp_chrono_start: a higher type takes over. */
export function chronoStart(c: TcpConn, type: Chrono): void {
  if (type > c.chronoType) set(c, type);
}

/**
 * tcp_chrono_stop: with nothing in flight and nothing queued every chrono stops; otherwise the
 * condition that ended, if it is the running one, gives way to busy.
 */
export function chronoStop(c: TcpConn, type: Chrono): void {
  if (c.sndUna === c.sndMax && !writeQueued(c)) set(c, Chrono.Unspec);
  else if (type === c.chronoType) set(c, Chrono.Busy);
}

/** tcp_get_info_chrono_stats: busy (all three), rwnd limited, sndbuf limited, in µs. */
export function chronoStats(c: TcpConn): { busy: number; rwndLimited: number; sndbufLimited: number } {
  const jiffyUs = 1_000_000 / c.env.cfg.hz;
  const now = jiffies(c);
  const stat = (t: Chrono): number => (c.chronoStat(t) + (t === c.chronoType ? now - c.chronoStart : 0)) * jiffyUs;
  const rwndLimited = stat(Chrono.RwndLimited);
  const sndbufLimited = stat(Chrono.SndbufLimited);
  return { busy: stat(Chrono.Busy) + rwndLimited + sndbufLimited, rwndLimited, sndbufLimited };
}
