// The virtio_net_hdr a TUN device with IFF_VNET_HDR puts before each packet (and expects before
// each write), and what linger does with it: GSO super-packets from the kernel read whole or
// split into their segments, and linger's consecutive segments of one connection coalesced into
// one GSO packet for the kernel to take as TSO would give it. Layout facts from
// include/uapi/linux/virtio_net.h (struct virtio_net_hdr, 10 bytes; little-endian on this
// machine: tun's legacy header is in native order unless TUNSETVNETBE). Pure functions on bytes.

import { fold } from '../wire/checksum.ts';
import { get32, gsoSegments, ipHeaderLen, ipv4HeaderChecksum, pseudoSum, TCP_CSUM_OFFSET } from '../wire/gso.ts';

export { gsoSegments };

/** sizeof(struct virtio_net_hdr): flags u8, gso_type u8, hdr_len, gso_size, csum_start, csum_offset u16. */
export const VNET_HDR_LEN = 10;
/** csum_start/csum_offset name a partial checksum to complete (CHECKSUM_PARTIAL). */
export const VNET_F_NEEDS_CSUM = 1;
/** The checksum was verified (CHECKSUM_UNNECESSARY). */
export const VNET_F_DATA_VALID = 2;
export const VNET_GSO_NONE = 0;
export const VNET_GSO_TCPV4 = 1;
export const VNET_GSO_TCPV6 = 4;
export const VNET_GSO_ECN = 0x80;

const PSH = 0x08;
const ACK = 0x10;

export interface VnetHdr {
  flags: number;
  gsoType: number;
  hdrLen: number;
  gsoSize: number;
  csumStart: number;
  csumOffset: number;
}

export function readVnetHdr(b: Uint8Array, o = 0): VnetHdr {
  return {
    flags: b[o]!,
    gsoType: b[o + 1]!,
    hdrLen: b[o + 2]! | (b[o + 3]! << 8),
    gsoSize: b[o + 4]! | (b[o + 5]! << 8),
    csumStart: b[o + 6]! | (b[o + 7]! << 8),
    csumOffset: b[o + 8]! | (b[o + 9]! << 8),
  };
}

export function writeVnetHdr(b: Uint8Array, o: number, h: VnetHdr): void {
  b[o] = h.flags;
  b[o + 1] = h.gsoType;
  b[o + 2] = h.hdrLen & 0xff;
  b[o + 3] = h.hdrLen >> 8;
  b[o + 4] = h.gsoSize & 0xff;
  b[o + 5] = h.gsoSize >> 8;
  b[o + 6] = h.csumStart & 0xff;
  b[o + 7] = h.csumStart >> 8;
  b[o + 8] = h.csumOffset & 0xff;
  b[o + 9] = h.csumOffset >> 8;
}

export interface CoalescerStats {
  /** GSO packets written (two segments or more each). */
  gsoPackets: number;
  /** Segments that went out inside them. */
  gsoSegments: number;
}

/**
 * linger's packets to a vnet-header TUN device. Each goes out with a virtio_net_hdr: TCP with
 * NEEDS_CSUM (the host leaves the TCP checksum partial, the pseudo-header sum, as Linux does
 * towards a device with NETIF_F_HW_CSUM), and a run of consecutive segments of one connection as
 * one GSO packet: the next segment continues the sequence, carries the same headers but for its
 * length, sequence number and the IPv4 identification that follows, every segment before it was
 * gso_size bytes and only ACK was set on them (PSH may end the run). tcp_gso_segment would cut
 * that packet back into exactly the segments linger emitted (TSval, identification, PSH on the
 * last), so the kernel takes it as a TSO send from a Linux peer. Packets go out in the order
 * they came: any other packet flushes the run first. `flush()` at the end of each batch.
 */
export class GsoCoalescer {
  readonly stats: CoalescerStats = { gsoPackets: 0, gsoSegments: 0 };
  /** vnet header + the packet being built (IP total length at most 65535). */
  private readonly buf = new Uint8Array(VNET_HDR_LEN + 65535);
  private len = 0; // bytes of packet in buf after the header (0: nothing pending)
  private segs = 0;
  private ipHl = 0;
  private hl = 0;
  private gsoSize = 0;
  private nextSeq = 0;
  private nextId = 0;
  private closed = false; // the last segment was short or had PSH: the run ends

  /**
   * `write(buf, n)`: one write() of buf[0, n) to the device; the buffer is reused afterwards.
   * `offload`: the device took TUNSETOFFLOAD, so the host's partial checksums and GSO packets go
   * out as such; without it every packet goes alone with an empty header (whole checksums).
   */
  constructor(private readonly write: (b: Uint8Array, n: number) => void, readonly offload: boolean) {}

  push(p: Uint8Array): void {
    if (this.len && this.extends(p)) return;
    this.flush();
    if (!this.offload) {
      this.writeOne(p, -1);
      return;
    }
    const ipHl = ipHeaderLen(p);
    const thl = ipHl < 0 ? 0 : (p[ipHl + 12]! >> 4) * 4;
    if (ipHl < 0 || thl < 20 || ipHl + thl > p.length) {
      this.writeOne(p, -1);
      return;
    }
    const hl = ipHl + thl;
    const payload = p.length - hl;
    const f = p[ipHl + 13]!;
    if (payload === 0 || (f & ~PSH) !== ACK || p.length > 65535) {
      this.writeOne(p, ipHl);
      return;
    }
    // A data segment: it may start a run.
    this.buf.set(p, VNET_HDR_LEN);
    this.len = p.length;
    this.segs = 1;
    this.ipHl = ipHl;
    this.hl = hl;
    this.gsoSize = payload;
    this.nextSeq = (get32(p, ipHl + 4) + payload) >>> 0;
    this.nextId = p[0]! >> 4 === 4 ? (((p[4]! << 8) | p[5]!) + 1) & 0xffff : 0;
    this.closed = (f & PSH) !== 0;
  }

  private extends(p: Uint8Array): boolean {
    if (this.closed) return false;
    const b = this.buf;
    const o = VNET_HDR_LEN;
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
    if (this.len + this.gsoSize > 65535) this.flush();
    return true;
  }

  /** Writes the pending run, if any: one segment as it is, two or more as a GSO packet. */
  flush(): void {
    if (!this.len) return;
    const b = this.buf;
    const o = VNET_HDR_LEN;
    const n = this.len;
    const ipHl = this.ipHl;
    const segs = this.segs;
    this.len = 0;
    if (segs > 1) {
      const v4 = b[o]! >> 4 === 4;
      if (v4) {
        b[o + 2] = n >> 8;
        b[o + 3] = n & 0xff;
        ipv4HeaderChecksum(b, o, ipHl);
      } else {
        b[o + 4] = (n - 40) >> 8;
        b[o + 5] = (n - 40) & 0xff;
      }
      // The TCP checksum over the new length: partial (the pseudo-header sum, as tcp_gso_segment
      // expects it under CHECKSUM_PARTIAL) even when the segments came with whole checksums.
      const c = fold(pseudoSum(b, o, ipHl, n - ipHl));
      b[o + ipHl + TCP_CSUM_OFFSET] = c >> 8;
      b[o + ipHl + TCP_CSUM_OFFSET + 1] = c & 0xff;
      this.stats.gsoPackets++;
      this.stats.gsoSegments += segs;
      writeVnetHdr(b, 0, {
        flags: VNET_F_NEEDS_CSUM, gsoType: v4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6, hdrLen: this.hl, gsoSize: this.gsoSize,
        csumStart: ipHl, csumOffset: TCP_CSUM_OFFSET,
      });
      this.write(b, o + n);
      return;
    }
    this.header(ipHl);
    this.write(b, o + n);
  }

  /**
   * A TSO packet the host built itself (Host with gso: its payload segments of gsoSize, the TCP
   * checksum partial): the run pending goes first, then this packet with its GSO header.
   */
  pushGso(p: Uint8Array, gsoSize: number): void {
    this.flush();
    const ipHl = ipHeaderLen(p);
    if (!this.offload || ipHl < 0 || p.length > 65535) {
      // No TSO on the device (or not TCP): the segments it stands for, one by one.
      const segs = gsoSegments(p, gsoSize);
      if (segs === null) this.writeOne(p, ipHl);
      else for (const s of segs) this.writeOne(s, ipHl);
      return;
    }
    const hl = ipHl + (p[ipHl + 12]! >> 4) * 4;
    this.buf.set(p, VNET_HDR_LEN);
    this.stats.gsoPackets++;
    this.stats.gsoSegments += Math.ceil((p.length - hl) / gsoSize);
    writeVnetHdr(this.buf, 0, {
      flags: VNET_F_NEEDS_CSUM, gsoType: p[0]! >> 4 === 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6, hdrLen: hl, gsoSize,
      csumStart: ipHl, csumOffset: TCP_CSUM_OFFSET,
    });
    this.write(this.buf, VNET_HDR_LEN + p.length);
  }

  /** A packet that starts no run, after a vnet header of its own. */
  private writeOne(p: Uint8Array, ipHl: number): void {
    this.buf.set(p, VNET_HDR_LEN);
    this.header(ipHl);
    this.write(this.buf, VNET_HDR_LEN + p.length);
  }

  private header(ipHl: number): void {
    const partial = this.offload && ipHl >= 0;
    writeVnetHdr(this.buf, 0, { flags: partial ? VNET_F_NEEDS_CSUM : 0, gsoType: VNET_GSO_NONE, hdrLen: 0, gsoSize: 0, csumStart: partial ? ipHl : 0, csumOffset: partial ? TCP_CSUM_OFFSET : 0 });
  }
}
