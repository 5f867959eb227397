// The byte queues of a connection: ByteRing (the send queue) and SegmentQueue (the receive
// queue, views of the segments' payloads), held to the same model: a plain array of bytes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteRing, SegmentQueue, allocBytes } from '../../src/tcp/buffer.ts';

function rnd(seed: number): (n: number) => number {
  let x = seed;
  return (n) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
}

for (const [name, make] of [['ByteRing', (limit: number) => new ByteRing(16, limit)], ['SegmentQueue', (limit: number) => new SegmentQueue(limit)]] as const) {
  test(`${name}: 5,000 random pushes, slices and consumes match a plain byte array; limit and free hold`, () => {
    const r = rnd(name.length);
    const q = make(3000);
    let model: number[] = [];
    let next = 0;
    for (let step = 0; step < 5000; step++) {
      const op = r(3);
      if (op === 0) {
        const src = new Uint8Array(1 + r(700)).map(() => next++ & 255);
        const start = r(4);
        const end = Math.max(start, src.length - r(4));
        const took = q.push(src, start, end);
        assert.equal(took, Math.max(0, Math.min(end - start, 3000 - model.length)));
        model.push(...src.subarray(start, start + took));
      } else if (op === 1 && model.length) {
        const off = r(model.length);
        const n = r(model.length - off + 1);
        assert.deepEqual([...q.slice(off, n)], model.slice(off, off + n), `slice(${off}, ${n}) at step ${step}`);
      } else {
        const n = r(model.length + 2);
        q.consume(n);
        model = model.slice(Math.min(n, model.length));
      }
      assert.equal(q.length, model.length);
      assert.equal(q.free, 3000 - model.length);
    }
  });
}

test('SegmentQueue: keeps the pushed views (no copy), lets consumed ones go, holds no array when empty', () => {
  const q = new SegmentQueue(1 << 20);
  const a = new Uint8Array([1, 2, 3, 4]);
  const b = new Uint8Array([5, 6]);
  q.push(a);
  q.push(b, 1);
  assert.deepEqual([...q.slice(0, 5)], [1, 2, 3, 4, 6]);
  q.consume(3);
  assert.deepEqual([...q.slice(0, 2)], [4, 6]);
  q.consume(2);
  assert.equal(q.length, 0);
  const segs = (x: SegmentQueue) => (x as unknown as { segs: unknown[] }).segs;
  assert.equal(segs(q), segs(new SegmentQueue()), 'back to the shared empty array');
});

test('allocBytes: copies under 4 KiB share a pool without overlapping; larger ones stand alone', () => {
  const xs = Array.from({ length: 100 }, (_, i) => allocBytes(1 + ((i * 37) % 3000)));
  xs.forEach((x, i) => x.fill(i));
  xs.forEach((x, i) => assert.ok(x.every((v) => v === i), `copy ${i} intact`));
  assert.equal(allocBytes(5000).byteOffset, 0);
  assert.equal(allocBytes(0).length, 0);
});

test('SegmentQueue: keeps ranges of the pushed bytes; an emptied queue\'s arrays serve the next one with nothing of the old', () => {
  const pkt = Uint8Array.from({ length: 20 }, (_, i) => i);
  const q = new SegmentQueue(1 << 20, (n) => n * 10);
  q.push(pkt, 4, 8);
  q.push(pkt, 12, 15);
  assert.deepEqual([q.length, q.charged, q.headLength()], [7, 70, 4]);
  assert.deepEqual([...q.slice(2, 4)], [6, 7, 12, 13]);
  q.consume(5);
  assert.deepEqual([q.length, q.charged, q.headLength()], [2, 30, 2]);
  assert.deepEqual([...q.slice(0, 2)], [13, 14]);
  const held = (x: SegmentQueue) => (x as unknown as { segs: Uint8Array[] }).segs;
  q.consume(2);
  const r = new SegmentQueue(1 << 20);
  r.push(pkt, 0, 1);
  assert.ok(held(r).every((s, i) => i === 0 ? s === pkt : s.length === 0), 'no packet of the old queue kept');
  assert.deepEqual([r.length, [...r.slice(0, 1)]], [1, [0]]);
  // collapse: from the first wasteful entry on, one compact copy.
  const c = new SegmentQueue(1 << 20, () => 1000);
  for (let k = 0; k < 4; k++) c.push(pkt, 5 * k, 5 * k + 5);
  c.consume(3);
  assert.equal(c.collapse(() => true, 8, (n) => n), 4);
  assert.deepEqual([c.length, c.charged, c.headLength()], [17, 17, 8]);
  assert.deepEqual([...c.slice(0, 17)], [...pkt.subarray(3)]);
});

test('ByteRing.view: the bytes asked for, through the staging room of a large ring (wrapping too) or as a view', () => {
  // A reference stream: byte i of the stream is (i * 13 + (i >> 11)) & 0xff.
  const at = (i: number): number => (i * 13 + (i >> 11)) & 0xff;
  const r = new ByteRing(4096, 1 << 20);
  let base = 0; // stream offset of the ring's first byte
  let end = 0; // stream offset after its last byte
  const write = (n: number): void => {
    const b = Uint8Array.from({ length: n }, (_, k) => at(end + k));
    end += r.push(b);
  };
  let x = 99;
  const rnd = (n: number): number => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
  let same = 0;
  let last: Uint8Array | null = null;
  for (let round = 0; round < 600; round++) {
    write(rnd(70_000));
    for (let k = 0; k < 4; k++) {
      const len = end - base;
      if (!len) break;
      const n = k === 3 ? 1 + rnd(Math.min(len, 40_000)) : Math.min(len, k === 2 ? 1 + rnd(1448) : 1448);
      const off = rnd(len - n + 1);
      const v = r.view(off, n);
      assert.equal(v.length, n);
      for (let i = 0; i < n; i += 97) assert.equal(v[i], at(base + off + i), `round ${round}: byte ${i} of [${off}, +${n})`);
      assert.equal(v[n - 1], at(base + off + n - 1));
      if (v === last) same++;
      last = v;
    }
    const drop = rnd(end - base + 1);
    r.consume(drop);
    base += drop;
  }
  assert.ok(same > 100, `the staging view served again (${same} times)`);
});
