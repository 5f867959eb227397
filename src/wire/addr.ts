// IPv4 and IPv6 addresses between canonical text and bytes. Parsing never throws: bad text
// gives a WireError of kind 'bad-address'. Formatting follows RFC 5952 for IPv6.
import type { Result, WireError, WireLayer } from './types.ts';

function bad(layer: WireLayer, detail: string): { ok: false; error: WireError } {
  return { ok: false, error: { layer, kind: 'bad-address', detail } };
}

/** 4 for dotted-quad text, 6 for IPv6 text, 0 for anything else (checks full syntax). */
export function ipVersion(s: string): 4 | 6 | 0 {
  let v = VERSION_CACHE.get(s);
  if (v === undefined) {
    v = parseIpv4(s).ok ? 4 : parseIpv6(s).ok ? 6 : 0;
    if (VERSION_CACHE.size >= 4096) VERSION_CACHE.clear();
    VERSION_CACHE.set(s, v);
  }
  return v;
}
// Hosts ask about the same few addresses for every packet; bounded, cleared when full.
const VERSION_CACHE = new Map<string, 4 | 6 | 0>();

/**
 * Dotted quad, four decimal parts 0..255. Like glibc inet_pton, a part may not have a leading
 * zero ("010" is ambiguous: octal to inet_aton) and no shorthand forms ("10.1") are accepted.
 */
export function parseIpv4(s: string): Result<Uint8Array> {
  const out = new Uint8Array(4);
  if (!parseIpv4Into(s, 0, s.length, out, 0)) return bad('ipv4', `not an IPv4 address: ${JSON.stringify(s)}`);
  return { ok: true, value: out };
}

function parseIpv4Into(s: string, start: number, end: number, out: Uint8Array, off: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 0x2e; // a virtual '.' closes the last part
    if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && value === 0) return false; // leading zero
      value = value * 10 + (c - 0x30);
      if (value > 255) return false;
      digits++;
    } else if (c === 0x2e) {
      if (digits === 0 || part > 3) return false;
      out[off + part++] = value;
      value = 0;
      digits = 0;
    } else {
      return false;
    }
  }
  return part === 4;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/**
 * RFC 4291 section 2.2 text forms: eight groups of 1..4 hex digits, at most one "::", an
 * optional dotted quad in the last 32 bits. Zone indices ("%eth0") are not addresses: rejected.
 */
export function parseIpv6(s: string): Result<Uint8Array> {
  const out = new Uint8Array(16);
  const fail = () => bad('ipv6', `not an IPv6 address: ${JSON.stringify(s)}`);
  const n = s.length;
  if (n < 2 || n > 45) return fail();
  const groups: number[] = [];
  let gap = -1; // index in groups where "::" stands
  let i = 0;
  if (s.startsWith('::')) {
    gap = 0;
    i = 2;
    if (i === n) return { ok: true, value: out };
  } else if (s.charCodeAt(0) === 0x3a) {
    return fail();
  }
  while (i < n) {
    // One group, or a trailing dotted quad.
    let j = i;
    let value = 0;
    while (j < n && j - i < 5) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      j++;
    }
    if (j < n && s.charCodeAt(j) === 0x2e) {
      // Embedded IPv4: must be the last thing and fit in the last two groups.
      if (groups.length > 6 || (gap < 0 && groups.length !== 6)) return fail();
      const v4 = new Uint8Array(4);
      if (!parseIpv4Into(s, i, n, v4, 0)) return fail();
      groups.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      i = n;
      break;
    }
    if (j === i || j - i > 4) return fail();
    groups.push(value);
    if (groups.length > 8) return fail();
    if (j === n) {
      i = n;
      break;
    }
    if (s.charCodeAt(j) !== 0x3a) return fail();
    if (j + 1 < n && s.charCodeAt(j + 1) === 0x3a) {
      if (gap >= 0) return fail(); // a second "::"
      gap = groups.length;
      i = j + 2;
    } else {
      if (j + 1 === n) return fail(); // trailing single ':'
      i = j + 1;
    }
  }
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) return fail();
  const tail = gap < 0 ? 0 : groups.length - gap;
  const head = groups.length - tail;
  for (let g = 0; g < head; g++) {
    out[g * 2] = groups[g]! >> 8;
    out[g * 2 + 1] = groups[g]! & 0xff;
  }
  for (let g = 0; g < tail; g++) {
    const k = 8 - tail + g;
    out[k * 2] = groups[head + g]! >> 8;
    out[k * 2 + 1] = groups[head + g]! & 0xff;
  }
  return { ok: true, value: out };
}

/** IPv4 or IPv6 text to 4 or 16 bytes. */
export function parseIp(s: string): Result<Uint8Array> {
  const v4 = parseIpv4(s);
  if (v4.ok) return v4;
  const v6 = parseIpv6(s);
  if (v6.ok) return v6;
  return bad(s.includes(':') ? 'ipv6' : 'ipv4', `not an IP address: ${JSON.stringify(s)}`);
}

export function formatIpv4(bytes: Uint8Array, offset = 0): string {
  const n = ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
  let t = V4_TEXT.get(n);
  if (t === undefined) {
    t = `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
    if (V4_TEXT.size >= 4096) V4_TEXT.clear();
    V4_TEXT.set(n, t);
  }
  return t;
}
// Every received packet formats two addresses; the strings are interned by value. Bounded.
const V4_TEXT = new Map<number, string>();

/** RFC 5952 section 4: lower case, no leading zeros, the longest run (first on a tie) of two
 *  or more zero groups as "::"; section 5: IPv4-mapped addresses as ::ffff:a.b.c.d. */
export function formatIpv6(bytes: Uint8Array, offset = 0): string {
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push((bytes[offset + 2 * k]! << 8) | bytes[offset + 2 * k + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIpv4(bytes, offset + 12)}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is never compressed (RFC 5952 4.2.2)
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) {
      bestStart = k;
      bestLen = e - k;
    }
    k = e;
  }
  const hex = (a: number, b: number) => g.slice(a, b).map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(0, 8);
  return `${hex(0, bestStart)}::${hex(bestStart + bestLen, 8)}`;
}

/** 4 bytes to dotted quad, 16 bytes to RFC 5952 text. */
export function formatIp(bytes: Uint8Array): string {
  return bytes.length === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
}

/** Any accepted text form to its canonical form ("FD00:0::01" -> "fd00::1"). */
export function canonicalIp(s: string): Result<string> {
  const r = parseIp(s);
  return r.ok ? { ok: true, value: formatIp(r.value) } : r;
}

/** 127.0.0.0/8 or ::1 (canonical text forms). */
export const isLoopback = (a: string): boolean => a.startsWith('127.') || a === '::1';

/** The unspecified address of either family (INADDR_ANY, in6addr_any): a wildcard bind. */
export const isWildcard = (a: string): boolean => a === '0.0.0.0' || a === '::';
