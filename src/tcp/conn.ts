// The transmission control block: one connection's variables, named as RFC 9293 and Linux
// name them. Behaviour lives beside it by concern: input.ts (segment arrival), output.ts
// (what is sent and when), timers.ts, timewait.ts, congestion.ts.

import type { HostConfig } from '../host/config.ts';
import type { Counters } from '../host/counters.ts';
import type { ErrnoCode } from '../host/errors.ts';
import type { TimerKind, TraceEvent } from '../host/trace.ts';
import type { TcpRepr } from '../wire/types.ts';
import { Timer } from '../time/wheel.ts';
import type { TimeWaitEntry } from './timewait.ts';
import { ByteRing } from './buffer.ts';
import { TcpState, STATE_NAMES } from './states.ts';

/** What a connection needs from its host: the imperative edge of the pure core. */
export interface ConnEnv {
  readonly cfg: HostConfig;
  readonly counters: Counters;
  readonly name: string;
  now(): number;
  /** Sends a segment from this connection's 4-tuple (builds IP, checksums, traces, counts). */
  transmit(conn: TcpConn, seg: TcpRepr, note?: string): void;
  trace(ev: TraceEvent): void;
  /** Re-arms the connection's single wheel entry at conn.nextDeadline(). */
  reschedule(conn: TcpConn): void;
  /** The connection leaves the demux table (CLOSED), or hands its 4-tuple to a TIME_WAIT entry. */
  release(conn: TcpConn): void;
  enterTimeWait(conn: TcpConn, substate: 'TIME_WAIT' | 'FIN_WAIT2', timeoutUs: number): boolean;
  /** A child of a listener finished its handshake. */
  childEstablished(conn: TcpConn): void;
  /** May this SYN_RECV child complete now? False when the accept queue is full (the ACK is dropped). */
  childAcceptable(conn: TcpConn): boolean;
  /** Host-wide challenge ACK budget (tcp_challenge_ack_limit per second). */
  challengeBudget(): boolean;
  /** Wakes the application (readable, writable, connected, error, closed). */
  notify(conn: TcpConn, what: ConnEvent): void;
  /** Runs fn after the current segment or timer has been processed (application context). */
  defer(fn: () => void): void;
  /** Orphans beyond tcp_max_orphans. */
  tooManyOrphans(): boolean;
}

export type ConnEvent = 'connected' | 'readable' | 'writable' | 'error' | 'closed' | 'accepted';

/** The application-side object that owns a connection (host/socket.ts). */
export interface ConnOwner {
  connEvent(what: ConnEvent): void;
  connReleased(): void;
}

export interface OfoSegment {
  seq: number;
  end: number; // seq + data length (FIN not included)
  data: Uint8Array;
  fin: boolean;
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

export class TcpConn {
  readonly uid = nextConnId++;
  state: TcpState = TcpState.CLOSED;
  readonly timer: Timer<TcpConn | TimeWaitEntry>;

  // Addresses.
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
  readonly v6: boolean;
  readonly key: string; // demux key
  readonly label: string; // addr:port>addr:port, for traces

  // Send sequence space (RFC 9293 §3.3.1). sndMax is the highest SND.NXT reached, since a
  // retransmission timeout pulls sndNxt back to sndUna (go-back-N, as BSD and RFC 6582 do).
  iss = 0;
  sndUna = 0;
  sndNxt = 0;
  sndMax = 0;
  sndWnd = 0; // peer's window, already scaled
  sndWl1 = 0;
  sndWl2 = 0;
  maxWindow = 0; // largest window the peer offered
  sndSml = 0; // end of the last small segment sent (Minshall's Nagle)
  /** Sequence number of the byte after the last queued byte (Linux write_seq). */
  writeSeq = 0;
  readonly sndBuf: ByteRing;
  finQueued = false; // the application closed its write side
  get finSeq(): number {
    return this.writeSeq; // the FIN takes the sequence number after the last data byte
  }

  // Receive sequence space.
  irs = 0;
  rcvNxt = 0;
  rcvWnd = 0; // window last advertised (bytes)
  rcvWup = 0; // rcvNxt when rcvWnd was last advertised
  rcvSsthresh = 0; // Linux rcv_ssthresh: the window grows towards the buffer as data arrives
  windowClamp = 0;
  readonly rcvBuf: ByteRing;
  ofo: OfoSegment[] = [];
  finReceived = false; // peer's FIN consumed into sequence space (EOF after the buffer)
  /** A D-SACK block (RFC 2883) for the next ACK, sent once (Linux rx_opt.dsack, duplicate_sack[0]). */
  dsack: [number, number] | null = null;

  // Options negotiated (RFC 7323, RFC 2018).
  sndWscale = 0; // shift applied to the windows the peer sends
  rcvWscale = 0; // shift we apply to windows we send
  wscaleOk = false;
  sackOk = false;
  tsOk = false;
  tsRecent = 0;
  tsRecentStamp = 0; // µs when tsRecent was taken
  tsOffset = 0; // per-connection random TS offset (Linux 4.10+)
  advMss = 1460; // MSS we announce
  peerMss = 536; // MSS the peer announced (536 for IPv4 / 1220 IPv6 without the option)
  mssCache = 536; // effective send MSS (payload bytes, options deducted)
  rcvMss = 536; // estimate of the peer's segment size (icsk_ack.rcv_mss)

  // Round-trip and retransmission (RFC 6298 as Linux computes it, tcp_rtt_estimator).
  srtt = 0; // µs, 0 = no sample yet
  mdev = 0; // µs, mean deviation (tcpi_rttvar)
  mdevUs = 0; // Linux mdev_us: 4 x mean deviation
  mdevMaxUs = 0; // largest mdev_us in the current RTT
  rttvar = 0; // Linux rttvar_us, at least rto_min
  rttVarSeq = 0; // Linux rtt_seq: when SND.UNA passes it, an RTT has gone by
  rto = 1_000_000;
  backoff = 0;
  retransmits = 0; // consecutive timeouts of the head (icsk_retransmits)
  totalRetrans = 0;
  retransStamp = 0; // retrans_stamp: original send time of the first segment retransmitted in this loss episode (0 = none)
  rttSeq = 0; // Karn: seq whose ACK gives a sample
  rttTime = -1; // µs when rttSeq was sent; -1 = no sample in flight
  synRetransmitted = false;

  // Congestion control: NewReno (RFC 5681, RFC 6582), counted in segments like Linux.
  cwnd = 10;
  ssthresh = 0x7fffffff;
  cwndCnt = 0; // congestion-avoidance byte counter
  dupAcks = 0;
  inRecovery = false;
  recover = 0; // RFC 6582 "recover"
  sackedBlocks: Array<[number, number]> = []; // peer's SACK scoreboard above sndUna
  highRxt = 0;

  // Delayed ACK (Linux icsk_ack).
  ackPending = false;
  ackNow = false; // ICSK_ACK_NOW: send the ACK at the end of this segment's processing
  lastOowAck = -Infinity; // tcp_oow_rate_limited
  quick = 0; // quickack segments left
  ato = 0; // icsk_ack.ato: 0 until the first data segment arrives
  pingpong = false;
  lrcvtime = 0; // last time data was received
  lastAckTime = 0;

  // Timers: each an absolute µs deadline, Infinity when off; one wheel entry per connection.
  rtxDeadline = Infinity; // retransmit, SYN/SYN-ACK retransmit or zero-window probe
  rtxKind: TimerKind = 'retransmit';
  delackDeadline = Infinity;
  keepaliveDeadline = Infinity;
  finWait2Deadline = Infinity; // orphaned FIN_WAIT2 kept as a full socket (linger2 > 60 s)
  lingerDeadline = Infinity; // SO_LINGER {1, N}: close() gives up waiting
  probesOut = 0; // keepalive or zero-window probes without answer
  rcvTstamp = 0; // last time an ACK was received (tp->rcv_tstamp)
  lsndtime = 0; // last time data was sent

  // Application side.
  opts: SockOpts;
  orphan = false; // close() was called; no owner left
  rcvShutdown = false; // SHUT_RD or close
  sndShutdown = false; // SHUT_WR or close
  softError: ErrnoCode | null = null; // sk_err, reported once
  done = false; // tcp_done: reads return 0 after the buffer, writes fail
  lingering = false; // close() blocked in SO_LINGER {1, N}
  lingerOwner: ConnOwner | null = null; // who gets 'closed' when that close() returns
  listener: unknown = null; // the listener that made this child (host type)
  socket: ConnOwner | null = null;
  accepted = true;
  synOptsIn: TcpRepr | null = null; // the SYN that created a passive child

  // Statistics for ss -i and tcp_info.
  bytesSent = 0;
  bytesRetrans = 0;
  bytesAcked = 0;
  bytesReceived = 0;
  segsOut = 0;
  segsIn = 0;
  dataSegsOut = 0;
  dataSegsIn = 0;
  lastDataSent = 0;
  lastDataRecv = 0;
  lastAckRecv = 0;
  openedAt = 0;

  constructor(
    readonly env: ConnEnv,
    local: { addr: string; port: number },
    remote: { addr: string; port: number },
    opts: SockOpts,
  ) {
    this.localAddr = local.addr;
    this.localPort = local.port;
    this.remoteAddr = remote.addr;
    this.remotePort = remote.port;
    this.v6 = local.addr.includes(':');
    this.key = connKey(local.addr, local.port, remote.addr, remote.port);
    this.label = `${ep(local.addr, local.port)}>${ep(remote.addr, remote.port)}`;
    this.opts = opts;
    this.sndBuf = new ByteRing(4096, opts.sndbuf);
    this.rcvBuf = new ByteRing(4096, opts.rcvbuf + RCV_SLACK);
    this.timer = new Timer<TcpConn | TimeWaitEntry>(this);
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
    this.env.trace({
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

export const connKey = (la: string, lp: number, ra: string, rp: number): string => `${la}|${lp}|${ra}|${rp}`;
const ep = (a: string, p: number): string => (a.includes(':') ? `[${a}]:${p}` : `${a}:${p}`);
