// SYN cookies (Linux net/ipv4/syncookies.c, net/ipv6/syncookies.c): when the SYN queue is full
// (or always, tcp_syncookies = 2) the SYN-ACK's ISN encodes what the request would have kept,
// and a valid cookie in the final ACK rebuilds it. The layout is Linux's
// (secure_tcp_syn_cookie): H1(4-tuple) + peer ISN + (count << 24) + ((H2(4-tuple, count) +
// MSS index) mod 2^24), count a minute counter; the hash is linger's own keyed mix (isn.ts),
// not the kernel's SipHash. With timestamps, the low 6 bits of the SYN-ACK's TS val carry the
// peer's window scale, SACK-permitted and ECN (cookie_init_timestamp / cookie_timestamp_decode).

import type { HostConfig } from '../base/config.ts';
import { keyedHash } from './isn.ts';

/** msstab (syncookies.c): the MSS a cookie can carry, as an index. */
export const MSSTAB_V4: readonly number[] = [536, 1300, 1440, 1460];
/** msstab of net/ipv6/syncookies.c: 1280, 1480, 1500 and 9000 less 60. */
export const MSSTAB_V6: readonly number[] = [1220, 1420, 1440, 8940];

const COOKIEBITS = 24;
const COOKIEMASK = (1 << COOKIEBITS) - 1;
/** TCP_SYNCOOKIE_PERIOD: the counter moves every 60 s. */
export const TCP_SYNCOOKIE_PERIOD_US = 60_000_000;
/** MAX_SYNCOOKIE_AGE: a cookie of this count or the one before is accepted. */
export const MAX_SYNCOOKIE_AGE = 2;
/** TCP_SYNCOOKIE_VALID: how long after the last overflow ACKs are checked as cookies. */
const TCP_SYNCOOKIE_VALID_US = MAX_SYNCOOKIE_AGE * TCP_SYNCOOKIE_PERIOD_US;
const HZ_US = 1_000_000;

/** TSBITS and the option bits of a cookie's TS val (include/net/tcp.h). */
const TSBITS = 6;
const TS_OPT_WSCALE_MASK = 0xf;
const TS_OPT_SACK = 1 << 4;
const TS_OPT_ECN = 1 << 5;

/** The 4-tuple a cookie is bound to, as the SYN carried it (saddr is the peer's). */
export interface CookieTuple {
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
}

/** tcp_cookie_time: the minute counter. */
const cookieTime = (nowUs: number): number => Math.floor(nowUs / TCP_SYNCOOKIE_PERIOD_US) >>> 0;

const cookieHash = (key: number, t: CookieTuple, count: number, c: number): number =>
  keyedHash(key ^ 0x2f8a61c7, t.saddr, t.daddr, t.sport, t.dport, count, c);

/** The MSS table of the tuple's family. */
export const msstabOf = (v6: boolean): readonly number[] => (v6 ? MSSTAB_V6 : MSSTAB_V4);

/**
 * __cookie_v4_init_sequence: the largest table MSS not above the SYN's (mss_clamp), and the
 * cookie ISN for `sseq`, the SYN's sequence number.
 */
export function cookieInitSequence(key: number, t: CookieTuple, v6: boolean, sseq: number, mss: number, nowUs: number): { isn: number; mss: number } {
  const tab = msstabOf(v6);
  let mssind = tab.length - 1;
  for (; mssind > 0; mssind--) if (mss >= tab[mssind]!) break;
  const count = cookieTime(nowUs);
  const isn = cookieHash(key, t, 0, 0) + sseq + count * (1 << COOKIEBITS) + ((cookieHash(key, t, count, 1) + mssind) & COOKIEMASK);
  return { isn: isn >>> 0, mss: tab[mssind]! };
}

/**
 * __cookie_v4_check (check_tcp_syn_cookie): the MSS a final ACK's cookie carries, or 0 when it
 * is not one of ours, or older than MAX_SYNCOOKIE_AGE counts. `cookie` is SEG.ACK - 1 and
 * `sseq` SEG.SEQ - 1.
 */
export function cookieCheck(key: number, t: CookieTuple, v6: boolean, cookie: number, sseq: number, nowUs: number): number {
  const count = cookieTime(nowUs);
  const rest = (cookie - cookieHash(key, t, 0, 0) - sseq) >>> 0;
  const diff = (count - (rest >>> COOKIEBITS)) & (0xffffffff >>> COOKIEBITS);
  if (diff >= MAX_SYNCOOKIE_AGE) return 0;
  const mssind = (rest - cookieHash(key, t, (count - diff) >>> 0, 1)) & COOKIEMASK;
  return msstabOf(v6)[mssind] ?? 0;
}

/** The options a request negotiated, as a cookie's TS val keeps them. */
export interface CookieOptions {
  wscaleOk: boolean;
  /** The peer's window scale (snd_wscale). */
  sndWscale: number;
  sackOk: boolean;
  ecnOk: boolean;
}

/**
 * cookie_init_timestamp: the TS clock (ms) rounded down to 64, the option bits in the low 6
 * bits, and never ahead of the clock. The caller adds the connection's TS offset.
 */
export function cookieInitTimestamp(tsNowMs: number, o: CookieOptions): number {
  let options = o.wscaleOk ? o.sndWscale : TS_OPT_WSCALE_MASK;
  if (o.sackOk) options |= TS_OPT_SACK;
  if (o.ecnOk) options |= TS_OPT_ECN;
  const now = tsNowMs >>> 0;
  let ts = ((now >>> TSBITS) << TSBITS) >>> 0;
  ts = (ts | options) >>> 0;
  if (ts > now) ts = (ts - (1 << TSBITS)) >>> 0;
  return ts;
}

/**
 * cookie_timestamp_decode: the options from the ACK's TS ecr (less the TS offset). Without a
 * timestamp the connection has no window scaling and no SACK; null when the bits ask for
 * something the sysctls now refuse (the ACK is then not a valid cookie).
 */
export function cookieTimestampDecode(cfg: HostConfig, hasTs: boolean, tsecr: number): CookieOptions | null {
  if (!hasTs) return { wscaleOk: false, sndWscale: 0, sackOk: false, ecnOk: false };
  if (!cfg.tcp_timestamps) return null;
  const options = tsecr & ((1 << TSBITS) - 1);
  const sackOk = (options & TS_OPT_SACK) !== 0;
  if (sackOk && !cfg.tcp_sack) return null;
  const ecnOk = (options & TS_OPT_ECN) !== 0;
  if ((options & TS_OPT_WSCALE_MASK) === TS_OPT_WSCALE_MASK) return { wscaleOk: false, sndWscale: 0, sackOk, ecnOk };
  const sndWscale = options & TS_OPT_WSCALE_MASK;
  if (sndWscale > 14) return null; // TCP_MAX_WSCALE
  if (!cfg.tcp_window_scaling) return null;
  return { wscaleOk: true, sndWscale, sackOk, ecnOk };
}

/** A listener's memory of its last SYN queue overflow (Linux keeps it in rx_opt.ts_recent_stamp). */
export interface OverflowStamp {
  lastOverflow: number;
}

/** tcp_synq_overflow: remember the overflow, at most once a second. */
export function synqOverflow(l: OverflowStamp, nowUs: number): void {
  const last = l.lastOverflow;
  if (!(nowUs >= last && nowUs <= last + HZ_US)) l.lastOverflow = nowUs;
}

/** tcp_synq_no_recent_overflow: no cookie sent within the validity window, so an ACK is not checked as one. */
export function synqNoRecentOverflow(l: OverflowStamp, nowUs: number): boolean {
  const last = l.lastOverflow;
  return !(nowUs >= last - HZ_US && nowUs <= last + TCP_SYNCOOKIE_VALID_US);
}
