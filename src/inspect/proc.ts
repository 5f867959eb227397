// Parsers for the kernel's text files under /proc: /proc/net/tcp and tcp6, /proc/net/sockstat,
// /proc/net/snmp and /proc/net/netstat. Pure functions of the text (no file access here), so the
// tests feed them captured files. Every parser is total: a line it cannot read is returned in
// `errors` with its file, line number and the reason, and the rest of the file is still read.
//
// Why /proc/net/tcp and not `ss` (sock_diag): the /proc files are a machine format that has not
// changed in twenty years (Documentation/networking/proc_net_tcp.rst; the columns are printed by
// get_tcp4_sock/get_tcp6_sock, get_openreq4/6 and get_timewait4/6_sock in net/ipv4/tcp_ipv4.c and
// net/ipv6/tcp_ipv6.c), they hold everything this tool needs per socket (state, both endpoints,
// queues, the pending timer and when it fires, retransmits and keepalive probes, uid, inode), they
// need no binary (iproute2 is often missing from containers) and they are read from the network
// namespace of the reading process, which is what `ip netns exec ... linger inspect` wants.
// `ss` prints for humans: column widths, field spellings and warnings differ between iproute2
// versions, and its process column (`-p`) is itself a walk of /proc/PID/fd, which we do as well.
// What only sock_diag has (tcp_info: idle times, RTT; a listener's backlog limit) is not used:
// the keepalive check uses the keepalive timer's expiry instead of the idle time, and accept-queue
// trouble is read from the listener's queue length plus the ListenOverflows/ListenDrops counters.

import { STATE_NAMES, type TcpState } from '../tcp/states.ts';

/** A line that could not be read, kept for the report. */
export interface ParseError {
  file: string;
  line: number;
  text: string;
  reason: string;
}

/** The `tr` column of /proc/net/tcp (see get_tcp4_sock). */
export type TimerKind = 'off' | 'retransmit' | 'keepalive' | 'timewait' | 'probe' | 'unknown';
const TIMER_KINDS: Record<number, TimerKind> = { 0: 'off', 1: 'retransmit', 2: 'keepalive', 3: 'timewait', 4: 'probe' };

/**
 * The `tm->when` column is printed with jiffies_delta_to_clock_t(), so it counts clock ticks of
 * USER_HZ, which Linux fixes at 100 for user space on every architecture whatever the kernel's
 * own HZ (250 on this machine): one tick is 10 ms.
 */
export const USER_HZ = 100;

export interface RawTcpSocket {
  family: 'ipv4' | 'ipv6';
  /** Address as text: dotted quad, or RFC 5952 IPv6; an IPv4-mapped IPv6 address is shown as IPv4. */
  localAddr: string;
  localPort: number;
  remoteAddr: string;
  remotePort: number;
  /** True when the tcp6 line held ::ffff:a.b.c.d (an IPv4 peer on a dual-stack socket). */
  v4mapped: boolean;
  stateNumber: number;
  /** Engine name (STATE_NAMES); NEW_SYN_RECV (12) is shown as SYN_RECV, as the kernel itself prints it. */
  state: string;
  txQueue: number;
  rxQueue: number;
  timer: { kind: TimerKind; expiresSec: number; retransmits: number; probes: number };
  uid: number;
  /** 0 when no process owns the socket: TIME_WAIT, orphans, request sockets, children not yet accepted. */
  inode: number;
  /** Columns after the inode that we know: present only on full sockets. */
  extra: { refcount?: number; rtoSec?: number; atoSec?: number; cwnd?: number; ssthresh?: number };
}

/** Reads one 32-bit word printed with %08X from a value held in host byte order. */
function wordBytes(hex: string, littleEndian: boolean): number[] {
  const v = parseInt(hex, 16);
  const b = [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  return littleEndian ? b.reverse() : b;
}

/** RFC 5952 text of 16 bytes (longest run of two or more zero groups becomes ::). */
export function formatIPv6(bytes: number[]): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestStart = -1, bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

const HEX8 = /^[0-9A-Fa-f]{8}$/;
const HEX32 = /^[0-9A-Fa-f]{32}$/;
const HEX4 = /^[0-9A-Fa-f]{4}$/;

/**
 * Decodes "0100007F:1F90" (tcp) or the 32-digit form (tcp6). The address is the kernel's
 * __be32 words printed as integers in host byte order, so on a little-endian machine each
 * 32-bit word has its four bytes reversed; the port is already in host order.
 */
export function decodeEndpoint(text: string, family: 'ipv4' | 'ipv6', littleEndian: boolean): { addr: string; port: number; v4mapped: boolean } {
  const i = text.indexOf(':');
  if (i < 0) throw new Error(`endpoint "${text}" has no ':'`);
  const a = text.slice(0, i), p = text.slice(i + 1);
  if (!HEX4.test(p)) throw new Error(`port "${p}" is not 4 hex digits`);
  const port = parseInt(p, 16);
  if (family === 'ipv4') {
    if (!HEX8.test(a)) throw new Error(`IPv4 address "${a}" is not 8 hex digits`);
    return { addr: wordBytes(a, littleEndian).join('.'), port, v4mapped: false };
  }
  if (!HEX32.test(a)) throw new Error(`IPv6 address "${a}" is not 32 hex digits`);
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) bytes.push(...wordBytes(a.slice(w * 8, w * 8 + 8), littleEndian));
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return { addr: bytes.slice(12).join('.'), port, v4mapped: true };
  return { addr: formatIPv6(bytes), port, v4mapped: false };
}

/** "addr:port", with IPv6 addresses in brackets as ss prints them ("[::1]:22"). */
export function endpoint(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

function hexField(s: string | undefined, what: string, digits?: number): number {
  if (s === undefined) throw new Error(`missing ${what}`);
  if (!/^[0-9A-Fa-f]+$/.test(s) || (digits !== undefined && s.length !== digits)) throw new Error(`${what} "${s}" is not hex`);
  return parseInt(s, 16);
}
function decField(s: string | undefined, what: string): number {
  if (s === undefined) throw new Error(`missing ${what}`);
  if (!/^-?\d+$/.test(s)) throw new Error(`${what} "${s}" is not a decimal number`);
  return Number(s);
}

/**
 * Parses /proc/net/tcp or /proc/net/tcp6. Columns are read by position (the header's names do not
 * line up with the data: "tx_queue rx_queue" is one field "tx:rx"), the first ten are required, the
 * known ones after the inode are read when present and anything beyond is ignored, so a kernel that
 * appends columns still parses.
 */
export function parseProcNetTcp(text: string, opts: { family: 'ipv4' | 'ipv6'; littleEndian: boolean; file?: string }): { sockets: RawTcpSocket[]; errors: ParseError[] } {
  const file = opts.file ?? (opts.family === 'ipv4' ? '/proc/net/tcp' : '/proc/net/tcp6');
  const sockets: RawTcpSocket[] = [];
  const errors: ParseError[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, idx) => {
    const line = raw.trim();
    if (line === '') return;
    if (idx === 0 && /^sl\s/.test(line)) return; // header
    try {
      sockets.push(parseTcpLine(line, opts.family, opts.littleEndian));
    } catch (e) {
      errors.push({ file, line: idx + 1, text: raw.length > 200 ? raw.slice(0, 200) + '...' : raw, reason: (e as Error).message });
    }
  });
  return { sockets, errors };
}

function parseTcpLine(line: string, family: 'ipv4' | 'ipv6', littleEndian: boolean): RawTcpSocket {
  const f = line.split(/\s+/);
  if (f.length < 10) throw new Error(`${f.length} columns, at least 10 expected`);
  if (!/^\d+:$/.test(f[0]!)) throw new Error(`slot "${f[0]}" is not "N:"`);
  const local = decodeEndpoint(f[1]!, family, littleEndian);
  const remote = decodeEndpoint(f[2]!, family, littleEndian);
  const st = hexField(f[3], 'state', 2);
  // 12 is TCP_NEW_SYN_RECV: request sockets are printed by get_openreq4 as TCP_SYN_RECV, but
  // accept it too in case a kernel ever prints the raw number.
  const stateNumber = st === 12 ? 3 : st;
  const state = STATE_NAMES[stateNumber as TcpState];
  if (state === undefined) throw new Error(`unknown state 0x${f[3]}`);
  const [tx, rx] = f[4]!.split(':');
  const [tr, when] = f[5]!.split(':');
  const timerCode = hexField(tr, 'timer kind');
  let ticks = hexField(when, 'timer expiry');
  // Kernels before 4.x printed a negative delta as a huge unsigned long: a timer already due.
  if (ticks >= 2 ** 31) ticks = 0;
  const timerKind = TIMER_KINDS[timerCode] ?? 'unknown';
  const s: RawTcpSocket = {
    family,
    localAddr: local.addr,
    localPort: local.port,
    remoteAddr: remote.addr,
    remotePort: remote.port,
    v4mapped: local.v4mapped || remote.v4mapped,
    stateNumber,
    state,
    txQueue: hexField(tx, 'tx_queue'),
    rxQueue: hexField(rx, 'rx_queue'),
    timer: {
      kind: timerKind,
      expiresSec: timerKind === 'off' ? 0 : ticks / USER_HZ,
      retransmits: hexField(f[6], 'retrnsmt'),
      probes: decField(f[8], 'timeout (probes)'),
    },
    uid: decField(f[7], 'uid'),
    inode: decField(f[9], 'inode'),
    extra: {},
  };
  // Full sockets go on with: refcount, sock pointer, rto, ato, quick<<1|pingpong, cwnd, ssthresh.
  // TIME_WAIT and request sockets print fewer: read what is there and well-formed.
  const num = (i: number): number | undefined => (f[i] !== undefined && /^-?\d+$/.test(f[i]!) ? Number(f[i]) : undefined);
  const refcount = num(10);
  if (refcount !== undefined) s.extra.refcount = refcount;
  if (f.length >= 17) {
    const rto = num(12), ato = num(13), cwnd = num(15), ssthresh = num(16);
    if (rto !== undefined) s.extra.rtoSec = rto / USER_HZ;
    if (ato !== undefined) s.extra.atoSec = ato / USER_HZ;
    if (cwnd !== undefined) s.extra.cwnd = cwnd;
    if (ssthresh !== undefined) s.extra.ssthresh = ssthresh;
  }
  return s;
}

export interface Sockstat {
  /** TCP sockets in a state other than TIME_WAIT and not closed, including orphans. */
  inuse: number;
  orphan: number;
  /** TIME_WAIT plus orphaned FIN_WAIT2 minisockets. */
  tw: number;
  alloc: number;
  /** Pages. */
  mem: number;
}

/** Parses /proc/net/sockstat (and sockstat6, whose TCP6 line has only inuse). Unknown keys are kept. */
export function parseSockstat(text: string, file = '/proc/net/sockstat'): { tcp: Sockstat | null; all: Record<string, Record<string, number>>; errors: ParseError[] } {
  const all: Record<string, Record<string, number>> = {};
  const errors: ParseError[] = [];
  text.split('\n').forEach((raw, idx) => {
    const line = raw.trim();
    if (line === '') return;
    const m = /^([A-Za-z0-9_]+):\s*(.*)$/.exec(line);
    if (!m) { errors.push({ file, line: idx + 1, text: raw, reason: 'no "NAME:" prefix' }); return; }
    const parts = m[2]!.split(/\s+/).filter(Boolean);
    if (parts.length % 2 !== 0) { errors.push({ file, line: idx + 1, text: raw, reason: 'odd number of key/value fields' }); return; }
    const rec: Record<string, number> = {};
    for (let i = 0; i < parts.length; i += 2) {
      const v = parts[i + 1]!;
      if (!/^-?\d+$/.test(v)) { errors.push({ file, line: idx + 1, text: raw, reason: `value of ${parts[i]} "${v}" is not a number` }); return; }
      rec[parts[i]!] = Number(v);
    }
    all[m[1]!] = rec;
  });
  const t = all['TCP'];
  const tcp = t ? { inuse: t['inuse'] ?? 0, orphan: t['orphan'] ?? 0, tw: t['tw'] ?? 0, alloc: t['alloc'] ?? 0, mem: t['mem'] ?? 0 } : null;
  return { tcp, all, errors };
}

/**
 * Parses /proc/net/snmp or /proc/net/netstat: pairs of lines "Prefix: name name ..." and
 * "Prefix: value value ...". Counters are returned under their nstat names, prefix + name
 * (TcpActiveOpens, TcpExtTW, IpInReceives), the vocabulary of src/base/counters.ts.
 */
export function parseNstatFile(text: string, file: string): { counters: Record<string, number>; errors: ParseError[] } {
  const counters: Record<string, number> = {};
  const errors: ParseError[] = [];
  const lines = text.split('\n').map((raw, idx) => ({ raw, idx })).filter((l) => l.raw.trim() !== '');
  for (let i = 0; i < lines.length; i++) {
    const head = lines[i]!;
    const hm = /^([A-Za-z0-9]+):\s+(.*)$/.exec(head.raw.trim());
    if (!hm) { errors.push({ file, line: head.idx + 1, text: head.raw, reason: 'no "Prefix:" header' }); continue; }
    const names = hm[2]!.split(/\s+/);
    if (names.some((n) => /^-?\d+$/.test(n))) { errors.push({ file, line: head.idx + 1, text: head.raw, reason: 'value line without a header line' }); continue; }
    const val = lines[i + 1];
    const vm = val ? /^([A-Za-z0-9]+):\s+(.*)$/.exec(val.raw.trim()) : null;
    if (!val || !vm || vm[1] !== hm[1]) {
      errors.push({ file, line: head.idx + 1, text: head.raw, reason: `header of ${hm[1]} not followed by its values` });
      continue;
    }
    i++;
    const values = vm[2]!.split(/\s+/);
    if (values.length !== names.length) {
      errors.push({ file, line: val.idx + 1, text: val.raw, reason: `${names.length} names but ${values.length} values: the common prefix is kept` });
    }
    const n = Math.min(names.length, values.length);
    for (let k = 0; k < n; k++) {
      const v = values[k]!;
      if (!/^-?\d+$/.test(v)) { errors.push({ file, line: val.idx + 1, text: `${names[k]}=${v}`, reason: 'not a number' }); continue; }
      counters[hm[1]! + names[k]!] = Number(v);
    }
  }
  return { counters, errors };
}

/** "32768\t60999" -> [32768, 60999]; the text of one /proc/sys file. */
export function parseNumbers(text: string): number[] {
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}
