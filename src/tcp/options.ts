// TCP options as one segment carries them (parsed once per segment) and as the handshake
// negotiates them (RFC 9293 §3.7.1 MSS, RFC 7323 window scale and timestamps, RFC 2018 SACK;
// Linux tcp_parse_options and the option half of tcp_rcv_synsent_state_process/tcp_openreq_init).

import { RxSegment } from '../wire/segment.ts';
import type { TcpRepr } from '../wire/types.ts';
import type { TcpConn } from './conn.ts';

export interface SegOpts {
  mss: number;
  wscale: number; // -1 absent
  sackOk: boolean;
  tsVal: number;
  tsEcr: number;
  hasTs: boolean;
  sack: Array<[number, number]> | null;
}

export function parseSegOpts(seg: TcpRepr): SegOpts {
  // A host's received segment has its options as these fields already (wire/segment.ts).
  if (seg instanceof RxSegment && seg.wscale <= 14) return seg;
  const o: SegOpts = { mss: 0, wscale: -1, sackOk: false, tsVal: 0, tsEcr: 0, hasTs: false, sack: null };
  for (const opt of seg.options) {
    switch (opt.kind) {
      case 'mss': o.mss = opt.value; break;
      case 'wscale': o.wscale = Math.min(opt.shift, 14); break; // RFC 7323 §2.3: cap at 14
      case 'sackPermitted': o.sackOk = true; break;
      case 'timestamp': o.hasTs = true; o.tsVal = opt.val; o.tsEcr = opt.ecr; break;
      case 'sack': o.sack = opt.blocks; break;
      default: break;
    }
  }
  return o;
}

/** Options of the SYN (or SYN-ACK) negotiate MSS, window scale, SACK, timestamps. */
export function negotiateSynOptions(c: TcpConn, o: SegOpts): void {
  const cfg = c.env.cfg;
  c.peerMss = o.mss || (c.v6 ? 1220 : 536);
  c.wscaleOk = o.wscale >= 0 && cfg.tcp_window_scaling !== 0;
  if (c.wscaleOk) c.sndWscale = o.wscale;
  else {
    c.sndWscale = 0;
    c.rcvWscale = 0;
  }
  c.sackOk = o.sackOk && cfg.tcp_sack !== 0;
  c.tsOk = o.hasTs && cfg.tcp_timestamps !== 0;
  if (c.tsOk) {
    c.tsRecent = o.tsVal;
    c.tsRecentStamp = c.env.now();
  }
  syncMss(c);
}

/**
 * tcp_sync_mss: the send MSS is the path's, lowered to the peer's MSS (and TCP_MAXSEG, the
 * user_mss of tcp_parse_options), less the timestamp option, and no more than half the largest
 * window the peer has offered (tcp_bound_to_half_wnd: with tiny windows, segments of half the
 * window keep two in flight). Linux runs it again whenever that window grows. Seen on 6.18: a
 * peer whose window opened to 2000 got 1000 + 448 bytes, not 1448 (drill --kernel,
 * notsent-lowat/setsockopt-limits-unsent.pkt).
 */
export function syncMss(c: TcpConn): void {
  const mtuMss = c.env.cfg.mtu - (c.v6 ? 60 : 40);
  const clamp = c.opts.userMss ? Math.min(c.peerMss, c.opts.userMss) : c.peerMss;
  const header = 20 + (c.tsOk ? 12 : 0);
  // __tcp_mtu_to_mss: never below tcp_min_snd_mss (CVE-2019-11479), before the options come off.
  let mss = Math.max(Math.min(clamp, mtuMss), c.env.cfg.tcp_min_snd_mss) - (header - 20);
  const cutoff = c.maxWindow > TCP_MSS_DEFAULT ? c.maxWindow >> 1 : c.maxWindow;
  if (cutoff && mss > cutoff) mss = Math.max(cutoff, 68 - header);
  c.mssCache = mss;
}

/** TCP_MSS_DEFAULT (include/net/tcp.h). */
const TCP_MSS_DEFAULT = 536;
