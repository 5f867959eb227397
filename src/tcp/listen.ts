// LISTEN and the passive open (Linux tcp_v4_conn_request / tcp_conn_request, the accept-queue
// check of tcp_check_req, inet_csk_reqsk_queue_add, inet_csk_listen_stop). A SYN on a listener
// makes a child in SYN_RECV (a request: linger keeps it as a small TcpConn in the SYN queue);
// the ACK that completes the handshake moves it to the accept queue, where accept() takes it.

import type { HostConfig } from '../base/config.ts';
import type { Counters } from '../base/counters.ts';
import { endpoint, type TraceEvent } from '../base/trace.ts';
import { ACK, FIN, RST, SYN, type IpRepr, type TcpRepr } from '../wire/types.ts';
import type { ListenOwner, ParentListener, SockOpts, TcpConn } from './conn.ts';
import { tcpDone } from './lifecycle.ts';
import { armSynTimer, initSendSequence } from './open.ts';
import { negotiateSynOptions, parseSegOpts, type SegOpts } from './options.ts';
import { cookieInitRwin, offeredWscale, sendActiveReset, sendSynAck, tsNow } from './output.ts';
import { seqAdd } from './seq.ts';
import { TcpState } from './states.ts';
import { cookieCheck, cookieInitSequence, cookieInitTimestamp, cookieTimestampDecode, synqNoRecentOverflow, synqOverflow, type CookieTuple } from './syncookies.ts';

/** A socket in LISTEN: its SYN queue (requests in SYN_RECV) and accept queue. */
export class Listener implements ParentListener {
  readonly synQueue = new Set<TcpConn>();
  readonly acceptQueue: TcpConn[] = [];
  /** When the SYN queue last overflowed into cookies (tcp_synq_overflow; Linux: rx_opt.ts_recent_stamp). */
  lastOverflow = -Infinity;
  /** The "Possible SYN flooding" line was logged (queue->synflood_warned). */
  synfloodWarned = false;
  constructor(readonly owner: ListenOwner, readonly addr: string, readonly port: number, public backlog: number) {}
  /** Its key in the host's listener table: "addr|port". */
  get key(): string {
    return `${this.addr}|${this.port}`;
  }
}

/** What the passive open needs of its host. */
export interface ListenEnv {
  readonly cfg: HostConfig;
  readonly counters: Counters;
  readonly name: string;
  /** The host's secret: the key of its SYN cookies. */
  readonly seed: number;
  now(): number;
  /** secure_tcp_ts_off for an address pair. */
  tsOffsetFor(laddr: string, raddr: string): number;
  trace(ev: TraceEvent): void;
  /** A TCB for this 4-tuple with the host's MSS, timestamps offset and initial windows. */
  newConn(local: { addr: string; port: number }, remote: { addr: string; port: number }, opts: SockOpts): TcpConn;
  /** secure_tcp_seq for the 4-tuple. */
  isnFor(laddr: string, lport: number, raddr: string, rport: number): number;
  /** inet_ehash_insert: the connection joins the demux table. */
  hashConn(conn: TcpConn): void;
  /** tcp_v4_send_reset for a segment that found no connection. */
  sendReset(ip: IpRepr, seg: TcpRepr): void;
  reschedule(conn: TcpConn): void;
  /** tcp_child_process for a child a cookie made: the ACK through the full socket (connInput); true to reset the sender. */
  cookieChildInput(conn: TcpConn, seg: TcpRepr): boolean;
}

/**
 * A segment for a listener (tcp_rcv_state_process, TCP_LISTEN, then tcp_conn_request). `iss`
 * is set when the SYN reuses a TIME_WAIT 4-tuple (isnAfterTimeWait).
 */
export function listenInput(env: ListenEnv, l: Listener, ip: IpRepr, seg: TcpRepr, iss?: number): void {
  const f = seg.flags;
  if (f & RST) return;
  if (f & ACK) {
    // tcp_v4_cookie_check: an ACK without SYN may carry a cookie (cookie_v4_check).
    if (!(f & SYN) && cookieAck(env, l, ip, seg)) return;
    env.sendReset(ip, seg); // RFC 9293 §3.10.7.2: <SEQ=SEG.ACK><CTL=RST>
    return;
  }
  // tcp_rcv_state_process, TCP_LISTEN: a SYN that also carries FIN is discarded.
  if (!(f & SYN) || f & FIN) return;
  const c = env.counters;
  const cfg = env.cfg;
  const now = env.now();
  // tcp_conn_request, in Linux's order: the SYN queue (cookies or a drop), then the accept queue.
  let wantCookie = false;
  if ((cfg.tcp_syncookies === 2 || reqskQueueIsFull(l)) && iss === undefined) {
    wantCookie = synFloodAction(env, l);
    if (!wantCookie) {
      c.inc('ListenDrops');
      env.trace({ kind: 'drop', t: now, host: env.name, reason: `SYN queue of ${endpoint(l.addr, l.port)} full (tcp_syncookies=0): SYN dropped` });
      return;
    }
  }
  // sk_acceptq_is_full: the SYN is dropped.
  if (l.acceptQueue.length > l.backlog) {
    c.inc('ListenOverflows');
    c.inc('ListenDrops');
    env.trace({ kind: 'drop', t: now, host: env.name, reason: `accept queue of ${endpoint(l.addr, l.port)} full: SYN dropped` });
    return;
  }
  // Without cookies the last quarter of tcp_max_syn_backlog is kept for peers proven alive
  // (tcp_peer_is_proven: linger keeps no tcp_metrics, so none is). Observed on 6.18:
  // tcp_max_syn_backlog 8, listen(20), 12 SYNs: 7 requests, 5 ListenDrops, no TCPReqQFullDrop.
  if (!wantCookie && iss === undefined && !cfg.tcp_syncookies) {
    const max = cfg.tcp_max_syn_backlog;
    if (max - l.synQueue.size < max >> 2) {
      c.inc('ListenDrops');
      env.trace({ kind: 'drop', t: now, host: env.name, reason: `SYN queue past 3/4 of tcp_max_syn_backlog (${max}), peer not proven: SYN dropped` });
      return;
    }
  }
  const conn = newChild(env, l, ip, seg);
  const o = parseSegOpts(seg);
  // tcp_conn_request: a cookie without timestamps has nowhere to keep the options.
  if (wantCookie && !o.hasTs) {
    o.wscale = -1;
    o.sackOk = false;
  }
  // tcp_create_openreq_child: the child's sequence spaces and the SYN's options.
  let cookieTs: number | undefined;
  if (wantCookie) {
    const k = cookieInitSequence(env.seed, tupleOf(ip, seg), conn.v6, seg.seq, synMssClamp(conn, o), now);
    initSendSequence(conn, k.isn);
    c.inc('SyncookiesSent'); // cookie_init_sequence
    synqOverflow(l, now);
  } else initSendSequence(conn, iss ?? env.isnFor(ip.dst, seg.dstPort, ip.src, seg.srcPort));
  conn.irs = seg.seq;
  conn.rcvNxt = seqAdd(seg.seq, 1);
  conn.rcvWup = conn.rcvNxt;
  conn.rcvWscale = offeredWscale(conn);
  negotiateSynOptions(conn, o);
  if (wantCookie) {
    // tcp_make_synack, TCP_SYNACK_COOKIE: the TS val carries the options; then the request is
    // freed (reqsk_free): nothing is kept.
    if (conn.tsOk) cookieTs = (cookieInitTimestamp(tsNow(conn) - conn.tsOffset, { wscaleOk: conn.wscaleOk, sndWscale: conn.sndWscale, sackOk: conn.sackOk, ecnOk: false }) + conn.tsOffset) >>> 0;
    sendSynAck(conn, 'SYN cookie', cookieTs);
    return;
  }
  conn.sndWnd = seg.window;
  conn.sndWl1 = seg.seq;
  conn.passive = true;
  conn.openedAt = now;
  conn.setState(TcpState.SYN_RECV, `rcv SYN on ${endpoint(l.addr, l.port)} (LISTEN)`, 'segment');
  env.hashConn(conn);
  l.synQueue.add(conn);
  sendSynAck(conn);
  armSynTimer(conn, 'synack-retransmit');
  env.reschedule(conn);
}

/** inet_csk_reqsk_queue_is_full: more requests than the backlog. Observed on 6.18: listen(3) holds 4 requests, the 5th SYN finds it full. */
const reqskQueueIsFull = (l: Listener): boolean => l.synQueue.size > l.backlog;

/**
 * tcp_syn_flood_action: cookies when tcp_syncookies allows them (TCPReqQFullDoCookies), else a
 * drop (TCPReqQFullDrop); the first time, the kernel log's "Possible SYN flooding" line
 * (not with tcp_syncookies = 2, where cookies are the rule).
 */
/**
 * A request (or a cookie's child) of listener l for the segment's 4-tuple, not yet accepted.
 * The children share the listener's options until one of them (or the listener) sets one.
 */
function newChild(env: ListenEnv, l: Listener, ip: IpRepr, seg: TcpRepr): TcpConn {
  const owner = l.owner;
  let lo = owner.opts;
  if (!Object.isFrozen(lo)) lo = owner.opts = Object.freeze({ ...lo });
  const conn = env.newConn({ addr: ip.dst, port: seg.dstPort }, { addr: ip.src, port: seg.srcPort }, lo);
  conn.listener = l;
  conn.accepted = false;
  return conn;
}

function synFloodAction(env: ListenEnv, l: Listener): boolean {
  const syncookies = env.cfg.tcp_syncookies;
  env.counters.inc(syncookies ? 'TCPReqQFullDoCookies' : 'TCPReqQFullDrop');
  if (!l.synfloodWarned && syncookies !== 2) {
    l.synfloodWarned = true;
    env.trace({ kind: 'drop', t: env.now(), host: env.name, reason: `TCP: Possible SYN flooding on port ${endpoint(l.addr, l.port)}. ${syncookies ? 'Sending cookies' : 'Dropping request'}.  Check SNMP counters.` });
  }
  return syncookies !== 0;
}

/** The cookie's 4-tuple, from a segment the peer sent. */
const tupleOf = (ip: IpRepr, seg: TcpRepr): CookieTuple => ({ saddr: ip.src, daddr: ip.dst, sport: seg.srcPort, dport: seg.dstPort });

/** mss_clamp of tcp_parse_options: the SYN's MSS (or the default), lowered to TCP_MAXSEG. */
function synMssClamp(conn: TcpConn, o: SegOpts): number {
  const mss = o.mss || (conn.v6 ? 1220 : 536);
  const user = conn.opts.userMss;
  return user && user < mss ? user : mss;
}

/**
 * cookie_v4_check / cookie_v6_check: an ACK for a listener whose SYN queue overflowed within
 * TCP_SYNCOOKIE_VALID may carry a cookie. A valid one (SyncookiesRecv) rebuilds the request
 * and makes the child at once (tcp_get_cookie_sock), which then processes the ACK; a bad one
 * (SyncookiesFailed) returns false and the listener answers with a reset.
 */
function cookieAck(env: ListenEnv, l: Listener, ip: IpRepr, seg: TcpRepr): boolean {
  const cfg = env.cfg;
  const now = env.now();
  if (!cfg.tcp_syncookies || synqNoRecentOverflow(l, now)) return false;
  const c = env.counters;
  const t = tupleOf(ip, seg);
  const v6 = ip.version === 6;
  const mss = cookieCheck(env.seed, t, v6, seqAdd(seg.ack, -1), seqAdd(seg.seq, -1), now);
  if (!mss) {
    c.inc('SyncookiesFailed');
    return false;
  }
  c.inc('SyncookiesRecv');
  const o = parseSegOpts(seg);
  const tsOffset = env.tsOffsetFor(ip.dst, ip.src);
  const opts = cookieTimestampDecode(cfg, o.hasTs, (o.tsEcr - tsOffset) >>> 0);
  if (!opts) return false;
  // tcp_v4_syn_recv_sock: with the accept queue full there is no child; the ACK is dropped.
  if (l.acceptQueue.length > l.backlog) {
    c.inc('ListenOverflows');
    c.inc('ListenDrops');
    env.trace({ kind: 'drop', t: now, host: env.name, reason: `accept queue of ${endpoint(l.addr, l.port)} full: cookie ACK dropped` });
    return true;
  }
  const conn = newChild(env, l, ip, seg);
  initSendSequence(conn, seqAdd(seg.ack, -1));
  conn.sndNxt = seg.ack;
  conn.sndMax = seg.ack;
  conn.irs = seqAdd(seg.seq, -1);
  conn.rcvNxt = seg.seq;
  conn.rcvWup = seg.seq;
  // The request as the cookie rebuilt it: the table's MSS, the options from the TS ecr.
  negotiateSynOptions(conn, { mss, wscale: opts.wscaleOk ? opts.sndWscale : -1, sackOk: opts.sackOk, tsVal: o.tsVal, tsEcr: 0, hasTs: o.hasTs, sack: null });
  conn.rcvWscale = opts.wscaleOk ? offeredWscale(conn) : 0;
  cookieInitRwin(conn, mss);
  conn.sndWl1 = conn.irs;
  conn.passive = true;
  conn.openedAt = now;
  conn.setState(TcpState.SYN_RECV, `rcv ACK with a valid SYN cookie on ${endpoint(l.addr, l.port)} (LISTEN)`, 'segment');
  env.hashConn(conn);
  l.synQueue.add(conn);
  if (env.cookieChildInput(conn, seg)) env.sendReset(ip, seg);
  env.reschedule(conn);
  return true;
}

/**
 * tcp_check_req -> listen_overflow: may this request become a full socket now? With the accept
 * queue full the final ACK is dropped and the SYN-ACK timer keeps running
 * (tcp_abort_on_overflow = 0), or the request is reset (= 1).
 */
export function childAcceptable(conn: TcpConn): boolean {
  const l = conn.listener;
  if (!l || conn.accepted) return true;
  if (l.acceptQueue.length <= l.backlog) return true;
  const env = conn.env;
  env.counters.inc('ListenOverflows');
  env.counters.inc('ListenDrops');
  env.trace({ kind: 'drop', t: env.now(), host: env.name, reason: `accept queue of ${endpoint(l.addr, l.port)} full: final ACK dropped` });
  if (env.cfg.tcp_abort_on_overflow) {
    sendActiveReset(conn, 'accept queue overflow (tcp_abort_on_overflow)');
    tcpDone(conn, 'accept queue overflow', 'segment');
  }
  return false;
}

/** rskq_defer_accept of the request's listener, read live as tcp_check_req and reqsk_timer_handler do. */
const deferOf = (conn: TcpConn): number => conn.listener?.owner.opts.deferAccept ?? 0;

/**
 * tcp_check_req, TCP_DEFER_ACCEPT: while the request has had fewer SYN-ACK timeouts than the
 * option's count, a bare ACK (end_seq == rcv_isn + 1) is dropped and the request remembers it
 * was acknowledged (inet_rsk(req)->acked); data completes the handshake. Returns true to drop.
 */
export function deferBareAck(conn: TcpConn, endSeq: number): boolean {
  if (conn.retransmits >= deferOf(conn) || endSeq !== seqAdd(conn.irs, 1)) return false;
  conn.deferAcked = true;
  const env = conn.env;
  env.trace({ kind: 'drop', t: env.now(), host: env.name, reason: 'TCP_DEFER_ACCEPT: bare ACK dropped, waiting for data' });
  return true;
}

/**
 * syn_ack_recalc: a request expires after max(tcp_synack_retries, defer) timeouts, but one
 * that was acknowledged under TCP_DEFER_ACCEPT lives until the defer count too.
 */
export function requestExpired(conn: TcpConn): boolean {
  const defer = deferOf(conn);
  const n = conn.retransmits;
  return n >= Math.max(conn.env.cfg.tcp_synack_retries, defer) && (!conn.deferAcked || n >= defer);
}

/**
 * syn_ack_recalc: the SYN-ACK is resent at each timeout, except while an acknowledged request
 * waits for data under TCP_DEFER_ACCEPT: then only from the last timeout of the defer period
 * on ("a last chance for data or ACK"). Observed on 6.18, TCP_DEFER_ACCEPT 3 s (2 timeouts):
 * the bare ACK dropped, no SYN-ACK at 1 s, one at 3 s, whose ACK then completes the accept.
 */
export function requestResend(conn: TcpConn): boolean {
  const defer = deferOf(conn);
  return !conn.deferAcked || conn.retransmits >= defer - 1;
}

/** inet_csk_reqsk_queue_add: the child finished its handshake; accept() can take it. */
export function childEstablished(conn: TcpConn): void {
  const l = conn.listener;
  if (!l) return;
  l.synQueue.delete(conn);
  l.acceptQueue.push(conn);
  conn.env.defer(() => l.owner.emit('connection'));
}

/** accept(): the first completed child, now owned by the caller, or undefined (EAGAIN). */
export function acceptChild(l: Listener): TcpConn | undefined {
  const conn = l.acceptQueue.shift();
  if (!conn) return undefined;
  conn.accepted = true;
  conn.listener = null;
  return conn;
}

/** A child leaves its listener's queues (it closed before accept()). */
export function unlinkChild(conn: TcpConn): void {
  const l = conn.listener;
  if (!l) return;
  l.synQueue.delete(conn);
  const i = l.acceptQueue.indexOf(conn);
  if (i >= 0) l.acceptQueue.splice(i, 1);
}

/** inet_csk_listen_stop: unaccepted children are reset, requests dropped. */
export function listenStop(l: Listener): void {
  for (const child of [...l.acceptQueue]) {
    // Observed on 6.18: only EstabResets and OutRsts move, no abort counter.
    if (child.state === TcpState.ESTABLISHED || child.state === TcpState.CLOSE_WAIT) sendActiveReset(child, 'listener closed before accept()');
    tcpDone(child, 'listener closed', 'call');
  }
  // A request sock is never a full socket: inet_csk_listen_stop drops it without tcp_done, so
  // no TcpAttemptFails.
  for (const child of [...l.synQueue]) tcpDone(child, 'listener closed (request dropped)', 'call', false);
}

/**
 * TCP_DEFER_ACCEPT's seconds as SYN-ACK retransmissions (secs_to_retrans with TCP_TIMEOUT_INIT
 * 1 s doubling up to TCP_RTO_MAX): the fewest timeouts whose total covers them.
 */
export function secsToRetrans(secs: number, rtoMaxUs: number): number {
  if (secs <= 0) return 0;
  const max = Math.floor(rtoMaxUs / 1e6);
  let timeout = 1;
  let period = timeout;
  let res = 1;
  while (secs > period && res < 255) {
    res++;
    timeout = Math.min(timeout * 2, max);
    period += timeout;
  }
  return res;
}

/** getsockopt(TCP_DEFER_ACCEPT): the seconds those retransmissions take (retrans_to_secs; observed 2 -> 3, 10 -> 15, 1000 -> 1087). */
export function retransToSecs(retrans: number, rtoMaxUs: number): number {
  if (retrans <= 0) return 0;
  const max = Math.floor(rtoMaxUs / 1e6);
  let timeout = 1;
  let period = timeout;
  while (--retrans > 0) {
    timeout = Math.min(timeout * 2, max);
    period += timeout;
  }
  return period;
}
