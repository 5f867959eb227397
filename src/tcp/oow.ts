// The limits on ACKs sent in answer to invalid segments (RFC 5961 §7): the per-socket
// __tcp_oow_rate_limited (net.ipv4.tcp_invalid_ratelimit, 500 ms) and the per-namespace
// budget of tcp_send_challenge_ack (net.ipv4.tcp_challenge_ack_limit per second).

import type { HostConfig } from '../base/config.ts';
import { jiffyUs } from '../time/jiffies.ts';

/** INT_MAX: tcp_challenge_ack_limit's default since Linux 6.0, the namespace budget off. */
export const CHALLENGE_ACK_UNLIMITED = 2147483647;

/**
 * __tcp_oow_rate_limited: true when the last out-of-window ACK (`last`, µs; -Infinity for
 * never) went fewer than tcp_invalid_ratelimit ms ago, counted in whole jiffies as Linux does
 * (msecs_to_jiffies rounds up). The caller counts the skip and, when not limited, records now.
 */
export function oowRateLimited(cfg: HostConfig, now: number, last: number): boolean {
  if (last === -Infinity) return false;
  const j = jiffyUs(cfg.hz);
  const elapsed = Math.floor(now / j) - Math.floor(last / j);
  return elapsed >= 0 && elapsed < Math.ceil((cfg.tcp_invalid_ratelimit * 1000) / j);
}

/**
 * The namespace-wide challenge ACK budget (net->ipv4.tcp_challenge_count). Linux 6.x
 * (tcp_send_challenge_ack): with the limit at INT_MAX nothing is counted; otherwise, on the
 * first challenge of each second of jiffies/HZ, the budget is drawn at random in
 * [half, limit + half - 1], half = (limit + 1) / 2, so the rate is not an oracle for an
 * attacker (CVE-2016-5696). A challenge the budget refuses is not counted anywhere.
 */
export class ChallengeAckBudget {
  private second = -1;
  private count = 0;

  constructor(private readonly seed: number) {}

  /** One challenge ACK may go now: takes it from the budget. */
  take(cfg: HostConfig, now: number): boolean {
    const limit = cfg.tcp_challenge_ack_limit >>> 0;
    if (limit === CHALLENGE_ACK_UNLIMITED) return true;
    // linger's clock stands in for jiffies: its seconds start at its time 0.
    const s = Math.floor(now / 1_000_000);
    if (s !== this.second) {
      this.second = s;
      const half = ((limit + 1) >>> 0) >>> 1;
      // get_random_u32_inclusive(half, limit + half - 1), u32 arithmetic: limit 0 draws from the
      // whole u32 range (the budget is then all but unlimited, as in Linux).
      const span = ((limit + half - 1) >>> 0) - half + 1;
      this.count = half + (span > 0 ? mix(this.seed, s) % span : mix(this.seed, s));
    }
    if (this.count <= 0) return false;
    this.count--;
    return true;
  }
}

/** A seeded 32-bit hash of (seed, second): the run stays reproducible. */
function mix(seed: number, s: number): number {
  let h = (Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(s + 0x632be5ab, 0xc2b2ae35)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d) >>> 0;
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}
