// Closing a connection from the application's side (Linux tcp_close, tcp_shutdown,
// tcp_close_state, tcp_send_fin, tcp_disconnect, sock_orphan): the orderly FIN, the reset of
// close() with unread data or SO_LINGER {1, 0}, SO_LINGER {1, N}, the orphan and its limits.
// The socket layer (host/socket.ts) checks arguments and reference counts, then calls these.

import { Chrono, chronoStart, writeQueued } from './chrono.ts';
import type { ConnOwner, TcpConn } from './conn.ts';
import { finTime, purgeWriteQueue, reportError, tcpDone, tcpTimeWait } from './lifecycle.ts';
import { checkOom } from './memory.ts';
import { sendActiveReset, tcpOutput } from './output.ts';
import { seqAdd } from './seq.ts';
import { TcpState } from './states.ts';
import { TCP_TIMEWAIT_LEN } from './timewait.ts';

export type ShutdownHow = 'SHUT_RD' | 'SHUT_WR' | 'SHUT_RDWR';

/** tcp_close_state + tcp_send_fin: FIN_WAIT1 or LAST_ACK at once, the FIN queued behind data. */
export function tcpCloseState(c: TcpConn, cause: string): boolean {
  let to: TcpState;
  switch (c.state) {
    case TcpState.ESTABLISHED: to = TcpState.FIN_WAIT1; break;
    case TcpState.SYN_RECV: to = TcpState.FIN_WAIT1; break;
    case TcpState.CLOSE_WAIT: to = TcpState.LAST_ACK; break;
    default: return false;
  }
  // tcp_send_fin: a FIN of its own (no unsent tail to ride on) enters an empty write queue.
  const queued = writeQueued(c);
  c.finQueued = true;
  if (!queued) chronoStart(c, Chrono.Busy);
  // FIN_WAIT1 (or LAST_ACK) at once, even while the FIN waits behind data or a zero window.
  c.setState(to, cause, 'call');
  tcpOutput(c);
  return true;
}

/**
 * shutdown() on a connection that is not CLOSED (inet_shutdown, tcp_shutdown). SHUT_RD wakes
 * the reader at once (its reads return 0); SHUT_WR sends the FIN.
 */
export function tcpShutdown(c: TcpConn, how: ShutdownHow): void {
  if (c.state === TcpState.SYN_SENT) {
    // inet_shutdown -> tcp_disconnect: the attempt is abandoned, sk_err = ECONNRESET, and
    // shutdown() itself returns 0 (observed on 6.18: no error, SO_ERROR 104, nothing sent,
    // no AttemptFails).
    reportError(c, 'ECONNRESET');
    tcpDone(c, 'shutdown() in SYN_SENT', 'call', false);
    // tcp_disconnect clears sk_shutdown and SOCK_DONE: a fresh, unconnected socket (recv()
    // ENOTCONN once the error is taken, observed), not one whose connection ended.
    c.done = false;
    c.rcvShutdown = false;
    return;
  }
  if (how !== 'SHUT_WR') {
    c.rcvShutdown = true;
    c.socket?.connEvent('readable');
  }
  if (how !== 'SHUT_RD' && !c.sndShutdown) {
    c.sndShutdown = true;
    tcpCloseState(c, 'shutdown(SHUT_WR)');
  }
  c.env.reschedule(c);
}

/**
 * tcp_close: the last reference to the socket is gone. `owner` is who gets 'closed' when a
 * close() blocked by SO_LINGER {1, N} returns. Afterwards the connection has no owner: it is
 * CLOSED, in TIME_WAIT, or an orphan finishing its FIN handshake.
 */
export function tcpClose(c: TcpConn, owner: ConnOwner): void {
  const env = c.env;
  c.rcvShutdown = true;
  c.sndShutdown = true;
  const unread = c.rcvBuf.length;
  c.rcvBuf.clear();
  c.ofo.length = 0;
  if (c.state === TcpState.CLOSED) return;
  if (unread > 0) {
    // RFC 2525 §2.17, Linux tcp_close: unread data turns the close into a reset.
    env.counters.inc('TCPAbortOnClose');
    purgeWriteQueue(c);
    sendActiveReset(c, 'close() with unread data');
    tcpDone(c, `close() with ${unread} unread bytes`, 'call');
    return;
  }
  if (c.opts.linger.on && c.opts.linger.seconds === 0) {
    // SO_LINGER {1, 0}: tcp_disconnect, a reset and no TIME_WAIT.
    env.counters.inc('TCPAbortOnData');
    const needReset = c.state === TcpState.ESTABLISHED || c.state === TcpState.CLOSE_WAIT || c.state === TcpState.FIN_WAIT1 ||
      c.state === TcpState.FIN_WAIT2 || c.state === TcpState.SYN_RECV ||
      ((c.state === TcpState.CLOSING || c.state === TcpState.LAST_ACK) && c.sndMax !== seqAdd(c.writeSeq, 1)); // FIN not yet sent
    purgeWriteQueue(c);
    if (needReset) sendActiveReset(c, 'SO_LINGER {1, 0}');
    // tcp_disconnect sets TCP_CLOSE directly: no AttemptFails from SYN_SENT (observed).
    tcpDone(c, 'close() with SO_LINGER {1, 0}', 'call', false);
    return;
  }
  if (c.state === TcpState.SYN_SENT) {
    // tcp_close_state: SYN_SENT -> CLOSE through tcp_set_state, so no AttemptFails (observed).
    tcpDone(c, 'close() in SYN_SENT', 'call', false);
    return;
  }
  tcpCloseState(c, 'close()');
  if (c.opts.linger.on && c.opts.linger.seconds > 0 && (c.state === TcpState.FIN_WAIT1 || c.state === TcpState.CLOSING || c.state === TcpState.LAST_ACK)) {
    // SO_LINGER {1, N}: close() blocks until everything is acknowledged or N s pass; here
    // the call returns at once and 'close' is emitted when it would have returned.
    c.lingering = true;
    c.lingerOwner = owner;
    c.lingerDeadline = env.now() + c.opts.linger.seconds * 1e6;
  }
  env.orphan(c);
  if (c.state === TcpState.FIN_WAIT2) {
    if (c.opts.linger2 < 0) {
      sendActiveReset(c, 'TCP_LINGER2 < 0');
      env.counters.inc('TCPAbortOnLinger');
      tcpDone(c, 'close() in FIN_WAIT2 with TCP_LINGER2 < 0', 'call');
      return;
    }
    // An orphan FIN_WAIT2 stays a full socket for the part of its lifetime beyond
    // TCP_TIMEWAIT_LEN, then (or at once) becomes a FIN_WAIT2 entry of the TIME_WAIT table.
    const tmo = finTime(c);
    if (tmo > TCP_TIMEWAIT_LEN) c.finWait2Deadline = env.now() + tmo - TCP_TIMEWAIT_LEN;
    else {
      tcpTimeWait(c, 'FIN_WAIT2', tmo, 'close() in FIN_WAIT2', 'call');
      return;
    }
  }
  // tcp_close: tcp_check_oom(sk, 0) for the socket just orphaned; over the limit, a reset.
  if (!c.isClosed() && checkOom(c, 0)) {
    env.counters.inc('TCPAbortOnMemory');
    sendActiveReset(c, 'too many orphaned sockets');
    tcpDone(c, 'tcp_max_orphans exceeded', 'call');
  }
  env.reschedule(c);
}
