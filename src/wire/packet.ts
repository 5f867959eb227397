// Whole IP + TCP packets in one call, and a tcpdump-style one-line description of a segment.
import { formatIpv4, ipVersion, parseIp } from './addr.ts';
import { payloadLength, TxSegment, type RxSegment } from './segment.ts';
import { fold, sum16, verifyChecksum as verifyChecksumRange } from './checksum.ts';
import { DEFAULT_TTL, decodeIpv4, encodeIpv4HeaderBytes, ipv4Repr, IPV4_HEADER_LEN } from './ipv4.ts';
import { DEFAULT_HOP_LIMIT, decodeIpv6, encodeIpv6HeaderBytes, IPV6_HEADER_LEN } from './ipv6.ts';
import { decodeTcp, encodeTcpInto, IPPROTO_TCP, NOP_OPTION, put32, rawOptionsLength, tcpReprAt, tcpSegmentLength, timestampOptions, u32 } from './tcp.ts';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG } from './types.ts';
import type { IpRepr, Result, TcpOption, TcpRepr, WireError } from './types.ts';

export interface DecodedPacket {
  ip: IpRepr;
  tcp: TcpRepr;
}

/**
 * An IpRepr for TCP from src to dst with Linux's defaults (TTL / hop limit 64, DF set, id 0,
 * TOS 0), version taken from the addresses. Throws RangeError on bad or mixed addresses.
 */
export function makeIpRepr(src: string, dst: string, overrides?: Partial<IpRepr>): IpRepr {
  const v = ipVersion(src);
  if (v === 0 || v !== ipVersion(dst)) throw new RangeError(`not a pair of IPv4 or IPv6 addresses: ${src}, ${dst}`);
  const base: IpRepr =
    v === 4
      ? { version: 4, src, dst, protocol: IPPROTO_TCP, ttl: DEFAULT_TTL, id: 0, dontFragment: true, tos: 0 }
      : { version: 6, src, dst, protocol: IPPROTO_TCP, ttl: DEFAULT_HOP_LIMIT, tos: 0, flowLabel: 0 };
  return overrides ? { ...base, ...overrides } : base; // no override object per segment sent
}

// Parsed addresses, memoised: a host sends from and to the same few addresses all the time.
// The bytes are only read. Bounded: cleared when it fills.
const ADDR_CACHE = new Map<string, ReturnType<typeof parseIp>>();
function parseIpCached(s: string): ReturnType<typeof parseIp> {
  let r = ADDR_CACHE.get(s);
  if (r === undefined) {
    r = parseIp(s);
    if (ADDR_CACHE.size >= 4096) ADDR_CACHE.clear();
    ADDR_CACHE.set(s, r);
  }
  return r;
}

/** Bytes encodePacket produces. */
export function packetLength(ip: IpRepr, tcp: TcpRepr): number {
  return (ip.version === 4 ? IPV4_HEADER_LEN : IPV6_HEADER_LEN) + tcpSegmentLength(tcp);
}

/**
 * Writes the IP header and TCP segment at buf[offset], both checksums filled, and returns the
 * length. The IP protocol field is ip.protocol as given (6 for TCP). Throws RangeError on
 * addresses that do not match ip.version, unsendable options, or no room in buf.
 */
export function encodePacketInto(ip: IpRepr, tcp: TcpRepr, buf: Uint8Array, offset = 0, partialChecksum = false): number {
  const src = parseIpCached(ip.src);
  const dst = parseIpCached(ip.dst);
  const want = ip.version === 4 ? 4 : 16;
  if (!src.ok || !dst.ok || src.value.length !== want || dst.value.length !== want) {
    throw new RangeError(`addresses ${ip.src} > ${ip.dst} are not IPv${ip.version}`);
  }
  const segLen = tcpSegmentLength(tcp);
  if (offset < 0 || offset + packetLength(ip, tcp) > buf.length) throw new RangeError('buffer too small for the packet');
  const h =
    ip.version === 4
      ? encodeIpv4HeaderBytes(ip, src.value, dst.value, segLen, buf, offset)
      : encodeIpv6HeaderBytes(ip, src.value, dst.value, segLen, buf, offset);
  return h + encodeTcpInto(tcp, src.value, dst.value, buf, offset + h, partialChecksum);
}

/**
 * The whole packet as a new Uint8Array, IP and TCP checksums filled; with partialChecksum the TCP
 * checksum is left as checksum offload leaves it (the folded pseudo-header sum only).
 */
export function encodePacket(ip: IpRepr, tcp: TcpRepr, partialChecksum = false): Uint8Array {
  const out = new Uint8Array(packetLength(ip, tcp));
  encodePacketInto(ip, tcp, out, 0, partialChecksum);
  return out;
}

/**
 * encodePacket for a host's own output, many packets a second: packets are views into a shared
 * 32 KiB slab rather than each an ArrayBuffer of its own, whose allocation and release cost more
 * than the encoding itself. Small ones too: V8 keeps a typed array of 64 bytes or less inside its
 * heap, and the receiver's payload view (subarray) would then move it out, allocating and
 * copying, on every packet (measured: 350 ns of a 410 ns decode). A view keeps its whole slab
 * alive: a receive queue holding one segment, or a trace keeping a packet, keeps up to 32 KiB,
 * as a Linux skb keeps its page fragment alive (sk_page_frag pages are 32 KiB,
 * SKB_FRAG_PAGE_ORDER; from the source, not measured).
 */
export function encodePacketSlab(ip: IpRepr, tcp: TcpRepr, partialChecksum = false): Uint8Array {
  return encodePacketWith(ip, tcp, partialChecksum, false);
}

/**
 * encodePacketSlab into a packet of the pool: one a network gave back (recyclePacket) when it
 * has one of that length, else a new one that may come back. The packet is the caller's until
 * it hands it on; whoever ends up with it either keeps it (then it never returns) or, keeping
 * nothing of it, gives it back.
 */
export function encodePacketPooled(ip: IpRepr, tcp: TcpRepr, partialChecksum = false): Uint8Array {
  return encodePacketWith(ip, tcp, partialChecksum, true);
}

function encodePacketWith(ip: IpRepr, tcp: TcpRepr, partialChecksum: boolean, pooled: boolean): Uint8Array {
  // The common segment (IPv4, no options or NOP NOP timestamp) is written here directly; the
  // general encoder below gives the same bytes (test/wire/packet.test.ts holds them equal). A
  // TxSegment has its timestamp as fields: no option list is made for it.
  let layout: boolean;
  let hasTs: boolean;
  let val = 0;
  let ecr = 0;
  if (tcp instanceof TxSegment) {
    layout = tcp.timestampLayout;
    hasTs = tcp.hasTs;
    val = tcp.tsVal;
    ecr = tcp.tsEcr;
  } else {
    const opts = tcp.options;
    hasTs = opts.length === 3 && opts[0] === NOP_OPTION && opts[1] === NOP_OPTION && opts[2]!.kind === 'timestamp';
    layout = opts.length === 0 || hasTs;
    if (hasTs) {
      const ts = opts[2] as { val: number; ecr: number };
      val = ts.val;
      ecr = ts.ecr;
    }
  }
  const common = layout && ip.version === 4 && ip.protocol === IPPROTO_TCP;
  const n = common ? 40 + (hasTs ? 12 : 0) + payloadLength(tcp) : packetLength(ip, tcp);
  const out = pooled ? takePacket(n) : slabPacket(n);
  // Every byte of the packet is written (a pooled one holds the last packet's bytes).
  // TSval and TSecr go as int32 (the same 32 bits): a uint32 above 2^31 would be boxed for the call.
  if (!common || n > 0xffff || !encodeCommonIpv4(ip, tcp, hasTs, val | 0, ecr | 0, out, partialChecksum)) encodePacketInto(ip, tcp, out, 0, partialChecksum);
  return out;
}

/** n bytes of the current slab (a fresh one when it is used up), or an ArrayBuffer of their own above 16 KiB. */
function slabPacket(n: number): Uint8Array {
  if (n > SLAB_MAX_PACKET) return new Uint8Array(n);
  if (slabOff + n > SLAB_SIZE) {
    slab = new ArrayBuffer(SLAB_SIZE);
    slabOff = 0;
  }
  const out = new Uint8Array(slab, slabOff, n);
  slabOff += (n + 7) & ~7; // 8-byte aligned: the checksum reads 32-bit words
  return out;
}

// The packet pool: packets of each length given back, for the next packet of that length (in a
// bulk transfer two lengths, the full segment and the ACK, go round and round). Its packets are
// cut from slabs of its own (POOL_SLABS knows them; a larger packet has its ArrayBuffer there),
// so only they come back, and a packet waiting in the pool keeps alive a slab of pool packets
// only. Bounded: at most POOL_TOTAL packets wait. VIEWS: the payload view last asked of each.
const POOL = new Map<number, Uint8Array[]>();
const POOL_SLABS = new WeakSet<ArrayBufferLike>();
const VIEWS = new WeakMap<Uint8Array, Uint8Array>();
const POOL_LENGTHS = 64;
const POOL_PER_LENGTH = 1024;
const POOL_TOTAL = 2048;
let pooledCount = 0;
let poolSlab = new ArrayBuffer(0);
let poolSlabOff = Number.MAX_SAFE_INTEGER; // the first call takes a fresh slab

function takePacket(n: number): Uint8Array {
  const free = POOL.get(n);
  if (free !== undefined && free.length !== 0) {
    pooledCount--;
    return free.pop()!;
  }
  if (n > SLAB_MAX_PACKET) {
    const own = new ArrayBuffer(n);
    POOL_SLABS.add(own);
    return new Uint8Array(own);
  }
  if (poolSlabOff + n > SLAB_SIZE) {
    poolSlab = new ArrayBuffer(SLAB_SIZE);
    POOL_SLABS.add(poolSlab);
    poolSlabOff = 0;
  }
  const out = new Uint8Array(poolSlab, poolSlabOff, n);
  poolSlabOff += (n + 7) & ~7; // 8-byte aligned, as slabPacket's
  return out;
}

/**
 * Gives a packet of encodePacketPooled back once nobody holds it or a view of it any more: its
 * memory becomes the next packet of that length. Other packets are ignored.
 */
export function recyclePacket(p: Uint8Array): void {
  if (!POOL_SLABS.has(p.buffer)) return;
  let free = POOL.get(p.length);
  if (free === undefined) {
    if (POOL.size >= POOL_LENGTHS) return;
    POOL.set(p.length, (free = []));
  }
  if (free.length < POOL_PER_LENGTH && pooledCount < POOL_TOTAL) {
    free.push(p);
    pooledCount++;
  }
}

/** The view rangeView last made of a pooled packet (null if none, or not a pooled packet). */
export function madeView(p: Uint8Array): Uint8Array | null {
  return VIEWS.get(p) ?? null;
}

/**
 * bytes[start, start + n) as a view: bytes itself when that is all of it, for a pooled packet
 * the view it was last asked for when the range is the same (made once per packet, not per
 * segment it carries), else a new one.
 */
export function rangeView(bytes: Uint8Array, start: number, n: number): Uint8Array {
  if (start === 0 && n === bytes.length) return bytes;
  const v = VIEWS.get(bytes);
  if (v !== undefined && v.length === n && v.byteOffset === bytes.byteOffset + start) return v;
  const view = bytes.subarray(start, start + n);
  if (v !== undefined || POOL_SLABS.has(bytes.buffer)) VIEWS.set(bytes, view);
  return view;
}

/** IPv4 + TCP with no options or NOP NOP timestamp (TSval, TSecr), into out (exactly the packet's length). */
function encodeCommonIpv4(ip: IpRepr, tcp: TcpRepr, hasTs: boolean, val: number, ecr: number, b: Uint8Array, partial: boolean): boolean {
  const src = parseIpCached(ip.src);
  const dst = parseIpCached(ip.dst);
  if (!src.ok || !dst.ok || src.value.length !== 4 || dst.value.length !== 4) return false; // the general path throws
  const n = b.length;
  encodeIpv4HeaderBytes(ip, src.value, dst.value, n - 20, b, 0);
  const hl = hasTs ? 32 : 20;
  b[20] = (tcp.srcPort >> 8) & 0xff;
  b[21] = tcp.srcPort & 0xff;
  b[22] = (tcp.dstPort >> 8) & 0xff;
  b[23] = tcp.dstPort & 0xff;
  put32(b, 24, tcp.seq);
  put32(b, 28, tcp.ack);
  b[32] = (hl / 4) << 4;
  b[33] = tcp.flags & 0xff;
  b[34] = (tcp.window >> 8) & 0xff;
  b[35] = tcp.window & 0xff;
  b[36] = 0;
  b[37] = 0;
  b[38] = (tcp.urgent >> 8) & 0xff;
  b[39] = tcp.urgent & 0xff;
  if (hasTs) {
    b[40] = 1; b[41] = 1; b[42] = 8; b[43] = 10;
    put32(b, 44, val);
    put32(b, 48, ecr);
  }
  if (n > 20 + hl) b.set(tcp.payload, 20 + hl);
  const pseudo = pseudoSum4(b, n - 20);
  const c = partial ? fold(pseudo) : ~fold(sum16(b, 20, n, pseudo)) & 0xffff;
  b[36] = c >> 8;
  b[37] = c & 0xff;
  return true;
}

/** The TCP pseudo-header sum of the IPv4 packet in b (pseudoHeaderSum4 without address views). */
function pseudoSum4(b: Uint8Array, tcpLength: number): number {
  return sum16(b, 12, 20) + IPPROTO_TCP + tcpLength;
}

const SLAB_SIZE = 32 * 1024;
const SLAB_MAX_PACKET = 16 * 1024;
let slab = new ArrayBuffer(0); // the first call takes a fresh slab
let slabOff = SLAB_SIZE;

/**
 * Decodes an IPv4 or IPv6 packet carrying TCP, dispatching on the version nibble. Other
 * protocols give 'unsupported-protocol'. With verifyChecksum false neither the IPv4 header
 * checksum nor the TCP checksum is checked; verifyTcpChecksum false skips only the TCP one (a
 * receiver behind checksum offload, CHECKSUM_UNNECESSARY). Never throws.
 */
export function decodePacket(bytes: Uint8Array, verifyChecksum = true, verifyTcpChecksum = verifyChecksum): Result<DecodedPacket> {
  return decodeCommonIpv4(bytes, verifyChecksum, verifyChecksum && verifyTcpChecksum) ?? decodePacketGeneral(bytes, verifyChecksum, verifyTcpChecksum);
}

/** decodePacket without its fast path (every packet, every error); exported for the tests that hold the two equal. */
export function decodePacketGeneral(bytes: Uint8Array, verifyChecksum = true, verifyTcpChecksum = verifyChecksum): Result<DecodedPacket> {
  if (bytes.length === 0) return { ok: false, error: { layer: 'ipv4', kind: 'truncated', detail: 'empty packet' } };
  const version = bytes[0]! >> 4;
  const net =
    version === 4 ? decodeIpv4(bytes, verifyChecksum) : version === 6 ? decodeIpv6(bytes) : undefined;
  if (!net) return { ok: false, error: { layer: 'ipv4', kind: 'bad-version', detail: `IP version ${version}` } };
  if (!net.ok) return net;
  const { ip, payload, srcBytes, dstBytes } = net.value;
  if (ip.protocol !== IPPROTO_TCP) {
    return {
      ok: false,
      error: { layer: version === 4 ? 'ipv4' : 'ipv6', kind: 'unsupported-protocol', detail: `protocol ${ip.protocol}` },
    };
  }
  const tcp = decodeTcp(payload, srcBytes, dstBytes, verifyChecksum && verifyTcpChecksum);
  if (!tcp.ok) return tcp;
  return { ok: true, value: { ip, tcp: tcp.value } };
}

/**
 * The receive fast path: the packet every connection sends all the time, IPv4 with no IP
 * options and no fragmentation carrying TCP with no options or with Linux's data-segment
 * layout (NOP, NOP, timestamp). It builds the same representation as the general path below,
 * without its intermediate views and results; anything else (and every error) returns null and
 * goes the general way, which alone reports errors.
 */
function decodeCommonIpv4(b: Uint8Array, verifyIp: boolean, verifyTcp: boolean): Result<DecodedPacket> | null {
  const hl = commonIpv4(b, verifyIp, verifyTcp);
  if (hl < 0) return null;
  const ip = ipv4Repr(b);
  const options = hl === 20 ? [] : timestampOptions(u32(b, 44), u32(b, 48));
  const tcp = tcpReprAt(b, 20, options, b.subarray(20 + hl, (b[2]! << 8) | b[3]!));
  return { ok: true, value: { ip, tcp } };
}

/** The TCP header length when b is the common packet decodeCommonIpv4 takes (checks passed), else -1. */
function commonIpv4(b: Uint8Array, verifyIp: boolean, verifyTcp: boolean): number {
  const n = b.length;
  if (n < 40 || b[0] !== 0x45 || b[9] !== IPPROTO_TCP) return -1;
  const total = (b[2]! << 8) | b[3]!;
  const frag = (b[6]! << 8) | b[7]!;
  if (total > n || total < 40 || (frag & 0x3fff) !== 0) return -1;
  if (verifyIp && !verifyChecksumRange(b, 0, 20)) return -1;
  const hl = (b[32]! >> 4) * 4;
  const optLen = hl - 20;
  if (optLen !== 0 && !(optLen === 12 && b[40] === 1 && b[41] === 1 && b[42] === 8 && b[43] === 10)) return -1;
  if (hl > total - 20) return -1;
  if (verifyTcp && fold(sum16(b, 20, total, pseudoSum4(b, total - 20))) !== 0xffff) return -1;
  return hl;
}

/**
 * decodePacket into objects the caller reuses, for a host's receive path: nothing is allocated
 * for the common packet (decodeCommonIpv4's), the payload is a range of `bytes`, and the TCP
 * options are fields of `tcp`. Returns null, or the error decodePacket would give. Never throws.
 */
export function decodePacketInto(
  bytes: Uint8Array, ip: IpRepr, tcp: RxSegment, verifyChecksum = true, verifyTcpChecksum = verifyChecksum,
): WireError | null {
  const b = bytes;
  const hl = commonIpv4(b, verifyChecksum, verifyChecksum && verifyTcpChecksum);
  if (hl < 0) {
    const r = decodePacketGeneral(bytes, verifyChecksum, verifyTcpChecksum);
    if (!r.ok) return r.error;
    const d = r.value.ip;
    ip.version = d.version;
    ip.src = d.src;
    ip.dst = d.dst;
    ip.protocol = d.protocol;
    ip.ttl = d.ttl;
    ip.id = d.id;
    ip.dontFragment = d.dontFragment;
    ip.tos = d.tos;
    ip.flowLabel = d.flowLabel;
    tcp.setFrom(r.value.tcp);
    return null;
  }
  // As ipv4Repr and tcpReprAt.
  ip.version = 4;
  ip.src = formatIpv4(b, 12);
  ip.dst = formatIpv4(b, 16);
  ip.protocol = b[9]!;
  ip.ttl = b[8]!;
  ip.id = (b[4]! << 8) | b[5]!;
  ip.dontFragment = (b[6]! & 0x40) !== 0;
  ip.tos = b[1]!;
  ip.flowLabel = undefined;
  tcp.srcPort = (b[20]! << 8) | b[21]!;
  tcp.dstPort = (b[22]! << 8) | b[23]!;
  // The 32-bit fields are read in place (as u32): a uint32 above 2^31 returned from a call
  // would be a boxed number, four per segment.
  tcp.seq = ((b[24]! << 24) | (b[25]! << 16) | (b[26]! << 8) | b[27]!) >>> 0;
  tcp.ack = ((b[28]! << 24) | (b[29]! << 16) | (b[30]! << 8) | b[31]!) >>> 0;
  tcp.flags = b[33]!;
  tcp.window = (b[34]! << 8) | b[35]!;
  tcp.urgent = (b[38]! << 8) | b[39]!;
  tcp.setTimestampOnly(hl !== 20, 0, 0);
  if (hl !== 20) {
    tcp.tsVal = ((b[44]! << 24) | (b[45]! << 16) | (b[46]! << 8) | b[47]!) >>> 0;
    tcp.tsEcr = ((b[48]! << 24) | (b[49]! << 16) | (b[50]! << 8) | b[51]!) >>> 0;
  }
  const total = (b[2]! << 8) | b[3]!;
  tcp.setPayload(b, 20 + hl, total - 20 - hl);
  return null;
}

// tcpdump's print-tcp.c tcp_flag_values, in its order (low bit first).
const FLAG_LETTERS: Array<[number, string]> = [
  [FIN, 'F'],
  [SYN, 'S'],
  [RST, 'R'],
  [PSH, 'P'],
  [ACK, '.'],
  [URG, 'U'],
  [ECE, 'E'],
  [CWR, 'W'],
];

/** Flags as tcpdump prints them inside "Flags [...]": "S.", "P.", "none" when zero. */
export function formatFlags(flags: number): string {
  let s = '';
  for (const [bit, letter] of FLAG_LETTERS) if (flags & bit) s += letter;
  return s || 'none';
}

function hex(data: Uint8Array): string {
  let s = '';
  for (const b of data) s += b.toString(16).padStart(2, '0');
  return s;
}

/**
 * Options as tcpdump prints them inside "options [...]" with -S: "mss 1460,sackOK,TS val 1 ecr 0,
 * nop,wscale 7", "sack 2 {l:r}{l:r}". Printing stops after an EOL, and the zero padding the
 * encoder adds shows as "eol", as tcpdump reads it. Unknown kinds print as tcpdump's default,
 * "unknown-N 0x" + hex data; kinds tcpdump decodes itself (md5, mptcp, tfo, ...) are not mimicked.
 */
export function formatOptions(opts: readonly TcpOption[]): string {
  const parts: string[] = [];
  let ended = false;
  for (const o of opts) {
    switch (o.kind) {
      case 'eol':
        parts.push('eol');
        ended = true;
        break;
      case 'nop':
        parts.push('nop');
        break;
      case 'mss':
        parts.push(`mss ${o.value}`);
        break;
      case 'wscale':
        parts.push(`wscale ${o.shift}`);
        break;
      case 'sackPermitted':
        parts.push('sackOK');
        break;
      case 'sack':
        parts.push(`sack ${o.blocks.length} ${o.blocks.map(([l, r]) => `{${l >>> 0}:${r >>> 0}}`).join('')}`);
        break;
      case 'timestamp':
        parts.push(`TS val ${o.val >>> 0} ecr ${o.ecr >>> 0}`);
        break;
      case 'unknown':
        parts.push(`unknown-${o.type}${o.data.length > 0 ? ` 0x${hex(o.data)}` : ''}`);
        break;
    }
    if (ended) break;
  }
  if (!ended && rawOptionsLength(opts) % 4 !== 0) parts.push('eol');
  return parts.join(',');
}

/**
 * One line like `tcpdump -nn -S` prints for a TCP segment, after its "IP "/"IP6 " prefix:
 * `10.0.0.1.40000 > 10.0.0.2.80: Flags [S.], seq 1, ack 2, win 64240, options [...], length 0`.
 * As print-tcp.c: seq only when there is payload or SYN/FIN/RST (as "seq a:b" with payload),
 * ack only with ACK, urg only with URG, options only when the header has any.
 * (tcpdump may append a dissection of the payload for well-known ports; this does not.)
 */
export function formatSegment(ip: IpRepr, tcp: TcpRepr): string {
  const len = tcp.payload.length;
  let s = `${ip.src}.${tcp.srcPort} > ${ip.dst}.${tcp.dstPort}: Flags [${formatFlags(tcp.flags)}]`;
  if (len > 0 || tcp.flags & (SYN | FIN | RST)) {
    s += `, seq ${tcp.seq >>> 0}`;
    if (len > 0) s += `:${(tcp.seq + len) >>> 0}`;
  }
  if (tcp.flags & ACK) s += `, ack ${tcp.ack >>> 0}`;
  s += `, win ${tcp.window}`;
  if (tcp.flags & URG) s += `, urg ${tcp.urgent}`;
  if (tcp.options.length > 0) s += `, options [${formatOptions(tcp.options)}]`;
  return `${s}, length ${len}`;
}

/** formatSegment with tcpdump's "IP " or "IP6 " prefix: the whole line of `tcpdump -nn -S -t`. */
export function formatPacketLine(ip: IpRepr, tcp: TcpRepr): string {
  return `${ip.version === 4 ? 'IP' : 'IP6'} ${formatSegment(ip, tcp)}`;
}
