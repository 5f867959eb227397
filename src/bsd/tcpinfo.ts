// getsockopt(TCP_INFO): struct tcp_info as include/uapi/linux/tcp.h declares it (through
// tcpi_total_rto_time, Linux 6.7+), filled as tcp_get_info() fills it from what the engine's
// TCB knows. Units are Linux's: µs for tcpi_rto, tcpi_ato, tcpi_rtt, tcpi_rttvar, tcpi_rcv_rtt,
// tcpi_min_rtt; ms for tcpi_last_*; segments for tcpi_snd_cwnd and tcpi_unacked; bytes for the rest.
// 64-bit fields are JS numbers (exact below 2^53).
//
// Not modelled by the engine, always 0: tcpi_lost, tcpi_retrans, tcpi_fackets,
// tcpi_last_ack_sent (0 in Linux too), tcpi_rcv_rtt, tcpi_rcv_space, tcpi_pacing_rate,
// tcpi_max_pacing_rate, tcpi_min_rtt, tcpi_delivery_rate, tcpi_delivered, tcpi_delivered_ce,
// tcpi_dsack_dups, tcpi_reord_seen, tcpi_rcv_ooopack, tcpi_rehash, tcpi_total_rto,
// tcpi_total_rto_recoveries, tcpi_total_rto_time, tcpi_delivery_rate_app_limited,
// tcpi_fastopen_client_fail. tcpi_delivered and tcpi_lost count skbs (tcp_skb_pcount), which
// the engine's byte queue does not keep: 6.18 counts 1 for the SYN (or SYN-ACK) and one per
// segment acknowledged or SACKed.
// tcpi_reordering is net.ipv4.tcp_reordering (3, fixed): the engine does not detect reordering,
// which is what raises Linux's tp->reordering.
// tcpi_busy_time, tcpi_rwnd_limited, tcpi_sndbuf_limited are the chronographs (tcp/chrono.ts), in
// µs of whole jiffies; nothing starts the sndbuf-limited one (6.18 kept it at 0 through a
// non-blocking writer's EAGAIN, drill --kernel), so it stays 0.
// tcpi_rto is the engine's RTO in µs (whole jiffies, as Linux's), doubled by each retransmission timeout.
// tcpi_ca_state is icsk_ca_state (Recovery in fast recovery, Loss after an RTO until what was
// out is acknowledged), Disorder derived from duplicate ACKs or SACKed data. Derived: tcpi_unacked
// and tcpi_sacked (segments estimated from bytes in flight / SACKed at the current MSS, the
// SYN and the FIN counting one each).

import { chronoStats } from '../tcp/chrono.ts';
import { rtoBackoff } from '../tcp/rtt.ts';
import type { Listener } from '../tcp/listen.ts';
import type { TcpConn } from '../tcp/conn.ts';
import { TcpState } from '../tcp/states.ts';
import { seqAdd } from '../tcp/seq.ts';
import { isConnecting } from './conn.ts';
import { lossInfo } from '../tcp/recovery.ts';
import {
  TCP_CA_Open, TCPI_OPT_SACK, TCPI_OPT_TIMESTAMPS, TCPI_OPT_WSCALE,
} from './constants.ts';

export interface TcpInfo {
  tcpi_state: number;
  tcpi_ca_state: number;
  tcpi_retransmits: number;
  tcpi_probes: number;
  tcpi_backoff: number;
  tcpi_options: number;
  tcpi_snd_wscale: number;
  tcpi_rcv_wscale: number;
  tcpi_delivery_rate_app_limited: number;
  tcpi_fastopen_client_fail: number;
  tcpi_rto: number;
  tcpi_ato: number;
  tcpi_snd_mss: number;
  tcpi_rcv_mss: number;
  tcpi_unacked: number;
  tcpi_sacked: number;
  tcpi_lost: number;
  tcpi_retrans: number;
  tcpi_fackets: number;
  tcpi_last_data_sent: number;
  tcpi_last_ack_sent: number;
  tcpi_last_data_recv: number;
  tcpi_last_ack_recv: number;
  tcpi_pmtu: number;
  tcpi_rcv_ssthresh: number;
  tcpi_rtt: number;
  tcpi_rttvar: number;
  tcpi_snd_ssthresh: number;
  tcpi_snd_cwnd: number;
  tcpi_advmss: number;
  tcpi_reordering: number;
  tcpi_rcv_rtt: number;
  tcpi_rcv_space: number;
  tcpi_total_retrans: number;
  tcpi_pacing_rate: number;
  tcpi_max_pacing_rate: number;
  tcpi_bytes_acked: number;
  tcpi_bytes_received: number;
  tcpi_segs_out: number;
  tcpi_segs_in: number;
  tcpi_notsent_bytes: number;
  tcpi_min_rtt: number;
  tcpi_data_segs_in: number;
  tcpi_data_segs_out: number;
  tcpi_delivery_rate: number;
  tcpi_busy_time: number;
  tcpi_rwnd_limited: number;
  tcpi_sndbuf_limited: number;
  tcpi_delivered: number;
  tcpi_delivered_ce: number;
  tcpi_bytes_sent: number;
  tcpi_bytes_retrans: number;
  tcpi_dsack_dups: number;
  tcpi_reord_seen: number;
  tcpi_rcv_ooopack: number;
  tcpi_snd_wnd: number;
  tcpi_rcv_wnd: number;
  tcpi_rehash: number;
  tcpi_total_rto: number;
  tcpi_total_rto_recoveries: number;
  tcpi_total_rto_time: number;
}

/** sizeof(struct tcp_info) through tcpi_total_rto_time (Linux 6.7 to 6.17). */
export const TCP_INFO_SIZE = 248;

/** The Linux default of net.ipv4.tcp_reordering (the engine has no such sysctl). */
const TCP_REORDERING = 3;

/** A socket with no connection: the values tcp_init_sock() leaves in a fresh tcp_sock. */
function freshInfo(state: number): TcpInfo {
  return {
    tcpi_state: state, tcpi_ca_state: TCP_CA_Open, tcpi_retransmits: 0, tcpi_probes: 0, tcpi_backoff: 0, tcpi_options: 0,
    tcpi_snd_wscale: 0, tcpi_rcv_wscale: 0, tcpi_delivery_rate_app_limited: 0, tcpi_fastopen_client_fail: 0,
    tcpi_rto: 1_000_000, // TCP_TIMEOUT_INIT
    tcpi_ato: 0,
    tcpi_snd_mss: 536, // TCP_MSS_DEFAULT
    tcpi_rcv_mss: 0, tcpi_unacked: 0, tcpi_sacked: 0, tcpi_lost: 0, tcpi_retrans: 0, tcpi_fackets: 0,
    tcpi_last_data_sent: 0, tcpi_last_ack_sent: 0, tcpi_last_data_recv: 0, tcpi_last_ack_recv: 0,
    tcpi_pmtu: 0, tcpi_rcv_ssthresh: 0, tcpi_rtt: 0,
    tcpi_rttvar: 250_000, // mdev_us = TCP_TIMEOUT_INIT, reported >> 2
    tcpi_snd_ssthresh: 0x7fffffff, // TCP_INFINITE_SSTHRESH
    tcpi_snd_cwnd: 10, // TCP_INIT_CWND
    tcpi_advmss: 0, tcpi_reordering: TCP_REORDERING, tcpi_rcv_rtt: 0, tcpi_rcv_space: 0, tcpi_total_retrans: 0,
    tcpi_pacing_rate: 0, tcpi_max_pacing_rate: 0, tcpi_bytes_acked: 0, tcpi_bytes_received: 0, tcpi_segs_out: 0,
    tcpi_segs_in: 0, tcpi_notsent_bytes: 0, tcpi_min_rtt: 0, tcpi_data_segs_in: 0, tcpi_data_segs_out: 0,
    tcpi_delivery_rate: 0, tcpi_busy_time: 0, tcpi_rwnd_limited: 0, tcpi_sndbuf_limited: 0, tcpi_delivered: 0,
    tcpi_delivered_ce: 0, tcpi_bytes_sent: 0, tcpi_bytes_retrans: 0, tcpi_dsack_dups: 0, tcpi_reord_seen: 0,
    tcpi_rcv_ooopack: 0, tcpi_snd_wnd: 0, tcpi_rcv_wnd: 0, tcpi_rehash: 0, tcpi_total_rto: 0,
    tcpi_total_rto_recoveries: 0, tcpi_total_rto_time: 0,
  };
}

const ms = (us: number): number => Math.max(0, Math.floor(us / 1000));

/** Linux's write_seq counts the FIN once it is queued; the engine's writeSeq does not. */
const linuxWriteSeq = (c: TcpConn): number => (c.finQueued ? seqAdd(c.writeSeq, 1) : c.writeSeq);

/** Sequence distance b - a, or 0 when b is not after a. */
const dist = (a: number, b: number): number => {
  const d = (b - a) >>> 0;
  return d > 0x7fffffff ? 0 : d;
};

/** Segments in flight (Linux packets_out): the retransmission queue, or the SYN. */
function packetsOut(c: TcpConn): number {
  if (c.flight === 0) return 0;
  if (c.sndUna === c.iss) return 1;
  return c.lossIfAny?.q.length ?? 0;
}

/**
 * TCP_INFO for an engine socket at virtual time `now`. `conn` is the connection the socket
 * stands for (null for a fresh, listening or disconnected socket); `pmtu` the link MTU.
 */
export function tcpInfo(l: Listener | null, conn: TcpConn | null, now: number, pmtu: number): TcpInfo {
  if (l) {
    // tcp_get_info on a listener: the accept queue and its limit in unacked/sacked.
    const i = freshInfo(TcpState.LISTEN);
    i.tcpi_unacked = l.acceptQueue.length;
    i.tcpi_sacked = l.backlog;
    return i;
  }
  if (!conn) return freshInfo(TcpState.CLOSED);
  const c = conn;
  const i = freshInfo(c.state);
  i.tcpi_ca_state = c.caState;
  i.tcpi_retransmits = c.retransmits;
  i.tcpi_probes = c.probesOut;
  i.tcpi_backoff = c.backoff;
  i.tcpi_options = (c.tsOk ? TCPI_OPT_TIMESTAMPS : 0) | (c.sackOk ? TCPI_OPT_SACK : 0) | (c.wscaleOk ? TCPI_OPT_WSCALE : 0);
  if (c.wscaleOk) {
    i.tcpi_snd_wscale = c.sndWscale;
    i.tcpi_rcv_wscale = c.rcvWscale;
  }
  // tcp_retransmit_timer doubles icsk_rto itself at each timeout (min(rto << 1, TCP_RTO_MAX));
  // the zero-window probe timer backs off without touching it (tcp_probe0_when).
  i.tcpi_rto = c.rtxKind !== 'persist' && c.backoff > 0 ? rtoBackoff(c) : c.rto;
  i.tcpi_ato = c.ato;
  i.tcpi_snd_mss = c.mssCache;
  i.tcpi_rcv_mss = c.rcvMss;
  i.tcpi_unacked = packetsOut(c);
  const li = lossInfo(c);
  i.tcpi_sacked = li.sacked;
  i.tcpi_lost = li.lost;
  i.tcpi_retrans = li.retrans;
  i.tcpi_reordering = li.reordering;
  i.tcpi_min_rtt = li.minRtt;
  // tp->delivered counts the SYN (or SYN-ACK) once it is acknowledged (seen on 6.18).
  i.tcpi_delivered = li.delivered + (c.sndUna !== c.iss ? 1 : 0);
  // Linux stamps lsndtime and lrcvtime when the connection is established; the engine stamps
  // them at the first data segment (lrcvtime also at the handshake), so until then the time of
  // connect() (or of the SYN, for an accepted socket) stands in: one RTT more than Linux says.
  i.tcpi_last_data_sent = ms(now - (c.lsndtime || c.openedAt));
  i.tcpi_last_data_recv = ms(now - (c.lrcvtime || c.openedAt));
  i.tcpi_last_ack_recv = ms(now - (c.rcvTstamp || c.openedAt));
  i.tcpi_pmtu = pmtu;
  i.tcpi_rcv_ssthresh = c.rcvSsthresh;
  i.tcpi_rtt = Math.round(c.srtt);
  i.tcpi_rttvar = c.srtt ? Math.round(c.mdev) : 250_000;
  i.tcpi_snd_ssthresh = c.ssthresh;
  i.tcpi_snd_cwnd = c.cwnd;
  // tcp_rcv_synsent_state_process takes the timestamp option out of advmss on an active open.
  i.tcpi_advmss = c.advMss - (c.tsOk && !c.passive ? 12 : 0);
  i.tcpi_total_retrans = c.totalRetrans;
  i.tcpi_bytes_acked = c.bytesAcked;
  i.tcpi_bytes_received = c.bytesReceived;
  i.tcpi_segs_out = c.segsOut;
  i.tcpi_segs_in = c.segsIn;
  i.tcpi_notsent_bytes = outqNotSent(c);
  i.tcpi_data_segs_in = c.dataSegsIn;
  i.tcpi_data_segs_out = c.dataSegsOut;
  i.tcpi_bytes_sent = c.bytesSent + c.bytesRetrans;
  i.tcpi_bytes_retrans = c.bytesRetrans;
  const chrono = chronoStats(c);
  i.tcpi_busy_time = chrono.busy;
  i.tcpi_rwnd_limited = chrono.rwndLimited;
  i.tcpi_sndbuf_limited = chrono.sndbufLimited;
  i.tcpi_snd_wnd = c.sndWnd;
  i.tcpi_rcv_wnd = c.rcvWnd;
  // rcv_rtt_est.rtt_us >> 3 and rcvq_space.space (autotune.ts).
  if (c.rcvSpace) {
    i.tcpi_rcv_rtt = c.rcvSpace.rttUs >> 3;
    i.tcpi_rcv_space = c.rcvSpace.space;
  }
  return i;
}

/** SIOCOUTQ: bytes not yet acknowledged (the FIN included, as Linux's write_seq does). */
export function outq(c: TcpConn | null): number {
  if (!c || isConnecting(c)) return 0;
  return dist(c.sndUna, linuxWriteSeq(c));
}

/** SIOCOUTQNSD: bytes not yet sent. */
export function outqNotSent(c: TcpConn | null): number {
  if (!c || isConnecting(c)) return 0;
  return dist(c.sndMax, linuxWriteSeq(c));
}
