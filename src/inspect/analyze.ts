// Turns samples into the numbers the reports show: sockets per state with the top remotes,
// ports and processes; TIME_WAIT per destination against the port range; CLOSE_WAIT per process
// and peer; orphans, FIN_WAIT2, SYN_RECV and listen queues; counter deltas; keepalive.

import { isLoopback } from '../wire/addr.ts';
import { STATE_NAMES } from '../tcp/states.ts';
import { TIME_WAIT_SEC, type InspectSocket, type Snapshot, type Sysctls } from './collect.ts';
import type { ParseError, Sockstat } from './proc.ts';

export const ALL_STATES: string[] = Object.values(STATE_NAMES);

export interface Top {
  key: string;
  count: number;
}

export function topBy<T>(items: Iterable<T>, key: (x: T) => string, n: number): Top[] {
  const m = new Map<string, number>();
  for (const x of items) {
    const k = key(x);
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return [...m.entries()].map(([k, c]) => ({ key: k, count: c })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : 1)).slice(0, n);
}

/** "python3[4242]", or what holds the socket when no process does. */
export function holder(s: InspectSocket): string {
  if (s.pid !== null) {
    const who = `${s.process ?? '?'}[${s.pid}]`;
    if (s.owner === 'accept-queue') return `${who} (not accepted yet)`;
    if (s.owner === 'request') return `${who} (SYN_RECV)`;
    return who;
  }
  switch (s.owner) {
    case 'timewait': return '(kernel: TIME_WAIT)';
    case 'orphan': return '(kernel: orphan)';
    case 'accept-queue': return '(accept queue)';
    case 'request': return '(SYN_RECV request)';
    default: return '(unknown owner)';
  }
}

/**
 * Remembers when each socket was first seen in its state, keyed by inode (by 4-tuple for sockets
 * without one), so watch mode can tell how long a CLOSE_WAIT socket has been stuck. Only sockets
 * present in the latest sample are kept: memory is bounded by the number of live sockets, and
 * by `maxEntries` on top of that.
 */
export class AgeTracker {
  private seen = new Map<string, number>();
  constructor(readonly maxEntries = 200_000) {}

  get size(): number {
    return this.seen.size;
  }

  static key(s: InspectSocket): string {
    return s.inode !== 0 ? `${s.inode}/${s.state}` : `${s.local}>${s.remote}/${s.state}`;
  }

  /** Records the sample and fills `ageSec` ('watched') of sockets seen in an earlier sample. */
  update(snap: Snapshot): void {
    const next = new Map<string, number>();
    for (const s of snap.sockets) {
      if (s.ageSource === 'timer' || s.state === 'LISTEN' || s.state === 'TIME_WAIT') continue;
      const k = AgeTracker.key(s);
      const first = this.seen.get(k);
      if (first !== undefined) {
        next.set(k, first);
        s.ageSec = Math.round((snap.mono - first) / 10) / 100;
        s.ageSource = 'watched';
      } else if (next.size < this.maxEntries) {
        next.set(k, snap.mono);
      }
    }
    this.seen = next;
  }
}

export interface StateSummary {
  count: number;
  topRemotes: Top[];
  topLocalPorts: Top[];
  topProcesses: Top[];
}

/**
 * Where a TIME_WAIT creation rate comes from: TIME_WAITs seen in the second sample and not in the
 * first, or, from one sample, those whose 60 s timer says they were made in the last 10 s.
 */
export type RateSource = 'two samples' | 'timers (last 10 s)';
/** The window of the one-sample rate: recent enough to be the current rate, long enough to count. */
export const RATE_WINDOW_SEC = 10;

export interface TimeWaitDestination {
  /** Local address, remote address and port: the part of the 4-tuple fixed for one destination. */
  key: string;
  localAddr: string;
  remote: string;
  count: number;
  /** Sockets of every state to this destination: each holds one local port. */
  portsInUse: number;
  usedPct: number;
  /** New TIME_WAITs per second: from two samples when there are two, else from the timers (created in the last 10 s). */
  ratePerSec: number;
  rateSource: RateSource;
  capacityPerSec: number;
  ratePct: number;
  /** Seconds until no port is left at this rate, or null when TIME_WAITs expire as fast as they come. */
  exhaustionSec: number | null;
  loopback: boolean;
}

export interface TimeWaitReport {
  total: number;
  sockstatTw: number | null;
  /** TIME_WAITs of connections this host opened (it closed first as a client). */
  outgoing: number;
  /** TIME_WAITs of connections to a local listening port (it closed first as a server). */
  incoming: number;
  portRange: [number, number] | null;
  portRangeSize: number | null;
  capacityPerSec: number | null;
  maxBuckets: number | null;
  ratePerSec: number | null;
  rateSource: RateSource;
  destinations: TimeWaitDestination[];
  incomingByService: Top[];
  /** Age distribution from the timers: created in the last 10 s, 10-30 s, 30-60 s. */
  ages: { under10s: number; from10to30s: number; from30to60s: number };
}

export interface CloseWaitGroup {
  pid: number | null;
  process: string | null;
  direction: 'incoming' | 'outgoing';
  /** Outgoing: the remote service the process connected to. Incoming: the local service. */
  service: string;
  /** Outgoing: same as service. Incoming: the client addresses. */
  peer: string;
  count: number;
  /** Oldest watched age in seconds (a lower bound), or null when not watched long enough. */
  oldestAgeSec: number | null;
  /** Largest count of unread data bytes (rx_queue less the FIN's one sequence number). */
  unreadBytes: number;
  /**
   * Sockets whose receive queue is empty: the process read up to the end of the stream (recv()
   * returned 0) and still did not close. The others still hold the FIN (rx_queue >= 1): the
   * process is not reading them at all.
   */
  readToEnd: number;
  inodes: number[];
}

export interface FinWait2Group {
  direction: 'incoming' | 'outgoing';
  /** Incoming: the local service ("127.0.0.1:5432"); outgoing: the remote endpoint. */
  service: string;
  /** The peer addresses (incoming) or the same endpoint (outgoing). */
  peer: string;
  count: number;
  /** When the peers are on this host: the processes holding the other ends in CLOSE_WAIT. */
  peerHolders: Top[];
}

export interface ListenerInfo {
  local: string;
  pid: number | null;
  process: string | null;
  /** Connections completed and waiting for accept() (rx_queue of a listener = sk_ack_backlog). */
  acceptQueue: number;
  synRecv: number;
}

export interface OrphanReport {
  sockstatOrphan: number | null;
  maxOrphans: number | null;
  byState: Record<string, number>;
  finWait2Orphaned: number;
  /** Orphaned FIN_WAIT2 per local service (connections to a local listener) or remote endpoint. */
  finWait2Groups: FinWait2Group[];
  finWait2Held: number;
  finWait2HeldBy: Top[];
  finTimeout: number | null;
  synRecv: number;
  listeners: ListenerInfo[];
}

export interface KeepaliveReport {
  settings: { time: number | null; intvl: number | null; probes: number | null };
  idleTimeoutSec: number | null;
  withTimer: number;
  probing: { local: string; remote: string; process: string; probes: number }[];
  /** Keepalive timer fires later than the middlebox's idle timeout. */
  tooLate: { count: number; byProcess: Top[]; examples: { local: string; remote: string; process: string; expiresSec: number }[] };
  /** ESTABLISHED with no keepalive timer at all. */
  without: { count: number; byProcess: Top[] };
}

export interface CounterDelta {
  name: string;
  value: number;
  delta: number | null;
  perSec: number | null;
}

export interface Finding {
  id: string;
  severity: 'critical' | 'warning' | 'info';
  title: string;
  evidence: string;
  fix: string;
}

export interface Report {
  tool: 'linger inspect';
  host: { hostname: string; kernel: string; netns: string | null };
  takenAt: string;
  /** Seconds between the two samples the rates and deltas come from, or null for one sample. */
  intervalSec: number | null;
  states: Record<string, number>;
  sockets: InspectSocket[];
  counters: Record<string, number>;
  deltas: Record<string, number> | null;
  sockstat: Sockstat | null;
  sysctl: Sysctls;
  summary: Record<string, StateSummary>;
  timeWait: TimeWaitReport;
  closeWait: { total: number; groups: CloseWaitGroup[] };
  orphans: OrphanReport;
  resets: CounterDelta[];
  keepalive: KeepaliveReport;
  findings: Finding[];
  parseErrors: ParseError[];
  notes: string[];
}

/** The counters the orphans/resets view shows, nstat names. */
export const TROUBLE_COUNTERS = [
  'TcpExtListenOverflows', 'TcpExtListenDrops', 'TcpExtSyncookiesSent', 'TcpExtTCPReqQFullDrop',
  'TcpEstabResets', 'TcpOutRsts', 'TcpAttemptFails', 'TcpExtTCPAbortOnData', 'TcpExtTCPAbortOnClose',
  'TcpExtTCPAbortOnMemory', 'TcpExtTCPAbortOnTimeout', 'TcpExtTCPAbortOnLinger', 'TcpExtTCPAbortFailed',
  'TcpExtTCPTimeWaitOverflow', 'TcpExtTW', 'TcpExtTWRecycled', 'TcpExtTWKilled', 'TcpExtTCPKeepAlive',
  'TcpExtTCPTimeouts', 'TcpActiveOpens', 'TcpPassiveOpens', 'TcpRetransSegs',
] as const;

const WILDCARD = new Set(['0.0.0.0', '::']);

function listenerSet(sockets: InspectSocket[]): (s: InspectSocket) => InspectSocket | undefined {
  const byPort = new Map<number, InspectSocket[]>();
  for (const s of sockets) {
    if (s.state !== 'LISTEN') continue;
    const l = byPort.get(s.localPort);
    if (l) l.push(s); else byPort.set(s.localPort, [s]);
  }
  return (s) => {
    const l = byPort.get(s.localPort);
    if (!l) return undefined;
    return l.find((x) => x.localAddr === s.localAddr) ?? l.find((x) => WILDCARD.has(x.localAddr));
  };
}

const fourTuple = (s: InspectSocket): string => `${s.local}>${s.remote}`;

export interface AnalyzeOptions {
  /** A middlebox's idle timeout in seconds (`--idle-timeout`), for the keepalive check. */
  idleTimeoutSec?: number | null;
  host?: { hostname: string; kernel: string; netns: string | null };
  top?: number;
}

export function analyze(cur: Snapshot, prev: Snapshot | null, opts: AnalyzeOptions = {}): Report {
  const n = opts.top ?? 5;
  const sockets = cur.sockets;
  const intervalSec = prev ? Math.max(0.001, (cur.mono - prev.mono) / 1000) : null;
  const listenerOf = listenerSet(sockets);

  const states: Record<string, number> = {};
  for (const st of ALL_STATES) states[st] = 0;
  for (const s of sockets) states[s.state] = (states[s.state] ?? 0) + 1;

  const summary: Record<string, StateSummary> = {};
  for (const st of ALL_STATES) {
    const of = sockets.filter((s) => s.state === st);
    if (!of.length) continue;
    summary[st] = {
      count: of.length,
      topRemotes: st === 'LISTEN' ? [] : topBy(of, (s) => s.remoteAddr, n),
      topLocalPorts: topBy(of, (s) => String(s.localPort), n),
      topProcesses: topBy(of, holder, n),
    };
  }

  // Counter deltas between the two samples.
  let deltas: Record<string, number> | null = null;
  if (prev) {
    deltas = {};
    for (const [k, v] of Object.entries(cur.counters)) {
      const p = prev.counters[k];
      if (p !== undefined) deltas[k] = v - p;
    }
  }
  const resets: CounterDelta[] = TROUBLE_COUNTERS.filter((c) => cur.counters[c] !== undefined).map((name) => {
    const value = cur.counters[name]!;
    const delta = deltas ? deltas[name] ?? null : null;
    return { name, value, delta, perSec: delta !== null && intervalSec ? round(delta / intervalSec, 2) : null };
  });

  const timeWait = analyzeTimeWait(cur, prev, intervalSec, listenerOf, n);
  const closeWait = analyzeCloseWait(sockets, listenerOf);
  const orphans = analyzeOrphans(cur, listenerOf, n);
  const keepalive = analyzeKeepalive(cur, opts.idleTimeoutSec ?? null, n);

  const report: Report = {
    tool: 'linger inspect',
    host: opts.host ?? { hostname: '', kernel: '', netns: null },
    takenAt: new Date(cur.takenAt).toISOString(),
    intervalSec: intervalSec === null ? null : round(intervalSec, 3),
    states,
    sockets,
    counters: cur.counters,
    deltas,
    sockstat: cur.sockstat,
    sysctl: cur.sysctl,
    summary,
    timeWait,
    closeWait,
    orphans,
    resets,
    keepalive,
    findings: [],
    parseErrors: cur.errors,
    notes: cur.notes,
  };
  return report;
}

function analyzeTimeWait(cur: Snapshot, prev: Snapshot | null, intervalSec: number | null, listenerOf: (s: InspectSocket) => InspectSocket | undefined, n: number): TimeWaitReport {
  const tw = cur.sockets.filter((s) => s.state === 'TIME_WAIT');
  const range = cur.sysctl.ip_local_port_range;
  const rangeSize = range ? range[1] - range[0] + 1 : null;
  const capacity = rangeSize !== null ? rangeSize / TIME_WAIT_SEC : null;
  const prevTw = prev ? new Set(prev.sockets.filter((s) => s.state === 'TIME_WAIT').map(fourTuple)) : null;
  const isNew = (s: InspectSocket): boolean =>
    prevTw !== null && intervalSec !== null && !prevTw.has(fourTuple(s)) && (s.ageSec === null || s.ageSec <= intervalSec + 0.5);
  const outgoing = tw.filter((s) => !listenerOf(s));
  const incoming = tw.filter((s) => listenerOf(s));
  const rateOf = (list: InspectSocket[]): number =>
    prevTw !== null && intervalSec !== null ? list.filter(isNew).length / intervalSec : list.filter((s) => s.ageSec !== null && s.ageSec < RATE_WINDOW_SEC).length / RATE_WINDOW_SEC;
  const rateSource: RateSource = prevTw !== null ? 'two samples' : 'timers (last 10 s)';

  // Outgoing TIME_WAITs hold an ephemeral port per (local address, remote address, remote port).
  const groups = new Map<string, InspectSocket[]>();
  for (const s of outgoing) {
    const k = `${s.localAddr} -> ${s.remote}`;
    const g = groups.get(k);
    if (g) g.push(s); else groups.set(k, [s]);
  }
  const inUse = new Map<string, number>();
  for (const s of cur.sockets) {
    if (s.state === 'LISTEN') continue;
    const k = `${s.localAddr} -> ${s.remote}`;
    if (groups.has(k)) inUse.set(k, (inUse.get(k) ?? 0) + 1);
  }
  const destinations: TimeWaitDestination[] = [...groups.entries()].map(([key, list]) => {
    const s0 = list[0]!;
    const portsInUse = inUse.get(key) ?? list.length;
    const rate = rateOf(list);
    let exhaustionSec: number | null = null;
    if (rangeSize !== null && capacity !== null && rate > 0) {
      const free = Math.max(0, rangeSize - portsInUse);
      // TIME_WAITs expire at about count/60 per second while new ones come at `rate`.
      const net = rate - list.length / TIME_WAIT_SEC;
      if (free === 0) exhaustionSec = 0;
      else if (rate > capacity && net > 0) exhaustionSec = round(free / net, 1);
    }
    return {
      key,
      localAddr: s0.localAddr,
      remote: s0.remote,
      count: list.length,
      portsInUse,
      usedPct: rangeSize ? round((100 * portsInUse) / rangeSize, 1) : 0,
      ratePerSec: round(rate, 2),
      rateSource,
      capacityPerSec: capacity !== null ? round(capacity, 1) : 0,
      ratePct: capacity ? round((100 * rate) / capacity, 1) : 0,
      exhaustionSec,
      loopback: isLoopback(s0.remoteAddr),
    };
  }).sort((a, b) => b.count - a.count).slice(0, Math.max(n, 10));

  const ages = { under10s: 0, from10to30s: 0, from30to60s: 0 };
  for (const s of tw) {
    const a = s.ageSec ?? 0;
    if (a < 10) ages.under10s++;
    else if (a < 30) ages.from10to30s++;
    else ages.from30to60s++;
  }
  return {
    total: tw.length,
    sockstatTw: cur.sockstat?.tw ?? null,
    outgoing: outgoing.length,
    incoming: incoming.length,
    portRange: range,
    portRangeSize: rangeSize,
    capacityPerSec: capacity !== null ? round(capacity, 1) : null,
    maxBuckets: cur.sysctl.tcp_max_tw_buckets,
    ratePerSec: round(rateOf(tw), 2),
    rateSource,
    destinations,
    incomingByService: topBy(incoming, (s) => `${s.local} <- ${s.remoteAddr}`, n),
    ages,
  };
}

function analyzeCloseWait(sockets: InspectSocket[], listenerOf: (s: InspectSocket) => InspectSocket | undefined): { total: number; groups: CloseWaitGroup[] } {
  const cw = sockets.filter((s) => s.state === 'CLOSE_WAIT');
  const groups = new Map<string, { g: CloseWaitGroup; members: InspectSocket[] }>();
  for (const s of cw) {
    const incoming = listenerOf(s) !== undefined;
    const service = incoming ? s.local : s.remote;
    const k = `${s.pid ?? holder(s)}|${incoming ? 'in' : 'out'}|${service}`;
    let e = groups.get(k);
    if (!e) {
      e = {
        g: { pid: s.pid, process: s.pid !== null ? s.process : holder(s), direction: incoming ? 'incoming' : 'outgoing', service, peer: service, count: 0, oldestAgeSec: null, unreadBytes: 0, readToEnd: 0, inodes: [] },
        members: [],
      };
      groups.set(k, e);
    }
    const g = e.g;
    e.members.push(s);
    g.count++;
    if (s.ageSec !== null && (g.oldestAgeSec === null || s.ageSec > g.oldestAgeSec)) g.oldestAgeSec = s.ageSec;
    // In CLOSE_WAIT rx_queue is rcv_nxt - copied_seq, and the FIN takes one sequence number that a
    // read returning 0 consumes: 0 means read to the end, 1 the FIN alone, more is data too.
    g.unreadBytes = Math.max(g.unreadBytes, s.rxQueue - 1);
    if (s.rxQueue === 0) g.readToEnd++;
    if (s.inode) g.inodes.push(s.inode);
  }
  for (const { g, members } of groups.values()) {
    if (g.direction === 'incoming') {
      const peers = topBy(members, (s) => s.remoteAddr, 4);
      g.peer = peers.slice(0, 3).map((p) => p.key).join(', ') + (peers.length > 3 ? ', ...' : '');
    }
    g.inodes.sort((a, b) => a - b);
  }
  return { total: cw.length, groups: [...groups.values()].map((e) => e.g).sort((a, b) => b.count - a.count) };
}

function analyzeOrphans(cur: Snapshot, listenerOf: (s: InspectSocket) => InspectSocket | undefined, n: number): OrphanReport {
  const byState: Record<string, number> = {};
  for (const s of cur.sockets) if (s.owner === 'orphan') byState[s.state] = (byState[s.state] ?? 0) + 1;
  const fw2 = cur.sockets.filter((s) => s.state === 'FIN_WAIT2');
  const held = fw2.filter((s) => s.owner !== 'orphan');
  const listeners: ListenerInfo[] = cur.sockets.filter((s) => s.state === 'LISTEN').map((l) => ({
    local: l.local,
    pid: l.pid,
    process: l.process,
    acceptQueue: l.rxQueue,
    synRecv: 0,
  }));
  const byLocal = new Map(listeners.map((l) => [l.local, l]));
  let synRecv = 0;
  for (const s of cur.sockets) {
    if (s.state !== 'SYN_RECV') continue;
    synRecv++;
    const l = listenerOf(s);
    if (l) byLocal.get(l.local)!.synRecv++;
  }
  listeners.sort((a, b) => b.acceptQueue - a.acceptQueue || b.synRecv - a.synRecv || (a.local < b.local ? -1 : 1));
  // The other end of a loopback connection is in the same table: find who holds it in CLOSE_WAIT.
  const closeWaitBy = new Map<string, InspectSocket>();
  for (const s of cur.sockets) if (s.state === 'CLOSE_WAIT') closeWaitBy.set(`${s.local}>${s.remote}`, s);
  const fwGroups = new Map<string, { g: FinWait2Group; holders: InspectSocket[]; peers: InspectSocket[] }>();
  for (const s of fw2) {
    if (s.owner !== 'orphan') continue;
    const incoming = listenerOf(s) !== undefined;
    const service = incoming ? s.local : s.remote;
    let e = fwGroups.get(service);
    if (!e) fwGroups.set(service, (e = { g: { direction: incoming ? 'incoming' : 'outgoing', service, peer: service, count: 0, peerHolders: [] }, holders: [], peers: [] }));
    e.g.count++;
    e.peers.push(s);
    const other = closeWaitBy.get(`${s.remote}>${s.local}`);
    if (other) e.holders.push(other);
  }
  const finWait2Groups = [...fwGroups.values()].map(({ g, holders, peers }) => {
    if (g.direction === 'incoming') {
      const p = topBy(peers, (s) => s.remoteAddr, 4);
      g.peer = p.slice(0, 3).map((x) => x.key).join(', ') + (p.length > 3 ? ', ...' : '');
    }
    g.peerHolders = topBy(holders, holder, 3);
    return g;
  }).sort((a, b) => b.count - a.count).slice(0, Math.max(n, 10));
  return {
    sockstatOrphan: cur.sockstat?.orphan ?? null,
    maxOrphans: cur.sysctl.tcp_max_orphans,
    byState,
    finWait2Orphaned: fw2.length - held.length,
    finWait2Groups,
    finWait2Held: held.length,
    finWait2HeldBy: topBy(held, holder, n),
    finTimeout: cur.sysctl.tcp_fin_timeout,
    synRecv,
    listeners,
  };
}

function analyzeKeepalive(cur: Snapshot, idle: number | null, n: number): KeepaliveReport {
  const ka = cur.sockets.filter((s) => s.timer.kind === 'keepalive' && s.state === 'ESTABLISHED');
  const tooLate = idle !== null ? ka.filter((s) => s.timer.expiresSec > idle) : [];
  const without = cur.sockets.filter((s) => s.state === 'ESTABLISHED' && s.timer.kind === 'off' && s.owner === 'process');
  return {
    settings: { time: cur.sysctl.tcp_keepalive_time, intvl: cur.sysctl.tcp_keepalive_intvl, probes: cur.sysctl.tcp_keepalive_probes },
    idleTimeoutSec: idle,
    withTimer: ka.length,
    probing: ka.filter((s) => s.timer.probes > 0).map((s) => ({ local: s.local, remote: s.remote, process: holder(s), probes: s.timer.probes })),
    tooLate: {
      count: tooLate.length,
      byProcess: topBy(tooLate, holder, n),
      examples: tooLate.slice(0, n).map((s) => ({ local: s.local, remote: s.remote, process: holder(s), expiresSec: s.timer.expiresSec })),
    },
    without: { count: without.length, byProcess: topBy(without, holder, n) },
  };
}

export const round = (x: number, digits: number): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};

