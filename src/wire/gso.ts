// Generic segmentation offload on bytes: a TSO/GSO super-packet (one TCP header, a payload of
// several segments of gso_size) cut into the segments it stands for, exactly as the kernel's
// tcp_gso_segment cuts it. Used wherever a super-packet meets something that carries only
// single segments: a simulated link with per-packet faults or limits, a device without offloads.

import { internetChecksum, sum16 } from './checksum.ts';

/** The offset of the TCP checksum in its header (struct tcphdr, check). */
export const TCP_CSUM_OFFSET = 16;
const FIN = 0x01;
const PSH = 0x08;
const CWR = 0x80;

/** The IP header's length of an IPv4 or IPv6 packet carrying TCP directly, or -1. */
export function ipHeaderLen(p: Uint8Array): number {
  if (p.length < 40) return -1;
  const v = p[0]! >> 4;
  if (v === 4) return p[9] === 6 ? (p[0]! & 15) * 4 : -1;
  if (v === 6) return p[6] === 6 && p.length >= 60 ? 40 : -1;
  return -1;
}

export const get32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const put32 = (b: Uint8Array, o: number, v: number): void => {
  b[o] = v >>> 24;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
};

/** Sets the IPv4 header checksum of the header at b[o, o+ihl). */
export function ipv4HeaderChecksum(b: Uint8Array, o: number, ihl: number): void {
  b[o + 10] = 0;
  b[o + 11] = 0;
  const c = internetChecksum(b, o, o + ihl);
  b[o + 10] = c >> 8;
  b[o + 11] = c & 0xff;
}

/** The TCP pseudo-header sum (unfolded) of the packet at b[o...] for a TCP length. */
export function pseudoSum(b: Uint8Array, o: number, ipHl: number, tcpLen: number): number {
  return (b[o]! >> 4) === 4 ? sum16(b, o + 12, o + 20) + 6 + tcpLen : sum16(b, o + 8, o + 40) + 6 + tcpLen;
}

/**
 * A GSO super-packet cut into its segments as the kernel's tcp_gso_segment cuts it: each gets the
 * headers with its own length, sequence number and (IPv4) identification counting up from the
 * first, FIN and PSH only on the last, CWR only on the first, and its checksums computed whole.
 * Returns null when the packet is not TCP over IPv4/IPv6 or gsoSize does not cut it.
 */
export function gsoSegments(p: Uint8Array, gsoSize: number): Uint8Array[] | null {
  const ipHl = ipHeaderLen(p);
  if (ipHl < 0 || gsoSize <= 0) return null;
  const thl = (p[ipHl + 12]! >> 4) * 4;
  const hl = ipHl + thl;
  if (thl < 20 || hl > p.length) return null;
  const v4 = p[0]! >> 4 === 4;
  const total = v4 ? (p[2]! << 8) | p[3]! : 40 + ((p[4]! << 8) | p[5]!);
  const end = Math.min(total, p.length);
  const payload = end - hl;
  if (payload <= gsoSize) return null;
  const n = Math.ceil(payload / gsoSize);
  const seq0 = get32(p, ipHl + 4);
  const id0 = v4 ? (p[4]! << 8) | p[5]! : 0;
  const flags = p[ipHl + 13]!;
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const off = hl + i * gsoSize;
    const len = Math.min(gsoSize, end - off);
    const s = new Uint8Array(hl + len);
    s.set(p.subarray(0, hl));
    s.set(p.subarray(off, off + len), hl);
    if (v4) {
      const tot = hl + len;
      s[2] = tot >> 8;
      s[3] = tot & 0xff;
      const id = (id0 + i) & 0xffff; // inet_gso_segment: id++ per segment (no SKB_GSO_TCP_FIXEDID)
      s[4] = id >> 8;
      s[5] = id & 0xff;
      ipv4HeaderChecksum(s, 0, ipHl);
    } else {
      const pl = hl + len - 40;
      s[4] = pl >> 8;
      s[5] = pl & 0xff;
    }
    put32(s, ipHl + 4, (seq0 + i * gsoSize) >>> 0);
    let f = flags;
    if (i < n - 1) f &= ~(FIN | PSH);
    if (i > 0) f &= ~CWR;
    s[ipHl + 13] = f;
    s[ipHl + TCP_CSUM_OFFSET] = 0;
    s[ipHl + TCP_CSUM_OFFSET + 1] = 0;
    const c = internetChecksum(s, ipHl, s.length, pseudoSum(s, 0, ipHl, thl + len));
    s[ipHl + TCP_CSUM_OFFSET] = c >> 8;
    s[ipHl + TCP_CSUM_OFFSET + 1] = c & 0xff;
    out.push(s);
  }
  return out;
}
