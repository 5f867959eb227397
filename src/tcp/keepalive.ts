// Keepalive timing (Linux keepalive_time_when, keepalive_intvl_when, keepalive_probes,
// keepalive_time_elapsed, tcp_set_keepalive): the per-socket TCP_KEEPIDLE/KEEPINTVL/KEEPCNT,
// falling back to the tcp_keepalive_* sysctls. The timer itself is tcp_keepalive_timer (timers.ts).

import type { TcpConn } from './conn.ts';

/** µs of idle before the first probe. */
export const keepIdle = (c: TcpConn): number => (c.opts.keepIdle || c.env.cfg.tcp_keepalive_time) * 1e6;
/** µs between unanswered probes. */
export const keepIntvl = (c: TcpConn): number => (c.opts.keepIntvl || c.env.cfg.tcp_keepalive_intvl) * 1e6;
/** Unanswered probes before the connection is declared dead. */
export const keepCnt = (c: TcpConn): number => c.opts.keepCnt || c.env.cfg.tcp_keepalive_probes;

/** keepalive_time_elapsed: idle time, since the last data received or the last ACK. */
export const keepaliveElapsed = (c: TcpConn, now: number): number => Math.min(now - c.lrcvtime, now - c.rcvTstamp);

/** tcp_set_keepalive / the connection becoming established: a full idle period from now. */
export function startKeepalive(c: TcpConn): void {
  if (c.opts.keepalive) c.keepaliveDeadline = c.env.now() + keepIdle(c);
}

/** TCP_KEEPIDLE changed on a live socket: the timer is re-armed for what is left of the new idle time. */
export function keepIdleChanged(c: TcpConn): void {
  const now = c.env.now();
  c.keepaliveDeadline = now + Math.max(0, keepIdle(c) - keepaliveElapsed(c, now));
}
