// Reads the host: TCP sockets of the network namespace this process runs in, the processes that
// own them, the kernel's counters and the sysctls that matter for the lifecycle. All file access
// goes through `root` (normally /proc) so that tests can point it at a captured tree.

import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { endianness, hostname, release } from 'node:os';
import { join } from 'node:path';
import {
  endpoint, parseNstatFile, parseNumbers, parseProcNetTcp, parseSockstat,
  type ParseError, type RawTcpSocket, type Sockstat,
} from './proc.ts';

/** Who holds a socket, as far as /proc tells. */
export type Owner =
  | 'process' // an fd of a process points at its inode
  | 'timewait' // TIME_WAIT minisocket: nobody
  | 'orphan' // closed by its process, still finishing (FIN_WAIT1/2, CLOSING, LAST_ACK)
  | 'accept-queue' // completed by the kernel, waiting for accept() on a listener
  | 'request' // SYN_RECV request socket of a listener
  | 'unknown'; // an inode no readable process holds (another user's process when not root)

export interface InspectSocket extends RawTcpSocket {
  /** "addr:port" ("[v6]:port"). */
  local: string;
  remote: string;
  owner: Owner;
  /** Lowest pid that holds the socket (or, for accept-queue and request sockets, holds the listener). */
  pid: number | null;
  /** /proc/PID/comm of that pid. */
  process: string | null;
  /** Every pid sharing the socket (fork, SCM_RIGHTS). */
  pids: number[];
  /** Seconds in this state: from the timer (TIME_WAIT, orphaned FIN_WAIT2) or from watching (others). */
  ageSec: number | null;
  /** 'timer': exact to 10 ms; 'watched': at least this long (first seen by an earlier sample). */
  ageSource: 'timer' | 'watched' | null;
}

export interface ProcessInfo {
  pid: number;
  comm: string;
  cmdline: string;
}

export interface Snapshot {
  /** Wall clock (ms since the epoch) and monotonic clock (ms) of the sample. */
  takenAt: number;
  mono: number;
  sockets: InspectSocket[];
  sockstat: Sockstat | null;
  counters: Record<string, number>;
  sysctl: Sysctls;
  processes: Map<number, ProcessInfo>;
  errors: ParseError[];
  notes: string[];
}

/** The sysctls the rules read; null when the file is missing (older kernel) or unreadable. */
export interface Sysctls {
  ip_local_port_range: [number, number] | null;
  tcp_fin_timeout: number | null;
  tcp_tw_reuse: number | null;
  tcp_tw_reuse_delay: number | null;
  tcp_max_tw_buckets: number | null;
  tcp_max_orphans: number | null;
  tcp_keepalive_time: number | null;
  tcp_keepalive_intvl: number | null;
  tcp_keepalive_probes: number | null;
  somaxconn: number | null;
  tcp_max_syn_backlog: number | null;
  tcp_syncookies: number | null;
  tcp_abort_on_overflow: number | null;
  tcp_retries2: number | null;
  tcp_orphan_retries: number | null;
  tcp_syn_retries: number | null;
  tcp_synack_retries: number | null;
  /** Present only on kernels before 4.12. */
  tcp_tw_recycle: number | null;
}

export const SYSCTL_PATHS: Record<keyof Sysctls, string> = {
  ip_local_port_range: 'net/ipv4/ip_local_port_range',
  tcp_fin_timeout: 'net/ipv4/tcp_fin_timeout',
  tcp_tw_reuse: 'net/ipv4/tcp_tw_reuse',
  tcp_tw_reuse_delay: 'net/ipv4/tcp_tw_reuse_delay',
  tcp_max_tw_buckets: 'net/ipv4/tcp_max_tw_buckets',
  tcp_max_orphans: 'net/ipv4/tcp_max_orphans',
  tcp_keepalive_time: 'net/ipv4/tcp_keepalive_time',
  tcp_keepalive_intvl: 'net/ipv4/tcp_keepalive_intvl',
  tcp_keepalive_probes: 'net/ipv4/tcp_keepalive_probes',
  somaxconn: 'net/core/somaxconn',
  tcp_max_syn_backlog: 'net/ipv4/tcp_max_syn_backlog',
  tcp_syncookies: 'net/ipv4/tcp_syncookies',
  tcp_abort_on_overflow: 'net/ipv4/tcp_abort_on_overflow',
  tcp_retries2: 'net/ipv4/tcp_retries2',
  tcp_orphan_retries: 'net/ipv4/tcp_orphan_retries',
  tcp_syn_retries: 'net/ipv4/tcp_syn_retries',
  tcp_synack_retries: 'net/ipv4/tcp_synack_retries',
  tcp_tw_recycle: 'net/ipv4/tcp_tw_recycle',
};

/** TCP_TIMEWAIT_LEN: fixed in the kernel, no sysctl changes it. */
export const TIME_WAIT_SEC = 60;

export interface CollectOptions {
  /** Where procfs is mounted (tests use a fixture tree). */
  root?: string;
  /** Byte order of the machine that wrote the files; default: this machine's. */
  littleEndian?: boolean;
  /** Skip the /proc/PID/fd walk (the costly part on a host with many processes). */
  processes?: boolean;
  now?: () => { wall: number; mono: number };
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

export function readSysctls(root: string): Sysctls {
  const nums = (k: keyof Sysctls): number[] => {
    const t = readText(join(root, 'sys', SYSCTL_PATHS[k]));
    return t === null ? [] : parseNumbers(t).filter((n) => Number.isFinite(n));
  };
  const one = (k: Exclude<keyof Sysctls, 'ip_local_port_range'>): number | null => nums(k)[0] ?? null;
  const range = nums('ip_local_port_range');
  return {
    ip_local_port_range: range.length >= 2 ? [range[0]!, range[1]!] : null,
    tcp_fin_timeout: one('tcp_fin_timeout'),
    tcp_tw_reuse: one('tcp_tw_reuse'),
    tcp_tw_reuse_delay: one('tcp_tw_reuse_delay'),
    tcp_max_tw_buckets: one('tcp_max_tw_buckets'),
    tcp_max_orphans: one('tcp_max_orphans'),
    tcp_keepalive_time: one('tcp_keepalive_time'),
    tcp_keepalive_intvl: one('tcp_keepalive_intvl'),
    tcp_keepalive_probes: one('tcp_keepalive_probes'),
    somaxconn: one('somaxconn'),
    tcp_max_syn_backlog: one('tcp_max_syn_backlog'),
    tcp_syncookies: one('tcp_syncookies'),
    tcp_abort_on_overflow: one('tcp_abort_on_overflow'),
    tcp_retries2: one('tcp_retries2'),
    tcp_orphan_retries: one('tcp_orphan_retries'),
    tcp_syn_retries: one('tcp_syn_retries'),
    tcp_synack_retries: one('tcp_synack_retries'),
    tcp_tw_recycle: one('tcp_tw_recycle'),
  };
}

/**
 * Walks /proc/PID/fd and maps each socket inode to the pids holding it (what `ss -p` and
 * `lsof -i` do). Processes we may not read (another user's, when not root) are counted.
 */
export function scanProcesses(root: string): { byInode: Map<number, number[]>; processes: Map<number, ProcessInfo>; unreadable: number } {
  const byInode = new Map<number, number[]>();
  const processes = new Map<number, ProcessInfo>();
  let unreadable = 0;
  let entries: string[] = [];
  try {
    entries = readdirSync(root);
  } catch {
    return { byInode, processes, unreadable };
  }
  for (const name of entries) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    let fds: string[];
    try {
      fds = readdirSync(join(root, name, 'fd'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EACCES' || (e as NodeJS.ErrnoException).code === 'EPERM') unreadable++;
      continue; // ENOENT: the process exited meanwhile
    }
    let holds = false;
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(join(root, name, 'fd', fd));
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (!m) continue;
      const inode = Number(m[1]);
      const list = byInode.get(inode);
      if (list) { if (!list.includes(pid)) list.push(pid); } else byInode.set(inode, [pid]);
      holds = true;
    }
    if (holds) {
      const comm = (readText(join(root, name, 'comm')) ?? '').trim() || '?';
      const cmdline = (readText(join(root, name, 'cmdline')) ?? '').split('\0').filter(Boolean).join(' ');
      processes.set(pid, { pid, comm, cmdline: cmdline.length > 300 ? cmdline.slice(0, 300) + '...' : cmdline });
    }
  }
  for (const list of byInode.values()) list.sort((a, b) => a - b);
  return { byInode, processes, unreadable };
}

const ORPHAN_STATES = new Set(['FIN_WAIT1', 'FIN_WAIT2', 'CLOSING', 'LAST_ACK', 'CLOSED']);

/** Gives each raw socket its owner, process and (where a timer tells it) its age. */
export function attribute(
  raw: RawTcpSocket[],
  byInode: Map<number, number[]>,
  processes: Map<number, ProcessInfo>,
  sysctl: Pick<Sysctls, 'tcp_fin_timeout'>,
): InspectSocket[] {
  // Listeners by port, to give request sockets and unaccepted children their listener's process.
  const listeners = new Map<number, RawTcpSocket[]>();
  for (const s of raw) {
    if (s.state !== 'LISTEN') continue;
    const l = listeners.get(s.localPort);
    if (l) l.push(s); else listeners.set(s.localPort, [s]);
  }
  const listenerOf = (s: RawTcpSocket): RawTcpSocket | undefined =>
    (listeners.get(s.localPort) ?? []).find((l) => l.localAddr === s.localAddr) ??
    (listeners.get(s.localPort) ?? []).find((l) => l.localAddr === '0.0.0.0' || l.localAddr === '::');
  return raw.map((s) => {
    let owner: Owner;
    let pids: number[] = [];
    let ageSec: number | null = null;
    let ageSource: InspectSocket['ageSource'] = null;
    if (s.inode !== 0) {
      pids = byInode.get(s.inode) ?? [];
      owner = pids.length ? 'process' : 'unknown';
    } else if (s.state === 'TIME_WAIT') {
      owner = 'timewait';
      ageSec = round2(Math.max(0, TIME_WAIT_SEC - s.timer.expiresSec));
      ageSource = 'timer';
    } else if (s.state === 'SYN_RECV') {
      owner = 'request';
      const l = listenerOf(s);
      pids = l ? byInode.get(l.inode) ?? [] : [];
    } else if ((s.state === 'ESTABLISHED' || s.state === 'CLOSE_WAIT') && listenerOf(s)) {
      owner = 'accept-queue';
      pids = byInode.get(listenerOf(s)!.inode) ?? [];
    } else if (ORPHAN_STATES.has(s.state)) {
      owner = 'orphan';
      // An orphaned FIN_WAIT2 lives as a timewait minisocket for tcp_fin_timeout (when that is
      // at most 60 s; longer values first run the keepalive timer for the excess): its age is
      // the timeout minus what is left. The kernel uses at least 3.5 RTO, and TCP_LINGER2 can
      // change it per socket, so this age is approximate for those.
      if (s.state === 'FIN_WAIT2' && s.timer.kind === 'timewait' && sysctl.tcp_fin_timeout !== null) {
        ageSec = round2(Math.max(0, sysctl.tcp_fin_timeout - s.timer.expiresSec));
        ageSource = 'timer';
      }
    } else {
      owner = 'unknown';
    }
    const pid = pids[0] ?? null;
    return {
      ...s,
      local: endpoint(s.localAddr, s.localPort),
      remote: endpoint(s.remoteAddr, s.remotePort),
      owner,
      pid,
      process: pid !== null ? processes.get(pid)?.comm ?? null : null,
      pids,
      ageSec,
      ageSource,
    };
  });
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/** One sample of everything. Never throws for a missing or malformed file: it is noted instead. */
export function collect(opts: CollectOptions = {}): Snapshot {
  const root = opts.root ?? '/proc';
  const littleEndian = opts.littleEndian ?? endianness() === 'LE';
  const clock = opts.now ?? (() => ({ wall: Date.now(), mono: performance.now() }));
  const t = clock();
  const errors: ParseError[] = [];
  const notes: string[] = [];
  const raw: RawTcpSocket[] = [];
  for (const [file, family] of [['net/tcp', 'ipv4'], ['net/tcp6', 'ipv6']] as const) {
    const text = readText(join(root, file));
    if (text === null) {
      notes.push(`${join(root, file)} is not readable${family === 'ipv6' ? ' (IPv6 disabled?)' : ''}`);
      continue;
    }
    const r = parseProcNetTcp(text, { family, littleEndian, file: join(root, file) });
    raw.push(...r.sockets);
    errors.push(...r.errors);
  }
  const sockstatText = readText(join(root, 'net/sockstat'));
  let sockstat: Sockstat | null = null;
  if (sockstatText === null) notes.push(`${join(root, 'net/sockstat')} is not readable`);
  else {
    const r = parseSockstat(sockstatText, join(root, 'net/sockstat'));
    sockstat = r.tcp;
    errors.push(...r.errors);
  }
  const counters: Record<string, number> = {};
  for (const f of ['net/snmp', 'net/netstat']) {
    const text = readText(join(root, f));
    if (text === null) { notes.push(`${join(root, f)} is not readable`); continue; }
    const r = parseNstatFile(text, join(root, f));
    Object.assign(counters, r.counters);
    errors.push(...r.errors);
  }
  const sysctl = readSysctls(root);
  let byInode = new Map<number, number[]>();
  let processes = new Map<number, ProcessInfo>();
  if (opts.processes !== false) {
    const scan = scanProcesses(root);
    byInode = scan.byInode;
    processes = scan.processes;
    if (scan.unreadable > 0) notes.push(`${scan.unreadable} processes could not be read (run as root to see every socket's owner)`);
  }
  return { takenAt: t.wall, mono: t.mono, sockets: attribute(raw, byInode, processes, sysctl), sockstat, counters, sysctl, processes, errors, notes };
}

/** Where the numbers come from, for the report's header. */
export function hostInfo(root = '/proc'): { hostname: string; kernel: string; netns: string | null } {
  let netns: string | null = null;
  try {
    netns = readlinkSync(join(root, 'self/ns/net'));
  } catch {
    netns = null;
  }
  return { hostname: hostname(), kernel: release(), netns };
}
