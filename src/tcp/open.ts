// Opening a connection: what the active open (tcp_v4_connect, tcp_connect_init, tcp_connect)
// and the passive open (tcp_create_openreq_child, listen.ts) both set up, and the active open
// itself. The ISN comes from the caller: secure_tcp_seq (isn.ts), or after a reused TIME_WAIT
// isnAfterTimeWait (timewait.ts).

import type { TcpConn } from './conn.ts';
import { armRto, offeredWscale, sendSyn } from './output.ts';
import { seqAdd } from './seq.ts';
import { TcpState } from './states.ts';

/** TCP_TIMEOUT_INIT: the SYN and SYN-ACK timers start at 1 s (RFC 6298 §2.1). */
export const TCP_TIMEOUT_INIT = 1_000_000;

/** The send sequence space of a new connection from its ISN (RFC 9293 §3.4.1). */
export function initSendSequence(c: TcpConn, iss: number): void {
  c.iss = iss;
  c.sndUna = iss;
  c.sndNxt = iss;
  c.sndMax = iss;
  c.writeSeq = seqAdd(iss, 1);
}

/** The SYN (or SYN-ACK) just sent starts the RTT sample and its retransmission timer. */
export function armSynTimer(c: TcpConn, kind: 'syn-retransmit' | 'synack-retransmit'): void {
  const now = c.env.now();
  c.rttTime = now;
  c.retransStamp = now;
  c.rto = TCP_TIMEOUT_INIT;
  armRto(c, kind);
}

/**
 * tcp_connect_init for a connection about to enter the demux table: its sequence space, the
 * window scale it offers, ts_recent from a reused TIME_WAIT entry (tcp_twsk_unique copies it so
 * PAWS keeps working on the 4-tuple).
 */
export function tcpConnectInit(c: TcpConn, iss: number, tw?: { tsRecent: number; tsRecentStamp: number }): void {
  initSendSequence(c, iss);
  if (tw) {
    c.tsRecent = tw.tsRecent;
    c.tsRecentStamp = tw.tsRecentStamp;
  }
  c.rcvWscale = c.env.cfg.tcp_window_scaling ? offeredWscale(c) : 0;
  c.openedAt = c.env.now();
  c.env.counters.inc('ActiveOpens');
}

/** tcp_connect: SYN_SENT, the first SYN and its timer. */
export function tcpConnect(c: TcpConn): void {
  c.setState(TcpState.SYN_SENT, 'connect()', 'call');
  sendSyn(c);
  armSynTimer(c, 'syn-retransmit');
}
