import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  fold,
  internetChecksum,
  pseudoHeaderSum,
  pseudoHeaderSum4,
  pseudoHeaderSum6,
  sum16,
  verifyChecksum,
} from '../../src/wire/checksum.ts';
import { fromHex, prng } from './helpers.ts';

test('RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2', () => {
  const b = fromHex('0001f203f4f5f6f7');
  assert.equal(sum16(b), 0x0001 + 0xf203 + 0xf4f5 + 0xf6f7);
  assert.equal(fold(sum16(b)), 0xddf2);
  assert.equal(internetChecksum(b), 0x220d);
});

test('a known IPv4 header checksum (Wikipedia example, 0xb861)', () => {
  const h = fromHex('450000730000400040110000c0a80001c0a800c7');
  assert.equal(internetChecksum(h), 0xb861);
  h[10] = 0xb8;
  h[11] = 0x61;
  assert.ok(verifyChecksum(h));
  h[19] ^= 1;
  assert.ok(!verifyChecksum(h));
});

test('odd lengths pad with a zero byte; ranges start and end anywhere', () => {
  assert.equal(sum16(fromHex('ab')), 0xab00);
  assert.equal(sum16(fromHex('0102ab')), 0x0102 + 0xab00);
  const b = fromHex('ffff0102ab00ffff');
  assert.equal(sum16(b, 2, 5), 0x0102 + 0xab00);
  assert.equal(sum16(b, 2, 2), 0);
  assert.equal(sum16(b, 2, 5, 7), 7 + 0x0102 + 0xab00);
  assert.equal(internetChecksum(new Uint8Array(0)), 0xffff);
});

test('fold handles carries beyond one fold, up to 2^53', () => {
  assert.equal(fold(0x1ffff), 0x0001);
  assert.equal(fold(0xffff), 0xffff);
  assert.equal(fold(0x10000), 1);
  assert.equal(fold(0x2fffd), 0xffff);
  // 2^53-1 = 0x1f_ffff_ffff_ffff: 0x1f + 3 * 0xffff folds to 0x1f (x mod 0xffff).
  assert.equal(fold(Number.MAX_SAFE_INTEGER), 0x1f);
  assert.equal(fold(0xffffffff), 0xffff);
});

/** The straightforward reference: 16-bit words, fold after every addition. */
function reference(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) {
    s += (b[i]! << 8) | (i + 1 < b.length ? b[i + 1]! : 0);
    s = (s & 0xffff) + (s >>> 16);
  }
  return ~s & 0xffff;
}

test('matches a fold-every-step reference on random buffers, and verifies what it computes', () => {
  const rnd = prng(1071);
  for (let n = 0; n < 300; n++) {
    const b = new Uint8Array(Math.floor(rnd() * 1600));
    for (let i = 0; i < b.length; i++) b[i] = rnd() < 0.3 ? 0xff : Math.floor(rnd() * 256);
    const c = internetChecksum(b);
    assert.equal(c, reference(b), `length ${b.length}`);
    // Append the checksum as a trailing word (even length) and it verifies.
    const even = new Uint8Array(b.length + (b.length & 1) + 2);
    even.set(b);
    even[even.length - 2] = c >> 8;
    even[even.length - 1] = c & 0xff;
    assert.ok(verifyChecksum(even), `length ${b.length}`);
  }
});

test('a 64 KiB buffer of 0xff sums without losing carries', () => {
  const b = new Uint8Array(65536).fill(0xff);
  // sum16's result is a sum congruent mod 0xffff to the plain word sum (the wide path folds part
  // of it): what callers may rely on is its fold.
  assert.equal(sum16(b) % 0xffff, (0xffff * 32768) % 0xffff);
  assert.equal(fold(sum16(b)), 0xffff);
  assert.equal(internetChecksum(b), reference(b));
});

test('the wide (32-bit) path agrees with the reference at every alignment, odd starts and lengths included', () => {
  const rnd = prng(9293);
  const backing = new Uint8Array(70_016);
  for (let i = 0; i < backing.length; i++) backing[i] = rnd() < 0.5 ? 0xff : Math.floor(rnd() * 256);
  for (const byteOffset of [0, 1, 2, 3, 4, 5, 6, 7]) {
    const view = new Uint8Array(backing.buffer, byteOffset, backing.length - 8);
    for (const [start, len] of [[0, 64], [1, 65], [2, 1500], [3, 1501], [0, 65535], [6, 70_000], [5, 100]] as const) {
      const end = start + len;
      const expect = reference(view.subarray(start, end));
      assert.equal(internetChecksum(view, start, end), expect, `byteOffset ${byteOffset} start ${start} length ${len}`);
      assert.equal(~fold(sum16(view, start, end, 0x1234_5678)) & 0xffff, ~fold(sum16(view.slice(start, end)) + 0x1234_5678) & 0xffff);
    }
  }
});

test('IPv4 pseudo header: 127.0.0.1 to itself, TCP, 40 bytes sums to 0xfe30', () => {
  // The value Linux leaves in a loopback SYN's checksum field (CHECKSUM_PARTIAL).
  const lo = new Uint8Array([127, 0, 0, 1]);
  assert.equal(fold(pseudoHeaderSum4(lo, lo, 6, 40)), 0xfe30);
  assert.equal(fold(pseudoHeaderSum(lo, lo, 6, 40)), 0xfe30);
  // The same as summing the 12 pseudo-header bytes of RFC 9293 3.1.
  const ph = new Uint8Array([10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0x12, 0x34]);
  assert.equal(
    fold(pseudoHeaderSum4(ph.subarray(0, 4), ph.subarray(4, 8), 6, 0x1234)),
    fold(sum16(ph)),
  );
});

test('IPv6 pseudo header equals the sum of the 40 bytes of RFC 8200 8.1', () => {
  const src = fromHex('fd000000000000000000000000000001');
  const dst = fromHex('fd00000000000000000000000000ff02');
  for (const len of [20, 1500, 70000]) {
    const ph = new Uint8Array(40);
    ph.set(src, 0);
    ph.set(dst, 16);
    new DataView(ph.buffer).setUint32(32, len);
    ph[39] = 6;
    assert.equal(fold(pseudoHeaderSum6(src, dst, 6, len)), fold(sum16(ph)), `length ${len}`);
    assert.equal(fold(pseudoHeaderSum(src, dst, 6, len)), fold(sum16(ph)), `length ${len}`);
  }
  // ::1 to ::1 for 40 bytes: 1 + 1 + 6 + 40 = 0x30, as in a loopback IPv6 SYN.
  const lo = fromHex('00000000000000000000000000000001');
  assert.equal(fold(pseudoHeaderSum6(lo, lo, 6, 40)), 0x30);
});
