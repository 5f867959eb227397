// Generic segmentation offload on bytes: a TSO/GSO super-packet (one TCP header, a payload of
// several segments of gso_size) cut into the segments it stands for, exactly as the kernel's
// tcp_gso_segment cuts it. Used wherever a super-packet meets something that carries only
// single segments: a simulated link with per-packet faults or limits, a device without offloads.

import { fold, internetChecksum, sum16 } from './checksum.ts';

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

/** IP and TCP header lengths of a TCP/IPv4 or TCP/IPv6 packet, or -1. */
export function tcpHeadersLen(p: Uint8Array): number {
  const ipHl = ipHeaderLen(p);
  return ipHl < 0 ? -1 : ipHl + (p[ipHl + 12]! >> 4) * 4;
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

const ACK = 0x10;

/**
 * Consecutive segments of one connection joined into one super-packet, the rule Linux's GRO
 * (tcp_gro_receive, inet_gro_receive) merges by and the one a TSO send is cut back by: the next
 * segment continues the sequence and carries the same headers but for its length, sequence
 * number and the IPv4 identification that follows (same ports, ACK, data offset, flags word
 * with the window, options byte for byte); every segment before it had gso_size bytes (the
 * first one's) and only ACK set; a short segment or PSH ends the run. At most 65535 bytes of IP
 * packet. The packet is built at `headroom` in `buf` (room for a device header in front).
 */
export class SegmentRun {
  readonly buf: Uint8Array;
  /** Bytes of packet in buf after the headroom (0: no run). */
  len = 0;
  segs = 0;
  ipHl = 0;
  hl = 0;
  gsoSize = 0;
  private nextSeq = 0;
  private nextId = 0;
  private closed = false; // the last segment was short or had PSH: the run ends

  constructor(readonly headroom: number) {
    this.buf = new Uint8Array(headroom + 65535);
  }

  /** Starts a run with data segment p (ACK, perhaps PSH, a payload; TCP over IPv4/IPv6); false (nothing kept) if p cannot start one. */
  start(p: Uint8Array): boolean {
    const ipHl = ipHeaderLen(p);
    const thl = ipHl < 0 ? 0 : (p[ipHl + 12]! >> 4) * 4;
    if (ipHl < 0 || thl < 20 || ipHl + thl > p.length) return false;
    const hl = ipHl + thl;
    const payload = p.length - hl;
    const f = p[ipHl + 13]!;
    if (payload === 0 || (f & ~PSH) !== ACK || p.length > 65535) return false;
    this.buf.set(p, this.headroom);
    this.len = p.length;
    this.segs = 1;
    this.ipHl = ipHl;
    this.hl = hl;
    this.gsoSize = payload;
    this.nextSeq = (get32(p, ipHl + 4) + payload) >>> 0;
    this.nextId = p[0]! >> 4 === 4 ? (((p[4]! << 8) | p[5]!) + 1) & 0xffff : 0;
    this.closed = (f & PSH) !== 0;
    return true;
  }

  /** Appends p to the run if it continues it (see the class); false leaves the run as it was. */
  extend(p: Uint8Array): boolean {
    if (this.closed || !this.len) return false;
    const b = this.buf;
    const o = this.headroom;
    const hl = this.hl;
    const ipHl = this.ipHl;
    const payload = p.length - hl;
    if (payload <= 0 || payload > this.gsoSize || this.len + payload > 65535 || p.length < hl) return false;
    const v4 = b[o]! >> 4 === 4;
    if (p[0] !== b[o]) return false;
    if (v4) {
      // tos, flags/fragment, ttl, protocol, addresses the same; the identification the next
      if (p[1] !== b[o + 1] || (((p[4]! << 8) | p[5]!) !== this.nextId)) return false;
      for (let i = 6; i < 10; i++) if (p[i] !== b[o + i]) return false;
      for (let i = 12; i < ipHl; i++) if (p[i] !== b[o + i]) return false;
    } else {
      for (let i = 1; i < 4; i++) if (p[i] !== b[o + i]) return false;
      for (let i = 6; i < 40; i++) if (p[i] !== b[o + i]) return false;
    }
    const t = ipHl;
    if (get32(p, t + 4) !== this.nextSeq) return false;
    const f = p[t + 13]!;
    if ((f & ~PSH) !== ACK) return false;
    // ports, ack, data offset, window, urgent pointer and options the same
    for (let i = 0; i < 4; i++) if (p[t + i] !== b[o + t + i]) return false;
    for (let i = 8; i < 13; i++) if (p[t + i] !== b[o + t + i]) return false;
    if (p[t + 14] !== b[o + t + 14] || p[t + 15] !== b[o + t + 15] || p[t + 18] !== b[o + t + 18] || p[t + 19] !== b[o + t + 19]) return false;
    for (let i = t + 20; i < hl; i++) if (p[i] !== b[o + i]) return false;
    b.set(p.subarray(hl), o + this.len);
    this.len += payload;
    this.segs++;
    this.nextSeq = (this.nextSeq + payload) >>> 0;
    this.nextId = (this.nextId + 1) & 0xffff;
    b[o + t + 13] = f; // tcp_gso_segment leaves PSH on the last segment only
    if (payload < this.gsoSize || f & PSH) this.closed = true;
    return true;
  }

  /** No further segment of gso_size fits. */
  get full(): boolean {
    return this.closed || this.len + this.gsoSize > 65535;
  }

  /**
   * Ends the run and returns its packet's length at buf[headroom...] (0: none). Two segments or
   * more: the IP length (and IPv4 header checksum) of the whole, and the TCP checksum partial,
   * the pseudo-header sum over the new length (CHECKSUM_PARTIAL, as tcp_gso_segment and a
   * device with NETIF_F_HW_CSUM expect). One segment: its bytes as they came.
   */
  end(): number {
    const n = this.len;
    if (!n) return 0;
    this.len = 0;
    if (this.segs > 1) {
      const b = this.buf;
      const o = this.headroom;
      const ipHl = this.ipHl;
      if (b[o]! >> 4 === 4) {
        b[o + 2] = n >> 8;
        b[o + 3] = n & 0xff;
        ipv4HeaderChecksum(b, o, ipHl);
      } else {
        b[o + 4] = (n - 40) >> 8;
        b[o + 5] = (n - 40) & 0xff;
      }
      const c = fold(pseudoSum(b, o, ipHl, n - ipHl));
      b[o + ipHl + TCP_CSUM_OFFSET] = c >> 8;
      b[o + ipHl + TCP_CSUM_OFFSET + 1] = c & 0xff;
    }
    return n;
  }
}

/** The TCP checksum of a TCP/IPv4 or TCP/IPv6 packet is right (whole, not partial). */
export function tcpChecksumOk(p: Uint8Array): boolean {
  const ipHl = ipHeaderLen(p);
  if (ipHl < 0) return false;
  const v4 = p[0]! >> 4 === 4;
  const total = v4 ? (p[2]! << 8) | p[3]! : 40 + ((p[4]! << 8) | p[5]!);
  if (total > p.length || total < ipHl + 20) return false;
  return internetChecksum(p, ipHl, total, pseudoSum(p, 0, ipHl, total - ipHl)) === 0;
}
