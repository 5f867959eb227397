// What is sent and when (Linux tcp_output.c): data and FIN under the peer's window, cwnd and
// Nagle; ACKs (now or delayed); SYN and SYN-ACK with Linux's option layout; probes; resets.

import { ACK, FIN, PSH, RST, SYN, type TcpOption, type TcpRepr } from '../wire/types.ts';
import { linuxDataOptions, linuxSynOptions } from '../wire/tcp.ts';
import { TxSegment } from '../wire/segment.ts';
import { freeSpace, fullSpace } from './autotune.ts';
import { fragmentAllowed } from './memory.ts';
import { Chrono, chronoStart, chronoStop, writeQueued } from './chrono.ts';
import type { TcpConn } from './conn.ts';
import { caDataSent, cwndValidate, inCwndReduction } from './congestion.ts';
import { firstPushMark, markWindowProbe, pshIn } from './push.ts';
import { jiffyUs, roundUpToJiffies } from '../time/jiffies.ts';
import { rtoBackoff, probe0When } from './rtt.ts';
import { TCP_TIMEOUT_MIN_JIFFIES } from './rack.ts';
import { CaState, SK_EVER_RETRANS, SK_FIN, SK_LOST, SK_RETRANS, SK_SACKED } from './rtxqueue.ts';
import { seqAdd, seqGt, seqLt } from './seq.ts';
import { TcpState } from './states.ts';

const EMPTY = new Uint8Array(0);

/** Our timestamp clock: milliseconds plus a per-connection offset (Linux 4.10+ tcp_time_stamp). */
export const tsNow = (c: TcpConn): number => tsNow32(c) >>> 0;
/**
 * tsNow as an int32 (the same 32 bits), for differences and comparisons: a uint32 above 2^31
 * returned from a call is a boxed number, one per segment.
 */
export const tsNow32 = (c: TcpConn): number => (Math.floor(c.env.now() / 1000) + c.tsOffset) | 0;

/** Linux tcp_select_initial_window: the SYN's window, a multiple of the MSS below 64 KiB. */
export function initialWindow(c: TcpConn): number {
  return selectInitialWindow(c, c.advMss);
}

/**
 * tcp_select_initial_window's window for segments of `mss` bytes: tcp_full_space (half the
 * receive buffer, tcp_win_from_space with the default scaling_ratio) rounded down to the MSS
 * when above it. It is rcv_wnd, not capped: a SYN's window field carries at most 65535 of it,
 * the first scaled window all of it. With tcp_rmem[1] 131072: 64240 (65160 for a passive open
 * with timestamps); Linux's suites' 540000: 269640, and the ACK after the handshake offers
 * 1053 << 8 (seen on 6.18 through drill --both). After SO_RCVBUF (SOCK_RCVBUF_LOCK) the
 * window clamp becomes that space: rcv_ssthresh never grows past it (tcp_grow_window; observed:
 * SO_RCVBUF 4096 -> win 2896, 1000 -> 1152, 20000 -> 18824, 100000 -> 65535 on the SYN-ACK).
 */
function selectInitialWindow(c: TcpConn, mss: number): number {
  const space = c.opts.rcvbuf >> 1;
  if (c.opts.rcvbufLocked) c.windowClamp = space;
  return space > mss ? space - (space % mss) : space;
}

/** A SYN's window field: rcv_wnd, at most 65535 (never scaled, RFC 7323 §2.2). */
const synWindowField = (rcvWnd: number): number => Math.min(rcvWnd, 65535);

/**
 * Window scale we offer: enough to cover tcp_rmem[2] (Linux: 7 for the default 6 MiB); after
 * SO_RCVBUF, to cover tcp_full_space only, the window clamp tcp_openreq_init_rwin and
 * tcp_connect_init set (observed on 6.18: SO_RCVBUF 100000 -> wscale 1, 300000 -> 3, 40000 -> 0).
 */
export function offeredWscale(c: TcpConn): number {
  let space = c.opts.rcvbufLocked ? c.opts.rcvbuf >> 1 : Math.max(c.env.cfg.tcp_rmem[2], c.opts.rcvbuf);
  let ws = 0;
  while (space > 65535 && ws < 14) {
    space >>>= 1;
    ws++;
  }
  return ws;
}

/**
 * Linux __tcp_select_window + tcp_select_window: the window to advertise, never shrinking
 * the right edge already offered (RFC 7323 §2.4), with receiver-side silly window avoidance.
 * Returns the raw 16-bit field value.
 */
export function selectWindow(c: TcpConn): number {
  const counters = c.env.counters;
  // ICSK_ACK_NOMEM (tcp_data_queue could not charge in-order data): this ACK offers zero.
  const r = c.rcvSpace;
  if (r && r.nomem) {
    r.nomem = false;
    r.predWnd = -1;
    c.rcvWnd = 0;
    c.rcvWup = c.rcvNxt32; // as stored: not boxed
    return 0;
  }
  let win = freeWindow(c);
  const unit = 1 << c.rcvWscale;
  const cur = Math.max(0, ((c.rcvWup32 + c.rcvWnd - c.rcvNxt32) | 0));
  const old = c.rcvWnd;
  if (win < cur) {
    if (win === 0) counters.inc('TCPWantZeroWindowAdv');
    win = Math.ceil(cur / unit) * unit;
  }
  c.rcvWnd = win;
  c.rcvWup = c.rcvNxt32; // as stored: not boxed
  if (win === 0 && r) r.predWnd = -1; // "If we advertise zero window, disable fast path"
  if (win === 0 && old !== 0) counters.inc('TCPToZeroWindowAdv');
  else if (win !== 0 && old === 0) counters.inc('TCPFromZeroWindowAdv');
  return win >>> c.rcvWscale;
}

/**
 * __tcp_select_window without its non-shrinking part: the free space (tcp_space: the receive
 * memory not charged, as window, autotune.ts), at most rcv_ssthresh; under half the full space
 * (min(window clamp, tcp_full_space)) it is rounded down to the scale unit, and 0 below 1/16
 * of the buffer or one segment.
 */
function freeWindow(c: TcpConn): number {
  const allowed = fullSpace(c);
  const full = Math.min(c.windowClamp || allowed, allowed);
  let free = freeSpace(c);
  const mss = Math.min(c.rcvMss, c.advMss, full);
  const unit = 1 << c.rcvWscale;
  let win: number;
  if (free < full >> 1) {
    c.quick = 0; // Linux leaves quickack mode under memory pressure
    if (c.env.memoryPressure()) c.rcvSsthresh = Math.min(c.rcvSsthresh, 4 * c.advMss); // tcp_adjust_rcv_ssthresh
    free = Math.floor(free / unit) * unit;
    win = free < allowed >> 4 || free < mss ? 0 : Math.min(free, c.rcvSsthresh);
  } else {
    win = Math.min(free, c.rcvSsthresh);
  }
  // Linux rounds a scaled window up to the scale unit (ALIGN) so it is not scaled away; the
  // receive queue accepts everything inside the advertised window (see RCV_SLACK).
  if (c.rcvWscale) win = Math.ceil(win / unit) * unit;
  else if (win > mss) win = Math.floor(win / mss) * mss;
  return Math.min(win, 65535 << c.rcvWscale);
}

/** Options for a non-SYN segment: timestamps, and SACK blocks while out-of-order data waits. */
/** The options of a segment after the handshake, into seg: NOP NOP TS as fields, SACK blocks as a list. */
function dataOptions(c: TcpConn, seg: TxSegment): void {
  if (!(c.sackOk && (c.rcvSacks.length || c.dsack))) {
    seg.setTimestamp(c.tsOk, c.tsOk ? tsNow32(c) : 0, c.tsOk ? c.tsRecent | 0 : 0); // as int32: not boxed for the call
    return;
  }
  // tcp_established_options / tcp_options_write: a pending D-SACK block goes first and is sent
  // once (observed on 6.18, Q10 and test/fixtures/linux/ipv4-sack.pcap: `sack 1 {dup range}`,
  // then the SACK blocks, most recent first); 3 blocks fit beside timestamps, 4 without.
  const sack = (c.dsack ? [c.dsack, ...c.rcvSacks] : c.rcvSacks).slice(0, c.tsOk ? 3 : 4).map((b): [number, number] => [b[0], b[1]]);
  c.dsack = null;
  seg.options = linuxDataOptions({
    timestamp: c.tsOk ? { val: tsNow(c), ecr: c.tsRecent } : undefined,
    sack,
  });
}

function segment(c: TcpConn, flags: number, seq: number, ack: number, win: number, options: TcpOption[], payload: Uint8Array): TcpRepr {
  return { srcPort: c.localPort, dstPort: c.remotePort, seq, ack: flags & ACK ? ack : 0, flags, window: win, urgent: 0, options, payload };
}

/**
 * The one descriptor every data segment and ACK is built in: env.transmit encodes it at once and
 * keeps nothing of it, so the next segment may take it again (no objects per segment sent).
 */
const TX = new TxSegment();

/** A segment carrying ACK with the current window; clears any pending delayed ACK. `seq` may be an int32. */
function sendWithAck(c: TcpConn, flags: number, seq: number, payload: Uint8Array, note?: string): void {
  if (payload.length) caDataSent(c); // tcp_event_data_sent
  ackSent(c);
  transmitWithAck(c, flags, seq, payload, note, 0);
}

/**
 * tcp_transmit_skb for a segment carrying ACK: the current window and options, then env.transmit.
 * `gsoSize` > 0: the payload is several segments of that size sent as one TSO/GSO packet.
 */
function transmitWithAck(c: TcpConn, flags: number, seq: number, payload: Uint8Array, note: string | undefined, gsoSize: number): void {
  // tcp_v4_reqsk_send_ack: a request (SYN_RECV child of a listener) ACKs with its SYN-ACK's
  // window shifted by the scale, truncated (observed: 65160 >> 10 = 63 on 6.18).
  const win = c.state === TcpState.SYN_RECV && c.listener ? Math.min(c.rcvWnd >>> c.rcvWscale, 65535) : selectWindow(c);
  const seg = TX;
  seg.srcPort = c.localPort;
  seg.dstPort = c.remotePort;
  seg.seq = seq >>> 0;
  seg.ack = c.rcvNxt;
  seg.flags = flags | ACK;
  seg.window = win;
  seg.urgent = 0;
  dataOptions(c, seg);
  seg.setPayload(payload, 0, payload.length);
  c.env.transmit(c, seg, note, gsoSize);
  seg.setPayload(EMPTY, 0, 0); // keep no send buffer alive
}

function ackSent(c: TcpConn): void {
  c.ackPending = false;
  c.delackDeadline = Infinity;
  if (c.quick > 0) c.quick--;
  c.lastAckTime = c.env.now();
}

/** A pure ACK now (tcp_send_ack). */
export function sendAck(c: TcpConn, note?: string): void {
  // SND.MAX (Linux's snd_nxt, which never moves back): after a retransmission timeout pulls
  // SND.NXT back, an ACK carrying it would fall below the peer's RCV.WUP and be discarded.
  sendWithAck(c, 0, c.sndMax | 0, EMPTY, note); // int32: not boxed for the call
}

/** Window or keepalive probe: ACK with SEQ = SND.UNA - 1 and no data (tcp_xmit_probe_skb). */
export function sendProbe(c: TcpConn, note: string): void {
  sendWithAck(c, 0, seqAdd(c.sndUna, -1), EMPTY, note);
}

/** tcp_send_active_reset: RST|ACK at Linux's snd_nxt (our SND.MAX), for abortive closes and timeouts. */
export function sendActiveReset(c: TcpConn, note?: string): void {
  // Observed on 6.18 (docs/linux-observations.md): a reset from a live socket carries the
  // current window and the timestamp option, unlike the stateless tcp_v4_send_reset.
  // tcp_transmit_skb computes the window with tcp_select_window, as for any segment (so a
  // reset sent before any other segment of the connection still shows the aligned 510, not
  // the SYN-ACK's 65160 truncated by the scale).
  const win = c.state === TcpState.SYN_SENT ? 0 : selectWindow(c);
  const options = c.tsOk ? linuxDataOptions({ timestamp: { val: tsNow(c), ecr: c.tsRecent } }) : [];
  const seg = segment(c, RST | ACK, c.sndMax, c.rcvNxt, win, options, EMPTY);
  c.env.counters.inc('OutRsts');
  c.env.transmit(c, seg, note);
}

/**
 * The options of a SYN (tcp_syn_options: what the sysctls allow) or of a passive open's SYN-ACK
 * (tcp_synack_options: what the peer's SYN offered). A simultaneous open's SYN-ACK is the SYN
 * resent with ACK set (tcp_send_synack), so it carries the SYN's options, TS ecr the peer's
 * TS val if it sent one. Seen on 6.18 (drill --kernel, syn-sent/simultaneous-open.pkt).
 */
export function synOptions(c: TcpConn, synAck: boolean, cookieTs?: number): TcpOption[] {
  const cfg = c.env.cfg;
  const negotiated = synAck && c.listener !== null;
  const ts = negotiated ? c.tsOk : cfg.tcp_timestamps !== 0;
  const sack = negotiated ? c.sackOk : cfg.tcp_sack !== 0;
  const ws = negotiated ? c.wscaleOk : cfg.tcp_window_scaling !== 0;
  return linuxSynOptions({
    mss: c.advMss,
    sackPermitted: sack,
    timestamp: ts ? { val: cookieTs ?? tsNow(c), ecr: synAck ? c.tsRecent : 0 } : undefined,
    wscale: ws ? c.rcvWscale : undefined,
  });
}

export function sendSyn(c: TcpConn, note?: string): void {
  const win = initialWindow(c);
  c.rcvWnd = win;
  c.env.transmit(c, segment(c, SYN, c.iss, 0, synWindowField(win), synOptions(c, false), EMPTY), note);
  if (c.sndMax === c.iss) c.sndMax = seqAdd(c.iss, 1);
  c.sndNxt = seqAdd(c.iss, 1);
}

/** `cookieTs`: a cookie SYN-ACK's TS val (cookie_init_timestamp plus the offset). */
export function sendSynAck(c: TcpConn, note?: string, cookieTs?: number): void {
  let win = initialWindow(c);
  if (c.listener && c.tsOk) {
    // tcp_openreq_init_rwin: a passive open quantizes its window to the MSS less the
    // timestamp option (1448), so Linux's SYN-ACK offers 65160, not 64240 (observed:
    // test/fixtures/linux/ipv4-connection.pcap); the child starts with rcv_ssthresh = that
    // window (tcp_create_openreq_child). A simultaneous-open SYN-ACK keeps the SYN's window.
    win = selectInitialWindow(c, c.advMss - 12);
    c.rcvSsthresh = win;
  }
  c.rcvWnd = win;
  c.rcvWup = c.rcvNxt;
  c.env.transmit(c, segment(c, SYN | ACK, c.iss, c.rcvNxt, synWindowField(win), synOptions(c, true, cookieTs), EMPTY), note);
  c.sndNxt = seqAdd(c.iss, 1);
  if (!seqGt(c.sndMax, c.iss)) c.sndMax = c.sndNxt;
}

/**
 * cookie_v4_check "redo what tcp_v4_send_synack did": the child of a cookie gets its window from
 * tcp_select_initial_window with the cookie's MSS (not the MSS less the timestamp option, as
 * tcp_openreq_init_rwin), and rcv_ssthresh that window.
 */
export function cookieInitRwin(c: TcpConn, mss: number): void {
  const win = selectInitialWindow(c, mss);
  c.rcvWnd = win;
  c.rcvSsthresh = win;
}

/** tcp_notsent_lowat: the socket's TCP_NOTSENT_LOWAT, else net.ipv4.tcp_notsent_lowat (as a u32). */
const notsentLowat = (c: TcpConn): number => (c.opts.notsentLowat ?? 0) >>> 0 || c.env.cfg.tcp_notsent_lowat;

/** Bytes queued and never sent (write_seq - snd_nxt; Linux's snd_nxt is our SND.MAX). */
const notsentBytes = (c: TcpConn): number => (seqLt(c.sndMax, c.writeSeq) ? (c.writeSeq - c.sndMax) >>> 0 : 0);

/**
 * tcp_stream_memory_free: fewer unsent bytes than TCP_NOTSENT_LOWAT. `wake` (poll, and waking a
 * blocked writer) asks for half of it, as (notsent_bytes << wake) < lowat does.
 */
export function streamMemoryFree(c: TcpConn, wake: 0 | 1): boolean {
  const lowat = notsentLowat(c);
  return lowat >= 0xffffffff || notsentBytes(c) * (1 + wake) < lowat;
}

/**
 * How much of a write of `len` bytes TCP_NOTSENT_LOWAT lets in (tcp_sendmsg_locked): the unsent
 * tail segment is filled without a check, and each new segment (of one MSS, the size goal)
 * needs sk_stream_memory_free first. Observed on 6.18 with lowat 1000 and a closed window:
 * writes of 600 take 600, 600, then 248 (the tail is full at 1448), then EAGAIN.
 */
export function notsentAllowance(c: TcpConn, len: number): number {
  const lowat = notsentLowat(c);
  if (lowat >= 0xffffffff) return len;
  const notsent = notsentBytes(c);
  const mss = c.mssCache;
  const tail = notsent % mss ? mss - (notsent % mss) : 0;
  const after = notsent + tail;
  const fresh = after < lowat ? Math.ceil((lowat - after) / mss) * mss : 0;
  return Math.min(len, tail + fresh);
}

/** Arms the retransmission timer unless already armed (RFC 6298 §5.1). */
export function armRto(c: TcpConn, kind: 'retransmit' | 'syn-retransmit' | 'synack-retransmit' = 'retransmit'): void {
  if (c.rtxDeadline !== Infinity && c.rtxKind !== 'persist') return;
  c.rtxKind = kind;
  c.rtxDeadline = c.env.now() + rtoBackoff(c);
}

/** States in which data and FIN may be (re)sent. */
const canSend = (s: TcpState): boolean =>
  s === TcpState.ESTABLISHED || s === TcpState.CLOSE_WAIT || s === TcpState.FIN_WAIT1 ||
  s === TcpState.CLOSING || s === TcpState.LAST_ACK;

/** tcp_packets_in_flight: packets_out - (sacked_out + lost_out) + retrans_out. */
export function packetsInFlight(c: TcpConn): number {
  const L = c.lossIfAny;
  if (L === null) return 0;
  const q = L.q;
  // tcp_left_out: sacked_out is, without SACK, the duplicate ACKs counted by tcp_add_reno_sack
  // (6.18, no sackOK: after a partial ACK in Recovery one more duplicate ACK let the next hole
  // be retransmitted at once, PRR having room for it).
  return q.length - ((c.sackOk ? q.sackedOut : L.renoSacked) + q.lostOut) + q.retransOut;
}

/**
 * The payload one TSO packet may carry: whole segments of `mss` within an IP packet of 65535
 * bytes (GSO_LEGACY_MAX_SIZE; tcp_xmit_size_goal), so 45 segments of 1448 at MTU 1500.
 */
function gsoPayloadMax(c: TcpConn, mss: number): number {
  const headers = (c.v6 ? 40 : 20) + 20 + (c.tsOk ? 12 : 0);
  const most = Math.min(c.env.gsoMaxSize, 65535) - headers;
  return most >= 2 * mss ? Math.floor(most / mss) * mss : 0;
}

/**
 * How many full segments from seq go in one pass with TSO (at least the one already tested):
 * those the unsent data holds without reaching a queued FIN, the offered window (ending at
 * wndEnd) and cwnd's quota take, and `room` bytes of the packet hold, ending at the first
 * segment a PSH mark falls in (the flag goes on a packet's last segment only).
 */
function tsoSegs(c: TcpConn, seq: number, mss: number, unsent: number, wndEnd: number, room: number): number {
  let n = Math.floor(unsent / mss);
  if (c.finQueued && n * mss === unsent) n--; // that one carries the FIN: sent alone
  n = Math.min(n, Math.floor(((wndEnd - seq) | 0) / mss), c.cwnd - packetsInFlight(c), Math.floor(room / mss));
  if (n <= 1) return 1;
  const m = firstPushMark(c, seq, (seq + n * mss) | 0);
  return m === null ? n : Math.max(1, Math.ceil(((m - seq) | 0) / mss));
}

/**
 * A data segment may share a TSO packet when its options are what every segment of the packet
 * would carry: timestamps or nothing. A pending SACK or D-SACK block goes on one segment alone
 * (tcp_established_options sends a D-SACK once), so such a segment is sent by itself.
 */
const gsoSegmentOk = (c: TcpConn): boolean => !(c.sackOk && (c.rcvSacks.length || c.dsack));

/**
 * The TSO packet tcp_write_xmit is building: bytes [off, off + len) of the send queue from SND.UNA,
 * starting at seq. One for all connections (nothing is sent while it fills), emptied before
 * tcpOutput returns.
 */
const TSO = { seq: 0, off: 0, len: 0, flags: 0, note: undefined as string | undefined };

function flushTso(c: TcpConn, mss: number): void {
  const b = TSO;
  const n = b.len;
  b.len = 0;
  transmitWithAck(c, b.flags, b.seq, c.sndBuf.view(b.off, n), b.note, n > mss ? mss : 0);
}

/**
 * tcp_write_xmit: sends as much queued data (and the FIN after it) as the peer's window,
 * cwnd (in packets, tcp_cwnd_test) and Nagle allow, each segment entering the retransmission
 * queue; then schedules a tail loss probe. With nothing in flight and the window closed, arms
 * the persist timer. `corked`: this push holds a sub-MSS tail as TCP_CORK does (MSG_MORE,
 * tcpPush). `pushOne`: tcp_send_loss_probe's one segment, past Nagle and without scheduling
 * another probe (push_one 2). Returns the segments sent.
 */
export function tcpOutput(c: TcpConn, corked = false, pushOne = false): number {
  if (!canSend(c.state)) return 0;
  const mss = c.mssCache;
  let sent = 0;
  // Linux calls tcp_write_xmit only with never-sent data (a send head); it keeps the rwnd chrono.
  const newData = writeQueued(c);
  let rwndLimited = false;
  // TSO/GSO (a device that takes super-packets, env.gsoMaxSize): consecutive segments of this
  // pass go out as one packet of gso_size mss, as tcp_write_xmit hands a TSO skb to the device.
  // Each MSS is still its own entry in the retransmission queue with its own counters, as with
  // gso_max_segs 1: only the packet on the wire differs, and tcp_gso_segment cuts it back into
  // exactly the segments sent one by one (PSH on the last, the same options and window).
  const gsoMax = c.env.gsoMaxSize > 0 ? gsoPayloadMax(c, mss) : 0;
  const batch = TSO;
  batch.len = 0;
  while (true) {
    // Sequence numbers as stored (int32), compared mod 2^32: no boxed number per pass.
    const dataEnd = c.writeSeq32;
    const nxt = c.sndNxt32;
    const unsent = seqLt(nxt, dataEnd) ? (dataEnd - nxt) >>> 0 : 0;
    const finToSend = c.finQueued && nxt === dataEnd;
    if (unsent === 0 && !finToSend) break;
    const wndEnd = (c.sndUna32 + c.sndWnd) | 0;
    let len = Math.min(unsent, mss);
    const fin = c.finQueued && ((nxt + len) | 0) === dataEnd;
    // tcp_cwnd_test (in packets, before the window: a segment held by both is cwnd limited),
    // then tcp_snd_wnd_test: the first MSS (FIN included) must fit in the offered window.
    const cwndFull = packetsInFlight(c) >= c.cwnd;
    if (seqGt((nxt + len + (fin && unsent <= mss ? 1 : 0)) | 0, wndEnd)) {
      rwndLimited = !cwndFull;
      break;
    }
    // tcp_write_xmit with push_one == 2 (the loss probe): "Force out a loss probe pkt" with a
    // quota of one even when cwnd is full (6.18: 10 segments out, cwnd 10, the probe was the
    // unsent 11th at 2·SRTT + 2 jiffies).
    if (cwndFull && !pushOne) break;
    const inFlight = (nxt - c.sndUna32) >>> 0;
    if (!pushOne) {
      // Nagle with Minshall's variant (tcp_nagle_check): hold a small segment while an
      // earlier small one is unacknowledged; a FIN-bearing segment is never held.
      // tcp_minshall_check: after(snd_sml, snd_una) && !after(snd_sml, snd_nxt), so a snd_sml
      // that no small segment has set yet (0) never holds anything, whatever the ISN.
      if (len < mss && !fin && !c.opts.nodelay && inFlight > 0 && seqGt(c.sndSml, c.sndUna32) && !seqGt(c.sndSml, nxt)) break;
      // tcp_nagle_check with TCP_NAGLE_CORK (TCP_CORK, or MSG_MORE for this write's push): the
      // sub-MSS tail waits whatever is in flight. With nothing in flight the persist timer is
      // armed (tcp_check_probe_timer) and tcp_write_wakeup sends it with PSH when it fires
      // (observed on 6.18: 100 corked bytes left after one RTO, 204 ms on lo).
      if (len < mss && !fin && (corked || c.opts.cork)) break;
    }
    if (len > unsent) len = unsent;
    const seq = nxt;
    const priorPackets = c.lossIfAny?.q.length ?? 0;
    // Labels for the timeline: new data that PRR (RFC 6937) clocks out during a reduction.
    const note = inCwndReduction(c) ? 'new data (PRR)' : undefined;
    const tso = gsoMax !== 0 && len !== 0 && !fin && !pushOne && gsoSegmentOk(c);
    if (tso && batch.len && batch.len + len > gsoMax) flushTso(c, mss);
    // With TSO, every further full segment the same tests let through goes in this pass too
    // (tcp_write_xmit takes a TSO skb as far as tcp_cwnd_test's quota and tcp_mss_split_point's
    // window allow): `segs` segments of len, the last one taking any PSH. Not modelled, and not
    // compared with a kernel: tcp_tso_should_defer, by which Linux may hold a part of a TSO
    // frame for more ACKs; here what is allowed goes at once (every lab host has no offloads).
    const segs = tso && len === mss ? tsoSegs(c, seq, mss, unsent, wndEnd, gsoMax - batch.len) : 1;
    const chunk = segs * len;
    let flags = fin ? FIN : 0;
    if (len && pshIn(c, seq, (seq + chunk) | 0)) flags |= PSH;
    if (tso) {
      // TSO: the segments join the packet being built, which goes out when the next segment
      // cannot join it, it is full, or the loop ends. Everything else below stays per segment.
      if (!batch.len) {
        batch.seq = seq;
        batch.off = inFlight;
      }
      batch.len += chunk;
      batch.flags = flags;
      batch.note = note;
      caDataSent(c); // tcp_event_data_sent
      for (let i = 0; i < segs; i++) ackSent(c);
      if (flags & PSH || len < mss) flushTso(c, mss);
    } else {
      if (batch.len) flushTso(c, mss);
      sendWithAck(c, flags, seq, len ? c.sndBuf.view(inFlight, len) : EMPTY, note);
    }
    const now = c.env.now();
    if (len) {
      c.lsndtime = now;
      c.lastDataSent = now;
      c.dataSegsOut += segs;
      if (len < mss) c.sndSml = seqAdd(seq, len);
      // Linux enters pingpong (interactive) mode when it replies within ato of receiving data.
      if (now - c.lrcvtime < c.ato) c.pingpong = true;
      c.env.counters.v.TCPOrigDataSent += segs;
      c.bytesSent += chunk;
    }
    // tcp_event_new_data_sent: each segment joins the retransmission queue; the RTO is armed
    // when it is the only one in flight, or in place of a pending loss probe (tcp_rearm_rto).
    const q = c.loss.q;
    for (let i = 1; i < segs; i++) q.pushSent((seq + (i - 1) * len) | 0, (seq + i * len) | 0, now, false);
    const end = (seq + chunk + (fin ? 1 : 0)) | 0; // int32, as stored
    c.sndNxt = end;
    if (seqGt(end, c.sndMax)) c.sndMax = end;
    q.pushSent((seq + chunk - len) | 0, end, now, fin);
    if (priorPackets === 0 || (c.rtxKind === 'loss-probe' && c.rtxDeadline !== Infinity)) rearmRto(c);
    sent += segs;
    if (fin || pushOne) break;
  }
  if (batch.len) flushTso(c, mss);
  if (newData) {
    if (rwndLimited) chronoStart(c, Chrono.RwndLimited);
    else chronoStop(c, Chrono.RwndLimited);
    // tcp_write_xmit: is_cwnd_limited once the packets in flight fill cwnd.
    const isCwndLimited = packetsInFlight(c) >= c.cwnd;
    if (sent || isCwndLimited) cwndValidate(c, isCwndLimited);
  }
  if (!sent) checkProbeTimer(c);
  else {
    if (inCwndReduction(c)) c.loss.prrOut += sent;
    // "Send one loss probe per tail loss episode" (tcp_write_xmit).
    if (!pushOne) scheduleLossProbe(c, false);
    // tcp_check_space: unsent bytes fell, TCP_NOTSENT_LOWAT may let a writer go on.
    if (c.opts.notsentLowat || c.env.cfg.tcp_notsent_lowat < 0xffffffff) c.env.notify(c, 'writable');
  }
  return sent;
}

/**
 * tcp_rto_delta_us: how far in the future the RTO would fire, counted from the last
 * transmission of the head of the retransmission queue.
 */
function rtoDeltaUs(c: TcpConn): number {
  const L = c.lossIfAny;
  if (L === null || L.q.length === 0) return rtoBackoff(c);
  return L.q.time(0) + rtoBackoff(c) - c.env.now();
}

/**
 * tcp_rearm_rto: stops the retransmission timer with nothing in flight, else arms the RTO from
 * now, or, replacing a loss probe or the reordering timer, from the head's last transmission.
 */
export function rearmRto(c: TcpConn): void {
  if ((c.lossIfAny?.q.length ?? 0) === 0 && c.flight === 0) {
    if (c.rtxKind !== 'persist') c.rtxDeadline = Infinity;
    return;
  }
  let rto = rtoBackoff(c);
  if (c.rtxDeadline !== Infinity && (c.rtxKind === 'loss-probe' || c.rtxKind === 'rack-reorder')) rto = Math.max(rtoDeltaUs(c), 1);
  c.rtxKind = 'retransmit';
  c.rtxDeadline = c.env.now() + rto;
}

/**
 * tcp_schedule_loss_probe (RFC 8985 §7.2): with tcp_early_retrans 3 or 4, SACK, data in
 * flight and the CA state Open or CWR, the retransmission timer becomes a probe timer of
 * 2 x SRTT plus, with one packet out, TCP_RTO_MIN (room for a delayed ACK), else TCP_TIMEOUT_MIN
 * (2 jiffies); 1 s without an RTT sample; never later than the RTO. Seen on 6.18 (HZ 250):
 * SRTT 100 ms, two packets -> the probe 207-208 ms after the send; SRTT 50 ms -> 105-107 ms;
 * 33 ms -> 75 ms; one packet at 100 ms -> the RTO's 300 ms comes first (310 ms on the wheel).
 */
export function scheduleLossProbe(c: TcpConn, advancingRto: boolean): boolean {
  const L = c.lossIfAny;
  const er = c.env.cfg.tcp_early_retrans;
  if ((er !== 3 && er !== 4) || L === null || L.q.length === 0 || !c.sackOk ||
    (L.caState !== CaState.Open && L.caState !== CaState.CWR)) return false;
  const hz = c.env.cfg.hz;
  let timeout: number;
  if (c.srtt) {
    timeout = roundUpToJiffies(2 * c.srtt, hz);
    timeout += L.q.length === 1 ? roundUpToJiffies(c.env.cfg.tcp_rto_min_us, hz) : TCP_TIMEOUT_MIN_JIFFIES * jiffyUs(hz);
  } else timeout = TCP_TIMEOUT_INIT_US;
  const rtoDelta = advancingRto ? rtoBackoff(c) : rtoDeltaUs(c);
  if (rtoDelta > 0) timeout = Math.min(timeout, roundUpToJiffies(rtoDelta, hz));
  // tcp_reset_xmit_timer -> inet_csk_reset_xmit_timer clamps `when` to TCP_RTO_MAX: with the
  // RTO already due (rtoDelta <= 0) and a huge SRTT, 2 x SRTT would otherwise reach past it
  // (the soak's seeds 67214 and 77008: a probe 128.6 s ahead).
  timeout = Math.min(timeout, c.env.cfg.tcp_rto_max_us);
  c.rtxKind = 'loss-probe';
  c.rtxDeadline = c.env.now() + timeout;
  return true;
}

/** TCP_TIMEOUT_INIT: 1 s. */
const TCP_TIMEOUT_INIT_US = 1_000_000;

/**
 * tcp_retransmit_skb (with __tcp_retransmit_skb): resends entry i of the retransmission queue,
 * cut to what is left of the peer's window (the head goes even with none: after a receiver shrank
 * its window to zero it doubles as a window probe), the rest split off as tcp_fragment does.
 * `probe`: the tail loss probe's retransmission, which Linux sends with __tcp_retransmit_skb
 * alone (EVER_RETRANS, but neither SACKED_RETRANS nor retrans_stamp). Returns false when the
 * window leaves nothing to send.
 */
export function retransmitSkb(c: TcpConn, i: number, note: string, probe = false): boolean {
  const L = c.loss;
  const q = L.q;
  const seq = q.seq(i);
  const end = q.end(i);
  const f = q.flags(i);
  const finSeg = (f & SK_FIN) !== 0;
  let len = ((end - seq) >>> 0) - (finSeg ? 1 : 0);
  const mss = c.mssCache;
  let avail = (seqAdd(c.sndUna, c.sndWnd) - seq) | 0;
  if (avail <= 0) {
    if (seq !== c.sndUna) return false;
    avail = mss;
  }
  if (len > mss || len > avail) {
    let cut = Math.min(len, mss);
    if (cut > avail) cut = Math.floor(avail / mss) * mss || avail;
    if (!fragmentAllowed(c, i)) return false; // tcp_fragment -ENOMEM: nothing is sent
    q.split(i, seqAdd(seq, cut));
    len = cut;
  }
  const fin = finSeg && len === ((q.end(i) - seq) >>> 0) - 1;
  const payload = len ? c.sndBuf.view((seq - c.sndUna) >>> 0, len) : EMPTY;
  let flags = fin ? FIN : 0;
  if (len && pshIn(c, seq, seqAdd(seq, len))) flags |= PSH; // the skb's own PSH
  sendWithAck(c, flags, seq, payload, note);
  const now = c.env.now();
  q.setTime(i, q.stamp(now));
  c.totalRetrans++;
  c.bytesRetrans += len;
  c.env.counters.inc('RetransSegs');
  const nf = q.flags(i) | SK_EVER_RETRANS;
  if (probe) q.setFlags(i, nf);
  else {
    q.setFlags(i, nf | SK_RETRANS);
    // "Save stamp of the first (attempted) retransmit": the loss episode's start.
    if (c.retransStamp === 0) c.retransStamp = now;
    // tcp_retransmit_skb counts every retransmission in undo_retrans (-1, "nothing to wait
    // for", becomes 0 first), so D-SACKs of all of them undo the episode (6.18: a fast
    // retransmit sent after tcp_init_undo found none in flight, then its D-SACK: cwnd 6 -> 10).
    const L = c.loss;
    if (L.undoRetrans < 0) L.undoRetrans = 0;
    L.undoRetrans++;
  }
  return true;
}

/**
 * tcp_xmit_retransmit_queue: resends the segments marked lost, in order, while cwnd has room
 * over the packets in flight; the RTO restarts when the head went (unless RACK's timer runs).
 */
export function xmitRetransmitQueue(c: TcpConn): void {
  const L = c.lossIfAny;
  if (L === null || L.q.length === 0 || !canSend(c.state)) return;
  const q = L.q;
  let rearm = false;
  for (let i = 0; i < q.length; i++) {
    if (c.cwnd - packetsInFlight(c) <= 0) break;
    if (q.retransOut >= q.lostOut) break;
    const f = q.flags(i);
    if (!(f & SK_LOST)) continue;
    if (f & (SK_SACKED | SK_RETRANS)) continue;
    // Labels for the timeline: what marked the segment lost (RACK, or duplicate ACKs without SACK).
    const note = L.caState === CaState.Loss ? 'retransmission (RTO recovery)'
      : !c.sackOk ? 'fast retransmission (NewReno)' : c.env.cfg.tcp_recovery & 1 ? 'fast retransmission (RACK)' : 'fast retransmission';
    if (!retransmitSkb(c, i, note)) break;
    c.env.counters.inc(L.caState === CaState.Loss ? 'TCPSlowStartRetrans' : 'TCPFastRetrans');
    if (inCwndReduction(c)) L.prrOut++;
    if (i === 0 && c.rtxKind !== 'rack-reorder') rearm = true;
  }
  if (rearm) {
    c.rtxKind = 'retransmit';
    c.rtxDeadline = c.env.now() + rtoBackoff(c);
  }
}

/**
 * tcp_push at the end of a write (queueWrite has marked PSH): MSG_MORE holds a sub-MSS tail for
 * this push as TCP_CORK would (nonagle = TCP_NAGLE_CORK). Later pushes (an ACK arriving) use
 * the socket's own Nagle/cork.
 * Observed on 6.18 (gso_max_segs 1 on lo): send(3000, MSG_MORE) sends 1448 and 1448 without
 * PSH and holds 104; the ACKs release it, without PSH.
 */
export function tcpPush(c: TcpConn, more: boolean): void {
  tcpOutput(c, more);
}

/**
 * tcp_write_wakeup with an open but small window: send what fits (at most one MSS) with PSH,
 * even below the sender-side SWS rule that held it back. Returns the bytes sent.
 */
export function sendWindowFill(c: TcpConn): number {
  const wndEnd = seqAdd(c.sndUna, c.sndWnd);
  const unsent = seqLt(c.sndNxt, c.writeSeq) ? (c.writeSeq - c.sndNxt) >>> 0 : 0;
  const room = seqLt(c.sndNxt, wndEnd) ? (wndEnd - c.sndNxt) >>> 0 : 0;
  const len = Math.min(room, c.mssCache, unsent);
  if (len <= 0) return 0;
  const seq = c.sndNxt;
  const fin = c.finQueued && seqAdd(seq, len) === c.writeSeq && len < room;
  markWindowProbe(c, len); // tcp_write_wakeup marks the skb PSH
  sendWithAck(c, PSH | (fin ? FIN : 0), seq, c.sndBuf.view((seq - c.sndUna) >>> 0, len), 'window probe with data');
  c.env.counters.v.TCPOrigDataSent++;
  c.bytesSent += len;
  c.lsndtime = c.lastDataSent = c.env.now();
  c.sndNxt = seqAdd(seq, len + (fin ? 1 : 0));
  if (seqGt(c.sndNxt, c.sndMax)) c.sndMax = c.sndNxt;
  c.loss.q.pushSent(seq, c.sndNxt, c.env.now(), fin);
  c.rtxDeadline = Infinity;
  rearmRto(c); // tcp_event_new_data_sent
  return len;
}

/** Data or our FIN queued and not yet sent (tcp_send_head(sk) != NULL). */
export function sendQueued(c: TcpConn): boolean {
  return seqLt(c.sndNxt, c.writeSeq) || (c.finQueued && c.sndNxt === c.writeSeq);
}

/**
 * tcp_snd_wnd_test on the send head: its first MSS (with the FIN when that ends the queue) fits
 * the peer's window. For a connection with something queued (sendQueued).
 */
export function sendHeadFits(c: TcpConn): boolean {
  const unsent = seqLt(c.sndNxt, c.writeSeq) ? (c.writeSeq - c.sndNxt) >>> 0 : 0;
  const len = Math.min(unsent, c.mssCache);
  const fin = c.finQueued && len === unsent;
  return !seqGt(seqAdd(c.sndNxt, len + (fin ? 1 : 0)), seqAdd(c.sndUna, c.sndWnd));
}

/** tcp_check_probe_timer: nothing in flight, data or FIN waiting on the window. */
export function checkProbeTimer(c: TcpConn): void {
  if (c.sndNxt32 === c.sndUna32 && c.sndMax32 === c.sndUna32 && sendQueued(c) && c.rtxDeadline === Infinity) {
    c.rtxKind = 'persist';
    c.rtxDeadline = c.env.now() + probe0When(c);
  }
}

/** The SYN or SYN-ACK again (their retransmission timer, or a duplicate SYN). */
export function retransmitSyn(c: TcpConn, note: string): void {
  if (c.state === TcpState.SYN_SENT) sendSyn(c, note);
  else if (c.state === TcpState.SYN_RECV) sendSynAck(c, note);
}

/** Schedules the ACK for received data: at once, or after the delayed-ACK timeout. */
export function scheduleAck(c: TcpConn, now: boolean): void {
  if (now) {
    sendAck(c);
    return;
  }
  c.ackPending = true;
  if (c.delackDeadline === Infinity) c.delackDeadline = c.env.now() + delackTimeout(c);
}

/**
 * tcp_send_delayed_ack: the timeout is ato (40 ms after the first data); above 40 ms it is
 * bounded by 200 ms in pingpong mode (500 ms otherwise) and by the smoothed RTT (at least
 * 40 ms). Before any data ato is 0 and Linux's timer fires on the next jiffy (HZ=250).
 */
export function delackTimeout(c: TcpConn): number {
  let ato = c.ato;
  if (ato > 40_000) {
    let maxAto = c.pingpong ? 200_000 : 500_000;
    if (c.srtt) maxAto = Math.min(maxAto, Math.max(Math.round(c.srtt), 40_000));
    ato = Math.min(ato, maxAto);
  }
  // ato 0: the next jiffy; the kernel here ACKed a FIN that followed no data after 1-3 ms.
  return ato > 0 ? ato : 2_000;
}

/** Reads consumed buffer space: Linux tcp_cleanup_rbuf sends a window update when the window doubles. */
export function windowUpdateAfterRead(c: TcpConn): void {
  if (c.state !== TcpState.ESTABLISHED && c.state !== TcpState.FIN_WAIT1 && c.state !== TcpState.FIN_WAIT2) return;
  const cur = Math.max(0, (c.rcvWup + c.rcvWnd - c.rcvNxt) | 0);
  if (2 * cur <= (c.windowClamp || fullSpace(c))) {
    const f = freeWindow(c);
    if (f && f >= 2 * cur) sendAck(c, 'window update');
  }
}
