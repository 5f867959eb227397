// The ends of a connection: tcp_done, tcp_reset (RST received), tcp_write_err (timeouts),
// tcp_time_wait (hand the 4-tuple to a TIME_WAIT entry), and errors reported to the owner.

import type { ErrnoCode } from '../base/errno.ts';
import { ERRNO, errnoMessage } from '../base/errno.ts';
import type { TcpConn } from './conn.ts';
import { TcpState } from './states.ts';

type CauseKind = 'segment' | 'timer' | 'call';

/** Sets sk_err and wakes the owner; an orphan has nobody to tell. */
export function reportError(c: TcpConn, code: ErrnoCode): void {
  c.softError = code;
  if (c.orphan) return;
  c.env.trace({
    kind: 'error', t: c.env.now(), host: c.env.name, socket: c.label, code, errno: ERRNO[code], message: errnoMessage(code),
  });
  c.env.notify(c, 'error');
}

function cancelTimers(c: TcpConn): void {
  c.rtxDeadline = Infinity;
  c.delackDeadline = Infinity;
  c.keepaliveDeadline = Infinity;
  c.finWait2Deadline = Infinity;
  c.lingerDeadline = Infinity;
}

/**
 * tcp_done: CLOSED, timers off, the 4-tuple released; the owner sees EOF/errors after.
 * countAttemptFail = false for the paths where Linux calls tcp_set_state(TCP_CLOSE) instead
 * (close() or tcp_disconnect in SYN_SENT, a request dropped by its timer): they do not count
 * AttemptFails (observed on 6.18: close(), SO_LINGER {1,0} and shutdown() in SYN_SENT, and
 * tcp_synack_retries running out, leave TcpAttemptFails unchanged).
 */
export function tcpDone(c: TcpConn, cause: string, causeKind: CauseKind, countAttemptFail = true): void {
  const c0 = c.env.counters;
  if (countAttemptFail && (c.state === TcpState.SYN_SENT || c.state === TcpState.SYN_RECV)) c0.inc('AttemptFails');
  // Linux tcp_set_state counts EstabResets on any ESTABLISHED/CLOSE_WAIT -> CLOSE.
  if (c.state === TcpState.ESTABLISHED || c.state === TcpState.CLOSE_WAIT) c0.inc('EstabResets');
  c.setState(TcpState.CLOSED, cause, causeKind);
  c.rcvShutdown = true;
  c.sndShutdown = true;
  c.done = true;
  cancelTimers(c);
  c.ackPending = false;
  c.env.release(c);
  c.env.notify(c, 'closed');
}

/** tcp_reset: an acceptable RST arrived. */
export function tcpReset(c: TcpConn, cause = 'rcv RST'): void {
  let err: ErrnoCode;
  switch (c.state) {
    case TcpState.SYN_SENT:
      err = 'ECONNREFUSED';
      break;
    case TcpState.CLOSE_WAIT:
      err = 'EPIPE';
      break;
    case TcpState.CLOSED:
      return;
    default:
      err = 'ECONNRESET';
  }
  purgeWriteQueue(c);
  reportError(c, err);
  tcpDone(c, cause, 'segment');
}

/** tcp_write_err: retransmissions or probes gave up. */
export function tcpWriteErr(c: TcpConn, cause: string): void {
  purgeWriteQueue(c);
  reportError(c, c.softError ?? 'ETIMEDOUT');
  c.env.counters.inc('TCPAbortOnTimeout');
  tcpDone(c, cause, 'timer');
}

export function purgeWriteQueue(c: TcpConn): void {
  c.sndBuf.clear();
  c.writeSeq = c.sndUna;
  c.finQueued = false;
  if (c.push) c.push.ends.length = 0;
}

/**
 * tcp_time_wait: the full socket is done and a TIME_WAIT (or FIN_WAIT2 orphan) entry takes
 * the 4-tuple. Over tcp_max_tw_buckets there is no entry at all (TCPTimeWaitOverflow).
 */
export function tcpTimeWait(c: TcpConn, substate: 'TIME_WAIT' | 'FIN_WAIT2', timeoutUs: number, cause: string, causeKind: CauseKind): void {
  const from = c.stateName;
  // inet_twsk_alloc first: over tcp_max_tw_buckets there is no minisock and tcp_done closes the
  // socket from the state it is in (FIN_WAIT2 or CLOSING -> CLOSE), never showing TIME_WAIT.
  const made = c.env.enterTimeWait(c, substate, timeoutUs);
  if (made && substate === 'TIME_WAIT') c.setState(TcpState.TIME_WAIT, cause, causeKind);
  // The full socket closes silently: the trace keeps showing the 4-tuple in TIME_WAIT (or
  // FIN_WAIT2) until the entry dies.
  c.state = TcpState.CLOSED;
  c.rcvShutdown = true;
  c.sndShutdown = true;
  c.done = true;
  cancelTimers(c);
  if (!made) {
    c.env.counters.inc('TCPTimeWaitOverflow');
    c.env.trace({ kind: 'state', t: c.env.now(), host: c.env.name, socket: c.label, from, to: 'CLOSED', cause: `${cause}; tcp_max_tw_buckets reached (TCPTimeWaitOverflow)`, causeKind });
  }
  c.env.notify(c, 'closed');
}

/** tcp_fin_time: the orphan FIN_WAIT2 lifetime, at least 3.5 RTO. */
export function finTime(c: TcpConn): number {
  const fin = (c.opts.linger2 > 0 ? c.opts.linger2 : c.env.cfg.tcp_fin_timeout) * 1e6;
  const floor = c.rto * 4 - c.rto / 2;
  return Math.max(fin, floor);
}
