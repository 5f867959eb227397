// Loss recovery as Linux's tcp_input.c runs it on each ACK that finds data in flight: SACK
// tagging and D-SACK (tcp_sacktag_write_queue), the retransmission queue cleaned with an RTT
// sample per ACK (tcp_clean_rtx_queue), the CA state machine Open / Disorder / CWR / Recovery /
// Loss (tcp_fastretrans_alert), proportional rate reduction (RFC 6937, tcp_cwnd_reduction), the
// undo of reductions proven spurious by D-SACK or timestamps, F-RTO (RFC 5682, tcp_process_loss),
// the tail loss probe's outcome (tcp_process_tlp_ack); and what the timers start: an RTO
// (tcp_enter_loss), a loss probe (tcp_send_loss_probe), RACK's reordering timeout.

import type { TcpConn } from './conn.ts';
import { caPktsAcked, caSetState, congAvoid, currentSsthresh, inCwndReduction, lossSsthresh, undoCwnd } from './congestion.ts';
import {
  packetsInFlight, rearmRto, sendHeadFits, retransmitSkb, scheduleLossProbe, sendQueued, tcpOutput, tsNow32, xmitRetransmitQueue,
} from './output.ts';
import { markLost, minRtt, rackAdvance, rackDetectLoss, rackMarkLost, rackUpdateReoWnd, TCP_RACK_RECOVERY_THRESH } from './rack.ts';
import { CaState, SK_EVER_RETRANS, SK_LOST, SK_RETRANS, SK_SACKED, type LossState } from './rtxqueue.ts';
import { rtoBackoff, rttSample } from './rtt.ts';
import { seqAdd, seqGt, seqLe, seqLt } from './seq.ts';

// tcp_ack's flags (tcp_input.c).
export const FLAG_DATA = 0x01;
export const FLAG_WIN_UPDATE = 0x02;
const FLAG_DATA_ACKED = 0x04;
const FLAG_RETRANS_DATA_ACKED = 0x08;
const FLAG_DATA_SACKED = 0x20;
const FLAG_LOST_RETRANS = 0x80;
const FLAG_ORIG_SACK_ACKED = 0x200;
export const FLAG_SND_UNA_ADVANCED = 0x400;
const FLAG_DSACKING_ACK = 0x800;
const FLAG_SET_XMIT_TIMER = 0x1000;
const FLAG_DSACK_TLP = 0x20000;
const FLAG_ACKED = FLAG_DATA_ACKED;
const FLAG_NOT_DUP = FLAG_DATA | FLAG_WIN_UPDATE | FLAG_ACKED;
const FLAG_CA_ALERT = FLAG_DATA_SACKED | FLAG_DSACKING_ACK;
const FLAG_FORWARD_PROGRESS = FLAG_ACKED | FLAG_DATA_SACKED;

const enum Rexmit { None, Lost, New }

const INFINITE_SSTHRESH = 0x7fffffff;

/** tcp_is_rack: net.ipv4.tcp_recovery bit 0x1. */
const isRack = (c: TcpConn): boolean => (c.env.cfg.tcp_recovery & 0x1) !== 0;

/** Per-ACK scratch of tcp_sacktag_state; one object, the receive path being single-threaded. */
const st = { flag: 0, reord: 0, firstSackt: -1, lastSackt: -1 };

/** tcp_set_ca_state. */
function setCaState(c: TcpConn, L: LossState, s: CaState): void {
  L.caState = s;
  caSetState(c, s);
}

/** tcp_highest_sack_seq: the end of the highest SACKed segment, SND.UNA when none is. */
function highestSackSeq(c: TcpConn, L: LossState): number {
  const q = L.q;
  if (!q.sackedOut) return c.sndUna;
  for (let i = q.length - 1; i >= 0; i--) if (q.flags(i) & SK_SACKED) return q.end(i);
  return c.sndUna;
}

/** The echoed timestamp was sent before `us` (tcp_tsopt_ecr_before, with Linux's TS of ms). */
function ecrBefore(c: TcpConn, tsEcr: number | undefined, us: number): boolean {
  if (!c.tsOk || !tsEcr) return false;
  return (((tsEcr - c.tsOffset) >>> 0) - Math.floor(us / 1000)) << 0 < 0;
}

// ---- SACK ----

/**
 * tcp_dsack_seen with tcp_check_dsack: the first block is a D-SACK when it lies below the ACK
 * (TCPDSACKRecv) or inside the second block (TCPDSACKOfoRecv). Returns whether it counts.
 */
function checkDsack(c: TcpConn, L: LossState, blocks: ReadonlyArray<readonly [number, number]>, ack: number, priorUna: number): boolean {
  const [s0, e0] = blocks[0]!;
  let ofo = false;
  if (!seqLt(s0, ack)) {
    if (blocks.length < 2) return false;
    const [s1, e1] = blocks[1]!;
    if (seqGt(e0, e1) || seqLt(s0, s1)) return false;
    ofo = true;
  }
  if (!seqLt(s0, e0)) return false;
  const len = (e0 - s0) >>> 0;
  if (len > c.maxWindow) return false; // dubious: larger than any window offered
  let dupSegs = 1;
  if (len > c.mssCache) dupSegs = Math.ceil(len / c.mssCache);
  else if (L.tlpHighSeq && L.tlpHighSeq === e0) st.flag |= FLAG_DSACK_TLP;
  L.dsackDups += dupSegs;
  if (L.dsackDups > c.totalRetrans) return false; // we never sent those twice
  if (L.reordSeen && !(st.flag & FLAG_DSACK_TLP)) L.rackDsackSeen = true;
  st.flag |= FLAG_DSACKING_ACK;
  L.delivered += dupSegs; // a spurious retransmission was delivered
  const counters = c.env.counters;
  counters.inc(ofo ? 'TCPDSACKOfoRecv' : 'TCPDSACKRecv');
  counters.inc('TCPDSACKRecvSegs', dupSegs);
  if (L.undoMarker && L.undoRetrans > 0 && !seqGt(e0, priorUna) && seqGt(e0, L.undoMarker)) {
    L.undoRetrans = Math.max(0, L.undoRetrans - dupSegs);
  }
  return true;
}

/** tcp_sacktag_one: entry i is covered by a SACK block (a D-SACK one when dup). */
function sacktagOne(c: TcpConn, L: LossState, i: number, dup: boolean, fack: number): void {
  const q = L.q;
  let f = q.flags(i);
  const s = q.seq(i), e = q.end(i), t = q.time(i);
  if (dup && f & (SK_RETRANS | SK_EVER_RETRANS)) {
    if (L.undoMarker && L.undoRetrans > 0 && seqGt(e, L.undoMarker)) L.undoRetrans--;
    if (f & SK_SACKED && seqLt(s, st.reord)) st.reord = s;
  }
  if (!seqGt(e, c.sndUna)) return;
  if (!(f & SK_SACKED)) {
    rackAdvance(L, f, e, t, c.env.now());
    if (f & SK_RETRANS) {
      // A retransmission not marked lost is believed still in flight: it keeps RETRANS.
      if (f & SK_LOST) f &= ~(SK_LOST | SK_RETRANS);
    } else {
      if (!(f & SK_EVER_RETRANS)) {
        if (seqLt(s, fack) && seqLt(s, st.reord)) st.reord = s; // a hole filled: reordering
        if (!seqGt(e, L.highSeq)) st.flag |= FLAG_ORIG_SACK_ACKED;
        if (st.firstSackt < 0) st.firstSackt = t;
        st.lastSackt = t;
      }
      f &= ~SK_LOST;
    }
    f |= SK_SACKED;
    st.flag |= FLAG_DATA_SACKED;
    L.delivered++;
  }
  if (dup && f & SK_RETRANS) f &= ~SK_RETRANS;
  q.setFlags(i, f);
}

/**
 * tcp_sacktag_write_queue: tags the segments each SACK block covers whole (a segment of one
 * packet is never split by a block, as tcp_match_skb_to_sack), after the D-SACK check.
 */
function sacktag(c: TcpConn, L: LossState, blocks: ReadonlyArray<readonly [number, number]>, ack: number, priorUna: number): void {
  const dupFound = checkDsack(c, L, blocks, ack, priorUna);
  const fack = highestSackSeq(c, L);
  const q = L.q;
  for (let b = 0; b < blocks.length; b++) {
    const [start, end] = blocks[b]!;
    const dup = dupFound && b === 0;
    // tcp_is_sackblock_valid: inside what was sent, not empty, not all below SND.UNA.
    if (seqGt(end, c.sndMax) || !seqLt(start, end)) {
      if (!dup) c.env.counters.inc('TCPSACKDiscard');
      continue;
    }
    if (!seqGt(end, priorUna) && !dup) continue;
    let i = q.find(seqGt(start, c.sndUna) ? start : c.sndUna);
    if (i < 0) continue;
    for (; i < q.length && seqLt(q.seq(i), end); i++) {
      if (seqLe(start, q.seq(i)) && seqLe(q.end(i), end)) sacktagOne(c, L, i, dup, fack);
    }
  }
  if (L.caState !== CaState.Loss || L.undoMarker) checkSackReordering(c, L, st.reord, false);
}

/**
 * tcp_check_sack_reordering: a hole below the highest SACK filled by an original transmission
 * shows reordering of (fack - low_seq) bytes; tp->reordering grows to it (TCPSACKReorder).
 */
function checkSackReordering(c: TcpConn, L: LossState, lowSeq: number, ts: boolean): void {
  const fack = highestSackSeq(c, L);
  if (!seqLt(lowSeq, fack)) return;
  const metric = (fack - lowSeq) >>> 0;
  const mss = c.mssCache;
  if (metric > L.reordering * mss) L.reordering = Math.min(Math.ceil(metric / mss), c.env.cfg.tcp_max_reordering);
  L.reordSeen++;
  c.env.counters.inc(ts ? 'TCPTSReorder' : 'TCPSACKReorder');
}

// ---- Reno (no SACK): duplicate ACKs stand for SACKed packets ----

/** tcp_limit_reno_sacked: at most packets_out minus the holes. */
function limitRenoSacked(L: LossState): boolean {
  const holes = Math.min(Math.max(L.q.lostOut, 1), L.q.length);
  if (L.renoSacked + holes > L.q.length) {
    L.renoSacked = L.q.length - holes;
    return true;
  }
  return false;
}

/** tcp_add_reno_sack. */
function addRenoSack(L: LossState, numDupack: number): void {
  if (!numDupack) return;
  const prior = L.renoSacked;
  L.renoSacked += numDupack;
  limitRenoSacked(L);
  const d = L.renoSacked - prior;
  if (d > 0) L.delivered += d;
}

/** tcp_remove_reno_sacks: one ACK filled the hole; the rest ate duplicate ACKs. */
function removeRenoSacks(L: LossState, acked: number): void {
  if (acked > 0) {
    L.delivered += Math.max(acked - L.renoSacked, 1);
    if (acked - 1 >= L.renoSacked) L.renoSacked = 0;
    else L.renoSacked -= acked - 1;
  }
  limitRenoSacked(L);
}

/** sacked_out: SACKed packets, or for Reno the duplicate ACKs counted as such. */
const sackedOut = (c: TcpConn, L: LossState): number => (c.sackOk ? L.q.sackedOut : L.renoSacked);

// ---- Cleaning the queue, RTT ----

/** tcp_skb_spurious_retrans: the echoed timestamp predates the retransmission. */
const spuriousRetrans = (c: TcpConn, f: number, t: number, tsEcr: number | undefined): boolean =>
  (f & (SK_RETRANS | SK_EVER_RETRANS)) !== 0 && ecrBefore(c, tsEcr, t);

/**
 * tcp_ack_update_rtt: an RTT sample from the oldest segment newly acknowledged that was sent
 * once (Karn), else from the SACKed ones, else from the echoed timestamp; it feeds the
 * estimator and min_rtt, and resets the backoff (RFC 6298 §5.7).
 */
function ackUpdateRtt(c: TcpConn, L: LossState, flag: number, seqRtt: number, sackRtt: number, caRtt: number, tsEcr: number | undefined): boolean {
  if (seqRtt < 0) seqRtt = sackRtt;
  if (seqRtt < 0 && c.tsOk && tsEcr && flag & FLAG_ACKED) {
    const ms = (tsNow32(c) - tsEcr) >>> 0; // tcp_rtt_tsopt_us(tp, 1)
    if (ms < 0x7fffffff / 1000) seqRtt = caRtt = Math.max(ms, 1) * 1000;
  }
  if (seqRtt < 0) return false;
  // tcp_update_rtt_min: a windowed minimum (tcp_min_rtt_wlen).
  const now = c.env.now();
  const sample = caRtt || 1_000_000 / c.env.cfg.hz;
  if (!L.minRtt || sample <= L.minRtt || now - L.minRttStamp > c.env.cfg.tcp_min_rtt_wlen * 1_000_000) {
    L.minRtt = sample;
    L.minRttStamp = now;
  }
  rttSample(c, seqRtt);
  c.backoff = 0;
  return true;
}

/**
 * tcp_clean_rtx_queue: drops the segments the ACK covers, counts them delivered, advances RACK,
 * takes the RTT sample, and asks for the TLP or RTO timer to be set again.
 */
function cleanRtxQueue(c: TcpConn, L: LossState, ack: number, priorFack: number, tsEcr: number | undefined): number {
  const q = L.q;
  const now = c.env.now();
  let flag = 0;
  let firstAckt = -1, lastAckt = -1, pktsAcked = 0;
  let reord = c.sndMax;
  while (q.length) {
    const end = q.end(0);
    if (seqGt(end, ack)) {
      if (seqGt(ack, q.seq(0))) q.setSeq(0, ack); // tcp_trim_head: a partly acknowledged segment
      break;
    }
    const f = q.flags(0), seq = q.seq(0), t = q.time(0);
    if (f & (SK_RETRANS | SK_EVER_RETRANS)) flag |= FLAG_RETRANS_DATA_ACKED;
    else if (!(f & SK_SACKED)) {
      lastAckt = t;
      if (firstAckt < 0) firstAckt = t;
      if (seqLt(seq, reord)) reord = seq;
      if (!seqGt(end, L.highSeq)) flag |= FLAG_ORIG_SACK_ACKED;
    }
    if (!(f & SK_SACKED) && c.sackOk) {
      L.delivered++;
      if (!spuriousRetrans(c, f, t, tsEcr)) rackAdvance(L, f, end | 0, t, now); // end as int32: only compared mod 2^32
    }
    pktsAcked++;
    flag |= FLAG_DATA_ACKED;
    q.shift();
  }
  let seqRtt = -1, caRtt = -1, sackRtt = -1;
  if (firstAckt >= 0 && !(flag & FLAG_RETRANS_DATA_ACKED)) {
    seqRtt = now - firstAckt;
    caRtt = now - lastAckt;
  }
  if (st.firstSackt >= 0) {
    sackRtt = now - st.firstSackt;
    caRtt = now - st.lastSackt;
  }
  const rttUpdate = ackUpdateRtt(c, L, flag, seqRtt, sackRtt, caRtt, tsEcr);
  // icsk_ca_ops->pkts_acked with the RTT of the last packet (S)ACKed (HyStart's sample).
  if (pktsAcked) caPktsAcked(c, pktsAcked, caRtt);
  if (flag & FLAG_ACKED) {
    flag |= FLAG_SET_XMIT_TIMER;
    if (!c.sackOk) removeRenoSacks(L, pktsAcked);
    else if (seqLt(reord, priorFack)) checkSackReordering(c, L, reord, false);
  } else if (q.length && rttUpdate && sackRtt >= 0 && sackRtt > now - q.time(0)) {
    flag |= FLAG_SET_XMIT_TIMER; // the SACK RTT was measured from data sent before the head's last send
  }
  return flag;
}

// ---- Undo ----

/** tcp_init_undo: remember where the episode began, and the retransmissions a D-SACK may prove spurious. */
function initUndo(c: TcpConn, L: LossState): void {
  L.undoMarker = c.sndUna || 1;
  L.undoRetrans = L.q.retransOut + (L.tlpHighSeq && L.tlpRetrans ? 1 : 0);
  if (!L.undoRetrans) L.undoRetrans = -1;
}

/** tcp_any_retrans_done. */
const anyRetransDone = (L: LossState): boolean => L.q.retransOut > 0 || (L.q.length > 0 && (L.q.flags(0) & SK_EVER_RETRANS) !== 0);

/** tcp_packet_delayed: the ACK echoes a timestamp older than the first retransmission. */
function packetDelayed(c: TcpConn, L: LossState, tsEcr: number | undefined): boolean {
  if (c.retransStamp) return ecrBefore(c, tsEcr, c.retransStamp);
  if (!c.sackOk && !seqLt(c.sndUna, L.highSeq)) return false;
  return true;
}

const mayUndo = (c: TcpConn, L: LossState, tsEcr: number | undefined): boolean =>
  L.undoMarker !== 0 && (!L.undoRetrans || packetDelayed(c, L, tsEcr));

/** tcp_undo_cwnd_reduction: cwnd and ssthresh back as before the episode. */
function undoCwndReduction(c: TcpConn, L: LossState, unmarkLoss: boolean): void {
  if (unmarkLoss) {
    const q = L.q;
    for (let i = 0; i < q.length; i++) q.setFlags(i, q.flags(i) & ~SK_LOST);
  }
  if (L.priorSsthresh) {
    c.cwnd = undoCwnd(c);
    if (L.priorSsthresh > c.ssthresh) c.ssthresh = L.priorSsthresh;
  }
  L.undoMarker = 0;
  L.rackAdvanced = true; // RACK looks at the losses again
}

/** tcp_is_non_sack_preventing_reopen: Reno holds the state until something above high_seq is acknowledged. */
function nonSackPreventingReopen(c: TcpConn, L: LossState): boolean {
  if (c.sndUna === L.highSeq && !c.sackOk) {
    if (!anyRetransDone(L)) c.retransStamp = 0;
    return true;
  }
  return false;
}

/** tcp_try_undo_recovery ("We love our President!"): the episode ends, undone if it proved spurious. */
function tryUndoRecovery(c: TcpConn, L: LossState, tsEcr: number | undefined): boolean {
  if (mayUndo(c, L, tsEcr)) {
    const wasLoss = L.caState === CaState.Loss;
    undoCwndReduction(c, L, false);
    c.env.counters.inc(wasLoss ? 'TCPLossUndo' : 'TCPFullUndo');
  } else if (L.rackReoWndPersist) L.rackReoWndPersist--;
  if (nonSackPreventingReopen(c, L)) return true;
  setCaState(c, L, CaState.Open);
  return false;
}

/** tcp_try_undo_dsack: D-SACKs covered every retransmission. */
function tryUndoDsack(c: TcpConn, L: LossState): boolean {
  if (L.undoMarker && !L.undoRetrans) {
    L.rackReoWndPersist = Math.min(TCP_RACK_RECOVERY_THRESH, L.rackReoWndPersist + 1);
    undoCwndReduction(c, L, false);
    c.env.counters.inc('TCPDSACKUndo');
    return true;
  }
  return false;
}

/** tcp_try_undo_loss: after an RTO, a partial ACK or F-RTO shows the timeout was spurious. */
function tryUndoLoss(c: TcpConn, L: LossState, frtoUndo: boolean, tsEcr: number | undefined): boolean {
  if (frtoUndo || mayUndo(c, L, tsEcr)) {
    undoCwndReduction(c, L, true);
    c.env.counters.inc('TCPLossUndo');
    if (frtoUndo) c.env.counters.inc('TCPSpuriousRTOs');
    c.retransmits = 0;
    if (nonSackPreventingReopen(c, L)) return true;
    if (frtoUndo || c.sackOk) setCaState(c, L, CaState.Open);
    return true;
  }
  return false;
}

/** tcp_try_undo_partial: in Recovery, a partial ACK of a delayed (not lost) packet. */
function tryUndoPartial(c: TcpConn, L: LossState, priorUna: number, tsEcr: number | undefined): boolean {
  if (L.undoMarker && packetDelayed(c, L, tsEcr)) {
    checkSackReordering(c, L, priorUna, true);
    if (L.q.retransOut) return true;
    if (!anyRetransDone(L)) c.retransStamp = 0;
    undoCwndReduction(c, L, true);
    c.env.counters.inc('TCPPartialUndo');
    tryKeepOpen(c, L);
  }
  return false;
}

// ---- The reduction: PRR ----

/** tcp_init_cwnd_reduction. */
function initCwndReduction(c: TcpConn, L: LossState): void {
  L.highSeq = c.sndMax;
  L.tlpHighSeq = 0;
  c.cwndCnt = 0;
  L.priorCwnd = c.cwnd;
  L.prrDelivered = 0;
  L.prrOut = 0;
  c.ssthresh = lossSsthresh(c);
}

/**
 * tcp_cwnd_reduction, PRR (RFC 6937): while the pipe is above ssthresh, send in proportion to
 * what was delivered (ssthresh/prior_cwnd of it); below, catch up to ssthresh with slow start
 * bounded by the delivered amount (PRR-SSRB); a fast retransmit always goes.
 */
function cwndReduction(c: TcpConn, L: LossState, newlyAckedSacked: number, newlyLost: number, flag: number): void {
  if (newlyAckedSacked <= 0 || !L.priorCwnd) return;
  const inFlight = packetsInFlight(c);
  const delta = c.ssthresh - inFlight;
  L.prrDelivered += newlyAckedSacked;
  let sndcnt: number;
  if (delta < 0) {
    sndcnt = Math.floor((c.ssthresh * L.prrDelivered + L.priorCwnd - 1) / L.priorCwnd) - L.prrOut;
  } else {
    sndcnt = Math.max(L.prrDelivered - L.prrOut, newlyAckedSacked);
    if (flag & FLAG_SND_UNA_ADVANCED && !newlyLost) sndcnt++;
    sndcnt = Math.min(delta, sndcnt);
  }
  sndcnt = Math.max(sndcnt, L.prrOut ? 0 : 1);
  c.cwnd = inFlight + sndcnt;
}

/** tcp_end_cwnd_reduction: cwnd down to ssthresh at the end of CWR or (not undone) Recovery. */
function endCwndReduction(c: TcpConn, L: LossState): void {
  if (c.ssthresh < INFINITE_SSTHRESH && (L.caState === CaState.CWR || L.undoMarker)) c.cwnd = c.ssthresh;
}

/** tcp_enter_recovery (TCPSackRecovery / TCPRenoRecovery). */
function enterRecovery(c: TcpConn, L: LossState): void {
  c.env.counters.inc(c.sackOk ? 'TCPSackRecovery' : 'TCPRenoRecovery');
  L.priorSsthresh = 0;
  initUndo(c, L);
  if (!inCwndReduction(c)) {
    L.priorSsthresh = currentSsthresh(c);
    initCwndReduction(c, L);
  }
  setCaState(c, L, CaState.Recovery);
}

/** tcp_try_keep_open: Disorder while anything is SACKed, lost or retransmitted, else Open. */
function tryKeepOpen(c: TcpConn, L: LossState): void {
  const s = sackedOut(c, L) + L.q.lostOut || anyRetransDone(L) ? CaState.Disorder : CaState.Open;
  if (L.caState !== s) {
    setCaState(c, L, s);
    L.highSeq = c.sndMax;
  }
}

/** tcp_try_to_open. */
function tryToOpen(c: TcpConn, L: LossState): void {
  if (!anyRetransDone(L)) c.retransStamp = 0;
  if (L.caState !== CaState.CWR) tryKeepOpen(c, L);
}

// ---- Loss detection ----

/** tcp_newreno_mark_lost: without SACK, the head is lost after reordering-many duplicate ACKs, and on each partial ACK in Recovery. */
function newrenoMarkLost(c: TcpConn, L: LossState, sndUnaAdvanced: boolean): void {
  if ((L.caState < CaState.Recovery && L.renoSacked >= L.reordering) || (L.caState === CaState.Recovery && sndUnaAdvanced)) {
    if (L.q.length && !(L.q.flags(0) & SK_LOST)) markLost(c, L, 0);
  }
}

/** Flag bits tcp_identify_packet_loss changes, read back by its caller. */
let alertFlag = 0;

/** tcp_identify_packet_loss: NewReno's rule without SACK, else RACK (when tcp_recovery has it). */
function identifyPacketLoss(c: TcpConn, L: LossState): void {
  if (!L.q.length) return;
  if (!c.sackOk) newrenoMarkLost(c, L, (alertFlag & FLAG_SND_UNA_ADVANCED) !== 0);
  else if (isRack(c)) {
    const priorRetrans = L.q.retransOut;
    if (rackMarkLost(c, L, rtoBackoff(c))) alertFlag &= ~FLAG_SET_XMIT_TIMER;
    if (priorRetrans > L.q.retransOut) alertFlag |= FLAG_LOST_RETRANS;
  }
}

/** tcp_time_to_recover: a loss is proven, or (without RACK) more duplicates than the reordering degree. */
const timeToRecover = (c: TcpConn, L: LossState): boolean =>
  L.q.lostOut > 0 || (!isRack(c) && sackedOut(c, L) + 1 > L.reordering);

/**
 * tcp_update_scoreboard without RACK (tcp_recovery 0): the head packets that more than the
 * reordering degree of SACKed packets lie above are lost (tcp_mark_head_lost); on a fast
 * retransmit at least the head.
 */
function updateScoreboard(c: TcpConn, L: LossState, fastRexmit: boolean): void {
  if (!c.sackOk) return;
  const upto = L.q.sackedOut - L.reordering;
  if (upto < 0 && !fastRexmit) return;
  const packets = upto >= 0 ? upto : 1;
  const markHead = upto < 0;
  const q = L.q;
  let cnt = 0;
  for (let i = 0; i < q.length; i++) {
    if (q.flags(i) & SK_SACKED) cnt++;
    if (cnt > packets) break;
    if (!(q.flags(i) & SK_LOST)) markLost(c, L, i);
    if (markHead) break;
  }
}

/** tcp_force_fast_retransmit: SACKed data beyond reordering-many packets above SND.UNA. */
const forceFastRetransmit = (c: TcpConn, L: LossState): boolean =>
  ((highestSackSeq(c, L) - c.sndUna) >>> 0) >= L.reordering * c.mssCache;

/** tcp_process_loss: ACKs after an RTO, with F-RTO (RFC 5682 with the SACK enhancement). */
function processLoss(c: TcpConn, L: LossState, flag: number, numDupack: number, tsEcr: number | undefined): Rexmit {
  const recovered = !seqLt(c.sndUna, L.highSeq);
  if (flag & FLAG_SND_UNA_ADVANCED && tryUndoLoss(c, L, false, tsEcr)) return Rexmit.None;
  if (L.frto) {
    // Step 3.b: data never retransmitted was (S)ACKed: the timeout was spurious.
    if (flag & FLAG_ORIG_SACK_ACKED && tryUndoLoss(c, L, true, tsEcr)) return Rexmit.None;
    if (seqGt(c.sndMax, L.highSeq)) {
      if (flag & FLAG_DATA_SACKED || numDupack) L.frto = false; // step 3.a: the loss was real
    } else if (flag & FLAG_SND_UNA_ADVANCED && !recovered) {
      L.highSeq = c.sndMax;
      // Step 2.b: send new data (after cwnd is updated), else fall back to conventional recovery.
      if (sendQueued(c) && seqGt(seqAdd(c.sndUna, c.sndWnd), c.sndMax)) return Rexmit.New;
      L.frto = false;
    }
  }
  if (recovered) {
    tryUndoRecovery(c, L, tsEcr); // step 2.a and the first part of 3.a
    return Rexmit.None;
  }
  if (!c.sackOk) {
    if (seqGt(c.sndMax, L.highSeq) && numDupack) addRenoSack(L, numDupack);
    else if (flag & FLAG_SND_UNA_ADVANCED) L.renoSacked = 0;
  }
  return Rexmit.Lost;
}

/**
 * tcp_fastretrans_alert: the CA state machine on a dubious ACK (a duplicate, a SACK, a D-SACK,
 * or any ACK outside Open). Returns what to retransmit; alertFlag carries the flag changes.
 */
function fastretransAlert(c: TcpConn, L: LossState, priorUna: number, numDupack: number, tsEcr: number | undefined): Rexmit {
  let flag = alertFlag;
  let doLost = numDupack > 0 || (flag & FLAG_DATA_SACKED && forceFastRetransmit(c, L));
  if (!L.q.length && L.q.sackedOut) L.q.sackedOut = 0;
  // D. State exit conditions.
  if (L.caState === CaState.Open) c.retransStamp = 0;
  else if (!seqLt(c.sndUna, L.highSeq)) {
    if (L.caState === CaState.CWR) {
      if (c.sndUna !== L.highSeq) {
        endCwndReduction(c, L);
        setCaState(c, L, CaState.Open);
      }
    } else if (L.caState === CaState.Recovery) {
      if (!c.sackOk) L.renoSacked = 0;
      if (tryUndoRecovery(c, L, tsEcr)) return Rexmit.None;
      endCwndReduction(c, L);
    }
  }
  let fastRexmit = false;
  // E. Process the state.
  if (L.caState === CaState.Recovery) {
    if (!(flag & FLAG_SND_UNA_ADVANCED)) {
      if (!c.sackOk) addRenoSack(L, numDupack);
    } else if (L.undoMarker && packetDelayed(c, L, tsEcr)) {
      if (tryUndoPartial(c, L, priorUna, tsEcr)) return Rexmit.None;
    } else doLost = forceFastRetransmit(c, L);
    if (tryUndoDsack(c, L)) tryToOpen(c, L);
    identifyPacketLoss(c, L);
    flag = alertFlag;
    if (L.caState !== CaState.Recovery) {
      if (!timeToRecover(c, L)) return Rexmit.None;
      enterRecovery(c, L);
    }
  } else {
    // What tcp_process_loss asked for stands unless the state changes below (the fallthrough).
    let r = Rexmit.None;
    if (L.caState === CaState.Loss) {
      r = processLoss(c, L, flag, numDupack, tsEcr);
      identifyPacketLoss(c, L);
      flag = alertFlag;
      // Out of Loss only when cwnd was undone or retransmissions were lost.
      if (!((L.caState as CaState) === CaState.Open || flag & FLAG_LOST_RETRANS)) return r;
    }
    if (!c.sackOk) {
      if (flag & FLAG_SND_UNA_ADVANCED) L.renoSacked = 0;
      addRenoSack(L, numDupack);
    }
    if (L.caState <= CaState.Disorder) tryUndoDsack(c, L);
    identifyPacketLoss(c, L);
    flag = alertFlag;
    if (!timeToRecover(c, L)) {
      tryToOpen(c, L);
      return r;
    }
    enterRecovery(c, L);
    fastRexmit = true;
  }
  if (!isRack(c) && doLost) updateScoreboard(c, L, fastRexmit);
  return Rexmit.Lost;
}

/**
 * tcp_process_tlp_ack: a probe whose original and probe both arrived (a D-SACK for it, or a pure
 * duplicate ACK) was no loss; an ACK beyond the probe repaired one: cwnd is reduced as in CWR
 * (TCPLossProbeRecovery).
 */
function processTlpAck(c: TcpConn, L: LossState, ack: number, flag: number): void {
  if (seqLt(ack, L.tlpHighSeq)) return;
  if (!L.tlpRetrans) L.tlpHighSeq = 0;
  else if (flag & FLAG_DSACK_TLP) L.tlpHighSeq = 0;
  else if (seqGt(ack, L.tlpHighSeq)) {
    initCwndReduction(c, L);
    setCaState(c, L, CaState.CWR);
    endCwndReduction(c, L);
    tryKeepOpen(c, L);
    c.env.counters.inc('TCPLossProbeRecovery');
  } else if (!(flag & (FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP | FLAG_DATA_SACKED))) L.tlpHighSeq = 0;
}

/** tcp_may_raise_cwnd: in-order delivery (or any progress when reordering is high). */
function mayRaiseCwnd(c: TcpConn, L: LossState, flag: number): boolean {
  if (L.reordering > c.env.cfg.tcp_reordering) return (flag & FLAG_FORWARD_PROGRESS) !== 0;
  return (flag & FLAG_DATA_ACKED) !== 0;
}

/**
 * tcp_ack for an ACK that finds data in flight, from the SACK blocks to the retransmissions it
 * allows: SND.UNA has already moved (and the send queue been consumed) to `ack`, from priorUna.
 * `flag` holds FLAG_DATA, FLAG_WIN_UPDATE and FLAG_SND_UNA_ADVANCED. ack, priorUna and tsEcr
 * may come as int32 (the same 32 bits): they are only compared and subtracted mod 2^32.
 */
export function ackQueue(
  c: TcpConn, ack: number, priorUna: number, flag: number,
  sack: ReadonlyArray<readonly [number, number]> | undefined, tsEcr: number | undefined,
): void {
  const L = c.loss;
  const priorDelivered = L.delivered, priorLost = L.lost;
  // prior_fack, taken before SND.UNA moved: the highest SACKed sequence, else the old SND.UNA.
  const priorFack = c.sackOk && L.q.sackedOut ? highestSackSeq(c, L) : priorUna;
  st.flag = 0;
  st.reord = c.sndMax;
  st.firstSackt = -1;
  st.lastSackt = -1;
  if (sack && sack.length && c.sackOk) sacktag(c, L, sack, ack, priorUna);
  flag |= st.flag;
  if (flag & FLAG_SND_UNA_ADVANCED) c.retransmits = 0;
  if (L.q.length === 0 && !(flag & FLAG_SND_UNA_ADVANCED)) {
    noQueue(c, L, ack, priorUna, flag, tsEcr);
    return;
  }
  flag |= cleanRtxQueue(c, L, ack, priorFack, tsEcr);
  rackUpdateReoWnd(c, L, priorDelivered);
  if (L.tlpHighSeq) processTlpAck(c, L, ack, flag);
  let rexmit = Rexmit.None;
  // tcp_ack_is_dubious.
  if (!(flag & FLAG_NOT_DUP) || flag & FLAG_CA_ALERT || L.caState !== CaState.Open) {
    const numDupack = flag & (FLAG_SND_UNA_ADVANCED | FLAG_NOT_DUP | FLAG_DSACKING_ACK) ? 0 : 1;
    alertFlag = flag;
    rexmit = fastretransAlert(c, L, priorUna, numDupack, tsEcr);
    flag = alertFlag;
  }
  // tcp_set_xmit_timer: the loss probe, else the RTO, unless RACK armed its timer.
  if (flag & FLAG_SET_XMIT_TIMER && !scheduleLossProbe(c, true)) rearmRto(c);
  // tcp_cong_control.
  const delivered = L.delivered - priorDelivered;
  if (inCwndReduction(c)) cwndReduction(c, L, delivered, L.lost - priorLost, flag);
  else if (mayRaiseCwnd(c, L, flag)) congAvoid(c, delivered);
  // tcp_xmit_recovery.
  if (rexmit === Rexmit.New) {
    tcpOutput(c);
    if (seqGt(c.sndMax, L.highSeq)) return;
    L.frto = false;
  }
  if (rexmit !== Rexmit.None) xmitRetransmitQueue(c);
  if (flag & FLAG_SND_UNA_ADVANCED && L.caState === CaState.Open && !anyRetransDone(L)) c.retransStamp = 0;
}

/**
 * tcp_ack's no_queue: "If data was DSACKed, see if we can undo a cwnd reduction" (the SACK
 * blocks were tagged first, so a late D-SACK reaches tcp_fastretrans_alert and
 * tcp_try_undo_dsack); then the probe is settled. Seen on 6.18: a D-SACK of the one fast
 * retransmission arriving after everything was acknowledged brought cwnd from 6 back to 10 and
 * ssthresh back to infinity.
 */
function noQueue(c: TcpConn, L: LossState, ack: number, priorUna: number, flag: number, tsEcr: number | undefined): void {
  if (flag & FLAG_DSACKING_ACK) {
    alertFlag = flag;
    fastretransAlert(c, L, priorUna, 0, tsEcr);
    flag = alertFlag;
  }
  if (L.tlpHighSeq) processTlpAck(c, L, ack, flag);
}

/** The ACK that finds nothing in flight: SACK blocks are still tagged (tcp_check_dsack), then no_queue. */
export function ackNoQueue(
  c: TcpConn, ack: number, priorUna: number, flag: number,
  sack: ReadonlyArray<readonly [number, number]> | undefined, tsEcr: number | undefined,
): void {
  const L = c.lossIfAny;
  if (!L) return;
  st.flag = 0;
  st.reord = c.sndMax;
  st.firstSackt = -1;
  st.lastSackt = -1;
  if (sack && sack.length && c.sackOk) sacktag(c, L, sack, ack, priorUna);
  noQueue(c, L, ack, priorUna, flag | st.flag, tsEcr);
}

// ---- What the timers start ----

/**
 * tcp_enter_loss (an RTO): every segment not SACKed is lost (but those sent within the last
 * RACK RTT), ssthresh falls unless this episode already cut it, cwnd = in flight + 1, and
 * F-RTO starts when tcp_frto allows and this is a new episode (or a repeated timeout).
 */
export function enterLoss(c: TcpConn): void {
  const L = c.loss;
  const q = L.q;
  const newRecovery = L.caState < CaState.Recovery;
  // tcp_timeout_mark_lost.
  const reneg = q.length > 0 && (q.flags(0) & SK_SACKED) !== 0;
  if (reneg) {
    c.env.counters.inc('TCPSACKReneging');
  } else if (!c.sackOk) L.renoSacked = 0;
  const now = c.env.now();
  for (let i = 0; i < q.length; i++) {
    if (reneg) q.setFlags(i, q.flags(i) & ~SK_SACKED);
    else if (i > 0 && L.rackRttUs - (now - q.time(i)) > 0) continue; // recently sent: not yet
    markLost(c, L, i);
  }
  if (L.caState <= CaState.Disorder || !seqGt(L.highSeq, c.sndUna) || (L.caState === CaState.Loss && !c.retransmits)) {
    L.priorSsthresh = currentSsthresh(c);
    L.priorCwnd = c.cwnd;
    c.ssthresh = lossSsthresh(c);
    initUndo(c, L);
  }
  c.cwnd = packetsInFlight(c) + 1;
  c.cwndCnt = 0;
  const reordering = c.env.cfg.tcp_reordering;
  if (L.caState <= CaState.Disorder && sackedOut(c, L) >= reordering) L.reordering = Math.min(L.reordering, reordering);
  setCaState(c, L, CaState.Loss);
  L.highSeq = c.sndMax;
  L.tlpHighSeq = 0;
  L.frto = c.env.cfg.tcp_frto !== 0 && (newRecovery || c.retransmits > 0);
}

/** The RTO's retransmission: the head of the queue (tcp_retransmit_timer). */
export function retransmitHead(c: TcpConn, note: string): void {
  const L = c.lossIfAny;
  if (L && L.q.length) retransmitSkb(c, 0, note);
}

/**
 * tcp_send_loss_probe: new data if the window takes a segment, else the last segment again;
 * at most one probe outstanding (tlp_high_seq); TCPLossProbes; then the RTO from now.
 */
export function sendLossProbe(c: TcpConn): void {
  const L = c.loss;
  if (L.tlpHighSeq) {
    rearmRto(c);
    return;
  }
  L.tlpRetrans = false;
  // New data when the send head fits the peer's window (tcp_snd_wnd_test: its first MSS, the FIN
  // counted), else the last segment again. Seen on 6.18 (drill --both,
  // api/tcp-info-busy-rwnd-limited.pkt): with the window full and data waiting, the probe
  // resends the last segment 2 x SRTT + 2 jiffies after it went.
  if (sendQueued(c) && sendHeadFits(c)) {
    if (tcpOutput(c, false, true) === 0) {
      rearmRto(c);
      return;
    }
  } else {
    if (!L.q.length) {
      c.rtxDeadline = Infinity;
      return;
    }
    if (!retransmitSkb(c, L.q.length - 1, 'tail loss probe', true)) {
      rearmRto(c);
      return;
    }
    L.tlpRetrans = true;
  }
  L.tlpHighSeq = c.sndMax;
  c.env.counters.inc('TCPLossProbes');
  c.rtxDeadline = Infinity; // icsk_pending = 0: the RTO runs from now
  rearmRto(c);
}

/**
 * tcp_rack_reo_timeout: the reordering window has passed for segments RACK was waiting on;
 * losses found start Recovery (with one PRR step) and are retransmitted.
 */
export function rackReoTimeout(c: TcpConn): void {
  const L = c.loss;
  const priorInFlight = packetsInFlight(c);
  const lost = L.lost;
  rackDetectLoss(c, L);
  if (priorInFlight !== packetsInFlight(c)) {
    if (L.caState !== CaState.Recovery) {
      enterRecovery(c, L);
      cwndReduction(c, L, 1, L.lost - lost, 0);
    }
    xmitRetransmitQueue(c);
  }
  if (c.rtxKind !== 'retransmit') rearmRto(c);
}

/** For tcp_info: tcpi_reordering, tcpi_lost, tcpi_delivered, tcpi_min_rtt, tcpi_sacked. */
export function lossInfo(c: TcpConn): { reordering: number; lost: number; delivered: number; minRtt: number; sacked: number; retrans: number } {
  const L = c.lossIfAny;
  if (!L) return { reordering: c.env.cfg.tcp_reordering, lost: 0, delivered: 0, minRtt: 0, sacked: 0, retrans: 0 };
  return { reordering: L.reordering, lost: L.q.lostOut, delivered: L.delivered, minRtt: L.minRtt ? minRtt(L) : 0, sacked: sackedOut(c, L), retrans: L.q.retransOut };
}
