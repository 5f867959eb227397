// Segment arrival for a connection (RFC 9293 §3.10.7, as Linux's tcp_rcv_state_process,
// tcp_rcv_synsent_state_process, tcp_validate_incoming, tcp_ack, tcp_data_queue, tcp_fin).
// Returns true when the caller must answer the segment with a reset (Linux "return 1").

import { growWindow, initBufferSpace, measureRcvMss, rcvRttMeasure, rcvRttMeasureTs } from './autotune.ts';
import { groTruesize, skbTailroom, skbTruesize } from './buffer.ts';
import { fastPathCheck, fastPathOff, fastPathOn, forcedMemSchedule, forwardAlloc, headerPredicted, memReclaim, tryRmemSchedule } from './memory.ts';
import { ACK, FIN, RST, SYN, type TcpRepr } from '../wire/types.ts';
import { payloadLength, SegmentFields } from '../wire/segment.ts';
import { rangeView } from '../wire/packet.ts';
import { Chrono, chronoStop } from './chrono.ts';
import { NO_SACKED, type OfoSegment, type TcpConn } from './conn.ts';
import { startKeepalive } from './keepalive.ts';
import { childAcceptable, childEstablished, deferBareAck } from './listen.ts';
import { TCP_TIMEOUT_INIT } from './open.ts';
import { oowRateLimited } from './oow.ts';
import { finTime, reportError, tcpDone, tcpReset, tcpTimeWait } from './lifecycle.ts';
import { sndbufExpand } from './congestion.ts';
import { armRto, retransmitSyn, scheduleAck, sendAck, sendHeadFits, sendQueued, tcpOutput, tsNow32 } from './output.ts';
import { ackNoQueue, ackQueue, FLAG_DATA, FLAG_SND_UNA_ADVANCED, FLAG_WIN_UPDATE } from './recovery.ts';
import { probe0When, rtoBackoff, rttSample, setRto } from './rtt.ts';
import { negotiateSynOptions, parseSegOpts, syncMss, type SegOpts } from './options.ts';
import { seqAdd, seqGe, seqGt, seqLe, seqLt } from './seq.ts';
import { TcpState } from './states.ts';
import { TCP_TIMEWAIT_LEN } from './timewait.ts';

const segLen = (seg: TcpRepr): number => payloadLength(seg) + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0);

/**
 * tcp_snd_una_update: SND.UNA moves, and bytes_acked counts the sequence space acknowledged, SYN
 * and FIN included (observed on 6.18: a new client shows bytes_acked:1; after 100 bytes and its
 * FIN, 102). It bounds how old an acceptable ACK may be (RFC 5961 §5.2) and is tcpi_bytes_acked.
 */
function sndUnaUpdate(c: TcpConn, ack: number): void {
  c.bytesAcked += (ack - c.sndUna) >>> 0;
  c.sndUna = ack;
}

/** The entry point: one segment for this connection. */
export function connInput(c: TcpConn, seg: TcpRepr, fromCookie = false): boolean {
  c.segsIn += seg.gsoSize === undefined ? 1 : Math.ceil(payloadLength(seg) / seg.gsoSize); // tcp_segs_in
  const o = parseSegOpts(seg);
  if (c.state === TcpState.SYN_SENT) return synSentInput(c, seg, o);
  if (c.state === TcpState.CLOSED) return !(seg.flags & RST);
  return synchronizedInput(c, seg, o, fromCookie);
}

/** RFC 9293 §3.10.7.3, Linux tcp_rcv_synsent_state_process. */
function synSentInput(c: TcpConn, seg: TcpRepr, o: SegOpts): boolean {
  const f = seg.flags;
  if (f & ACK) {
    // Unacceptable ACK: answer with <SEQ=SEG.ACK><CTL=RST> (unless it is a RST).
    if (seqLe(seg.ack, c.iss) || seqGt(seg.ack, c.sndMax)) {
      // tcp_rcv_synsent_state_process: "Previous FIN/ACK or RST/ACK might be ignored": before
      // any retransmission the SYN timer is re-armed to TCP_TIMEOUT_MIN (2 jiffies, 8 ms at
      // HZ=250). Observed on 6.18: a SYN-ACK (or RST|ACK) with a bad ack brings the SYN
      // again ~10 ms later (TCPTimeouts, TCPSynRetrans).
      if (c.retransmits === 0) c.rtxDeadline = c.env.now() + 8_000;
      return !(f & RST);
    }
  }
  if (f & RST) {
    if (f & ACK) tcpReset(c, 'rcv RST (connection refused)');
    return false; // a RST without ACK is dropped in SYN_SENT
  }
  if (!(f & SYN)) return false;
  c.irs = seg.seq;
  c.rcvNxt = seqAdd(seg.seq, 1);
  c.rcvWup = c.rcvNxt;
  negotiateSynOptions(c, o);
  if (f & ACK) {
    sndUnaUpdate(c, seg.ack); // the SYN acknowledged: tcp_ack in tcp_rcv_synsent_state_process
    c.sndWnd = seg.window; // never scaled in a SYN (RFC 7323 §2.2)
    c.maxWindow = c.sndWnd;
    syncMss(c);
    c.sndWl1 = seg.seq;
    c.sndWl2 = seg.ack;
    synRtt(c, o);
    c.rtxDeadline = Infinity;
    c.backoff = 0;
    c.retransmits = 0;
    c.retransStamp = 0;
    c.lrcvtime = c.env.now();
    c.rcvTstamp = c.env.now();
    c.setState(TcpState.ESTABLISHED, 'rcv SYN-ACK', 'segment');
    sndbufExpand(c); // tcp_init_buffer_space
    initBufferSpace(c);
    // tcp_rcv_synsent_state_process: header prediction from the start only without window scaling.
    if (!c.sndWscale) fastPathOn(c);
    startKeepalive(c);
    // Linux acknowledges the SYN-ACK at once (tcp_send_ack), before the application runs,
    // unless data queued during the handshake can carry the ACK.
    const before = c.segsOut;
    tcpOutput(c);
    if (c.segsOut === before) sendAck(c);
    c.env.notify(c, 'connected');
    if (!c.isClosed()) c.env.notify(c, 'writable');
    return false;
  }
  // Simultaneous open (RFC 9293 §3.5 figure 8): SYN_RECV and a SYN-ACK with our ISS.
  c.setState(TcpState.SYN_RECV, 'rcv SYN (simultaneous open)', 'segment');
  c.rtxDeadline = Infinity;
  c.sndWnd = seg.window;
  c.sndWl1 = seg.seq;
  retransmitSyn(c, 'SYN-ACK (simultaneous open)');
  armRto(c, 'synack-retransmit');
  return false;
}

function synRtt(c: TcpConn, o: SegOpts): void {
  const now = c.env.now();
  if (c.tsOk && o.tsEcr) {
    const ms = (tsNow32(c) - o.tsEcr) >>> 0;
    if (ms < 60000) rttSample(c, Math.max(ms * 1000, 1));
  } else if (!c.synRetransmitted && c.rttTime >= 0) {
    rttSample(c, now - c.rttTime);
  }
  c.rttTime = -1;
  // RFC 6298 §5.7: no sample and the SYN was retransmitted: RTO for data starts at 3 s.
  if (c.srtt === 0) c.rto = c.synRetransmitted ? 3_000_000 : TCP_TIMEOUT_INIT;
  else setRto(c);
}

/**
 * tcp_oow_rate_limited: at most one out-of-window ACK per tcp_invalid_ratelimit (500 ms) per
 * socket. Segments that occupy sequence space (data or FIN) without SYN are exempt, except
 * for challenge ACKs, which use __tcp_oow_rate_limited directly.
 */
function oowAckLimited(c: TcpConn, seg: TcpRepr, counter: 'TCPACKSkippedChallenge' | 'TCPACKSkippedSeq' | 'TCPACKSkippedSynRecv', dataExempt = true): boolean {
  if (dataExempt && segLen(seg) && !(seg.flags & SYN)) return false;
  const now = c.env.now();
  if (oowRateLimited(c.env.cfg, now, c.lastOowAck)) {
    c.env.counters.inc(counter);
    return true;
  }
  c.lastOowAck = now;
  return false;
}

/**
 * RFC 5961 challenge ACK (tcp_send_challenge_ack): the per-socket limit first, then the
 * namespace's tcp_challenge_ack_limit budget (a refusal there counts nothing; seen on 6.18,
 * docs/linux-observations.md Q17).
 */
function challengeAck(c: TcpConn, seg: TcpRepr): void {
  if (oowAckLimited(c, seg, 'TCPACKSkippedChallenge', false)) return;
  if (!c.env.challengeBudget()) return;
  c.env.counters.inc('TCPChallengeACK');
  sendAck(c, 'challenge ACK');
}

/** tcp_send_dupack: old data is D-SACKed and puts the receiver in quickack mode. */
function dupAck(c: TcpConn, seg: TcpRepr, note: string): void {
  if (segLen(seg) && seqLt(seg.seq, c.rcvNxt)) {
    c.env.counters.inc('DelayedACKLost');
    c.quick = 16; // tcp_enter_quickack_mode
    const end = seqAdd(seg.seq, segLen(seg));
    dsackSet(c, seg.seq, seqLt(end, c.rcvNxt) ? end : c.rcvNxt);
  }
  if (oowAckLimited(c, seg, 'TCPACKSkippedSeq')) return;
  sendAck(c, note);
}

/** tcp_dsack_set: remember a duplicate range for the next ACK (SACK negotiated, tcp_dsack on). */
function dsackSet(c: TcpConn, left: number, right: number): void {
  if (!c.sackOk || !c.env.cfg.tcp_dsack) return;
  c.env.counters.inc(seqLt(left, c.rcvNxt) ? 'TCPDSACKOldSent' : 'TCPDSACKOfoSent');
  c.dsack = [left, right];
}

/** tcp_dsack_extend: widen the pending D-SACK block, or start one. */
function dsackExtend(c: TcpConn, left: number, right: number): void {
  if (!c.dsack) dsackSet(c, left, right);
  else sackExtend(c.dsack, left, right);
}

/** tcp_sack_extend: a block absorbs a range that overlaps or touches it. */
function sackExtend(b: [number, number], left: number, right: number): boolean {
  if (seqGt(left, b[1]) || seqGt(b[0], right)) return false;
  if (seqLt(left, b[0])) b[0] = left;
  if (seqGt(right, b[1])) b[1] = right;
  return true;
}

const TCP_NUM_SACKS = 4;

/** tcp_sack_new_ofo_skb: the block holding new out-of-order data moves first (RFC 2018 §4). */
function sackNewOfo(c: TcpConn, left: number, right: number): void {
  if (!c.sackOk) return;
  const sacks = c.rcvSacks.map((b): [number, number] => [b[0], b[1]]);
  const i = sacks.findIndex((b) => sackExtend(b, left, right));
  if (i >= 0) {
    const [b] = sacks.splice(i, 1);
    sacks.unshift(b!);
    // tcp_sack_maybe_coalesce: the grown first block swallows the blocks it now reaches.
    for (let j = 1; j < sacks.length;) {
      if (sackExtend(sacks[0]!, sacks[j]![0], sacks[j]![1])) sacks.splice(j, 1);
      else j++;
    }
  } else {
    sacks.unshift([left, right]);
    if (sacks.length > TCP_NUM_SACKS) sacks.length = TCP_NUM_SACKS; // the oldest is forgotten
  }
  c.rcvSacks = sacks;
}

/** tcp_sack_remove: RCV.NXT advanced; blocks it covers go (all of them once the queue is empty). */
function sackRemove(c: TcpConn): void {
  c.rcvSacks = c.ofo.length ? c.rcvSacks.filter((b) => seqLt(c.rcvNxt, b[0])) : NO_SACKED;
}

/** End of an out-of-order segment in sequence space, its FIN included (Linux end_seq). */
const ofoEnd = (s: OfoSegment): number => (s.fin ? seqAdd(s.end, 1) : s.end);

function pawsReject(c: TcpConn, o: SegOpts): boolean {
  if (!c.tsOk || !o.hasTs || !c.tsRecent) return false;
  if (((c.tsRecent - o.tsVal) | 0) <= 1) return false; // TCP_PAWS_WINDOW
  if (c.env.now() - c.tsRecentStamp >= 24 * 24 * 3600 * 1e6) return false;
  return true;
}

/**
 * tcp_check_req: a segment for a request (a listener's child in SYN_RECV), in Linux's order.
 * Returns 'child' when the segment completes the handshake; the full socket then processes it
 * like any other ("It will repeat all the tests").
 */
function requestInput(c: TcpConn, seg: TcpRepr, o: SegOpts, endSeq: number): boolean | 'child' {
  const f = seg.flags;
  const counters = c.env.counters;
  const paws = pawsReject(c, o);
  // A retransmitted SYN: the SYN-ACK again (inet_rtx_syn_ack, counted as a retransmission),
  // at most one per 500 ms (TCPACKSkippedSynRecv), and the request timer restarts. Observed
  // on 6.18: same seq, new TS val, RetransSegs and TCPSynRetrans; a second SYN 60 ms later
  // gets nothing.
  if (seg.seq === c.irs && (f & (SYN | ACK | RST)) === SYN && !paws) {
    if (oowAckLimited(c, seg, 'TCPACKSkippedSynRecv')) return false;
    counters.inc('RetransSegs');
    counters.inc('TCPSynRetrans');
    c.totalRetrans++;
    retransmitSyn(c, 'SYN-ACK retransmission (dup SYN)');
    c.rtxDeadline = c.env.now() + rtoBackoff(c);
    return false;
  }
  // An ACK that does not acknowledge our SYN: the listener answers <SEQ=SEG.ACK><CTL=RST>.
  if (f & ACK && seg.ack !== seqAdd(c.iss, 1)) return true;
  // tcp_in_window against the SYN-ACK's window; outside it, an ACK (rate-limited), no reset.
  const eWin = seqAdd(c.rcvNxt, c.rcvWnd);
  const inWindow = seg.seq === c.rcvNxt || (seqGt(endSeq, c.rcvNxt) && seqLt(seg.seq, eWin)) || (seg.seq === eWin && seg.seq === endSeq);
  if (paws || !inWindow) {
    if (!(f & RST) && !oowAckLimited(c, seg, 'TCPACKSkippedSynRecv')) sendAck(c, 'out-of-window (request)');
    if (paws) counters.inc('PAWSEstab');
    return false;
  }
  const syn = (f & SYN) !== 0 && seg.seq !== c.irs; // a SYN at the ISN is truncated (out of window)
  if (f & RST) {
    // Observed on 6.18: a RST at exactly RCV.NXT drops the request (EmbryonicRsts,
    // AttemptFails, nothing sent); any other in-window RST gets a challenge ACK.
    if (seg.seq === c.rcvNxt) {
      counters.inc('EmbryonicRsts');
      tcpDone(c, 'rcv RST (embryonic)', 'segment');
      return false;
    }
    challengeAck(c, seg);
    return false;
  }
  if (syn) {
    // embryonic_reset: a SYN inside the window resets the request (observed: `[R.] seq 0
    // ack=SEQ+1`, AttemptFails, EmbryonicRsts; the request is gone).
    counters.inc('EmbryonicRsts');
    tcpDone(c, 'rcv SYN in window (embryonic reset)', 'segment');
    return true;
  }
  if (!(f & ACK)) return false; // silently dropped (observed: data without ACK)
  if (deferBareAck(c, endSeq)) return false;
  return 'child';
}

/**
 * What a step of synchronizedInput decided: undefined to go on to the next step, or the answer
 * for the whole segment (true: the caller resets the sender).
 */
type Step = boolean | undefined;

/** RFC 9293 §3.10.7.4 for SYN_RECV and every synchronized state (tcp_rcv_state_process). */
function synchronizedInput(c: TcpConn, seg: TcpRepr, o: SegOpts, fromCookie: boolean): boolean {
  const f = seg.flags;
  // END.SEQ as an int32 (the same 32 bits): passed to the steps below without a boxed number;
  // those compare it mod 2^32, or with `| 0` on the other side.
  const endSeq = (seg.seq + segLen(seg)) | 0;
  const predicted = headerPredicted(c, seg); // tcp_rcv_established decides first
  // A child a cookie made skips tcp_check_req (tcp_v4_do_rcv -> tcp_child_process).
  if (c.state === TcpState.SYN_RECV && c.listener && !fromCookie) {
    const r = requestInput(c, seg, o, endSeq >>> 0);
    if (r !== 'child') return r;
  }
  if (!(f & (ACK | RST | SYN))) return false;
  const v = validateIncoming(c, seg, o, endSeq);
  if (v !== undefined) return v;
  if (!(f & ACK)) return false;

  // Timestamps: remember TS.Recent for in-order segments (RFC 7323 §4.3). Linux does it in
  // tcp_ack (tcp_replace_ts_recent) only once the ACK is known acceptable: an ACK of unsent
  // data or an old ACK does not update it, so a challenge ACK echoes the previous value.

  // Step 5: the ACK field.
  if (c.state === TcpState.SYN_RECV) {
    const r = synRecvAck(c, seg, o);
    if (r !== undefined) return r;
  } else {
    const r = processAck(c, seg, o);
    if (r === 'drop') return false;
    if (r === 'ok') takeTs(c, o, seg);
  }
  const fin = finAckedStep(c, seg, endSeq);
  if (fin !== undefined) return fin;
  // tcp_rcv_rtt_measure_ts, before the data is queued (ESTABLISHED only: tcp_rcv_established).
  if (c.tsOk && o.hasTs && endSeq !== (seg.seq | 0) && c.state === TcpState.ESTABLISHED) rcvRttMeasureTs(c, o.tsEcr | 0, (endSeq - seg.seq) >>> 0, tsNow32(c)); // int32 stamps: not boxed for the call
  const text = segmentText(c, seg, endSeq, predicted);
  if (text !== undefined) return text;
  if (c.state !== TcpState.CLOSED) {
    tcpOutput(c);
    ackSndCheck(c);
  }
  return false;
}

/** tcp_validate_incoming: PAWS, the sequence check, RST and SYN (steps 1 to 4). */
function validateIncoming(c: TcpConn, seg: TcpRepr, o: SegOpts, endSeq: number): Step {
  const f = seg.flags;
  const counters = c.env.counters;
  // PAWS (RFC 7323 §5), before the sequence check as in tcp_validate_incoming.
  if (pawsReject(c, o) && !(f & RST)) {
    if (f & SYN) {
      counters.inc('TCPSYNChallenge');
      challengeAck(c, seg);
      return false;
    }
    counters.inc('PAWSEstab');
    dupAck(c, seg, 'PAWS reject');
    return false;
  }

  // Step 1: sequence acceptability, Linux tcp_sequence(): end >= RCV.WUP and seq <= RCV.NXT + window.
  // RCV.WUP and RCV.NXT as stored (int32), compared mod 2^32: no boxed number per segment.
  const wup = c.rcvWup32;
  const rightEdge = (c.rcvNxt32 + Math.max(0, (wup + c.rcvWnd - c.rcvNxt32) | 0)) | 0;
  const acceptable = !seqLt(endSeq, wup) && !seqGt(seg.seq, rightEdge);
  if (!acceptable) {
    if (f & RST) {
      if (resetCheck(c, seg)) tcpReset(c);
      return false;
    }
    if (f & SYN) {
      counters.inc('TCPSYNChallenge');
      if (c.state === TcpState.ESTABLISHED) counters.inc('InErrs');
      challengeAck(c, seg);
      return false;
    }
    // tcp_sequence: beyond the right edge counts BeyondWindow (observed on 6.18, Q10).
    if (seqGt(seg.seq, rightEdge)) counters.inc('BeyondWindow');
    dupAck(c, seg, 'out-of-window ACK');
    return false;
  }

  // Step 2: RST. Exact match resets; anything else in the window gets a challenge ACK (RFC 5961 §3.2).
  if (f & RST) {
    // (A request's RST was handled by requestInput.) Linux also takes the right edge of the
    // highest SACK block it advertises as exact (seen on 6.18, Q17: TcpEstabResets, ECONNRESET).
    if (seg.seq === c.rcvNxt || resetCheck(c, seg) || seg.seq === rightmostSack(c)) {
      tcpReset(c);
      return false;
    }
    challengeAck(c, seg);
    return false;
  }

  // Step 4: a SYN in a synchronized state gets a challenge ACK (RFC 5961 §4).
  if (f & SYN) {
    // tcp_validate_incoming: in a simultaneous open (SYN_RECV owned by a socket) the peer's
    // SYN-ACK of our SYN passes and completes the handshake (observed on 6.18: ESTABLISHED,
    // then an immediate ACK carrying a D-SACK of the SYN's sequence number).
    const simOpenSynAck = c.state === TcpState.SYN_RECV && !c.listener && (f & ACK) !== 0 && segLen(seg) === 1 &&
      seqAdd(seg.seq, 1) === c.rcvNxt && seg.ack === c.sndMax;
    if (!simOpenSynAck) {
      counters.inc('TCPSYNChallenge');
      if (c.state === TcpState.ESTABLISHED) counters.inc('InErrs');
      challengeAck(c, seg);
      return false;
    }
  }
  return undefined;
}

/** tcp_rcv_state_process, TCP_SYN_RECV: the ACK of our SYN-ACK makes the connection ESTABLISHED. */
function synRecvAck(c: TcpConn, seg: TcpRepr, o: SegOpts): Step {
  takeTs(c, o, seg);
  if (seqGt(seg.ack, c.sndMax) || seqLe(seg.ack, c.sndUna)) return true; // <SEQ=SEG.ACK><CTL=RST>
  if (!childAcceptable(c)) return false; // accept queue full: ACK dropped, SYN-ACK retransmits
  c.sndWnd = seg.window << c.sndWscale;
  c.maxWindow = c.sndWnd;
  syncMss(c);
  c.sndWl1 = seg.seq;
  c.sndWl2 = seg.ack;
  // A passive child's snd_una starts past its SYN-ACK (tcp_create_openreq_child): its SYN is
  // not counted as acknowledged; a simultaneous open's is (tcp_ack in SYN_RECV).
  if (c.passive) c.sndUna = seg.ack;
  else sndUnaUpdate(c, seg.ack);
  c.rtxDeadline = Infinity;
  c.backoff = 0;
  c.retransmits = 0;
  c.retransStamp = 0;
  if (c.tsOk && o.tsEcr) {
    const ms = (tsNow32(c) - o.tsEcr) >>> 0;
    if (ms < 60000) rttSample(c, Math.max(ms * 1000, 1));
  } else if (!c.synRetransmitted && c.rttTime >= 0) rttSample(c, c.env.now() - c.rttTime);
  c.rttTime = -1;
  if (c.srtt === 0) c.rto = TCP_TIMEOUT_INIT;
  c.lrcvtime = c.env.now();
  c.rcvTstamp = c.env.now();
  c.setState(TcpState.ESTABLISHED, 'rcv ACK of SYN', 'segment');
  sndbufExpand(c); // tcp_init_buffer_space
  initBufferSpace(c);
  fastPathOn(c);
  if (c.listener) c.env.counters.inc('PassiveOpens'); // tcp_create_openreq_child; not for a simultaneous open
  startKeepalive(c);
  childEstablished(c);
  c.env.notify(c, 'connected');
  return undefined;
}

/** The states the ACK of our FIN moves on: FIN_WAIT1, CLOSING, LAST_ACK (tcp_rcv_state_process). */
function finAckedStep(c: TcpConn, seg: TcpRepr, endSeq: number): Step {
  if (!(c.finQueued && seqGe(c.sndUna, seqAdd(c.finSeq, 1)))) return undefined;
  const f = seg.flags;
  switch (c.state) {
    case TcpState.FIN_WAIT1: {
      c.setState(TcpState.FIN_WAIT2, 'rcv ACK of FIN', 'segment');
      c.env.notify(c, 'writable');
      if (!c.orphan) return undefined;
      if (c.opts.linger2 < 0) {
        c.env.counters.inc('TCPAbortOnData');
        tcpDone(c, 'TCP_LINGER2 < 0', 'segment');
        return true;
      }
      if (payloadLength(seg) && seqGt(seqAdd(endSeq, f & FIN ? -1 : 0), c.rcvNxt)) {
        c.env.counters.inc('TCPAbortOnData');
        tcpDone(c, 'data after close()', 'segment');
        return true;
      }
      const tmo = finTime(c);
      if (tmo > TCP_TIMEWAIT_LEN) c.finWait2Deadline = c.env.now() + tmo - TCP_TIMEWAIT_LEN;
      else if (f & FIN) c.finWait2Deadline = c.env.now() + tmo;
      else {
        tcpTimeWait(c, 'FIN_WAIT2', tmo, 'rcv ACK of FIN (orphan)', 'segment');
        return false;
      }
      return undefined;
    }
    case TcpState.CLOSING:
      tcpTimeWait(c, 'TIME_WAIT', 0, 'rcv ACK of FIN', 'segment');
      return false;
    case TcpState.LAST_ACK:
      tcpDone(c, 'rcv ACK of FIN', 'segment');
      return false;
    default:
      return undefined;
  }
}

/** Step 7, the segment text; new data after close() resets (RFC 1122 §4.2.2.13, tcp_rcv_state_process). */
function segmentText(c: TcpConn, seg: TcpRepr, endSeq: number, predicted: boolean): Step {
  endSeq |= 0; // compared as int32
  switch (c.state) {
    case TcpState.CLOSE_WAIT:
    case TcpState.CLOSING:
    case TcpState.LAST_ACK:
      if (!seqLt(seg.seq, c.rcvNxt)) return undefined;
    // falls through
    case TcpState.FIN_WAIT1:
    case TcpState.FIN_WAIT2:
      // RFC 1122 §4.2.2.13 and Linux: new data for a socket whose reading side is shut
      // (close() was called) is answered with RST.
      if (c.rcvShutdown && c.state !== TcpState.CLOSE_WAIT && c.state !== TcpState.CLOSING && c.state !== TcpState.LAST_ACK) {
        if (endSeq !== (seg.seq | 0) && seqGt(seqAdd(endSeq, seg.flags & FIN ? -1 : 0), c.rcvNxt)) {
          c.env.counters.inc('TCPAbortOnData');
          reportError(c, 'ECONNRESET');
          tcpDone(c, 'data after close()', 'segment');
          return true;
        }
      }
    // falls through
    case TcpState.ESTABLISHED:
      dataQueue(c, seg, endSeq, predicted);
      return undefined;
    default:
      return undefined;
  }
}

/** tcp_validate_incoming: the highest right edge of the SACK blocks we advertise, if any. */
function rightmostSack(c: TcpConn): number | undefined {
  if (!c.sackOk || !c.rcvSacks.length) return undefined;
  let max = c.rcvSacks[0]![1];
  for (const b of c.rcvSacks) if (seqGt(b[1], max)) max = b[1];
  return max;
}

function resetCheck(c: TcpConn, seg: TcpRepr): boolean {
  return seg.seq === seqAdd(c.rcvNxt, -1) &&
    (c.state === TcpState.CLOSE_WAIT || c.state === TcpState.LAST_ACK || c.state === TcpState.CLOSING);
}

/** tcp_ack: SND.UNA, the window, RTT, congestion control, fast retransmit. */
function processAck(c: TcpConn, seg: TcpRepr, o: SegOpts): 'ok' | 'old' | 'drop' {
  const ack = seg.ack;
  // SND.UNA, SND.NXT and SND.MAX read as stored (int32) where only compared mod 2^32: a
  // uint32 above 2^31 returned from a getter V8 does not inline is a boxed number.
  if (seqLt(ack, c.sndUna32)) {
    // RFC 5961 §5.2: an ACK older than the max window is challenged; a slightly old one is
    // ignored (its data is still processed). tcp_ack bounds the window by the bytes ever
    // acknowledged (min(max_window, bytes_acked)): "do not accept ACK for bytes we never sent".
    if (seqLt(ack, seqAdd(c.sndUna, -Math.min(c.maxWindow, c.bytesAcked)))) {
      challengeAck(c, seg);
      return 'drop';
    }
    return 'old';
  }
  if (seqGt(ack, c.sndMax32)) {
    // ACK for data never sent: a challenge ACK (RFC 5961 §5.2; observed in ESTABLISHED on 6.18).
    challengeAck(c, seg);
    return 'drop';
  }
  const now = c.env.now();
  const nwin = seg.window << c.sndWscale;
  const prevUna = c.sndUna32;
  const flightBefore = c.flight;
  const acked = (ack - prevUna) >>> 0;
  let flag = acked > 0 ? FLAG_SND_UNA_ADVANCED : 0;
  if (segLen(seg) > 0) flag |= FLAG_DATA;

  // tcp_ack_update_window (tcp_may_update_window, RFC 9293 §3.10.7.4 fifth check).
  if (seqGt(ack, c.sndUna32) || seqGt(seg.seq, c.sndWl132) || (seg.seq === c.sndWl1 && (nwin > c.sndWnd || !nwin))) {
    flag |= FLAG_WIN_UPDATE;
    if (c.sndWnd !== nwin) {
      // "the only place where fast path is recovered for sending TCP"
      fastPathOff(c);
      c.sndWnd = nwin;
      fastPathCheck(c);
    }
    c.sndWl1 = seg.seq;
    c.sndWl2 = ack;
    if (nwin > c.maxWindow) {
      c.maxWindow = nwin;
      syncMss(c); // tcp_ack_update_window
    }
  }

  // Any ACK that is not old: something works (Linux clears probes_out and stamps rcv_tstamp).
  c.probesOut = 0;
  c.rcvTstamp = now;
  c.lastAckRecv = now;

  if (acked > 0) {
    const dataAcked = Math.min(acked, c.sndBuf.length);
    c.sndBuf.consume(dataAcked);
    sndUnaUpdate(c, ack | 0);
    if (seqLt(c.sndNxt32, ack)) c.sndNxt = ack;
  }
  // The sequence numbers and TSecr go on as int32 (the same 32 bits; recovery.ts only compares
  // them mod 2^32): a uint32 above 2^31 would be a boxed number for each call.
  if (flightBefore > 0) {
    // SACK, the retransmission queue, RTT, the CA state machine, cwnd, retransmissions.
    ackQueue(c, ack | 0, prevUna | 0, flag, c.sackOk ? (o.sack ?? undefined) : undefined, c.tsOk ? o.tsEcr | 0 : undefined);
    if (acked > 0 && c.sndBuf.free > 0 && !c.sndShutdown) c.env.notify(c, 'writable');
    // tcp_clean_rtx_queue found everything acknowledged (tcp_ack went there: something was in flight).
    if (c.sndUna32 === c.sndMax32) chronoStop(c, Chrono.Busy);
  } else {
    ackNoQueue(c, ack | 0, prevUna | 0, flag, c.sackOk ? (o.sack ?? undefined) : undefined, c.tsOk ? o.tsEcr | 0 : undefined);
    ackProbe(c, now);
  }
  return 'ok';
}

/**
 * tcp_ack -> no_queue -> tcp_ack_probe: an ACK that finds nothing in flight while data (or the
 * FIN) waits either opens a usable window, one the head segment fits in (backoff cleared, the
 * probe timer stopped; tcpOutput sends), or re-arms the probe timer from now with the current
 * backoff (tcp_probe0_when), so probes are timed from the answers, not from the probes.
 */
function ackProbe(c: TcpConn, now: number): void {
  if (!sendQueued(c)) return;
  if (sendHeadFits(c)) {
    c.backoff = 0;
    if (c.rtxKind === 'persist') c.rtxDeadline = Infinity;
    return;
  }
  c.rtxKind = 'persist';
  c.rtxDeadline = now + probe0When(c);
}

/** tcp_data_queue: in-order data to the receive queue, out-of-order to the OFO queue. */
function dataQueue(c: TcpConn, seg: TcpRepr, endSeq: number, predicted: boolean): void {
  const counters = c.env.counters;
  let seq = seg.seq;
  // The payload as a range of the packet's bytes: a view is made only for out-of-order data.
  let bytes: Uint8Array;
  let start = 0;
  let len: number;
  if (seg instanceof SegmentFields) {
    bytes = seg.payloadBytes;
    start = seg.payloadStart;
    len = seg.payloadLength;
  } else {
    bytes = seg.payload;
    len = bytes.length;
  }
  const gso = seg.gsoSize ?? 0; // a GSO/GRO packet from an offloading link
  let fin = (seg.flags & FIN) !== 0;
  endSeq |= 0; // compared as int32
  if (endSeq === (seg.seq | 0)) return; // nothing in sequence space (a SYN counts: simultaneous open)
  const now = c.env.now();

  // RCV.NXT and RCV.WUP as the int32s they are stored as (rcvNxt32, rcvWup32): compared mod
  // 2^32 here, they are never boxed numbers, whatever the compiler inlines.
  if (!seqGt(endSeq, c.rcvNxt32)) {
    // Entirely old: a retransmission we already have. tcp_data_queue D-SACKs it (RFC 2883),
    // enters quickack mode and ACKs at once (observed on 6.18, Q10: `sack 1 {dup range}`,
    // DelayedACKLost, TCPDSACKOldSent).
    counters.inc('DelayedACKLost');
    dsackSet(c, seg.seq, endSeq >>> 0);
    c.quick = 16;
    sendAck(c, 'duplicate data');
    return;
  }
  const rcvWndNow = Math.max(0, (c.rcvWup32 + c.rcvWnd - c.rcvNxt32) | 0);
  if ((seq | 0) === c.rcvNxt32 && rcvWndNow === 0 && len) {
    counters.inc('TCPZeroWindowDrop');
    c.quick = 16;
    sendAck(c, 'zero window');
    return;
  }
  if (seqLt(seq, c.rcvNxt32)) {
    // Partial overlap: trim what we have, D-SACK the duplicate head (tcp_data_queue).
    dsackSet(c, seq, c.rcvNxt);
    const skip = (c.rcvNxt - seq) >>> 0;
    const cut = Math.min(skip, len);
    start += cut;
    len -= cut;
    seq = c.rcvNxt;
  }
  if ((seq | 0) === c.rcvNxt32) {
    const truesize = gso ? groTruesize(len, gso) : skbTruesize(len);
    // tcp_rcv_established's bulk data path: a predicted segment whose truesize sk_forward_alloc
    // covers is queued with no sk_rcvbuf check. Seen on 6.18 (rcvq-in-window-taken.pkt, ss -tm):
    // sk_rcvbuf 8800 held 9216 after four 1000-byte segments, and 380 bytes more came this way
    // (f 3072), into the last skb's tailroom (no charge), PruneCalled 0.
    if (len && !(predicted && truesize <= forwardAlloc(c))) {
      // tcp_data_queue, queue_and_out: Linux asks tcp_try_rmem_schedule here and drops what it
      // refuses while the queue holds data (TCPRcvQDrop, a zero-window ACK). linger still keeps
      // the byte limit below (SO_RCVBUF plus RCV_SLACK) and only reserves the pages: the drop is
      // not yet replayed on the kernel (README, known gaps; docs/linux-observations.md).
      forcedMemSchedule(c, truesize);
    }
    let take = len;
    if (take > c.rcvBuf.free) {
      counters.inc('TCPRcvQDrop');
      take = c.rcvBuf.free;
      fin = false;
    }
    if (take) {
      // A view of the payload is queued, not the packet with a range: measured, a queue holding
      // whole 64 KiB packets ran bulk at MTU 65535 a third slower in CPU time (why: not found).
      // A pooled packet keeps its view (rangeView): made once per packet, not per segment.
      // A GRO packet is one skb of many segments: charged as they would be (groTruesize),
      // rcv_mss measured on gso_size, and ACKed as one skb by __tcp_ack_snd_check (more than a
      // full frame received: at once), as Linux's TCP takes what GRO or a virtio device hands it.
      const view = rangeView(bytes, start, take);
      c.rcvBuf.push(view, 0, take, gso ? groTruesize(take, gso) : -1);
      c.rcvNxt = c.rcvNxt32 + take; // stored | 0
      c.bytesReceived += take;
      c.dataSegsIn += gso ? Math.ceil(take / gso) : 1; // tcp_segs_in: gso_segs
      c.ackPending = true;
      dataRecvEvent(c, take, now, gso, truesize);
    }
    if (fin && take === len) tcpFin(c);
    let ackNow = false;
    if (c.ofo.length) {
      drainOfo(c);
      memReclaim(c); // the out-of-order skbs coalesced into the queue's tail are freed
      if (!c.ofo.length) ackNow = true; // RFC 5681 §4.2: ACK at once when a gap fills
    }
    if (c.rcvSacks.length) sackRemove(c);
    fastPathCheck(c);
    if (take) c.env.notify(c, 'readable');
    // ICSK_ACK_NOW only matters while an ACK is still scheduled: when tcp_fin already sent it
    // (a FIN completing the hole in FIN_WAIT1), __tcp_ack_snd_check sends no second one.
    if (ackNow && c.ackPending) c.ackNow = true;
    return;
  }
  // Out of order: beyond the window is dropped; otherwise kept, and ACKed at once with SACK.
  if (seqGt(seqAdd(seq, len), seqAdd(c.rcvNxt, rcvWndNow)) && len) {
    c.quick = 16;
    sendAck(c, 'out of window');
    return;
  }
  // tcp_data_queue_ofo: out-of-order data the memory bounds refuse is dropped, and no ACK is
  // scheduled for it.
  fastPathOff(c); // tcp_data_queue_ofo
  const truesizeOfo = gso ? groTruesize(len, gso) : skbTruesize(len);
  if (!tryRmemSchedule(c, seq, len, truesizeOfo)) {
    counters.inc('TCPOFODrop');
    return;
  }
  counters.inc('TCPOFOQueue');
  dataQueueOfo(c, seq, bytes.subarray(start, start + len), fin, gso ? truesizeOfo : -1);
  c.ackNow = true;
}

/**
 * tcp_data_queue_ofo: out-of-order data into the queue (kept in sequence order, as Linux's rbtree,
 * looked up by its predecessor), D-SACKing what it already held, then its SACK block first.
 */
function dataQueueOfo(c: TcpConn, seq: number, data: Uint8Array, fin: boolean, groCharge = -1): void {
  const counters = c.env.counters;
  const len = data.length;
  // A GRO packet's payload sits in page fragments: no tailroom to coalesce into.
  const seg: OfoSegment = groCharge >= 0
    ? { seq, end: seqAdd(seq, len), data: data.slice(), fin, truesize: groCharge, skbs: 1, tailroom: 0 }
    : { seq, end: seqAdd(seq, len), data: data.slice(), fin, truesize: skbTruesize(len), skbs: 1, tailroom: skbTailroom(len) }; // the packet buffer is not ours to keep
  const end = ofoEnd(seg);
  if (!c.ofo.length) {
    c.ofo = [seg];
    if (c.sackOk) c.rcvSacks = [[seq, end]]; // "Initial out of order segment, build 1 SACK"
    return;
  }
  const q = c.ofo;
  // tcp_ooo_try_coalesce: data that starts where a queued segment ends joins it.
  const coalesce = (s: OfoSegment): boolean => {
    if (s.fin || s.end !== seq) return false;
    const joined = new Uint8Array(s.data.length + seg.data.length);
    joined.set(s.data);
    joined.set(seg.data, s.data.length);
    s.data = joined;
    s.end = seg.end;
    s.fin = fin;
    // skb_try_coalesce: the payload is copied into the tailroom when it fits; else it stays a
    // skb of its own next to it (linger keeps the range as one entry, charged both).
    if (len <= s.tailroom) s.tailroom -= len;
    else {
      s.truesize += seg.truesize;
      s.skbs++;
      s.tailroom = seg.tailroom;
    }
    return true;
  };
  let at: number; // where seg goes
  const last = q[q.length - 1]!;
  if (coalesce(last)) return sackNewOfo(c, seq, end);
  if (!seqLt(seq, ofoEnd(last))) {
    at = q.length;
  } else {
    let i = q.length - 1;
    while (i >= 0 && seqGt(q[i]!.seq, seq)) i--;
    at = i + 1;
    const prev = q[i];
    if (prev && seqLt(seq, ofoEnd(prev))) {
      const prevEnd = ofoEnd(prev);
      if (!seqGt(end, prevEnd)) {
        // "All the bits are present. Drop."
        counters.inc('TCPOFOMerge');
        dsackSet(c, seq, end);
        return sackNewOfo(c, seq, end);
      }
      if (seqGt(seq, prev.seq)) {
        dsackSet(c, seq, prevEnd); // partial overlap
      } else {
        // Same start, covers it: replaces it.
        q.splice(i, 1);
        at = i;
        dsackExtend(c, prev.seq, prevEnd);
        counters.inc('TCPOFOMerge');
      }
    } else if (prev && coalesce(prev)) {
      return sackNewOfo(c, seq, end);
    }
  }
  q.splice(at, 0, seg);
  // merge_right: later segments the new one covers go, D-SACKed; a partly covered one stays.
  while (at + 1 < q.length) {
    const next = q[at + 1]!;
    if (!seqGt(end, next.seq)) break;
    if (seqLt(end, ofoEnd(next))) {
      dsackExtend(c, next.seq, end);
      break;
    }
    q.splice(at + 1, 1);
    dsackExtend(c, next.seq, ofoEnd(next));
    counters.inc('TCPOFOMerge');
  }
  sackNewOfo(c, seq, end);
}

/** tcp_ofo_queue: segments the in-order data reached move to the receive queue; the part of them it already brought is D-SACKed. */
function drainOfo(c: TcpConn): void {
  let dsackHigh = c.rcvNxt;
  while (c.ofo.length) {
    const s = c.ofo[0]!;
    if (seqGt(s.seq, c.rcvNxt)) break;
    if (seqLt(s.seq, dsackHigh)) {
      const high = dsackHigh;
      if (seqLt(ofoEnd(s), dsackHigh)) dsackHigh = ofoEnd(s);
      dsackExtend(c, s.seq, high);
    }
    c.ofo.shift();
    if (!seqGt(s.end, c.rcvNxt) && !(s.fin && s.end === c.rcvNxt)) continue;
    const skip = (c.rcvNxt - s.seq) >>> 0;
    const data = s.data.subarray(Math.min(skip, s.data.length));
    const take = Math.min(data.length, c.rcvBuf.free);
    if (take) {
      c.rcvBuf.push(data, 0, take);
      c.rcvNxt = seqAdd(c.rcvNxt, take);
      c.bytesReceived += take;
    }
    if (take < data.length) {
      c.env.counters.inc('TCPRcvQDrop');
      c.ofo.length = 0;
      break;
    }
    if (s.fin) {
      tcpFin(c);
      break;
    }
  }
}

/** tcp_replace_ts_recent (the caller has checked the ACK is acceptable). */
function takeTs(c: TcpConn, o: SegOpts, seg: TcpRepr): void {
  if (c.tsOk && o.hasTs && seqLe(seg.seq, c.rcvWup)) {
    c.tsRecent = o.tsVal;
    c.tsRecentStamp = c.env.now();
  }
}

/** tcp_incr_quickack(sk, TCP_MAX_QUICKACKS): rcv_wnd / (2 * rcv_mss) quick ACKs, 2 to 16. */
function incrQuickack(c: TcpConn): void {
  c.quick = Math.max(c.quick, Math.min(Math.max(Math.floor(c.rcvWnd / (2 * c.rcvMss)), 2), 16));
}

/** tcp_event_data_recv: delayed-ACK estimator (ato), quickack start, receive window growth. */
function dataRecvEvent(c: TcpConn, len: number, now: number, gsoSize = 0, truesize = skbTruesize(len)): void {
  measureRcvMss(c, gsoSize || len, len, truesize);
  rcvRttMeasure(c);
  if (c.ato === 0) {
    // The first data segment initialises the delayed-ACK engine.
    incrQuickack(c);
    c.ato = 40_000;
  } else {
    const m = now - c.lrcvtime;
    if (m <= 20_000) c.ato = Math.round(c.ato / 2) + 20_000;
    else if (m < c.ato) c.ato = Math.min(Math.round(c.ato / 2) + m, c.rto);
    // A gap longer than the RTO re-enters quickack mode with the full count (observed on
    // 6.18, Q14: after a 0.5 s pause, 16 more segments were ACKed at once).
    else if (m > c.rto) incrQuickack(c);
  }
  c.lrcvtime = now;
  c.lastDataRecv = now;
  if (len >= 128) growWindow(c, len, truesize); // autotune.ts
}

/** tcp_fin: the peer will send no more. */
function tcpFin(c: TcpConn): void {
  c.rcvNxt = seqAdd(c.rcvNxt, 1);
  c.finReceived = true;
  c.ackPending = true;
  switch (c.state) {
    case TcpState.SYN_RECV:
    case TcpState.ESTABLISHED:
      c.setState(TcpState.CLOSE_WAIT, 'rcv FIN', 'segment');
      c.pingpong = true; // inet_csk_enter_pingpong_mode: the ACK of the FIN may wait for our reply
      break;
    case TcpState.FIN_WAIT1:
      sendAck(c);
      c.setState(TcpState.CLOSING, 'rcv FIN (simultaneous close)', 'segment');
      break;
    case TcpState.FIN_WAIT2:
      sendAck(c);
      finPurge(c);
      c.env.notify(c, 'readable');
      tcpTimeWait(c, 'TIME_WAIT', 0, 'rcv FIN', 'segment');
      return;
    default:
      break;
  }
  finPurge(c);
  c.env.notify(c, 'readable');
}

/**
 * tcp_fin, after its ACK (FIN_WAIT1/2): out-of-order data past the FIN is dropped, and
 * tcp_sack_reset forgets the SACK blocks and a pending D-SACK (seen on 6.18: a partly old
 * segment with the FIN is ACKed in CLOSE_WAIT without one, in FIN_WAIT1 with it).
 */
function finPurge(c: TcpConn): void {
  c.ofo.length = 0;
  c.rcvSacks = NO_SACKED;
  c.dsack = null;
}

/** __tcp_ack_snd_check: ACK now, or arm the delayed ACK. */
function ackSndCheck(c: TcpConn): void {
  if (c.ackNow) {
    c.ackNow = false;
    sendAck(c);
    return;
  }
  if (!c.ackPending) return;
  const unacked = (c.rcvNxt - c.rcvWup) >>> 0;
  const quickMode = (c.quick > 0 && !c.pingpong) || c.opts.quickack;
  if (unacked > c.rcvMss || quickMode) {
    sendAck(c);
    return;
  }
  scheduleAck(c, false);
}

