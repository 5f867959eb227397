// The virtio_net_hdr a TUN device with IFF_VNET_HDR puts before each packet (and expects before
// each write), and what linger does with it: GSO super-packets from the kernel read whole or
// split into their segments, and linger's consecutive segments of one connection coalesced into
// one GSO packet for the kernel to take as TSO would give it. Layout facts from
// include/uapi/linux/virtio_net.h (struct virtio_net_hdr, 10 bytes; little-endian on this
// machine: tun's legacy header is in native order unless TUNSETVNETBE). Pure functions on bytes.

import { gsoSegments, ipHeaderLen, SegmentRun, TCP_CSUM_OFFSET } from '../wire/gso.ts';

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
  /** The run being built, after room for the vnet header. */
  private readonly run = new SegmentRun(VNET_HDR_LEN);
  private get buf(): Uint8Array {
    return this.run.buf;
  }

  /**
   * `write(buf, n)`: one write() of buf[0, n) to the device; the buffer is reused afterwards.
   * `offload`: the device took TUNSETOFFLOAD, so the host's partial checksums and GSO packets go
   * out as such; without it every packet goes alone with an empty header (whole checksums).
   */
  constructor(private readonly write: (b: Uint8Array, n: number) => void, readonly offload: boolean) {}

  push(p: Uint8Array): void {
    const run = this.run;
    if (run.len && run.extend(p)) {
      if (run.full) this.flush();
      return;
    }
    this.flush();
    if (!this.offload) return this.writeOne(p, -1);
    if (run.start(p)) return;
    // Not a data segment: alone, its checksum partial when it is TCP with a whole header.
    const ipHl = ipHeaderLen(p);
    const thl = ipHl < 0 ? 0 : (p[ipHl + 12]! >> 4) * 4;
    this.writeOne(p, ipHl < 0 || thl < 20 || ipHl + thl > p.length ? -1 : ipHl);
  }

  /** Writes the pending run, if any: one segment as it is, two or more as a GSO packet. */
  flush(): void {
    const run = this.run;
    const segs = run.segs;
    const n = run.end();
    if (!n) return;
    if (segs > 1) {
      this.stats.gsoPackets++;
      this.stats.gsoSegments += segs;
      writeVnetHdr(run.buf, 0, {
        flags: VNET_F_NEEDS_CSUM, gsoType: run.buf[VNET_HDR_LEN]! >> 4 === 4 ? VNET_GSO_TCPV4 : VNET_GSO_TCPV6, hdrLen: run.hl, gsoSize: run.gsoSize,
        csumStart: run.ipHl, csumOffset: TCP_CSUM_OFFSET,
      });
    } else this.header(run.ipHl);
    this.write(run.buf, VNET_HDR_LEN + n);
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
