// TCP header and options (RFC 9293 section 3.1; MSS RFC 9293 3.2, window scale and
// timestamps RFC 7323, SACK RFC 2018). Option parsing follows Linux's tcp_parse_options
// where the two differ from a strict reading, and the option layouts Linux sends are
// produced by linuxSynOptions / linuxDataOptions (tcp_options_write, net/ipv4/tcp_output.c).
import { parseIp } from './addr.ts';
import { fold, internetChecksum, pseudoHeaderSum, sum16 } from './checksum.ts';
import type { Result, TcpOption, TcpRepr, WireError, WireErrorKind } from './types.ts';

export const TCP_HEADER_LEN = 20;
/** Data Offset is 4 bits: at most 60 header bytes, so 40 bytes of options. */
export const MAX_OPTIONS_LEN = 40;
export const IPPROTO_TCP = 6;

/** Option kinds (IANA "TCP Option Kind Numbers"). */
export const OPT_EOL = 0;
export const OPT_NOP = 1;
export const OPT_MSS = 2;
export const OPT_WSCALE = 3;
export const OPT_SACK_PERMITTED = 4;
export const OPT_SACK = 5;
export const OPT_TIMESTAMP = 8;

/** An address as canonical text or as its 4/16 bytes. */
export type Addr = string | Uint8Array;

function fail(kind: WireErrorKind, detail: string): { ok: false; error: WireError } {
  return { ok: false, error: { layer: 'tcp', kind, detail } };
}

function addrBytes(a: Addr): Uint8Array | undefined {
  if (typeof a !== 'string') return a.length === 4 || a.length === 16 ? a : undefined;
  const r = parseIp(a);
  return r.ok ? r.value : undefined;
}

/** The big-endian 32-bit word at b[i]. */
export function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
}

/** Writes v as a big-endian 32-bit word at b[i]. */
export function put32(b: Uint8Array, i: number, v: number): void {
  b[i] = v >>> 24;
  b[i + 1] = (v >>> 16) & 0xff;
  b[i + 2] = (v >>> 8) & 0xff;
  b[i + 3] = v & 0xff;
}

/**
 * The NOP option, shared: every decoded or built option list uses this one object for NOPs (a
 * data segment carries two), so treat option objects as read-only.
 */
export const NOP_OPTION: TcpOption = Object.freeze({ kind: 'nop' }) as TcpOption;

/** Linux's options of a data segment with timestamps and nothing else: NOP, NOP, TS (tcp_options_write). */
export function timestampOptions(val: number, ecr: number): TcpOption[] {
  return [NOP_OPTION, NOP_OPTION, { kind: 'timestamp', val, ecr }];
}

/**
 * Parses the options area bytes[start, end). EOL ends the list (it is kept, the bytes after
 * it are padding). A known option with a length other than its own is ignored by Linux; it is
 * kept here as { kind: 'unknown' } so nothing reads it and re-encoding gives the same bytes.
 * The only error is an option with no length byte, a length < 2, or one running past `end`
 * (Linux stops parsing there; a segment carrying one is malformed).
 */
export function parseTcpOptions(bytes: Uint8Array, start = 0, end = bytes.length): Result<TcpOption[]> {
  const opts: TcpOption[] = [];
  let i = start;
  while (i < end) {
    const kind = bytes[i]!;
    if (kind === OPT_EOL) {
      opts.push({ kind: 'eol' });
      break;
    }
    if (kind === OPT_NOP) {
      opts.push(NOP_OPTION);
      i++;
      continue;
    }
    if (i + 1 >= end) return fail('bad-option-length', `option ${kind} at byte ${i - start} has no length byte`);
    const len = bytes[i + 1]!;
    if (len < 2) return fail('bad-option-length', `option ${kind} has length ${len} < 2`);
    if (i + len > end) return fail('bad-option-length', `option ${kind} of length ${len} overruns the header by ${i + len - end}`);
    let opt: TcpOption | undefined;
    switch (kind) {
      case OPT_MSS:
        if (len === 4) opt = { kind: 'mss', value: (bytes[i + 2]! << 8) | bytes[i + 3]! };
        break;
      case OPT_WSCALE:
        if (len === 3) opt = { kind: 'wscale', shift: bytes[i + 2]! };
        break;
      case OPT_SACK_PERMITTED:
        if (len === 2) opt = { kind: 'sackPermitted' };
        break;
      case OPT_SACK:
        // Linux: at least one block and a whole number of blocks (4 at most fit).
        if (len >= 10 && (len - 2) % 8 === 0) {
          const blocks: Array<[number, number]> = [];
          for (let p = i + 2; p < i + len; p += 8) blocks.push([u32(bytes, p), u32(bytes, p + 4)]);
          opt = { kind: 'sack', blocks };
        }
        break;
      case OPT_TIMESTAMP:
        if (len === 10) opt = { kind: 'timestamp', val: u32(bytes, i + 2), ecr: u32(bytes, i + 6) };
        break;
    }
    opts.push(opt ?? { kind: 'unknown', type: kind, data: bytes.subarray(i + 2, i + len) });
    i += len;
  }
  return { ok: true, value: opts };
}

/**
 * Decodes a TCP segment (exactly the IP payload). Checks, in Linux's order (tcp_v4_rcv):
 * length >= 20, 5 <= Data Offset and header within the segment, checksum over the
 * pseudo header (unless verifyChecksum is false; the addresses serve only that), then the
 * options. The payload and unknown options' data are views into `bytes`. Never throws.
 */
export function decodeTcp(bytes: Uint8Array, srcAddr: Addr, dstAddr: Addr, verifyChecksum = true): Result<TcpRepr> {
  if (bytes.length < TCP_HEADER_LEN) return fail('truncated', `${bytes.length} bytes, a TCP header needs 20`);
  const headerLength = (bytes[12]! >> 4) * 4;
  if (headerLength < TCP_HEADER_LEN) return fail('bad-data-offset', `data offset ${headerLength / 4} < 5`);
  if (headerLength > bytes.length) {
    return fail('bad-data-offset', `data offset says ${headerLength} header bytes, segment has ${bytes.length}`);
  }
  if (verifyChecksum) {
    const src = addrBytes(srcAddr);
    const dst = addrBytes(dstAddr);
    if (!src || !dst || src.length !== dst.length) return fail('bad-address', 'pseudo-header addresses are not a 4/4 or 16/16 pair');
    const sum = sum16(bytes, 0, bytes.length, pseudoHeaderSum(src, dst, IPPROTO_TCP, bytes.length));
    if (fold(sum) !== 0xffff) return fail('bad-checksum', `checksum 0x${((bytes[16]! << 8) | bytes[17]!).toString(16)} does not verify`);
  }
  const options = parseTcpOptions(bytes, TCP_HEADER_LEN, headerLength);
  if (!options.ok) return options;
  return {
    ok: true,
    value: tcpReprAt(bytes, 0, options.value, bytes.subarray(headerLength)),
  };
}

/** The TcpRepr of a checked TCP header at b[o], with its options and payload already cut out. */
export function tcpReprAt(b: Uint8Array, o: number, options: TcpOption[], payload: Uint8Array): TcpRepr {
  return {
    srcPort: (b[o]! << 8) | b[o + 1]!,
    dstPort: (b[o + 2]! << 8) | b[o + 3]!,
    seq: u32(b, o + 4),
    ack: u32(b, o + 8),
    flags: b[o + 13]!,
    window: (b[o + 14]! << 8) | b[o + 15]!,
    urgent: (b[o + 18]! << 8) | b[o + 19]!,
    options,
    payload,
  };
}

/** Bytes one option takes on the wire. */
export function optionLength(o: TcpOption): number {
  switch (o.kind) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'wscale':
      return 3;
    case 'sackPermitted':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'timestamp':
      return 10;
    case 'unknown':
      return 2 + o.data.length;
  }
}

/** Bytes the options take, unpadded. */
export function rawOptionsLength(opts: readonly TcpOption[]): number {
  let n = 0;
  for (const o of opts) n += optionLength(o);
  return n;
}

/** Bytes the options take in the header: padded to a multiple of 4 (what Data Offset counts). */
export function optionsLength(opts: readonly TcpOption[]): number {
  return (rawOptionsLength(opts) + 3) & ~3;
}

/** 20 + optionsLength(opts). */
export function tcpHeaderLength(opts: readonly TcpOption[]): number {
  return TCP_HEADER_LEN + optionsLength(opts);
}

/**
 * Writes the options at buf[offset] in the given order, then zero (EOL) bytes up to a multiple
 * of 4 (RFC 9293 3.1: "The padding is composed of zeros"; Linux's own layouts need none, they
 * are aligned with leading NOPs). Returns the padded length. Throws RangeError for options that
 * cannot be sent (more than 40 bytes, an empty SACK, an 'unknown' of kind 0 or 1) or no room in buf.
 */
export function writeTcpOptions(opts: readonly TcpOption[], buf: Uint8Array, offset = 0): number {
  const padded = optionsLength(opts);
  if (padded > MAX_OPTIONS_LEN) throw new RangeError(`TCP options take ${padded} bytes > ${MAX_OPTIONS_LEN}`);
  if (offset + padded > buf.length) throw new RangeError('buffer too small for the TCP options');
  let i = offset;
  for (const o of opts) {
    switch (o.kind) {
      case 'eol':
        buf[i++] = OPT_EOL;
        break;
      case 'nop':
        buf[i++] = OPT_NOP;
        break;
      case 'mss':
        buf[i] = OPT_MSS;
        buf[i + 1] = 4;
        buf[i + 2] = (o.value >> 8) & 0xff;
        buf[i + 3] = o.value & 0xff;
        i += 4;
        break;
      case 'wscale':
        buf[i] = OPT_WSCALE;
        buf[i + 1] = 3;
        buf[i + 2] = o.shift & 0xff;
        i += 3;
        break;
      case 'sackPermitted':
        buf[i] = OPT_SACK_PERMITTED;
        buf[i + 1] = 2;
        i += 2;
        break;
      case 'sack':
        if (o.blocks.length === 0) throw new RangeError('a SACK option needs at least one block');
        buf[i] = OPT_SACK;
        buf[i + 1] = 2 + 8 * o.blocks.length;
        i += 2;
        for (const [left, right] of o.blocks) {
          put32(buf, i, left);
          put32(buf, i + 4, right);
          i += 8;
        }
        break;
      case 'timestamp':
        buf[i] = OPT_TIMESTAMP;
        buf[i + 1] = 10;
        put32(buf, i + 2, o.val);
        put32(buf, i + 6, o.ecr);
        i += 10;
        break;
      case 'unknown':
        if (o.type === OPT_EOL || o.type === OPT_NOP || o.type > 255 || o.type < 0) {
          throw new RangeError(`option kind ${o.type} cannot be sent as a kind-length-data option`);
        }
        buf[i] = o.type;
        buf[i + 1] = 2 + o.data.length;
        buf.set(o.data, i + 2);
        i += 2 + o.data.length;
        break;
    }
  }
  buf.fill(0, i, offset + padded);
  return padded;
}

/** Bytes encodeTcp produces for this segment. */
export function tcpSegmentLength(repr: TcpRepr): number {
  return tcpHeaderLength(repr.options) + repr.payload.length;
}

/**
 * Writes the segment (header, options, payload) at buf[offset] with its checksum over the
 * pseudo header for src/dst, and returns its length. Numeric fields are written modulo their
 * width (seq -1 is 0xffffffff). Throws RangeError on bad addresses, unsendable options or no room.
 */
export function encodeTcpInto(repr: TcpRepr, srcAddr: Addr, dstAddr: Addr, buf: Uint8Array, offset = 0, partialChecksum = false): number {
  const src = addrBytes(srcAddr);
  const dst = addrBytes(dstAddr);
  if (!src || !dst || src.length !== dst.length) throw new RangeError('pseudo-header addresses are not a 4/4 or 16/16 pair');
  if (offset < 0 || offset + tcpSegmentLength(repr) > buf.length) throw new RangeError('buffer too small for the TCP segment');
  const o = offset;
  const optLen = writeTcpOptions(repr.options, buf, o + TCP_HEADER_LEN);
  const headerLength = TCP_HEADER_LEN + optLen;
  const length = headerLength + repr.payload.length;
  buf[o] = (repr.srcPort >> 8) & 0xff;
  buf[o + 1] = repr.srcPort & 0xff;
  buf[o + 2] = (repr.dstPort >> 8) & 0xff;
  buf[o + 3] = repr.dstPort & 0xff;
  put32(buf, o + 4, repr.seq);
  put32(buf, o + 8, repr.ack);
  buf[o + 12] = (headerLength / 4) << 4;
  buf[o + 13] = repr.flags & 0xff;
  buf[o + 14] = (repr.window >> 8) & 0xff;
  buf[o + 15] = repr.window & 0xff;
  buf[o + 16] = 0;
  buf[o + 17] = 0;
  buf[o + 18] = (repr.urgent >> 8) & 0xff;
  buf[o + 19] = repr.urgent & 0xff;
  buf.set(repr.payload, o + headerLength);
  // Checksum offload (CHECKSUM_PARTIAL, as on Linux's lo): the field keeps the folded pseudo-header
  // sum (__tcp_v4_send_check: th->check = ~tcp_v4_check(len, saddr, daddr, 0)) and nobody sums the rest.
  const c = partialChecksum
    ? fold(pseudoHeaderSum(src, dst, IPPROTO_TCP, length))
    : internetChecksum(buf, o, o + length, pseudoHeaderSum(src, dst, IPPROTO_TCP, length));
  buf[o + 16] = c >> 8;
  buf[o + 17] = c & 0xff;
  return length;
}

/** The segment as a new Uint8Array, checksum filled. */
export function encodeTcp(repr: TcpRepr, srcAddr: Addr, dstAddr: Addr): Uint8Array {
  const out = new Uint8Array(tcpSegmentLength(repr));
  encodeTcpInto(repr, srcAddr, dstAddr, out, 0);
  return out;
}

/** The first option of that kind, typed. */
export function findOption<K extends TcpOption['kind']>(
  opts: readonly TcpOption[],
  kind: K,
): Extract<TcpOption, { kind: K }> | undefined {
  for (const o of opts) if (o.kind === kind) return o as Extract<TcpOption, { kind: K }>;
  return undefined;
}

export interface LinuxSynOptionsInput {
  mss: number;
  sackPermitted: boolean;
  timestamp?: { val: number; ecr: number };
  /** Our window scale shift; absent when window scaling is off. */
  wscale?: number;
}

/**
 * The options of a Linux SYN or SYN-ACK, in tcp_options_write's order: MSS; with timestamps,
 * SACK-permitted (or NOP NOP) packed in front of TS; without, NOP NOP SACK-permitted; then
 * NOP WS. E.g. all on: mss, sackOK, TS, nop, wscale. Every layout is 4-byte aligned.
 */
export function linuxSynOptions(input: LinuxSynOptionsInput): TcpOption[] {
  const opts: TcpOption[] = [{ kind: 'mss', value: input.mss }];
  if (input.timestamp) {
    if (input.sackPermitted) opts.push({ kind: 'sackPermitted' });
    else opts.push(NOP_OPTION, NOP_OPTION);
    opts.push({ kind: 'timestamp', val: input.timestamp.val, ecr: input.timestamp.ecr });
  } else if (input.sackPermitted) {
    opts.push(NOP_OPTION, NOP_OPTION, { kind: 'sackPermitted' });
  }
  if (input.wscale !== undefined) opts.push(NOP_OPTION, { kind: 'wscale', shift: input.wscale });
  return opts;
}

export interface LinuxDataOptionsInput {
  timestamp?: { val: number; ecr: number };
  /** SACK (or D-SACK first) blocks; only as many as fit are sent, as Linux does. */
  sack?: ReadonlyArray<readonly [number, number]>;
}

/**
 * The options of a Linux segment after the handshake: NOP NOP TS, then NOP NOP SACK with as
 * many blocks as fit in the 40 option bytes (3 with timestamps, 4 without), as in
 * tcp_established_options; no SACK option when there are no blocks.
 */
export function linuxDataOptions(input: LinuxDataOptionsInput): TcpOption[] {
  const opts: TcpOption[] = input.timestamp ? timestampOptions(input.timestamp.val, input.timestamp.ecr) : [];
  const size = opts.length ? 12 : 0;
  const blocks = input.sack ?? [];
  const fit = Math.min(blocks.length, Math.floor((MAX_OPTIONS_LEN - size - 4) / 8));
  if (fit > 0) {
    opts.push(NOP_OPTION, NOP_OPTION, { kind: 'sack', blocks: blocks.slice(0, fit).map(([l, r]) => [l, r]) });
  }
  return opts;
}
