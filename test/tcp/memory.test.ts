// Memory bounds (tcp/memory.ts): what a received segment is charged, when it may be queued, and
// what is pruned when it may not; tcp_mem pressure; tcp_fragment's write-queue guard. The
// receive-side series were read on 6.18 with `ss -tm` (skmem r, f) after each segment of the
// drill scripts test/drill/memory/*.pkt run with --kernel (docs/linux-observations.md).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Harness, ACK, SYN, synSent, tsOf, type Est } from '../helpers/harness.ts';
import { rmemAlloc } from '../../src/tcp/autotune.ts';
import { forwardAlloc, fragmentAllowed, wmemQueued } from '../../src/tcp/memory.ts';
import type { TcpConn } from '../../src/tcp/conn.ts';
import type { HostConfig } from '../../src/base/config.ts';
import type { Socket } from '../../src/host/socket.ts';
import { linuxSynOptions } from '../../src/wire/tcp.ts';

/**
 * The drill scripts' connection: a listener with SO_RCVBUF 4400 (sk_rcvbuf 8800), a peer with
 * MSS 1000, SACK, window scale 7 and no timestamps; the final ACK offers window 1000.
 */
function accepted(config: Partial<HostConfig> = {}, rcvbuf = 4400): { h: Harness; sock: Socket; c: TcpConn; seq: number; ack: number } {
  const h = new Harness(config);
  const l = h.host.socket();
  l.setsockopt('SO_RCVBUF', rcvbuf);
  l.bind('0.0.0.0', 80);
  l.listen(1);
  h.inject({ flags: SYN, seq: 0, window: 65535, options: [{ kind: 'mss', value: 1000 }, { kind: 'sackPermitted' }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'nop' }, { kind: 'wscale', shift: 7 }] });
  const synack = h.one();
  if (rcvbuf === 4400) assert.equal(synack.tcp.window, 4380);
  const ack = (synack.tcp.seq + 1) >>> 0;
  h.inject({ flags: ACK, seq: 1, ack, window: 1000 });
  const sock = l.accept()!;
  return { h, sock, c: sock.conn!, seq: 1, ack };
}

const fill = (n: number): Uint8Array => new Uint8Array(n).fill(0x61);

/** The peer sends `len` bytes at `seq` (window field `win`, default 1000) 10 ms later. */
function data(x: { h: Harness; ack: number }, seq: number, len: number, win = 1000): void {
  x.h.advance(10_000);
  x.h.inject({ flags: ACK, seq, ack: x.ack, window: win, payload: fill(len) });
}

const skmem = (c: TcpConn): [number, number] => [rmemAlloc(c), forwardAlloc(c)];
const cnt = (h: Harness, name: Parameters<Harness['host']['counters']['get']>[0]): number => h.host.counters.get(name);

test('in order: header prediction takes what sk_forward_alloc covers with no sk_rcvbuf check (6.18: r 9216 over rb 8800, then 380 bytes in the tailroom)', () => {
  const x = accepted();
  const { h, c } = x;
  // Seen on 6.18 after each segment (ss -tm): r2304 f1792, r4608 f3584, r6912 f1280, r9216 f3072,
  // r9216 f3072; PruneCalled 0 throughout; the 380 bytes were read with the rest (4380).
  const series: Array<[number, number]> = [];
  for (let i = 0; i < 4; i++) {
    data(x, 1 + i * 1000, 1000);
    series.push(skmem(c));
  }
  h.take();
  data(x, 4001, 380);
  series.push(skmem(c));
  assert.deepEqual(series, [[2304, 1792], [4608, 3584], [6912, 1280], [9216, 3072], [9216, 3072]]);
  assert.equal(cnt(h, 'PruneCalled'), 0);
  assert.equal(cnt(h, 'TCPRcvQDrop'), 0);
  assert.equal(x.sock.recv(10000)!.length, 4380);
  // Read, every skb is uncharged and the free pages go back (sk_mem_reclaim): less than a page stays.
  assert.deepEqual(skmem(c), [0, 0]);
});

test('tcp_prune_queue collapses the receive queue (TCPRcvCollapsed) when an out-of-order segment does not fit', () => {
  const x = accepted();
  const { h, c } = x;
  // 100-byte segments charge 832 each (the 20 bytes of tailroom left take no next one).
  for (let i = 0; i < 11; i++) data(x, 1 + i * 100, 100);
  assert.equal(rmemAlloc(c), 11 * 832);
  assert.equal(cnt(h, 'PruneCalled'), 0);
  // Out of order, 9152 + 1 > 8800: PruneCalled; the 11 skbs (832 for 100 bytes: worth more
  // window than their bytes) are copied into one of 1100 bytes (alloc_skb: 2048 + 256), then the
  // segment fits and is queued (832).
  data(x, 1201, 1);
  assert.deepEqual([cnt(h, 'PruneCalled'), cnt(h, 'TCPRcvCollapsed'), cnt(h, 'RcvPruned'), cnt(h, 'TCPOFODrop'), cnt(h, 'TCPOFOQueue')], [1, 11, 0, 0, 1]);
  assert.equal(rmemAlloc(c), 2304 + 832);
  data(x, 1101, 100);
  assert.equal(x.sock.recv(10000)!.length, 1201);
});

test('out of order: 1-byte segments charge 832; the 12th is dropped unacknowledged; one below them prunes the highest and resets the SACK blocks (6.18: ofo-flood-prunes.pkt)', () => {
  const x = accepted();
  const { h, c } = x;
  const acks: number[] = [];
  for (let i = 0; i < 11; i++) {
    data(x, 3 + 2 * i, 1);
    acks.push(h.take().length);
  }
  assert.deepEqual(acks, Array(11).fill(1), 'each is SACKed at once');
  // Seen on 6.18: r 832 per segment, 9152 after the 11th (8320 + 1 <= 8800), TCPOFOQueue 11.
  assert.equal(rmemAlloc(c), 9152);
  assert.equal(cnt(h, 'TCPOFOQueue'), 11);
  data(x, 25, 1);
  h.none(); // no ACK for a segment the memory bounds refuse
  // Seen on 6.18: PruneCalled 1, RcvPruned 1, TCPOFODrop 1, OfoPruned 0 (nothing above 25 to prune).
  assert.deepEqual([cnt(h, 'PruneCalled'), cnt(h, 'RcvPruned'), cnt(h, 'TCPOFODrop'), cnt(h, 'OfoPruned')], [1, 1, 1, 0]);
  data(x, 2, 1);
  // tcp_prune_ofo_queue from the highest sequence, an eighth of sk_rcvbuf (1100) at a time:
  // 23:24 and 21:22 go (6.18: r 8320 = 9152 - 2 x 832 + 832); the SACK blocks are forgotten, so
  // the ACK carries only the new one.
  const a = h.one();
  const sack = a.tcp.options.find((o) => o.kind === 'sack');
  assert.deepEqual(sack && sack.kind === 'sack' ? sack.blocks : null, [[2, 3]]);
  assert.deepEqual([cnt(h, 'PruneCalled'), cnt(h, 'OfoPruned'), cnt(h, 'TCPOFOQueue')], [2, 1, 12]);
  assert.equal(rmemAlloc(c), 8320);
  assert.deepEqual(c.ofo.map((s) => [s.seq, s.end]), [[2, 3], [3, 4], [5, 6], [7, 8], [9, 10], [11, 12], [13, 14], [15, 16], [17, 18], [19, 20]]);
  data(x, 1, 1);
  expectAck(h, 4);
});

function expectAck(h: Harness, ack: number): void {
  const a = h.one();
  assert.equal(a.flags, '.');
  assert.equal(a.tcp.ack, ack);
}

test('out of order: a range of several skbs is collapsed into compact buffers (tcp_collapse_ofo_queue, TCPRcvCollapsed)', () => {
  const x = accepted();
  const { h, c } = x;
  // Contiguous 200-byte segments above a hole: each 1280 with 368 bytes of tailroom, so every
  // second one is copied into the skb before it: 8 segments are 4 skbs, 5120.
  for (let i = 0; i < 8; i++) data(x, 101 + i * 200, 200);
  assert.deepEqual(c.ofo.map((s) => [s.seq, s.end, s.skbs, s.truesize]), [[101, 1701, 4, 5120]]);
  // Isolated 1-byte segments above it until one does not fit: 5120 + 4 x 832 = 8448, the 5th
  // (8448 + 1 <= 8800) makes 9280; the next prunes: the range (1600 bytes in 4 skbs, wasteful)
  // is copied into one buffer of 1600 (2048 + 256), the segment fits.
  for (let i = 0; i < 5; i++) data(x, 2001 + 2 * i, 1);
  assert.equal(rmemAlloc(c), 5120 + 5 * 832);
  data(x, 2011, 1);
  assert.deepEqual([cnt(h, 'PruneCalled'), cnt(h, 'TCPRcvCollapsed'), cnt(h, 'OfoPruned'), cnt(h, 'TCPOFODrop')], [1, 4, 0, 0]);
  assert.deepEqual(c.ofo[0]!.truesize, 2304);
  assert.equal(rmemAlloc(c), 2304 + 6 * 832);
  // The hole filled, every byte arrives.
  data(x, 1, 100);
  assert.equal(x.sock.recv(10000)!.length, 1700);
});

test('tcp_mem: pressure above tcp_mem[1] (TCPMemoryPressures), over at or below tcp_mem[0] (TCPMemoryPressuresChrono ms); above tcp_mem[2] nothing more is reserved', () => {
  // tcp_mem [1, 2, 3] pages; SO_RCVBUF 65536 so that sk_rcvbuf never binds here.
  const x = accepted({ tcp_mem: [1, 2, 3] }, 65536);
  const { h, c } = x;
  const reserved = () => c.rcvSpace!.reserved;
  data(x, 1, 1000); // r 2304, one page reserved
  data(x, 1001, 1000); // r 4608, two pages
  h.advance(4_000); // the host sums the pages once per jiffy
  assert.deepEqual([reserved(), h.host.memoryAllocated(), h.host.memoryPressure()], [8192, 2, false], 'not above tcp_mem[1]');
  data(x, 2001, 1000); // r 6912 on the fast path (f 3584)
  data(x, 3001, 1000); // r 9216: a third page, above tcp_mem[1]: pressure from now
  const entered = h.clock.now();
  assert.deepEqual([reserved(), h.host.memoryPressure(), cnt(h, 'TCPMemoryPressures')], [12288, true, 1]);
  h.take();
  // Out of order: the first 1000 bytes fit sk_forward_alloc (3072); the next needs a fourth
  // page, above tcp_mem[2]: sk_rmem_schedule fails, nothing lies above it to prune: TCPOFODrop.
  data(x, 4501, 1000);
  assert.equal(c.ofo.length, 1);
  data(x, 5501, 1000);
  assert.deepEqual([c.ofo.length, cnt(h, 'TCPOFODrop'), reserved()], [1, 1, 12288]);
  // Read and the hole filled: every page goes back; the next sum (a jiffy later) ends the pressure.
  assert.equal(x.sock.recv(10000)!.length, 4000);
  data(x, 4001, 500);
  assert.equal(x.sock.recv(10000)!.length, 1500);
  assert.deepEqual([rmemAlloc(c), reserved()], [0, 0]);
  h.advance(4_000);
  assert.deepEqual([h.host.memoryAllocated(), h.host.memoryPressure()], [0, false]);
  assert.equal(cnt(h, 'TCPMemoryPressures'), 1);
  assert.equal(cnt(h, 'TCPMemoryPressuresChrono'), Math.floor((h.clock.now() - entered) / 1000));
  assert.equal(cnt(h, 'TCPMemoryPressuresChrono'), 34); // 3 segments 10 ms apart and a jiffy
});

/** An active open to a peer announcing MSS 48 (tcp_min_snd_mss), cwnd 10 sent. */
function mss48(): Est & { c: TcpConn } {
  const { h, sock, iss, syn } = synSent();
  h.inject({ flags: SYN | ACK, seq: h.rIsn, ack: iss + 1, options: linuxSynOptions({ mss: 48, sackPermitted: true, timestamp: { val: h.tsVal++, ecr: tsOf(syn)!.val }, wscale: 7 }), window: 65160 });
  h.rSeq = h.rIsn + 1;
  const ack = h.one();
  return { h, sock, lSeq: iss + 1, iss, lastTs: tsOf(ack)!.val, tsAt: ack.t, c: sock.conn! };
}

test('tcp_fragment guard (CVE-2019-11478): a middle skb is not split while half of sk_wmem_queued exceeds sk_sndbuf + 2 x 64 KiB skbs (TCPWqueueTooBig)', () => {
  // No simulated path splits a middle skb of linger's retransmission queue (its skbs are one MSS,
  // a SACK never splits them), so the guard is asked directly, as retransmitSkb asks it.
  const e = mss48();
  const { h, c } = e;
  assert.equal(c.mssCache, 36, 'MSS 48 less the 12-byte timestamp option');
  const sent = e.sock.send(fill(1000));
  assert.equal(sent, 1000);
  assert.equal(c.loss.q.length, 10);
  assert.equal(wmemQueued(c), 1000 + Math.ceil(1000 / 36) * 896);
  assert.equal(fragmentAllowed(c, 5), true);
  // A full send buffer of 36-byte skbs: wmem_queued / 2 far over sk_sndbuf + 132224.
  let total = 1000;
  for (let k; (k = e.sock.send(fill(65536))) > 0;) total += k;
  assert.equal(c.sndBuf.length, total);
  const wq = total + Math.ceil(total / 36) * 896;
  assert.equal(wmemQueued(c), wq);
  assert.ok(wq >> 1 > c.sndBuf.limit + 2 * (65536 + 256 + 320), `${wq} against ${c.sndBuf.limit}`);
  assert.deepEqual([fragmentAllowed(c, 0), fragmentAllowed(c, 9)], [true, true], 'the head and the tail may always be split');
  assert.equal(cnt(h, 'TCPWqueueTooBig'), 0);
  assert.equal(fragmentAllowed(c, 5), false);
  assert.equal(cnt(h, 'TCPWqueueTooBig'), 1);
});

