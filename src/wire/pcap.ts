// Classic libpcap files (pcap-savefile(5); draft-ietf-opsawg-pcap). The writer makes what
// `tcpdump -w` makes for a raw-IP interface; the reader takes tcpdump's and Wireshark's
// output and strips the link-layer header down to the IP packet.
import type { Result, WireError, WireErrorKind } from './types.ts';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;
/** tcpdump's default snapshot length (MAXIMUM_SNAPLEN). */
export const DEFAULT_SNAPLEN = 262144;

/** Link types (tcpdump.org/linktypes.html). */
export const LINKTYPE_ETHERNET = 1;
/** Raw IP packets, no link-layer header: what linger hosts send. */
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;

/** Options of a PcapWriter: link type (LINKTYPE_RAW by default) and snapshot length. */
export interface PcapWriterOptions {
  linktype?: number;
  snaplen?: number;
}

/** Accumulates packets and returns a little-endian, microsecond pcap file. */
export class PcapWriter {
  readonly linktype: number;
  readonly snaplen: number;
  private readonly chunks: Uint8Array[] = [];
  private size = PCAP_HEADER_LEN;

  constructor(options: PcapWriterOptions = {}) {
    this.linktype = options.linktype ?? LINKTYPE_RAW;
    this.snaplen = options.snaplen ?? DEFAULT_SNAPLEN;
  }

  /** Number of packets added (taken ones included). */
  get count(): number {
    return this.added;
  }
  private added = 0;

  /** Adds a packet (copied) at a time in microseconds since the epoch; longer than snaplen is cut. */
  add(timestampUs: number, packet: Uint8Array): void {
    if (!Number.isSafeInteger(timestampUs) || timestampUs < 0) {
      throw new RangeError(`timestamp ${timestampUs} is not a non-negative integer of microseconds`);
    }
    const caplen = Math.min(packet.length, this.snaplen);
    const rec = new Uint8Array(PCAP_RECORD_HEADER_LEN + caplen);
    const dv = new DataView(rec.buffer);
    dv.setUint32(0, Math.floor(timestampUs / 1e6), true);
    dv.setUint32(4, timestampUs % 1e6, true);
    dv.setUint32(8, caplen, true);
    dv.setUint32(12, packet.length, true);
    rec.set(packet.subarray(0, caplen), PCAP_RECORD_HEADER_LEN);
    this.chunks.push(rec);
    this.size += rec.length;
    this.added++;
  }

  /** The whole file. Not after take(): the records taken are gone. */
  bytes(): Uint8Array {
    if (this.taken) throw new Error('PcapWriter.bytes() after take(): the file was streamed');
    return this.render(true);
  }

  /**
   * For streaming a long capture to a file: the bytes not taken yet (the file header with the
   * first call), and forgets them, so memory stays bounded by what is added between calls.
   */
  take(): Uint8Array {
    const out = this.render(!this.taken);
    this.taken = true;
    this.chunks.length = 0;
    this.size = PCAP_HEADER_LEN;
    return out;
  }

  private taken = false;

  private render(header: boolean): Uint8Array {
    const out = new Uint8Array(this.size - (header ? 0 : PCAP_HEADER_LEN));
    let o = header ? PCAP_HEADER_LEN : 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    if (!header) return out;
    const dv = new DataView(out.buffer);
    dv.setUint32(0, PCAP_MAGIC_US, true);
    dv.setUint16(4, 2, true); // version 2.4
    dv.setUint16(6, 4, true);
    dv.setInt32(8, 0, true); // thiszone
    dv.setUint32(12, 0, true); // sigfigs
    dv.setUint32(16, this.snaplen, true);
    dv.setUint32(20, this.linktype, true);
    return out;
  }
}

export interface PcapRecord {
  /** Capture time in microseconds since the epoch (nanosecond files are floored). */
  tsUs: number;
  /** The network-layer packet: a view into the file, link header stripped. */
  data: Uint8Array;
  /** The file's link type. */
  linktype: number;
  /** The protocol the link header names (0x0800 IPv4, 0x86dd IPv6); from the version nibble for raw IP. */
  etherType: number;
  /** Length of the packet on the wire, link header included (caplen may be shorter). */
  origLen: number;
}

function fail(kind: WireErrorKind, detail: string): { ok: false; error: WireError } {
  return { ok: false, error: { layer: 'pcap', kind, detail } };
}

/** Strips one frame's link header; undefined if the frame is too short for it. */
function stripLink(linktype: number, frame: Uint8Array): { data: Uint8Array; etherType: number } | undefined {
  switch (linktype) {
    case LINKTYPE_ETHERNET: {
      let o = 12;
      if (frame.length < o + 2) return undefined;
      let type = (frame[o]! << 8) | frame[o + 1]!;
      while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) {
        o += 4; // 802.1Q tag
        if (frame.length < o + 2) return undefined;
        type = (frame[o]! << 8) | frame[o + 1]!;
      }
      return { data: frame.subarray(o + 2), etherType: type };
    }
    case LINKTYPE_LINUX_SLL:
      if (frame.length < 16) return undefined;
      return { data: frame.subarray(16), etherType: (frame[14]! << 8) | frame[15]! };
    case LINKTYPE_LINUX_SLL2:
      if (frame.length < 20) return undefined;
      return { data: frame.subarray(20), etherType: (frame[0]! << 8) | frame[1]! };
    default: {
      // LINKTYPE_RAW, LINKTYPE_IPV4, LINKTYPE_IPV6: the frame is the IP packet.
      const v = frame.length > 0 ? frame[0]! >> 4 : 0;
      return { data: frame, etherType: v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : 0 };
    }
  }
}

const SUPPORTED = new Set([LINKTYPE_ETHERNET, LINKTYPE_RAW, LINKTYPE_LINUX_SLL, LINKTYPE_LINUX_SLL2, LINKTYPE_IPV4, LINKTYPE_IPV6]);

/**
 * Reads a classic pcap file in either byte order, microsecond or nanosecond magic.
 * Never throws: a bad magic, an unsupported link type or a cut-off record is an error.
 */
export function readPcap(bytes: Uint8Array): Result<PcapRecord[]> {
  if (bytes.length < PCAP_HEADER_LEN) return fail('truncated', `${bytes.length} bytes, a pcap header needs 24`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  let nanos: boolean;
  const magicLe = dv.getUint32(0, true);
  const magicBe = dv.getUint32(0, false);
  if (magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS) {
    le = true;
    nanos = magicLe === PCAP_MAGIC_NS;
  } else if (magicBe === PCAP_MAGIC_US || magicBe === PCAP_MAGIC_NS) {
    le = false;
    nanos = magicBe === PCAP_MAGIC_NS;
  } else {
    return fail('bad-magic', `magic 0x${magicBe.toString(16).padStart(8, '0')} is not a classic pcap file`);
  }
  // The low 16 bits are the link type; the high bits may carry FCS information.
  const linktype = dv.getUint32(20, le) & 0xffff;
  if (!SUPPORTED.has(linktype)) return fail('unsupported-protocol', `link type ${linktype}`);
  const records: PcapRecord[] = [];
  let o = PCAP_HEADER_LEN;
  while (o < bytes.length) {
    if (o + PCAP_RECORD_HEADER_LEN > bytes.length) return fail('truncated', `record ${records.length}: header cut off`);
    const sec = dv.getUint32(o, le);
    const frac = dv.getUint32(o + 4, le);
    const caplen = dv.getUint32(o + 8, le);
    const origLen = dv.getUint32(o + 12, le);
    o += PCAP_RECORD_HEADER_LEN;
    if (o + caplen > bytes.length) return fail('truncated', `record ${records.length}: ${caplen} bytes announced, ${bytes.length - o} left`);
    const frame = bytes.subarray(o, o + caplen);
    o += caplen;
    const link = stripLink(linktype, frame);
    if (!link) return fail('truncated', `record ${records.length}: ${caplen} bytes cannot hold the link header`);
    records.push({
      tsUs: sec * 1e6 + (nanos ? Math.floor(frac / 1000) : frac),
      data: link.data,
      linktype,
      etherType: link.etherType,
      origLen,
    });
  }
  return { ok: true, value: records };
}
