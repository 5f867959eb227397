// IPv6 fixed header (RFC 8200 section 3). Extension headers are not walked: a packet whose
// Next Header is not an upper-layer protocol is left to the caller to refuse, except the
// Fragment header, which is reported as 'fragmented' like an IPv4 fragment.
import { formatIpv6, parseIpv6 } from './addr.ts';
import type { IpRepr, Result, WireError, WireErrorKind } from './types.ts';

export const IPV6_HEADER_LEN = 40;
/** Linux's net.ipv6.conf.*.hop_limit. */
export const DEFAULT_HOP_LIMIT = 64;
/** RFC 8200 section 4.5. */
export const NEXT_HEADER_FRAGMENT = 44;

export interface Ipv6Decoded {
  ip: IpRepr;
  /** The payload as given by Payload Length: a view, no copy; trailing bytes are ignored. */
  payload: Uint8Array;
  srcBytes: Uint8Array;
  dstBytes: Uint8Array;
}

function fail(kind: WireErrorKind, detail: string): { ok: false; error: WireError } {
  return { ok: false, error: { layer: 'ipv6', kind, detail } };
}

/** Decodes an IPv6 fixed header and returns its payload. Never throws. */
export function decodeIpv6(bytes: Uint8Array): Result<Ipv6Decoded> {
  if (bytes.length < IPV6_HEADER_LEN) return fail('truncated', `${bytes.length} bytes, an IPv6 header needs 40`);
  const version = bytes[0]! >> 4;
  if (version !== 6) return fail('bad-version', `version ${version}`);
  const payloadLength = (bytes[4]! << 8) | bytes[5]!;
  // ipv6_rcv_core: a buffer shorter than the Payload Length says is truncated. (A zero
  // Payload Length means a jumbogram only with a Hop-by-Hop header, which is refused anyway.)
  if (IPV6_HEADER_LEN + payloadLength > bytes.length) {
    return fail('truncated', `payload length ${payloadLength} > ${bytes.length - IPV6_HEADER_LEN} bytes present`);
  }
  const nextHeader = bytes[6]!;
  if (nextHeader === NEXT_HEADER_FRAGMENT) return fail('fragmented', 'Fragment extension header');
  const ip: IpRepr = {
    version: 6,
    src: formatIpv6(bytes, 8),
    dst: formatIpv6(bytes, 24),
    protocol: nextHeader,
    ttl: bytes[7]!,
    tos: ((bytes[0]! & 0x0f) << 4) | (bytes[1]! >> 4),
    flowLabel: ((bytes[1]! & 0x0f) << 16) | (bytes[2]! << 8) | bytes[3]!,
  };
  return {
    ok: true,
    value: {
      ip,
      payload: bytes.subarray(IPV6_HEADER_LEN, IPV6_HEADER_LEN + payloadLength),
      srcBytes: bytes.subarray(8, 24),
      dstBytes: bytes.subarray(24, 40),
    },
  };
}

/** Writes the 40-byte header at buf[offset] and returns 40. Throws RangeError on bad input. */
export function encodeIpv6HeaderInto(ip: IpRepr, payloadLength: number, buf: Uint8Array, offset = 0): number {
  const src = parseIpv6(ip.src);
  const dst = parseIpv6(ip.dst);
  if (!src.ok) throw new RangeError(src.error.detail);
  if (!dst.ok) throw new RangeError(dst.error.detail);
  return encodeIpv6HeaderBytes(ip, src.value, dst.value, payloadLength, buf, offset);
}

/** As encodeIpv6HeaderInto, with the addresses already as bytes. */
export function encodeIpv6HeaderBytes(
  ip: IpRepr,
  src: Uint8Array,
  dst: Uint8Array,
  payloadLength: number,
  buf: Uint8Array,
  offset = 0,
): number {
  if (payloadLength > 0xffff) throw new RangeError(`IPv6 payload length ${payloadLength} > 65535 (no jumbograms)`);
  const tc = (ip.tos ?? 0) & 0xff;
  const flow = (ip.flowLabel ?? 0) & 0xfffff;
  if (offset < 0 || offset + IPV6_HEADER_LEN > buf.length) throw new RangeError('buffer too small for the header');
  const o = offset;
  buf[o] = 0x60 | (tc >> 4);
  buf[o + 1] = ((tc & 0x0f) << 4) | (flow >> 16);
  buf[o + 2] = (flow >> 8) & 0xff;
  buf[o + 3] = flow & 0xff;
  buf[o + 4] = payloadLength >> 8;
  buf[o + 5] = payloadLength & 0xff;
  buf[o + 6] = ip.protocol & 0xff;
  buf[o + 7] = ip.ttl & 0xff;
  buf.set(src.subarray(0, 16), o + 8);
  buf.set(dst.subarray(0, 16), o + 24);
  return IPV6_HEADER_LEN;
}

/** A whole IPv6 packet: header + a copy of payload. */
export function encodeIpv6(ip: IpRepr, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(IPV6_HEADER_LEN + payload.length);
  encodeIpv6HeaderInto(ip, payload.length, out, 0);
  out.set(payload, IPV6_HEADER_LEN);
  return out;
}
