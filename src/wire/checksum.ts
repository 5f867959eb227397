// The Internet checksum (RFC 1071) and the TCP pseudo-header sums (RFC 9293 section 3.1 for
// IPv4, RFC 8200 section 8.1 for IPv6). Sums are kept unfolded in a JS number (exact up to
// 2^53, i.e. far beyond any packet) and folded once at the end; nothing is allocated.

/**
 * Adds the bytes [start, end) as big-endian 16-bit words to `initial` (RFC 1071 4.1); an odd
 * final byte is padded with a zero byte. Returns an unfolded sum (congruent mod 0xffff to the plain
 * word sum; long ranges come back partly folded): pass it on or fold it.
 */
export function sum16(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  if (end - start >= 64) return sum16Wide(buf, start, end, initial);
  let sum = initial;
  let i = start;
  const even = end - ((end - start) & 1);
  for (; i < even; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

/**
 * The same sum for long ranges, 32 bits at a time through an aligned Uint32Array view. The
 * one's-complement sum is byte-order independent (RFC 1071 2.B): summing native (little-endian)
 * words and swapping the folded result's bytes gives the big-endian sum. A JS number holds
 * 2^21 words of 2^32 exactly, far beyond any packet; longer ranges are summed in pieces.
 */
function sum16Wide(buf: Uint8Array, start: number, end: number, initial: number): number {
  let sum = initial;
  let i = start;
  // Big-endian words until the absolute address is 4-aligned; an odd address cannot align.
  if ((buf.byteOffset + i) & 1) {
    const even = end - ((end - start) & 1);
    for (; i < even; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
    if (i < end) sum += buf[i]! << 8;
    return sum;
  }
  if ((buf.byteOffset + i) & 2) {
    sum += (buf[i]! << 8) | buf[i + 1]!;
    i += 2;
  }
  const words = (end - i) >>> 2;
  if (LITTLE_ENDIAN && words > 0) {
    const w = new Uint32Array(buf.buffer, buf.byteOffset + i, words);
    let le = 0;
    for (let k = 0; k < words; k++) {
      le += w[k]!;
      if ((k & 0xfffff) === 0xfffff) le = fold(le);
    }
    const f = fold(le);
    sum += ((f & 0xff) << 8) | (f >>> 8); // byte-swap the folded little-endian sum
    i += words * 4;
  }
  const even = end - ((end - i) & 1);
  for (; i < even; i += 2) sum += (buf[i]! << 8) | buf[i + 1]!;
  if (i < end) sum += buf[i]! << 8;
  return sum;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Folds carries back into 16 bits (end-around carry). */
export function fold(sum: number): number {
  // Two divisions suffice below 2^48; loop for the general case.
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The value to store in a checksum field: ~fold(initial + words) & 0xffff. */
export function internetChecksum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): number {
  return ~fold(sum16(buf, start, end, initial)) & 0xffff;
}

/** True when the range, checksum field included, sums to 0xffff (RFC 1071 verification). */
export function verifyChecksum(buf: Uint8Array, start = 0, end = buf.length, initial = 0): boolean {
  return fold(sum16(buf, start, end, initial)) === 0xffff;
}

/** IPv4 pseudo header: source, destination, zero, protocol, TCP length (RFC 9293 3.1). */
export function pseudoHeaderSum4(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  return sum16(src, 0, 4) + sum16(dst, 0, 4) + protocol + (length & 0xffff) + Math.floor(length / 0x10000);
}

/** IPv6 pseudo header: source, destination, 32-bit upper-layer length, next header (RFC 8200 8.1). */
export function pseudoHeaderSum6(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): number {
  return sum16(src, 0, 16) + sum16(dst, 0, 16) + nextHeader + (length & 0xffff) + Math.floor(length / 0x10000);
}

/** The pseudo-header sum for 4- or 16-byte addresses. */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  return src.length === 4 ? pseudoHeaderSum4(src, dst, protocol, length) : pseudoHeaderSum6(src, dst, protocol, length);
}
