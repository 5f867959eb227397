// The connection's timers (Linux tcp_timer.c): retransmission (and SYN / SYN-ACK retries),
// zero-window probe, delayed ACK, keepalive, orphaned FIN_WAIT2, SO_LINGER wait.
// Every timer is an absolute deadline on the TCB; the host keeps one wheel entry per connection.

import type { TimerKind } from '../base/trace.ts';
import type { TcpConn } from './conn.ts';
import type { RtxKind } from './timer.ts';
import { checkOom } from './memory.ts';
import { keepCnt, keepIdle, keepIntvl, keepaliveElapsed } from './keepalive.ts';
import { tcpDone, tcpTimeWait, tcpWriteErr, finTime } from './lifecycle.ts';
import { retransmitSyn, sendAck, sendActiveReset, sendProbe, sendQueued, sendWindowFill } from './output.ts';
import { enterLoss, rackReoTimeout, retransmitHead, sendLossProbe } from './recovery.ts';
import { CaState } from './rtxqueue.ts';
import { requestExpired, requestResend } from './listen.ts';
import { probe0When, retransTimeoutBudget, rtoBackoff } from './rtt.ts';
import { TcpState } from './states.ts';
import { TCP_TIMEWAIT_LEN } from './timewait.ts';

function fired(c: TcpConn, timer: TimerKind, detail?: string): void {
  if (c.env.tracing) c.env.trace({ kind: 'timer', t: c.env.now(), host: c.env.name, socket: c.label, timer, action: 'fired', detail });
}

/** Runs every timer of this connection due at or before now. */
export function connTimers(c: TcpConn, now: number): void {
  if (c.delackDeadline <= now) delackTimer(c);
  if (c.isClosed()) return;
  if (c.rtxDeadline <= now) {
    if (c.rtxKind === 'persist') probeTimer(c);
    else if (c.rtxKind === 'loss-probe' || c.rtxKind === 'rack-reorder') recoveryTimer(c, c.rtxKind);
    else retransmitTimer(c);
  }
  if (c.isClosed()) return;
  if (c.keepaliveDeadline <= now) keepaliveTimer(c);
  if (c.isClosed()) return;
  if (c.finWait2Deadline <= now) finWait2Timer(c);
  if (c.isClosed()) return;
  if (c.lingerDeadline <= now) {
    fired(c, 'linger', 'SO_LINGER timeout');
    c.lingerReturn('SO_LINGER timeout, the FIN handshake goes on as an orphan');
  }
}

/** tcp_delack_timer_handler. */
function delackTimer(c: TcpConn): void {
  c.delackDeadline = Infinity;
  if (!c.ackPending) return;
  fired(c, 'delayed-ack');
  if (c.pingpong) {
    // Delayed ACK missed: leave pingpong mode and deflate ATO.
    c.pingpong = false;
    c.ato = 40_000;
  } else {
    c.ato = Math.min(c.ato * 2, c.rto);
  }
  c.env.counters.inc('DelayedACKs');
  sendAck(c);
}

/**
 * tcp_out_of_resources, for an orphan's retransmission or probe timer: tcp_check_oom with the
 * orphan count doubled when the peer has been silent past 2 * TCP_RTO_MAX or no reset is due,
 * and doubled again after a soft error. Over the limit the orphan ends (TCPAbortOnMemory), with a
 * reset when data went out within TCP_TIMEWAIT_LEN or the window is shut with nothing in flight.
 */
function outOfResources(c: TcpConn, doReset: boolean): boolean {
  const now = c.env.now();
  let shift = 0;
  if (now - c.lsndtime > 2 * c.env.cfg.tcp_rto_max_us || !doReset) shift++;
  if (c.softError) shift++;
  if (!checkOom(c, shift)) return false;
  if (now - c.lsndtime <= TCP_TIMEWAIT_LEN || (!c.sndWnd && !c.flight)) doReset = true;
  if (doReset) sendActiveReset(c, 'too many orphaned sockets');
  tcpDone(c, 'tcp_out_of_resources', 'timer');
  c.env.counters.inc('TCPAbortOnMemory');
  return true;
}

/** Max retransmissions for an orphan (tcp_orphan_retries: 0 means 8). */
function orphanRetries(c: TcpConn, alive: boolean): number {
  const r = c.env.cfg.tcp_orphan_retries;
  if (r === 0 && alive) return 8;
  return r;
}

/** tcp_write_timeout: has the head been retransmitted for too long? ('gone': tcp_out_of_resources ended it.) */
function writeTimedOut(c: TcpConn): boolean | 'gone' {
  const cfg = c.env.cfg;
  const now = c.env.now();
  let boundary: number;
  const base = cfg.tcp_rto_min_us;
  if (c.state === TcpState.SYN_SENT) {
    // tcp_write_timeout in 6.x: tcp_syn_retries plus tcp_syn_linear_timeouts retransmissions.
    // Observed here with the defaults (6 + 4): ten SYN retransmissions, 1,2,3,4,5,7,11,19,35,67 s,
    // then ETIMEDOUT at 131 s (plus the kernel timer wheel's slack).
    return c.retransmits >= cfg.tcp_syn_retries + cfg.tcp_syn_linear_timeouts;
  }
  if (c.state === TcpState.SYN_RECV) return c.listener ? requestExpired(c) : c.retransmits >= cfg.tcp_synack_retries; // reqsk_timer_handler
  boundary = cfg.tcp_retries2;
  if (c.orphan) {
    const alive = rtoBackoff(c) < cfg.tcp_rto_max_us; // tcp_orphan_retries' alive: RTO not yet at its cap
    boundary = orphanRetries(c, alive);
    if (!alive && c.backoff >= boundary) return true;
    const doReset = alive || now - c.retransStamp < retransTimeoutBudget(boundary, base, cfg.tcp_rto_max_us);
    if (outOfResources(c, doReset)) return 'gone';
  }
  if (c.opts.userTimeoutMs > 0) return now - c.retransStamp >= c.opts.userTimeoutMs * 1000;
  return now - c.retransStamp >= retransTimeoutBudget(boundary, base, cfg.tcp_rto_max_us);
}

/** tcp_retransmit_timer. */
function retransmitTimer(c: TcpConn): void {
  const kind = c.rtxKind;
  c.rtxDeadline = Infinity;
  if (c.flight === 0) return;
  fired(c, kind, `retransmits=${c.retransmits}`);
  // tcp_retransmit_skb: retrans_stamp is the head's timestamp once it has been resent, i.e.
  // the first retransmission's time (6.x sets it after __tcp_retransmit_skb). Seen on 6.18 with
  // TCP_USER_TIMEOUT 1000: ETIMEDOUT 1.0 s after the first retransmission, 1.216 s after the
  // first send (drill --kernel, timers/user-timeout-ends-retransmission.pkt).
  if (c.retransStamp === 0) c.retransStamp = c.env.now();
  // "Receiver dastardly shrinks window": with SND.WND 0 on an owned connection the timeout
  // counts no TCPTimeouts and skips tcp_write_timeout; the head is resent anyway as a window
  // probe (tcpOutput lets the head through, __tcp_retransmit_skb), and only the RTO doubles.
  const zeroWindow = c.sndWnd === 0 && !c.orphan && c.state !== TcpState.SYN_SENT && c.state !== TcpState.SYN_RECV;
  if (zeroWindow) {
    const why = probe0TimedOut(c);
    if (why) {
      tcpWriteErr(c, why);
      return;
    }
  } else {
    // tcp_retransmit_timer counts TCPTimeouts before tcp_write_timeout, so the firing that gives
    // up counts too (observed on 6.18: 10 SYN retransmissions, TCPTimeouts 11).
    c.env.counters.inc('TCPTimeouts');
  }
  const timedOut = !zeroWindow && writeTimedOut(c);
  if (timedOut === 'gone') return;
  if (timedOut) {
    if (c.state === TcpState.SYN_RECV && c.listener) {
      // The request is dropped silently after tcp_synack_retries (reqsk_timer_handler). Every
      // firing counts TCPTimeouts (tcp_syn_ack_timeout), the last one too; no AttemptFails
      // (observed on 6.18 with tcp_synack_retries=2: SYN-ACKs at 1 and 3 s, gone at 7 s,
      // TCPTimeouts 3, TCPSynRetrans 2, nothing sent).
      tcpDone(c, 'SYN-ACK retries exhausted', 'timer', false);
      return;
    }
    tcpWriteErr(c, kind === 'syn-retransmit' ? 'SYN retries exhausted (tcp_syn_retries)' : 'retransmissions exhausted');
    return;
  }
  if (c.state === TcpState.SYN_SENT || c.state === TcpState.SYN_RECV) {
    // TCP_DEFER_ACCEPT: an acknowledged request waiting for data lets the timer run, sending nothing.
    if (c.state === TcpState.SYN_RECV && c.listener && !requestResend(c)) return rearm(c, kind);
    c.synRetransmitted = true;
    c.env.counters.inc('TCPSynRetrans');
    c.env.counters.inc('RetransSegs');
    c.totalRetrans++;
    retransmitSyn(c, c.state === TcpState.SYN_SENT ? 'SYN retransmission' : 'SYN-ACK retransmission');
  } else {
    if (c.retransmits === 0 && !zeroWindow) {
      // The first timeout of an episode counts how recovery failed (tcp_retransmit_timer).
      const ca = c.caState, sack = c.sackOk;
      if (ca === CaState.Recovery) c.env.counters.inc(sack ? 'TCPSackRecoveryFail' : 'TCPRenoRecoveryFail');
      else if (ca === CaState.Loss) c.env.counters.inc('TCPLossFailures');
      else if (ca === CaState.Disorder || (c.lossIfAny?.q.sackedOut ?? 0) > 0) c.env.counters.inc(sack ? 'TCPSackFailures' : 'TCPRenoFailures');
    }
    // tcp_enter_loss, then the head again (tcp_retransmit_skb(sk, tcp_rtx_queue_head(sk), 1)).
    enterLoss(c);
    retransmitHead(c, zeroWindow ? 'retransmission (RTO, zero window)' : 'retransmission (RTO)');
  }
  rearm(c, kind, !zeroWindow); // out_reset_timer: the zero-window path only doubles the RTO
}

/**
 * ICSK_TIME_LOSS_PROBE (the tail loss probe, RFC 8985 §7.3) and ICSK_TIME_REO_TIMEOUT (RACK's
 * reordering window has passed): nothing to do once everything is acknowledged.
 */
function recoveryTimer(c: TcpConn, kind: 'loss-probe' | 'rack-reorder'): void {
  if (c.flight === 0 || c.lossIfAny === null) {
    c.rtxDeadline = Infinity;
    return;
  }
  if (kind === 'loss-probe') {
    fired(c, kind, 'tail loss probe');
    sendLossProbe(c);
  } else {
    fired(c, kind, 'RACK reordering timeout');
    rackReoTimeout(c);
  }
}

/** out_reset_timer after a timeout: one more retransmission counted, the RTO backed off. */
function rearm(c: TcpConn, kind: RtxKind, counted = true): void {
  if (counted) c.retransmits++;
  // The first tcp_syn_linear_timeouts SYN retransmissions keep the 1 s timeout; then it doubles.
  if (!(c.state === TcpState.SYN_SENT && c.retransmits <= c.env.cfg.tcp_syn_linear_timeouts)) c.backoff++;
  c.rtxKind = kind;
  c.rtxDeadline = c.env.now() + clampToUserTimeout(c, rtoBackoff(c));
}

/**
 * tcp_clamp_rto_to_user_timeout: the retransmission timer never runs past TCP_USER_TIMEOUT, so
 * the connection ends exactly when it expires.
 */
function clampToUserTimeout(c: TcpConn, next: number): number {
  if (c.opts.userTimeoutMs <= 0 || c.state === TcpState.SYN_SENT || c.state === TcpState.SYN_RECV) return next;
  const remaining = c.opts.userTimeoutMs * 1000 - (c.env.now() - c.retransStamp);
  return remaining <= 0 ? 1 : Math.min(next, remaining);
}

/**
 * tcp_rtx_probe0_timed_out: behind a zero window the connection gives up only when nothing was
 * heard for 2 x TCP_RTO_MAX (or TCP_USER_TIMEOUT) since the head was first retransmitted.
 * Returns why it gives up, or null.
 */
function probe0TimedOut(c: TcpConn): string | null {
  const now = c.env.now();
  const rtxDelta = now - c.retransStamp;
  const ut = c.opts.userTimeoutMs * 1000;
  let timeout = 2 * c.env.cfg.tcp_rto_max_us;
  if (ut > 0) {
    if (rtxDelta > ut) return 'TCP_USER_TIMEOUT behind a zero window';
    timeout = Math.min(timeout, ut);
  }
  return now - c.rcvTstamp > timeout && rtxDelta > timeout ? 'zero window: the peer silent for 2 x TCP_RTO_MAX' : null;
}

/** tcp_probe_timer: the peer's window is zero and we have something to send. */
function probeTimer(c: TcpConn): void {
  c.rtxDeadline = Infinity;
  const cfg = c.env.cfg;
  if (c.flight > 0 || !sendQueued(c)) {
    c.probesOut = 0;
    c.backoff = 0;
    return;
  }
  fired(c, 'persist', `probes=${c.probesOut}`);
  let maxProbes = cfg.tcp_retries2;
  if (c.orphan) {
    const alive = probe0When(c) < cfg.tcp_rto_max_us;
    maxProbes = orphanRetries(c, alive);
    if (!alive && c.backoff >= maxProbes) {
      tcpWriteErr(c, 'zero-window probes exhausted (orphan)');
      return;
    }
    if (outOfResources(c, true)) return;
  }
  if (c.probesOut >= maxProbes) {
    tcpWriteErr(c, 'zero-window probes exhausted');
    return;
  }
  // tcp_write_wakeup: send what fits in the window (one MSS at most, PSH), or, with the window
  // closed, a probe at SND.UNA - 1.
  if (sendWindowFill(c) > 0) return;
  sendProbe(c, 'window probe');
  c.env.counters.inc('TCPWinProbe'); // tcp_xmit_probe_skb(sk, 0, LINUX_MIB_TCPWINPROBE)
  c.probesOut++;
  if (c.backoff < cfg.tcp_retries2) c.backoff++;
  c.rtxKind = 'persist';
  c.rtxDeadline = c.env.now() + probe0When(c);
}

/** tcp_keepalive_timer (also the orphan FIN_WAIT2 timer when tcp_fin_timeout > 60 s). */
function keepaliveTimer(c: TcpConn): void {
  c.keepaliveDeadline = Infinity;
  if (!c.opts.keepalive || c.state === TcpState.SYN_SENT || c.state === TcpState.LISTEN) return;
  const now = c.env.now();
  // It is alive without keepalive: data in flight or queued (tp->packets_out or a non-empty
  // write queue). A FIN already sent and acknowledged leaves the queue empty, so an owned
  // FIN_WAIT2 with SO_KEEPALIVE probes like ESTABLISHED (SND.NXT is one past writeSeq then).
  if (c.flight > 0 || sendQueued(c)) {
    c.keepaliveDeadline = now + keepIdle(c);
    return;
  }
  const elapsed = keepaliveElapsed(c, now);
  if (elapsed >= keepIdle(c)) {
    const ut = c.opts.userTimeoutMs * 1000;
    if ((ut !== 0 && elapsed >= ut && c.probesOut > 0) || (ut === 0 && c.probesOut >= keepCnt(c))) {
      fired(c, 'keepalive', `${c.probesOut} probes unanswered: connection dead`);
      sendActiveReset(c, 'keepalive: peer dead');
      tcpWriteErr(c, 'keepalive probes unanswered');
      return;
    }
    fired(c, 'keepalive', `probe ${c.probesOut + 1}`);
    c.env.counters.inc('TCPKeepAlive');
    sendProbe(c, 'keepalive probe');
    c.probesOut++;
    c.keepaliveDeadline = now + keepIntvl(c);
  } else {
    c.keepaliveDeadline = now + keepIdle(c) - elapsed;
  }
}

/** Orphaned FIN_WAIT2 with a lifetime above 60 s: after (fin_time - 60 s), a FIN_WAIT2 entry takes over. */
function finWait2Timer(c: TcpConn): void {
  c.finWait2Deadline = Infinity;
  if (c.state !== TcpState.FIN_WAIT2 || !c.orphan) return;
  fired(c, 'fin-wait2');
  if (c.opts.linger2 >= 0) {
    const tmo = finTime(c) - TCP_TIMEWAIT_LEN;
    if (tmo > 0) {
      tcpTimeWait(c, 'FIN_WAIT2', tmo, 'tcp_fin_timeout', 'timer');
      return;
    }
  }
  sendActiveReset(c, 'FIN_WAIT2 timeout');
  tcpDone(c, 'FIN_WAIT2 timeout', 'timer');
}
