// CUBIC's arithmetic, pinned to net/ipv4/tcp_cubic.c (6.x) on a stand-in connection: the
// constants cubictcp_register computes, cubic_root, bictcp_recalc_ssthresh with and without
// fast convergence, bictcp_update's K, W_cubic(t) and cnt, TCP friendliness, and HyStart's
// delay detector. The packet-level behaviour (slow start, app-limited, RTO ssthresh, HyStart,
// slow start after idle) is pinned against the kernel by test/drill/congestion/*.pkt.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TcpConn } from '../../src/tcp/conn.ts';
import { BETA_SCALE, CUBE_FACTOR, CUBE_RTT_SCALE, CUBIC, bictcpUpdate, cubicRoot, cubicState } from '../../src/tcp/cubic.ts';
import { RENO } from '../../src/tcp/congestion.ts';

/** Only what the congestion controls read and write; jiffies at HZ 250. */
function conn(cwnd: number): TcpConn & { clock: { now: number }; counts: Record<string, number> } {
  const clock = { now: 1_000_000_000 };
  const counts: Record<string, number> = {};
  const c = {
    cwnd, ssthresh: 0x7fffffff, cwndCnt: 0, caPriv: null, sndUna: 0, sndMax: 0, lsndtime: 0, priorCwnd: 0,
    isCwndLimited: true, maxPacketsOut: 0, clock, counts,
    env: { now: () => clock.now, cfg: { hz: 250 }, counters: { inc: (k: string, by = 1) => { counts[k] = (counts[k] ?? 0) + by; } } },
  };
  return c as unknown as TcpConn & { clock: { now: number }; counts: Record<string, number> };
}

test('cubictcp_register: beta_scale 15, cube_rtt_scale 410, cube_factor 2^40 / 410', () => {
  assert.equal(BETA_SCALE, 15); // 8*(1024+717)/3/(1024-717)
  assert.equal(CUBE_RTT_SCALE, 410);
  assert.equal(CUBE_FACTOR, 2681735677n);
});

test('cubic_root: the table below 64, one Newton step above (within 0.2% of the cube root)', () => {
  assert.equal(cubicRoot(0n), 0);
  assert.equal(cubicRoot(27n), 3); // (v[27] + 35) >> 6 = 225 >> 6
  assert.equal(cubicRoot(1000n), 10);
  // K for W_max - cwnd = 30: cbrt(2^40/410 * 30) = 4316.97; Linux's approximation gives 4316
  // (1/1024 s units: 4.215 s; RFC 9438's K = cbrt(W_max (1 - beta) / C) = cbrt(75) = 4.217 s).
  assert.equal(cubicRoot(CUBE_FACTOR * 30n), 4316);
});

test('bictcp_recalc_ssthresh: cwnd * 717 / 1024; W_max = cwnd, or with fast convergence cwnd * (1 + beta) / 2 below the last W_max', () => {
  const c = conn(100);
  assert.equal(CUBIC.ssthresh(c), 70); // 71700 / 1024 = 70.02
  assert.equal(cubicState(c).lastMaxCwnd, 100);
  assert.equal(cubicState(c).epochStart, 0);
  c.cwnd = 80; // a second loss below the last W_max: fast convergence
  assert.equal(CUBIC.ssthresh(c), 56); // 57360 / 1024
  assert.equal(cubicState(c).lastMaxCwnd, 68); // 80 * 1741 / 2048 = 68.0
  c.cwnd = 120; // above it: W_max is cwnd
  assert.equal(CUBIC.ssthresh(c), 84);
  assert.equal(cubicState(c).lastMaxCwnd, 120);
  c.cwnd = 2;
  assert.equal(CUBIC.ssthresh(c), 2); // never below 2
  // Reno (tcp_reno_ssthresh): half of cwnd, at least 2.
  assert.equal(RENO.ssthresh(conn(100)), 50);
  assert.equal(RENO.ssthresh(conn(3)), 2);
});

test('bictcp_update: K from W_max - cwnd, W_cubic(t) below and above the origin, cnt = cwnd / (W_cubic - cwnd)', () => {
  const c = conn(100);
  CUBIC.ssthresh(c); // W_max 100
  c.cwnd = 70;
  c.ssthresh = 70;
  const s = cubicState(c);
  s.delayMin = 100_000; // t is counted from the epoch plus delay_min (25 jiffies)
  bictcpUpdate(c, s, 70, 1);
  assert.equal(s.bicK, 4316);
  assert.equal(s.bicOriginPoint, 100);
  // t = 25 jiffies = 102/1024 s: offs 4214, 410 * 4214^3 >> 40 = 27, W = 100 - 27 = 73, cnt = 70 / 3.
  assert.equal(s.cnt, 23);
  c.clock.now += 1_000_000; // t = 275 jiffies = 1126: offs 3190, delta 12, W 88, cnt 70 / 18 = 3
  bictcpUpdate(c, s, 70, 1);
  assert.equal(s.cnt, 3);
  c.clock.now += 5_000_000; // t = 1525 jiffies = 6246, past K: offs 1930, delta 2, W 102, cnt 70 / 32 = 2
  bictcpUpdate(c, s, 70, 1);
  assert.equal(s.cnt, 2);
  // Just below W_max: K = cbrt(2^40/410 * 3), W = 98 at t = 102/1024 s: cnt = 97 / 1.
  const d = conn(100);
  CUBIC.ssthresh(d);
  const t = cubicState(d);
  t.delayMin = 100_000;
  bictcpUpdate(d, t, 97, 1);
  assert.equal(t.cnt, 97);
  // At W_max: K 0, origin cwnd, W not above cwnd yet: a very small increment, 100 * cwnd
  // (no 5% cap once W_max is known).
  const e = conn(100);
  CUBIC.ssthresh(e);
  const u = cubicState(e);
  u.delayMin = 100_000;
  bictcpUpdate(e, u, 100, 1);
  assert.equal(u.bicK, 0);
  assert.equal(u.cnt, 10000);
});

test('bictcp_update: without W_max growth is capped at 5% per RTT (cnt 20); TCP friendliness caps cnt at cwnd / (W_est - cwnd)', () => {
  const c = conn(28);
  const s = cubicState(c);
  s.delayMin = 10_000;
  bictcpUpdate(c, s, 28, 1);
  assert.equal(s.cnt, 20); // W = origin 28, not above cwnd: 2800, capped to 20
  const d = conn(28);
  const t = cubicState(d);
  t.delayMin = 10_000;
  bictcpUpdate(d, t, 28, 200); // ack_cnt 200 over 28 * 15 >> 3 = 52 per Reno segment: W_est 31
  assert.equal(t.tcpCwnd, 31);
  assert.equal(t.ackCnt, 44);
  assert.equal(t.cnt, 9); // 28 / (31 - 28)
});

test('cubictcp_cong_avoid: slow start up to ssthresh, the rest through tcp_cong_avoid_ai with cnt; nothing when not cwnd-limited', () => {
  const c = conn(10);
  c.ssthresh = 12;
  cubicState(c).delayMin = 10_000;
  CUBIC.congAvoid(c, 5); // 10 -> 12 by slow start, 3 segments left for CA (cnt 20)
  assert.equal(c.cwnd, 12);
  assert.equal(c.cwndCnt, 3);
  const d = conn(10);
  d.isCwndLimited = false;
  d.maxPacketsOut = 5; // in slow start: grows only while cwnd < 2 * max_packets_out
  CUBIC.congAvoid(d, 5);
  assert.equal(d.cwnd, 10);
  d.maxPacketsOut = 6;
  CUBIC.congAvoid(d, 6);
  assert.equal(d.cwnd, 16);
});

test('HyStart delay detector: after 8 samples, a round minimum above delay_min + clamp(delay_min/8, 4, 16 ms) sets ssthresh = cwnd', () => {
  const c = conn(20);
  c.sndUna = 1000;
  c.sndMax = 5000;
  CUBIC.init(c);
  CUBIC.pktsAcked(c, 1, 10_000); // delay_min 10 ms
  c.sndUna = 5001; // the round ends: a new one starts at the next sample
  c.sndMax = 9000;
  for (let i = 0; i < 8; i++) {
    c.clock.now += 3_000; // 3 ms apart: no ACK train
    CUBIC.pktsAcked(c, 1, 15_000);
    c.cwnd++;
  }
  assert.equal(c.ssthresh, 0x7fffffff);
  c.clock.now += 3_000;
  CUBIC.pktsAcked(c, 1, 15_000); // 15 > 10 + 4
  assert.equal(c.ssthresh, 28);
  assert.equal(c.counts.TCPHystartDelayDetect, 1);
  assert.equal(c.counts.TCPHystartDelayCwnd, 28);
  assert.equal(cubicState(c).found, true);
});

test('HyStart ACK train: ACKs at most 2 ms apart for longer than delay_min / 2 after the round began', () => {
  const c = conn(20);
  CUBIC.init(c);
  CUBIC.pktsAcked(c, 1, 10_000); // delay_min 10 ms; the round started here
  for (let i = 0; i < 5; i++) {
    c.clock.now += 1_000;
    CUBIC.pktsAcked(c, 1, 10_000);
  }
  assert.equal(c.ssthresh, 0x7fffffff); // 5 ms: not past 5 ms
  c.clock.now += 1_000;
  CUBIC.pktsAcked(c, 1, 10_000);
  assert.equal(c.ssthresh, 20);
  assert.equal(c.counts.TCPHystartTrainDetect, 1);
});

test('cubictcp_state(TCP_CA_Loss) forgets W_max; tcp_reno_undo_cwnd is max(cwnd, prior_cwnd)', () => {
  const c = conn(100);
  CUBIC.ssthresh(c);
  CUBIC.setState(c, 4);
  assert.equal(cubicState(c).lastMaxCwnd, 0);
  Object.defineProperty(c, 'priorCwnd', { value: 40 }); // tp->prior_cwnd, set by the recovery code
  c.cwnd = 1;
  assert.equal(CUBIC.undoCwnd(c), 40);
  assert.equal(RENO.undoCwnd(c), 40);
});
