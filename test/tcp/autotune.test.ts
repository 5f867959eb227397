// Receive-buffer autotuning (src/tcp/autotune.ts): the arithmetic of tcp_init_buffer_space,
// tcp_measure_rcv_mss's scaling_ratio, tcp_grow_window, tcp_rcv_rtt_* and DRS
// (tcp_rcv_space_adjust, tcp_rcvbuf_grow), with the numbers seen on Linux 6.18
// (test/drill/autotune/*.pkt, same under drill --both).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  growWindow, initBufferSpace, measureRcvMss, rcvbufGrow, rcvRttMeasureTs, rcvSpace, rcvSpaceAdjust, skbTruesize, freeSpace, fullSpace,
} from '../../src/tcp/autotune.ts';
import { SegmentQueue } from '../../src/tcp/buffer.ts';
import { defaultConfig } from '../../src/base/config.ts';
import type { TcpConn } from '../../src/tcp/conn.ts';

function conn(opts: { rcvbuf?: number; locked?: boolean; moderate?: 0 | 1 } = {}) {
  let now = 0;
  const cfg = { ...defaultConfig(), tcp_moderate_rcvbuf: opts.moderate ?? 1 };
  const c = {
    rcvSpace: null, opts: { rcvbuf: opts.rcvbuf ?? 131072, rcvbufLocked: opts.locked },
    env: { now: () => now, cfg }, rcvBuf: new SegmentQueue(1 << 22, skbTruesize), ofo: [],
    windowClamp: 0, rcvSsthresh: 65160, rcvWnd: 65160, rcvNxt: 1, advMss: 1460, tsOk: true, rcvMss: 536, quick: 0,
  };
  return { c: c as unknown as TcpConn, at: (t: number) => { now = t; } };
}

test('skb truesize of the kernel link: 2304 for 1000 to 1448 bytes, 1280 for 380, 832 up to 120 (skb_small_head_cache)', () => {
  assert.equal(skbTruesize(1448), 2304);
  assert.equal(skbTruesize(1000), 2304);
  assert.equal(skbTruesize(380), 1280);
  // Seen on 6.18 (ss -tm, 1-byte out-of-order segments on tun): 832 each.
  assert.equal(skbTruesize(1), 832);
  assert.equal(skbTruesize(120), 832);
  assert.equal(skbTruesize(121), 1280);
});

test('tcp_init_buffer_space: clamp 65536 - 1448, rcv_ssthresh 64088, rcvq_space 14480', () => {
  const { c } = conn();
  initBufferSpace(c);
  assert.equal(c.windowClamp, 64088);
  assert.equal(c.rcvSsthresh, 64088);
  assert.equal(c.rcvSpace!.space, 14480);
  assert.equal(fullSpace(c), 65536);
});

test('first 1448-byte segment: scaling_ratio 160, clamp 81920, rcv_ssthresh 65160 + 2896, free-space cap 80480', () => {
  const { c } = conn();
  initBufferSpace(c);
  c.rcvBuf.push(new Uint8Array(1448));
  measureRcvMss(c, 1448);
  assert.equal(c.rcvSpace!.ratio, 160);
  assert.equal(c.windowClamp, 81920);
  assert.equal(c.rcvSsthresh, 65160);
  assert.equal(c.rcvMss, 1448);
  growWindow(c, 1448);
  assert.equal(c.rcvSsthresh, 68056);
  assert.equal(freeSpace(c), 80480);
  for (let i = 0; i < 10; i++) growWindow(c, 1448);
  assert.equal(c.rcvSsthresh, 80480);
});

test('receiver RTT from timestamps: first sample, then 7/8 smoothing, in µs << 3', () => {
  const { c } = conn();
  initBufferSpace(c);
  c.rcvMss = 1448;
  rcvRttMeasureTs(c, 1000, 1448, 1050);
  assert.equal(c.rcvSpace!.rttUs >> 3, 50000);
  rcvRttMeasureTs(c, 1000, 1448, 1090); // same TS ecr: no sample
  assert.equal(c.rcvSpace!.rttUs >> 3, 50000);
  rcvRttMeasureTs(c, 1100, 1448, 1190);
  assert.equal(c.rcvSpace!.rttUs, 400000 + 90000 - 50000);
});

test('DRS: 16 then 24 segments read per RTT grow rcvbuf to 163100 then 222412, the clamp following', () => {
  const { c, at } = conn();
  initBufferSpace(c);
  measureRcvMss(c, 1448); // ratio 160
  const r = rcvSpace(c);
  r.rttUs = 50000 << 3;
  at(100_000);
  c.rcvNxt = 1 + 16 * 1448;
  rcvSpaceAdjust(c, c.rcvNxt);
  assert.equal(r.space, 23168);
  assert.equal(r.rcvbuf, 163100);
  assert.equal(c.windowClamp, 101937);
  at(130_000); // under one RTT: no measure
  c.rcvNxt += 24 * 1448;
  rcvSpaceAdjust(c, c.rcvNxt);
  assert.equal(r.space, 23168);
  at(200_000);
  rcvSpaceAdjust(c, c.rcvNxt);
  assert.equal(r.space, 34752);
  assert.equal(r.rcvbuf, 222412);
});

test('DRS: bytes still queued do not count; no growth with SO_RCVBUF or tcp_moderate_rcvbuf=0; capped by tcp_rmem[2]', () => {
  for (const o of [{ locked: true }, { moderate: 0 as const }]) {
    const { c } = conn(o);
    initBufferSpace(c);
    const r = rcvSpace(c);
    rcvbufGrow(c, r, 30000);
    assert.equal(r.space, 30000);
    assert.equal(r.rcvbuf, 131072);
  }
  const { c, at } = conn();
  initBufferSpace(c);
  const r = rcvSpace(c);
  r.rttUs = 8;
  at(10);
  c.rcvNxt = 1 + 40000;
  rcvSpaceAdjust(c, 1 + 20000); // 20000 read, 20000 queued: 0 counted
  assert.equal(r.space, 14480);
  rcvbufGrow(c, r, 10_000_000);
  assert.equal(r.rcvbuf, 6291456);
});
