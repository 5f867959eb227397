// The transmission control block: one connection's variables, named as RFC 9293 and Linux
// name them. Behaviour lives beside it by concern: input.ts (segment arrival), output.ts
// (what is sent and when), timers.ts, timewait.ts, congestion.ts.

import type { HostConfig } from '../base/config.ts';
import type { Counters } from '../base/counters.ts';
import type { ErrnoCode } from '../base/errno.ts';
import { connLabel, type TraceEvent } from '../base/trace.ts';
import type { TcpRepr } from '../wire/types.ts';
import { deadlineIn, deadlineOut, taggedFields } from './storage.ts';
import { TcpTimer, type RtxKind } from './timer.ts';
import { ByteRing, SegmentQueue, skbTailroom, skbTruesize } from './buffer.ts';
import { CaState, LossState } from './rtxqueue.ts';
import { connKey, keyLocalAddr, keyLocalPort, keyRemoteAddr, keyRemotePort } from './key.ts';
import { TcpState, STATE_NAMES } from './states.ts';

/** enum tcp_chrono: TCP_CHRONO_UNSPEC, _BUSY, _RWND_LIMITED, _SNDBUF_LIMITED (the running one is the TCB's; chrono.ts). */
export const Chrono = { Unspec: 0, Busy: 1, RwndLimited: 2, SndbufLimited: 3 } as const;
export type Chrono = (typeof Chrono)[keyof typeof Chrono];

/** What a connection needs from its host: the imperative edge of the pure core. */
export interface ConnEnv {
  readonly cfg: HostConfig;
  readonly counters: Counters;
  readonly name: string;
  now(): number;
  /**
   * Sends a segment from this connection's 4-tuple (builds IP, checksums, traces, counts).
   * `gsoSize` > 0: a TSO packet whose payload is segments of that size (see gsoMaxSize).
   */
  transmit(conn: TcpConn, seg: TcpRepr, note?: string, gsoSize?: number): void;
  /**
   * The largest TSO/GSO packet the device takes (its gso_max_size), or 0: the device takes
   * single segments only (as gso_max_segs 1), and TCP sends every segment on its own.
   */
  readonly gsoMaxSize: number;
  trace(ev: TraceEvent): void;
  /** Someone listens to trace(): events (and their labels) are worth building. */
  readonly tracing: boolean;
  /** Re-arms the connection's single wheel entry at conn.nextDeadline(). */
  reschedule(conn: TcpConn): void;
  /** The connection leaves the demux table (CLOSED), or hands its 4-tuple to a TIME_WAIT entry. */
  release(conn: TcpConn): void;
  /** tcp_time_wait's minisock: TIME_WAIT for its own length, or FIN_WAIT2 for timeoutUs. */
  enterTimeWait(conn: TcpConn, substate: 'TIME_WAIT' | 'FIN_WAIT2', timeoutUs: number): boolean;
  /** Host-wide challenge ACK budget (tcp_challenge_ack_limit per second). */
  challengeBudget(): boolean;
  /** Wakes the application (readable, writable, connected, error, closed). */
  notify(conn: TcpConn, what: ConnEvent): void;
  /** Runs fn after the current segment or timer has been processed (application context). */
  defer(fn: () => void): void;
  /** sock_orphan: the owner closed; the connection counts towards tcp_max_orphans until it ends. */
  orphan(conn: TcpConn): void;
  /** tcp_too_many_orphans: the orphan count last cached (every 100 ms), << shift, above tcp_max_orphans. */
  tooManyOrphans(shift?: number): boolean;
  /** tcp_memory_allocated, in pages (tcp_mem's unit). */
  memoryAllocated(): number;
  /** tcp_memory_pressure: set above tcp_mem[1], cleared below tcp_mem[0]. */
  memoryPressure(): boolean;
  /** sk_rmem_schedule: may the host charge `truesize` more to this connection's receive memory (tcp_mem)? */
  rmemSchedule(conn: TcpConn, truesize: number): boolean;
  /** A kernel log line (net_info_ratelimited), as a trace note. */
  kernelNote(text: string): void;
}

export type ConnEvent = 'connected' | 'readable' | 'writable' | 'error' | 'closed';

/** The application-side object that owns a connection (host/socket.ts). */
export interface ConnOwner {
  connEvent(what: ConnEvent): void;
}

/** The application-side object that owns a listener: its options are the children's. */
export interface ListenOwner {
  opts: SockOpts;
  emit(ev: 'connection'): void;
}

/** The listener that made a passive child (Listener, listen.ts): its SYN and accept queues. */
export interface ParentListener {
  readonly owner: ListenOwner;
  readonly addr: string;
  readonly port: number;
  backlog: number;
  readonly synQueue: Set<TcpConn>;
  readonly acceptQueue: TcpConn[];
}

export interface OfoSegment {
  seq: number;
  end: number; // seq + data length (FIN not included)
  data: Uint8Array;
  fin: boolean;
  /** The memory its skbs are charged (sum of their truesize; rmem.ts). */
  truesize: number;
  /** How many skbs hold it (a range of contiguous ones in Linux's rbtree) and the last one's tailroom. */
  skbs: number;
  tailroom: number;
}

export interface SockOpts {
  nodelay: boolean;
  keepalive: boolean;
  keepIdle: number; // s, 0 = host default
  keepIntvl: number;
  keepCnt: number;
  linger: { on: boolean; seconds: number };
  linger2: number; // TCP_LINGER2 seconds; 0 = tcp_fin_timeout; negative = RST at once
  userTimeoutMs: number; // TCP_USER_TIMEOUT, 0 = off
  quickack: boolean;
  reuseaddr: boolean;
  rcvbuf: number;
  sndbuf: number;
  /** SO_SNDBUF was set: no autotuning (SOCK_SNDBUF_LOCK). */
  sndbufLocked?: boolean;
  /** TCP_MAXSEG (rx_opt.user_mss): clamps the MSS offered and the MSS used; 0 or absent = none. */
  userMss?: number;
  /** SO_RCVBUF was set (SOCK_RCVBUF_LOCK): the initial window and window scale follow it. */
  rcvbufLocked?: boolean;
  /** TCP_CORK (TCP_NAGLE_CORK in tp->nonagle): sub-MSS tails wait. */
  cork?: boolean;
  /** TCP_NOTSENT_LOWAT (tp->notsent_lowat): 0 or absent = net.ipv4.tcp_notsent_lowat. */
  notsentLowat?: number;
  /** TCP_INQ (tp->recvmsg_inq): recvmsg() reports the bytes left to read (TCP_CM_INQ). */
  recvmsgInq?: boolean;
  /** TCP_DEFER_ACCEPT on a listener, as a SYN-ACK retransmission count (rskq_defer_accept). */
  deferAccept?: number;
  /** TCP_CONGESTION (icsk_ca_ops' name): one of CONGESTION_CONTROLS; absent = the first. */
  congestion?: string;
}

export const defaultSockOpts = (cfg: HostConfig): SockOpts => ({
  nodelay: false,
  keepalive: false,
  keepIdle: 0,
  keepIntvl: 0,
  keepCnt: 0,
  linger: { on: false, seconds: 0 },
  linger2: 0,
  userTimeoutMs: 0,
  quickack: false,
  reuseaddr: false,
  rcvbuf: cfg.tcp_rmem[1],
  sndbuf: cfg.tcp_wmem[1],
});

let nextConnId = 1;

/**
 * The receive queue may hold a little more than SO_RCVBUF: the advertised window is rounded
 * up to the window-scale unit and never shrinks (RFC 7323 §2.4), and every byte inside it is
 * accepted, as Linux's looser memory accounting does.
 */
export const RCV_SLACK = 65536;

// The storage tricks (int32 sequence numbers, bit flags, -1 for no deadline, ConnRare) are
// explained once, in storage.ts.

const F_FIN_QUEUED = 1 << 0;
const F_FIN_RECEIVED = 1 << 1;
const F_WSCALE_OK = 1 << 2;
const F_SACK_OK = 1 << 3;
const F_TS_OK = 1 << 4;
const F_SYN_RETRANSMITTED = 1 << 5;
const F_ACK_PENDING = 1 << 7;
const F_ACK_NOW = 1 << 8;
const F_PINGPONG = 1 << 9;
const F_ORPHAN = 1 << 10;
const F_RCV_SHUTDOWN = 1 << 11;
const F_SND_SHUTDOWN = 1 << 12;
const F_DONE = 1 << 13;
const F_LINGERING = 1 << 14;
const F_ACCEPTED = 1 << 15;
const F_PASSIVE = 1 << 16;
const F_DEFER_ACKED = 1 << 18;

/** The receive memory state (autotune.ts RcvSpace): sk_rcvbuf, scaling_ratio, rcvq_space, rcv_rtt_est. */
export interface RcvSpace {
  rcvbuf: number;
  ratio: number;
  space: number;
  seq: number;
  time: number;
  rttUs: number;
  rttSeq: number;
  rttTime: number;
  lastTsecr: number;
  /** ICSK_ACK_NOMEM: in-order data was dropped for memory; the next ACK offers a zero window. */
  nomem: boolean;
  /** sk_forward_alloc + sk_rmem_alloc: the receive memory reserved from tcp_mem, whole pages (memory.ts). */
  reserved: number;
  /** pred_flags: the window field header prediction expects, -1 while the fast path is off (memory.ts). */
  predWnd: number;
}

/** Shared empty queues: replaced by a connection's own array on first insertion. */
export const NO_OFO: OfoSegment[] = [];
export const NO_SACKED: Array<[number, number]> = [];

/**
 * State an idle connection does not have: loss recovery, out-of-order data, data statistics,
 * the teardown. Allocated the first time one of these leaves its default (NO_RARE until then),
 * the way Linux allocates skbs and the SACK scoreboard only when there is data.
 */
class ConnRare {
  windowClamp: number = 0;
  rcvSpace: RcvSpace | null = null; // sk_rcvbuf, scaling_ratio, rcvq_space, rcv_rtt_est (autotune.ts)
  sndSml: number = 0; // end of the last small segment sent (Minshall's Nagle)
  ofo: OfoSegment[] = NO_OFO;
  dsack: [number, number] | null = null; // A D-SACK block (RFC 2883) for the next ACK, sent once (Linux rx_opt.dsack, duplicate_sack[0]).
  rcvSacks: Array<[number, number]> = NO_SACKED; // SACK blocks we send, most recent first (Linux selective_acks)
  backoff: number = 0;
  retransmits: number = 0; // consecutive timeouts of the head (icsk_retransmits)
  totalRetrans: number = 0;
  cwndCnt: number = 0; // congestion-avoidance counter (snd_cwnd_cnt)
  ssthresh: number = 0x7fffffff;
  loss: LossState | null = null; // the retransmission queue and loss recovery, from the first data sent
  quick: number = 0; // quickack segments left
  ato: number = 0; // icsk_ack.ato: 0 until the first data segment arrives
  delackDeadline: number = -1;
  finWait2Deadline: number = -1; // orphaned FIN_WAIT2 kept as a full socket (linger2 > 60 s)
  lingerDeadline: number = -1; // SO_LINGER {1, N}: close() gives up waiting
  lsndtime: number = 0; // last time data was sent
  softError: ErrnoCode | null = null; // sk_err, reported once
  lingerOwner: ConnOwner | null = null; // who gets 'closed' when that close() returns
  bytesSent: number = 0;
  bytesRetrans: number = 0;
  bytesAcked: number = 0;
  bytesReceived: number = 0;
  dataSegsOut: number = 0;
  dataSegsIn: number = 0;
  lastDataSent: number = 0;
  lastDataRecv: number = 0;
  chronoType: number = 0; // tcp_chrono (chrono.ts)
  chronoStart: number = 0; // jiffies
  chronoStat: [number, number, number] | null = null; // jiffies busy, rwnd limited, sndbuf limited
  maxPacketsOut: number = 0; // most segments out in the last window (tcp_cwnd_validate)
  isCwndLimited: boolean = false; // that window was cwnd-limited
  cwndUsageSeq: number = 0; // SND.MAX when they were recorded; a new window begins once acknowledged
  cwndUsed: number = 0; // snd_cwnd_used: most segments out while not cwnd-limited
  cwndStamp: number = 0; // snd_cwnd_stamp: jiffies when cwnd was last used in full or changed
  caPriv: object | null = null; // icsk_ca_priv: the congestion control's own state (cubic.ts Bictcp)
  push: PushMarks | null = null; // PSH marks and pushed_seq (push.ts), from the first write
}
/** PSH placement (push.ts): the ends of the skbs carrying PSH, ascending and unacknowledged, and tp->pushed_seq. */
export class PushMarks {
  ends: number[] = [];
  constructor(public pushedSeq: number) {}
}

const NO_RARE = new ConnRare(); // never written: the setters below copy on first write

taggedFields(new ConnRare(), ['lsndtime', 'lastDataSent', 'lastDataRecv', 'delackDeadline', 'finWait2Deadline', 'lingerDeadline']);

// The transmission control block's fields, by group. Each group is a named type that TcpConn
// implements: the groups read as types while the object stays flat (one hidden class, no
// pointer to chase per group on the per-segment path; storage.ts says how fields are packed).

/** The send sequence space (RFC 9293 §3.3.1) and the send queue. */
export interface SendSequence {
  iss: number;
  sndUna: number;
  sndNxt: number;
  /** The highest SND.NXT reached (Linux's snd_nxt): a retransmission timeout pulls sndNxt back. */
  sndMax: number;
  sndWnd: number;
  sndWl1: number;
  sndWl2: number;
  maxWindow: number;
  /** The sequence number after the last queued byte (Linux write_seq). */
  writeSeq: number;
  /** Which queued bytes end an skb carrying PSH, and pushed_seq (push.ts). */
  push: PushMarks | null;
  sndSml: number;
  readonly sndBuf: ByteRing;
  finQueued: boolean;
  readonly finSeq: number;
}

/** The receive sequence space, the receive and out-of-order queues, the window we offer. */
export interface ReceiveSequence {
  irs: number;
  rcvNxt: number;
  rcvWnd: number;
  rcvWup: number;
  rcvSsthresh: number;
  windowClamp: number;
  readonly rcvBuf: SegmentQueue;
  ofo: OfoSegment[];
  dsack: [number, number] | null;
  rcvSacks: Array<[number, number]>;
  finReceived: boolean;
}

/** What the handshake negotiated (RFC 7323, RFC 2018) and the segment sizes. */
export interface NegotiatedOptions {
  sndWscale: number;
  rcvWscale: number;
  wscaleOk: boolean;
  sackOk: boolean;
  tsOk: boolean;
  tsRecent: number;
  tsRecentStamp: number;
  tsOffset: number;
  advMss: number;
  peerMss: number;
  mssCache: number;
  rcvMss: number;
}

/** Round-trip estimation and retransmission (tcp_rtt_estimator, icsk_rto, icsk_backoff). */
export interface RttState {
  srtt: number;
  mdevUs: number;
  mdevMaxUs: number;
  rttvar: number;
  rttVarSeq: number;
  rto: number;
  backoff: number;
  retransmits: number;
  totalRetrans: number;
  retransStamp: number;
  rttTime: number;
  synRetransmitted: boolean;
}

/** Congestion control, counted in segments as snd_cwnd; loss recovery lives in LossState (rtxqueue.ts). */
export interface CongestionState {
  cwnd: number;
  cwndCnt: number;
  ssthresh: number;
  readonly caState: CaState;
  maxPacketsOut: number;
  isCwndLimited: boolean;
  cwndUsageSeq: number;
  cwndUsed: number;
  cwndStamp: number;
  caPriv: object | null;
}

/** Delayed ACK (icsk_ack). */
export interface DelayedAck {
  ackPending: boolean;
  ackNow: boolean;
  pingpong: boolean;
  quick: number;
  ato: number;
  lrcvtime: number;
  lastAckTime: number;
}

/** The timers: absolute µs deadlines, Infinity when off, and what they count. */
export interface ConnTimers {
  rtxDeadline: number;
  rtxKind: RtxKind;
  delackDeadline: number;
  keepaliveDeadline: number;
  finWait2Deadline: number;
  lingerDeadline: number;
  probesOut: number;
  rcvTstamp: number;
  lastOowAck: number;
}

/** The application's side: options, shutdown, the owner, the listener of a passive child. */
export interface Ownership {
  opts: SockOpts;
  orphan: boolean;
  rcvShutdown: boolean;
  sndShutdown: boolean;
  done: boolean;
  lingering: boolean;
  lingerOwner: ConnOwner | null;
  softError: ErrnoCode | null;
  listener: ParentListener | null;
  socket: ConnOwner | null;
  accepted: boolean;
  passive: boolean;
  deferAcked: boolean;
}

/** Counters for tcp_info and ss -i. */
export interface ConnStats {
  segsOut: number;
  segsIn: number;
  openedAt: number;
  lsndtime: number;
  lastAckRecv: number;
  bytesSent: number;
  bytesRetrans: number;
  bytesAcked: number;
  bytesReceived: number;
  dataSegsOut: number;
  dataSegsIn: number;
  lastDataSent: number;
  lastDataRecv: number;
}

/** A connection; it is also its own entry in the host's timer wheel (TcpTimer). */
export class TcpConn extends TcpTimer
  implements SendSequence, ReceiveSequence, NegotiatedOptions, RttState, CongestionState, DelayedAck, ConnTimers, Ownership, ConnStats {
  readonly uid = nextConnId++;
  state: TcpState = TcpState.CLOSED;
  private flags = F_ACCEPTED;
  private getF(f: number): boolean {
    return (this.flags & f) !== 0;
  }
  private setF(f: number, on: boolean): void {
    this.flags = on ? this.flags | f : this.flags & ~f;
  }

  // Addresses: read from the demux key, which holds the 4-tuple (key.ts).
  readonly key: string;
  get localAddr(): string { return keyLocalAddr(this.key); }
  get localPort(): number { return keyLocalPort(this.key); }
  get remoteAddr(): string { return keyRemoteAddr(this.key); }
  get remotePort(): number { return keyRemotePort(this.key); }
  get v6(): boolean {
    return this.localAddr.includes(':');
  }
  /** addr:port>addr:port, for traces; built on demand (connections are many, traces few). */
  get label(): string {
    return connLabel(this.localAddr, this.localPort, this.remoteAddr, this.remotePort);
  }

  // Send sequence space (RFC 9293 §3.3.1). sndMax is the highest SND.NXT reached, since a
  // retransmission timeout pulls sndNxt back to sndUna (go-back-N, as BSD and RFC 6582 do).
  private _iss = 0;
  get iss(): number { return this._iss >>> 0; }
  set iss(v: number) { this._iss = v | 0; }
  private _sndUna = 0;
  get sndUna(): number { return this._sndUna >>> 0; }
  set sndUna(v: number) { this._sndUna = v | 0; }
  /** sndUna as stored, an int32 (the same 32 bits): compare it mod 2^32 only. Never boxed. */
  get sndUna32(): number { return this._sndUna; }
  private _sndNxt = 0;
  get sndNxt(): number { return this._sndNxt >>> 0; }
  set sndNxt(v: number) { this._sndNxt = v | 0; }
  /** sndNxt as stored, an int32 (the same 32 bits): compare it mod 2^32 only. Never boxed. */
  get sndNxt32(): number { return this._sndNxt; }
  private _sndMax = 0;
  get sndMax(): number { return this._sndMax >>> 0; }
  set sndMax(v: number) { this._sndMax = v | 0; }
  /** sndMax as stored, an int32 (the same 32 bits): compare it mod 2^32 only. Never boxed. */
  get sndMax32(): number { return this._sndMax; }
  sndWnd = 0; // peer's window, already scaled
  private _sndWl1 = 0;
  get sndWl1(): number { return this._sndWl1 >>> 0; }
  set sndWl1(v: number) { this._sndWl1 = v | 0; }
  /** sndWl1 as stored, an int32 (the same 32 bits): compare it mod 2^32 only. Never boxed. */
  get sndWl132(): number { return this._sndWl1; }
  private _sndWl2 = 0;
  get sndWl2(): number { return this._sndWl2 >>> 0; }
  set sndWl2(v: number) { this._sndWl2 = v | 0; }
  maxWindow = 0; // largest window the peer offered
  /** Sequence number of the byte after the last queued byte (Linux write_seq). */
  private _writeSeq = 0;
  get writeSeq(): number { return this._writeSeq >>> 0; }
  set writeSeq(v: number) { this._writeSeq = v | 0; }
  /** writeSeq as stored, an int32 (the same 32 bits): compare it mod 2^32 only. Never boxed. */
  get writeSeq32(): number { return this._writeSeq; }
  readonly sndBuf: ByteRing;
  /** The application closed its write side. */
  get finQueued(): boolean { return this.getF(F_FIN_QUEUED); }
  set finQueued(v: boolean) { this.setF(F_FIN_QUEUED, v); }
  get finSeq(): number {
    return this.writeSeq; // the FIN takes the sequence number after the last data byte
  }

  // Receive sequence space.
  private _irs = 0;
  get irs(): number { return this._irs >>> 0; }
  set irs(v: number) { this._irs = v | 0; }
  private _rcvNxt = 0;
  get rcvNxt(): number { return this._rcvNxt >>> 0; }
  set rcvNxt(v: number) { this._rcvNxt = v | 0; }
  /** RCV.NXT as stored, an int32 (the same 32 bits): for comparisons mod 2^32 that must not box a number. */
  get rcvNxt32(): number { return this._rcvNxt; }
  rcvWnd = 0; // window last advertised (bytes)
  private _rcvWup = 0; // rcvNxt when rcvWnd was last advertised
  get rcvWup(): number { return this._rcvWup >>> 0; }
  set rcvWup(v: number) { this._rcvWup = v | 0; }
  /** RCV.WUP as stored, an int32 (see rcvNxt32). */
  get rcvWup32(): number { return this._rcvWup; }
  rcvSsthresh = 0; // Linux rcv_ssthresh: the window grows towards the buffer as data arrives
  readonly rcvBuf: SegmentQueue;
  /** Peer's FIN consumed into sequence space (EOF after the buffer). */
  get finReceived(): boolean { return this.getF(F_FIN_RECEIVED); }
  set finReceived(v: boolean) { this.setF(F_FIN_RECEIVED, v); }

  // Options negotiated (RFC 7323, RFC 2018).
  sndWscale = 0; // shift applied to the windows the peer sends
  rcvWscale = 0; // shift we apply to windows we send
  get wscaleOk(): boolean { return this.getF(F_WSCALE_OK); }
  set wscaleOk(v: boolean) { this.setF(F_WSCALE_OK, v); }
  get sackOk(): boolean { return this.getF(F_SACK_OK); }
  set sackOk(v: boolean) { this.setF(F_SACK_OK, v); }
  get tsOk(): boolean { return this.getF(F_TS_OK); }
  set tsOk(v: boolean) { this.setF(F_TS_OK, v); }
  private _tsRecent = 0;
  get tsRecent(): number { return this._tsRecent >>> 0; }
  set tsRecent(v: number) { this._tsRecent = v | 0; }
  tsRecentStamp = 0; // µs when tsRecent was taken
  private _tsOffset = 0; // per-connection random TS offset (Linux 4.10+)
  get tsOffset(): number { return this._tsOffset >>> 0; }
  set tsOffset(v: number) { this._tsOffset = v | 0; }
  advMss = 1460; // MSS we announce
  peerMss = 536; // MSS the peer announced (536 for IPv4 / 1220 IPv6 without the option)
  mssCache = 536; // effective send MSS (payload bytes, options deducted)
  rcvMss = 536; // estimate of the peer's segment size (icsk_ack.rcv_mss)

  // Round-trip and retransmission (RFC 6298 as Linux computes it, tcp_rtt_estimator).
  srtt = 0; // µs, 0 = no sample yet
  mdevUs = 0; // Linux mdev_us: 4 x mean deviation
  /** µs, mean deviation (tcpi_rttvar). */
  get mdev(): number {
    return this.mdevUs / 4;
  }
  mdevMaxUs = 0; // largest mdev_us in the current RTT
  rttvar = 0; // Linux rttvar_us, at least rto_min
  private _rttVarSeq = 0; // Linux rtt_seq: when SND.UNA passes it, an RTT has gone by
  get rttVarSeq(): number { return this._rttVarSeq >>> 0; }
  set rttVarSeq(v: number) { this._rttVarSeq = v | 0; }
  rto = 1_000_000;
  retransStamp = 0; // retrans_stamp: original send time of the first segment retransmitted in this loss episode (0 = none)
  rttTime = -1; // µs when the SYN (or SYN-ACK) was sent, for the handshake's RTT sample; -1 = none
  get synRetransmitted(): boolean { return this.getF(F_SYN_RETRANSMITTED); }
  set synRetransmitted(v: boolean) { this.setF(F_SYN_RETRANSMITTED, v); }

  // Congestion control, counted in segments like Linux's snd_cwnd.
  cwnd = 10;

  // Delayed ACK (Linux icsk_ack).
  get ackPending(): boolean { return this.getF(F_ACK_PENDING); }
  set ackPending(v: boolean) { this.setF(F_ACK_PENDING, v); }
  /** ICSK_ACK_NOW: send the ACK at the end of this segment's processing. */
  get ackNow(): boolean { return this.getF(F_ACK_NOW); }
  set ackNow(v: boolean) { this.setF(F_ACK_NOW, v); }
  get pingpong(): boolean { return this.getF(F_PINGPONG); }
  set pingpong(v: boolean) { this.setF(F_PINGPONG, v); }
  lrcvtime = 0; // last time data was received
  lastAckTime = 0;

  // Timers: each an absolute µs deadline, Infinity when off; one wheel entry per connection.
  private _rtxDeadline = -1; // retransmit, SYN/SYN-ACK retransmit or zero-window probe
  get rtxDeadline(): number { return deadlineOut(this._rtxDeadline); }
  set rtxDeadline(v: number) { this._rtxDeadline = deadlineIn(v); }
  rtxKind: RtxKind = 'retransmit';
  private _keepaliveDeadline = -1;
  get keepaliveDeadline(): number { return deadlineOut(this._keepaliveDeadline); }
  set keepaliveDeadline(v: number) { this._keepaliveDeadline = deadlineIn(v); }
  rcvTstamp = 0; // last time an ACK was received (tp->rcv_tstamp)
  probesOut = 0; // keepalive or zero-window probes without answer
  private _lastOowAck = -1; // tcp_oow_rate_limited; -1 = never (-Infinity)
  get lastOowAck(): number { return this._lastOowAck < 0 ? -Infinity : this._lastOowAck; }
  set lastOowAck(v: number) { this._lastOowAck = v === -Infinity ? -1 : v; }
  lastAckRecv = 0; // for tcpi_last_ack_recv (keepalive ACKs too)

  // Application side.
  opts: SockOpts;
  /** close() was called; no owner left. */
  get orphan(): boolean { return this.getF(F_ORPHAN); }
  set orphan(v: boolean) { this.setF(F_ORPHAN, v); }
  /** SHUT_RD or close. */
  get rcvShutdown(): boolean { return this.getF(F_RCV_SHUTDOWN); }
  set rcvShutdown(v: boolean) { this.setF(F_RCV_SHUTDOWN, v); }
  /** SHUT_WR or close. */
  get sndShutdown(): boolean { return this.getF(F_SND_SHUTDOWN); }
  set sndShutdown(v: boolean) { this.setF(F_SND_SHUTDOWN, v); }
  /** tcp_done: reads return 0 after the buffer, writes fail. */
  get done(): boolean { return this.getF(F_DONE); }
  set done(v: boolean) { this.setF(F_DONE, v); }
  /** close() blocked in SO_LINGER {1, N}. */
  get lingering(): boolean { return this.getF(F_LINGERING); }
  set lingering(v: boolean) { this.setF(F_LINGERING, v); }
  /** The listener that made this child, until accept() takes it. */
  listener: ParentListener | null = null;
  socket: ConnOwner | null = null;
  get accepted(): boolean { return this.getF(F_ACCEPTED); }
  set accepted(v: boolean) { this.setF(F_ACCEPTED, v); }
  /** A passive child, made by a SYN on a listener (Linux keeps no more of that SYN). */
  get passive(): boolean { return this.getF(F_PASSIVE); }
  set passive(v: boolean) { this.setF(F_PASSIVE, v); }
  /** The last write had MSG_MORE: tcp_push did not mark the queue's tail with PSH (tcp_mark_push). */
  /** inet_rsk(req)->acked: TCP_DEFER_ACCEPT dropped a bare ACK of this request's SYN-ACK. */
  get deferAcked(): boolean { return this.getF(F_DEFER_ACKED); }
  set deferAcked(v: boolean) { this.setF(F_DEFER_ACKED, v); }

  // Statistics for ss -i and tcp_info.
  segsOut = 0;
  segsIn = 0;
  openedAt = 0;

  // The rarely used state (ConnRare), behind accessors so every user reads and writes it as before.
  // Each setter writes only when the value leaves its default or the object exists already, so
  // an idle connection never allocates one. The accessors are written out field by field: one
  // generic setter would be a keyed store with ~30 keys on the per-segment path.
  private rare: ConnRare = NO_RARE;
  private writableRare(): ConnRare {
    return this.rare !== NO_RARE ? this.rare : (this.rare = new ConnRare());
  }
  get rcvSpace(): RcvSpace | null { return this.rare.rcvSpace; }
  set rcvSpace(v: RcvSpace | null) { if (v !== null || this.rare !== NO_RARE) this.writableRare().rcvSpace = v; }
  get windowClamp(): number { return this.rare.windowClamp; }
  set windowClamp(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().windowClamp = v; }
  /** end of the last small segment sent (Minshall's Nagle) */
  get sndSml(): number { return this.rare.sndSml >>> 0; }
  set sndSml(v: number) { const x = v | 0; if (x !== 0 || this.rare !== NO_RARE) this.writableRare().sndSml = x; }
  get ofo(): OfoSegment[] { return this.rare.ofo; }
  set ofo(v: OfoSegment[]) { if (v !== NO_OFO || this.rare !== NO_RARE) this.writableRare().ofo = v; }
  /** A D-SACK block (RFC 2883) for the next ACK, sent once (Linux rx_opt.dsack, duplicate_sack[0]). */
  get dsack(): [number, number] | null { return this.rare.dsack; }
  set dsack(v: [number, number] | null) { if (v !== null || this.rare !== NO_RARE) this.writableRare().dsack = v; }
  /** The SACK blocks we send, most recent first, at most TCP_NUM_SACKS (Linux selective_acks). */
  get rcvSacks(): Array<[number, number]> { return this.rare.rcvSacks; }
  set rcvSacks(v: Array<[number, number]>) { if (v !== NO_SACKED || this.rare !== NO_RARE) this.writableRare().rcvSacks = v; }
  get backoff(): number { return this.rare.backoff; }
  set backoff(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().backoff = v; }
  /** consecutive timeouts of the head (icsk_retransmits) */
  get retransmits(): number { return this.rare.retransmits; }
  set retransmits(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().retransmits = v; }
  get totalRetrans(): number { return this.rare.totalRetrans; }
  set totalRetrans(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().totalRetrans = v; }
  /** congestion-avoidance byte counter */
  get cwndCnt(): number { return this.rare.cwndCnt; }
  set cwndCnt(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().cwndCnt = v; }
  get ssthresh(): number { return this.rare.ssthresh; }
  set ssthresh(v: number) { if (v !== 0x7fffffff || this.rare !== NO_RARE) this.writableRare().ssthresh = v; }
  /** The retransmission queue and loss-recovery state, made with the first data segment sent. */
  get loss(): LossState {
    const r = this.writableRare();
    if (r.loss === null) {
      r.loss = new LossState();
      r.loss.reordering = this.env.cfg.tcp_reordering;
    }
    return r.loss;
  }
  /** The loss state if any data was ever sent, else null (nothing to recover). */
  get lossIfAny(): LossState | null { return this.rare.loss; }
  /** Where PSH goes (push.ts): null until the first write. */
  get push(): PushMarks | null { return this.rare.push; }
  set push(v: PushMarks | null) { if (v !== null || this.rare !== NO_RARE) this.writableRare().push = v; }
  /** icsk_ca_state. */
  get caState(): CaState { return this.rare.loss?.caState ?? CaState.Open; }
  /** tp->prior_cwnd: cwnd when the last reduction began. */
  get priorCwnd(): number { return this.rare.loss?.priorCwnd ?? 0; }
  /** quickack segments left */
  get quick(): number { return this.rare.quick; }
  set quick(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().quick = v; }
  /** icsk_ack.ato: 0 until the first data segment arrives */
  get ato(): number { return this.rare.ato; }
  set ato(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().ato = v; }
  get delackDeadline(): number { return deadlineOut(this.rare.delackDeadline); }
  set delackDeadline(v: number) { const x = deadlineIn(v); if (x !== -1 || this.rare !== NO_RARE) this.writableRare().delackDeadline = x; }
  /** orphaned FIN_WAIT2 kept as a full socket (linger2 > 60 s) */
  get finWait2Deadline(): number { return deadlineOut(this.rare.finWait2Deadline); }
  set finWait2Deadline(v: number) { const x = deadlineIn(v); if (x !== -1 || this.rare !== NO_RARE) this.writableRare().finWait2Deadline = x; }
  /** SO_LINGER {1, N}: close() gives up waiting */
  get lingerDeadline(): number { return deadlineOut(this.rare.lingerDeadline); }
  set lingerDeadline(v: number) { const x = deadlineIn(v); if (x !== -1 || this.rare !== NO_RARE) this.writableRare().lingerDeadline = x; }
  /** last time data was sent */
  get lsndtime(): number { return this.rare.lsndtime; }
  set lsndtime(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().lsndtime = v; }
  /** sk_err, reported once */
  get softError(): ErrnoCode | null { return this.rare.softError; }
  set softError(v: ErrnoCode | null) { if (v !== null || this.rare !== NO_RARE) this.writableRare().softError = v; }
  /** who gets 'closed' when that close() returns */
  get lingerOwner(): ConnOwner | null { return this.rare.lingerOwner; }
  set lingerOwner(v: ConnOwner | null) { if (v !== null || this.rare !== NO_RARE) this.writableRare().lingerOwner = v; }
  get bytesSent(): number { return this.rare.bytesSent; }
  set bytesSent(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().bytesSent = v; }
  get bytesRetrans(): number { return this.rare.bytesRetrans; }
  set bytesRetrans(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().bytesRetrans = v; }
  get bytesAcked(): number { return this.rare.bytesAcked; }
  set bytesAcked(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().bytesAcked = v; }
  get bytesReceived(): number { return this.rare.bytesReceived; }
  set bytesReceived(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().bytesReceived = v; }
  get dataSegsOut(): number { return this.rare.dataSegsOut; }
  set dataSegsOut(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().dataSegsOut = v; }
  get dataSegsIn(): number { return this.rare.dataSegsIn; }
  set dataSegsIn(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().dataSegsIn = v; }
  get lastDataSent(): number { return this.rare.lastDataSent; }
  set lastDataSent(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().lastDataSent = v; }
  get lastDataRecv(): number { return this.rare.lastDataRecv; }
  set lastDataRecv(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().lastDataRecv = v; }
  /** tp->max_packets_out: most segments out in the current window (tcp_cwnd_validate) */
  get maxPacketsOut(): number { return this.rare.maxPacketsOut; }
  set maxPacketsOut(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().maxPacketsOut = v; }
  /** tp->is_cwnd_limited: the current window was limited by cwnd */
  get isCwndLimited(): boolean { return this.rare.isCwndLimited; }
  set isCwndLimited(v: boolean) { if (v || this.rare !== NO_RARE) this.writableRare().isCwndLimited = v; }
  /** tp->cwnd_usage_seq: the window those two describe ends when this is acknowledged */
  get cwndUsageSeq(): number { return this.rare.cwndUsageSeq >>> 0; }
  set cwndUsageSeq(v: number) { const x = v | 0; if (x !== 0 || this.rare !== NO_RARE) this.writableRare().cwndUsageSeq = x; }
  /** tp->snd_cwnd_used: most segments out while not cwnd-limited (RFC 2861) */
  get cwndUsed(): number { return this.rare.cwndUsed; }
  set cwndUsed(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().cwndUsed = v; }
  /** tp->snd_cwnd_stamp, in tcp_jiffies32 */
  get cwndStamp(): number { return this.rare.cwndStamp; }
  set cwndStamp(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().cwndStamp = v; }
  /** icsk_ca_priv: the congestion control's state, allocated on its first use */
  get caPriv(): object | null { return this.rare.caPriv; }
  set caPriv(v: object | null) { if (v !== null || this.rare !== NO_RARE) this.writableRare().caPriv = v; }
  /** tcp_sock chrono_type (chrono.ts), 0 = TCP_CHRONO_UNSPEC */
  get chronoType(): Chrono { return this.rare.chronoType as Chrono; }
  set chronoType(v: Chrono) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().chronoType = v; }
  /** tcp_sock chrono_start, in jiffies */
  get chronoStart(): number { return this.rare.chronoStart; }
  set chronoStart(v: number) { if (v !== 0 || this.rare !== NO_RARE) this.writableRare().chronoStart = v; }
  /** tcp_sock chrono_stat[type - 1], in jiffies */
  chronoStat(type: Chrono): number { return type === 0 ? 0 : this.rare.chronoStat?.[type - 1] ?? 0; }
  addChronoStat(type: Chrono, jiffies: number): void {
    if (type === 0 || jiffies === 0) return;
    const r = this.writableRare();
    (r.chronoStat ??= [0, 0, 0])[type - 1] += jiffies;
  }

  constructor(
    readonly env: ConnEnv,
    local: { addr: string; port: number },
    remote: { addr: string; port: number },
    opts: SockOpts,
  ) {
    super();
    this.key = connKey(local.addr, local.port, remote.addr, remote.port);
    this.opts = opts;
    this.sndBuf = new ByteRing(4096, opts.sndbuf);
    this.rcvBuf = new SegmentQueue(opts.rcvbuf + RCV_SLACK, skbTruesize, skbTailroom);
  }

  /** A function, not a property test, so TypeScript does not narrow across calls that change state. */
  isClosed(): boolean {
    return this.state === TcpState.CLOSED;
  }

  get stateName(): string {
    return STATE_NAMES[this.state];
  }

  /** Bytes sent and not acknowledged, FIN and SYN included. */
  get flight(): number {
    return (this.sndMax - this.sndUna) >>> 0;
  }

  /** Bytes queued and not yet sent at all. */
  get unsent(): number {
    return (this.writeSeq - this.sndNxt) >>> 0 > 0x7fffffff ? 0 : (this.writeSeq - this.sndNxt) >>> 0;
  }

  nextDeadline(): number {
    return Math.min(this.rtxDeadline, this.delackDeadline, this.keepaliveDeadline, this.finWait2Deadline, this.lingerDeadline);
  }

  /**
   * nextDeadline() as the wheel takes it: rounded up to a whole µs, -1 when no timer runs (what
   * the host asks after every segment: Infinity or a fraction returned would be a boxed number).
   */
  nextWheelDeadline(): number {
    const d = Math.min(this.rtxDeadline, this.delackDeadline, this.keepaliveDeadline, this.finWait2Deadline, this.lingerDeadline);
    return d === Infinity ? -1 : Math.ceil(d);
  }

  setState(to: TcpState, cause: string, causeKind: 'segment' | 'timer' | 'call'): void {
    const from = this.state;
    if (from === to) return;
    this.state = to;
    // CurrEstab counts ESTABLISHED and CLOSE_WAIT, as tcp_set_state() does.
    const c = this.env.counters;
    if (to === TcpState.ESTABLISHED) c.inc('CurrEstab');
    else if (to === TcpState.CLOSE_WAIT) {
      if (from === TcpState.SYN_RECV) c.inc('CurrEstab');
    } else if (from === TcpState.ESTABLISHED || from === TcpState.CLOSE_WAIT) c.inc('CurrEstab', -1);
    if (this.env.tracing) this.env.trace({
      kind: 'state', t: this.env.now(), host: this.env.name, socket: this.label,
      from: STATE_NAMES[from], to: STATE_NAMES[to], cause, causeKind,
    });
    // sk_stream_wait_close: a close() blocked by SO_LINGER {1, N} returns once the socket
    // leaves FIN_WAIT1, CLOSING and LAST_ACK (everything acknowledged).
    if (this.lingering && to !== TcpState.FIN_WAIT1 && to !== TcpState.CLOSING && to !== TcpState.LAST_ACK) {
      this.lingerReturn(`everything acknowledged (${STATE_NAMES[to]})`);
    }
  }

  /** The blocked close() of SO_LINGER {1, N} returns (0, as Linux's close always does). */
  lingerReturn(why: string): void {
    if (!this.lingering) return;
    this.lingering = false;
    this.lingerDeadline = Infinity;
    this.env.trace({ kind: 'call', t: this.env.now(), host: this.env.name, socket: this.label, call: 'close', args: 'SO_LINGER', result: `0, returns: ${why}` });
    const owner = this.lingerOwner;
    this.lingerOwner = null;
    if (owner) this.env.defer(() => owner.connEvent('closed'));
  }
}

export { connKey };

// A throwaway instance that never runs: the constructor only stores the env (storage.ts).
taggedFields(new TcpConn({} as ConnEnv, { addr: '0.0.0.0', port: 0 }, { addr: '0.0.0.0', port: 0 }, { sndbuf: 0, rcvbuf: 0 } as SockOpts), [
  '_deadline', '_rtxDeadline', '_keepaliveDeadline', '_lastOowAck', 'rcvTstamp', 'lastAckRecv', 'tsRecentStamp',
  'lrcvtime', 'lastAckTime', 'openedAt', 'retransStamp', 'rttTime',
]);
nextConnId--; // the throwaway instance takes no id
