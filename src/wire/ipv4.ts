// IPv4 header (RFC 791). Decoding checks what Linux's ip_rcv_core checks, in its order;
// encoding writes the header Linux writes for TCP: 0x45, DF set, no options.
import { formatIpv4, parseIpv4 } from './addr.ts';
import { internetChecksum, verifyChecksum } from './checksum.ts';
import type { IpRepr, Result, WireError, WireErrorKind } from './types.ts';

export const IPV4_HEADER_LEN = 20;
/** Linux's net.ipv4.ip_default_ttl. */
export const DEFAULT_TTL = 64;

export interface Ipv4Decoded {
  ip: IpRepr;
  /** IHL * 4: 20 plus any IPv4 options (which are skipped, not interpreted). */
  headerLength: number;
  /** The payload as given by Total Length: a view, no copy. Bytes past Total Length
   *  (link-layer padding) are not part of it, as Linux trims them (pskb_trim_rcsum). */
  payload: Uint8Array;
  /** Views of the 4-byte source and destination addresses inside the header. */
  srcBytes: Uint8Array;
  dstBytes: Uint8Array;
}

function fail(kind: WireErrorKind, detail: string): { ok: false; error: WireError } {
  return { ok: false, error: { layer: 'ipv4', kind, detail } };
}

/** Decodes an IPv4 header and returns its payload. Never throws. */
export function decodeIpv4(bytes: Uint8Array, checkChecksum = true): Result<Ipv4Decoded> {
  if (bytes.length < IPV4_HEADER_LEN) return fail('truncated', `${bytes.length} bytes, an IPv4 header needs 20`);
  const version = bytes[0]! >> 4;
  if (version !== 4) return fail('bad-version', `version ${version}`);
  const headerLength = (bytes[0]! & 0x0f) * 4;
  if (headerLength < IPV4_HEADER_LEN) return fail('bad-header-length', `IHL ${headerLength / 4} < 5`);
  if (headerLength > bytes.length) return fail('truncated', `IHL says ${headerLength} header bytes, ${bytes.length} present`);
  if (checkChecksum && !verifyChecksum(bytes, 0, headerLength)) return fail('bad-checksum', 'header checksum mismatch');
  const totalLength = (bytes[2]! << 8) | bytes[3]!;
  // ip_rcv_core: a buffer shorter than Total Length counts as truncated (InTruncatedPkts),
  // a Total Length shorter than the header as a header error.
  if (totalLength > bytes.length) return fail('truncated', `total length ${totalLength} > ${bytes.length} bytes present`);
  if (totalLength < headerLength) return fail('bad-total-length', `total length ${totalLength} < header length ${headerLength}`);
  const fragField = (bytes[6]! << 8) | bytes[7]!;
  if ((fragField & 0x3fff) !== 0) {
    return fail('fragmented', `MF ${(fragField >> 13) & 1}, fragment offset ${(fragField & 0x1fff) * 8}`);
  }
  const srcBytes = bytes.subarray(12, 16);
  const dstBytes = bytes.subarray(16, 20);
  const ip = ipv4Repr(bytes);
  return { ok: true, value: { ip, headerLength, payload: bytes.subarray(headerLength, totalLength), srcBytes, dstBytes } };
}

/** The IpRepr of a checked IPv4 header at bytes[0]. */
export function ipv4Repr(bytes: Uint8Array): IpRepr {
  return {
    version: 4,
    src: formatIpv4(bytes, 12),
    dst: formatIpv4(bytes, 16),
    protocol: bytes[9]!,
    ttl: bytes[8]!,
    id: (bytes[4]! << 8) | bytes[5]!,
    dontFragment: (bytes[6]! & 0x40) !== 0,
    tos: bytes[1]!,
  };
}

/**
 * Writes a 20-byte header for `payloadLength` bytes of payload at buf[offset], checksum
 * included, and returns 20. Defaults as Linux: TOS 0, DF set, id 0.
 * Throws RangeError on an address that is not IPv4 or a payload too big for Total Length.
 */
export function encodeIpv4HeaderInto(ip: IpRepr, payloadLength: number, buf: Uint8Array, offset = 0): number {
  const src = parseIpv4(ip.src);
  const dst = parseIpv4(ip.dst);
  if (!src.ok) throw new RangeError(src.error.detail);
  if (!dst.ok) throw new RangeError(dst.error.detail);
  return encodeIpv4HeaderBytes(ip, src.value, dst.value, payloadLength, buf, offset);
}

/** As encodeIpv4HeaderInto, with the addresses already as bytes. */
export function encodeIpv4HeaderBytes(
  ip: IpRepr,
  src: Uint8Array,
  dst: Uint8Array,
  payloadLength: number,
  buf: Uint8Array,
  offset = 0,
): number {
  const total = IPV4_HEADER_LEN + payloadLength;
  if (total > 0xffff) throw new RangeError(`IPv4 total length ${total} > 65535`);
  if (offset < 0 || offset + IPV4_HEADER_LEN > buf.length) throw new RangeError('buffer too small for the header');
  const o = offset;
  buf[o] = 0x45;
  buf[o + 1] = (ip.tos ?? 0) & 0xff;
  buf[o + 2] = total >> 8;
  buf[o + 3] = total & 0xff;
  const id = ip.id ?? 0;
  buf[o + 4] = (id >> 8) & 0xff;
  buf[o + 5] = id & 0xff;
  buf[o + 6] = ip.dontFragment === false ? 0 : 0x40;
  buf[o + 7] = 0;
  buf[o + 8] = ip.ttl & 0xff;
  buf[o + 9] = ip.protocol & 0xff;
  buf[o + 10] = 0;
  buf[o + 11] = 0;
  for (let k = 0; k < 4; k++) {
    buf[o + 12 + k] = src[k]!;
    buf[o + 16 + k] = dst[k]!;
  }
  const c = internetChecksum(buf, o, o + IPV4_HEADER_LEN);
  buf[o + 10] = c >> 8;
  buf[o + 11] = c & 0xff;
  return IPV4_HEADER_LEN;
}

/** A whole IPv4 packet: header + a copy of payload. */
export function encodeIpv4(ip: IpRepr, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(IPV4_HEADER_LEN + payload.length);
  encodeIpv4HeaderInto(ip, payload.length, out, 0);
  out.set(payload, IPV4_HEADER_LEN);
  return out;
}
