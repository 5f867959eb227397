// Diagnosis: rules that turn a report's numbers into findings in plain words, each with its
// severity, the evidence (numbers, processes, addresses) and the fix. Two rules of the trade
// are kept throughout: tcp_tw_recycle is never recommended (it broke clients behind NAT and was
// removed in Linux 4.12), and tcp_fin_timeout is described as what it is, the lifetime of an
// orphaned FIN_WAIT2 connection, not the length of TIME_WAIT (fixed at 60 s).

import type { CloseWaitGroup, Finding, KeepaliveReport, OrphanReport, Report, TimeWaitDestination, TimeWaitReport } from './analyze.ts';
import { round } from './analyze.ts';

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 } as const;

export const num = (n: number): string => n.toLocaleString('en-US');

/** 2520 -> "42 min"; 75 -> "1 min 15 s"; 4.5 -> "4.5 s". */
export function duration(sec: number): string {
  if (sec < 60) return `${round(sec, sec < 10 ? 1 : 0)} s`;
  if (sec < 3600) {
    const t = Math.round(sec);
    const m = Math.floor(t / 60), s = t % 60;
    return s ? `${m} min ${s} s` : `${m} min`;
  }
  const t = Math.round(sec / 60);
  const h = Math.floor(t / 60), m = t % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}

const who = (pid: number | null, process: string | null): string =>
  pid !== null ? `process ${pid} (${process ?? '?'})` : process ?? 'no process';

function plural(n: number, one: string, many = one + 's'): string {
  return `${num(n)} ${n === 1 ? one : many}`;
}

/** What the receive queues say about how the process treats these sockets. */
function readText(g: CloseWaitGroup): string {
  const unread = g.unreadBytes > 0 ? ` (up to ${plural(g.unreadBytes, 'byte')} of data unread)` : '';
  if (g.readToEnd === g.count) return `${g.count === 1 ? 'it was' : 'all were'} read to the end (recv() returned 0) and not closed: a missing close() after end-of-stream`;
  if (g.readToEnd === 0) return `${g.count === 1 ? 'its' : 'each'} receive queue still holds the peer's FIN${unread}: the process is not reading ${g.count === 1 ? 'it' : 'them'} at all (a forgotten or leaked connection)`;
  return `${num(g.readToEnd)} read to the end and not closed, ${num(g.count - g.readToEnd)} not read at all${unread}`;
}

function closeWaitFinding(g: CloseWaitGroup): Finding {
  const age = g.oldestAgeSec !== null
    ? `, the oldest at least ${duration(g.oldestAgeSec)} (watched)`
    : '; their age is unknown from one sample (`linger inspect close-wait --watch` measures it)';
  const where = g.direction === 'incoming'
    ? `on its server port ${g.service} from ${g.peer}`
    : `to ${g.service}`;
  const notAccepted = g.process?.includes('not accepted') || g.process === '(accept queue)';
  const severity: Finding['severity'] =
    g.count >= 1000 || (g.oldestAgeSec ?? 0) >= 600 ? 'critical'
      : g.count >= 10 || (g.oldestAgeSec ?? 0) >= 30 ? 'warning' : 'info';
  if (notAccepted) {
    return {
      id: 'close-wait',
      severity,
      title: `${plural(g.count, 'connection')} closed by clients before ${g.service} accepted them`,
      evidence: `${plural(g.count, 'CLOSE_WAIT socket')} wait in the accept queue of ${g.service} (${g.process})${age}`,
      fix: 'The listening process is not calling accept() fast enough: clients gave up and closed while their connections waited in the queue. Accept faster (more workers, never block the accept loop); a larger listen() backlog only makes the wait longer.',
    };
  }
  const stuck = g.direction === 'outgoing'
    ? `The server at ${g.service} closed these connections (typically its idle timeout) and ${who(g.pid, g.process)} never noticed: a connection pool that keeps dead connections. Have the pool validate or evict idle connections before the server's idle timeout, and close a connection as soon as a read returns end-of-stream.`
    : `The clients closed these connections and ${who(g.pid, g.process)} never called close() on its side: when read()/recv() returns 0 (end of stream) the application must close the socket (in a finally block, try-with-resources or a context manager).`;
  return {
    id: 'close-wait',
    severity,
    title: `${who(g.pid, g.process)} does not close connections after the peer closes them`,
    evidence: `${who(g.pid, g.process)} holds ${plural(g.count, 'CLOSE_WAIT socket')} ${where}${age}; ${readText(g)}.`,
    fix: `${stuck} No kernel timer ends CLOSE_WAIT (tcp_fin_timeout does not apply to it): each socket and its file descriptor stay until the process closes it or exits, so restarting the process frees them only for now.`,
  };
}

/** What a family of rules found, in the order of its rules; a rule that does not apply gives null. */
const found = (...findings: (Finding | null)[]): Finding[] => findings.filter((f): f is Finding => f !== null);

/** Two samples (--interval, --watch): counters are read as deltas, as `nstat` does; one sample reads totals. */
const sampledTwice = (r: Report): boolean => r.intervalSec !== null;

/**
 * An nstat counter as the rules quote it: its change between the two samples when there are two
 * (`nstat`), else its total since the network namespace started (`nstat -a`).
 */
function counter(r: Report, name: string): { n: number; text: string } {
  const v = r.counters[name] ?? 0;
  if (sampledTwice(r) && r.deltas) {
    const d = r.deltas[name] ?? 0;
    return { n: d, text: `${num(d)} in the last ${duration(r.intervalSec!)} (${num(v)} in total)` };
  }
  return { n: v, text: `${num(v)} since the network namespace started` };
}

// --- CLOSE_WAIT: per process and peer.

function closeWaitFindings(r: Report): Finding[] {
  return r.closeWait.groups.map(closeWaitFinding);
}

// --- TIME_WAIT: ports per destination, buckets, the removed tcp_tw_recycle.

function timeWaitFindings(r: Report): Finding[] {
  return found(
    ...r.timeWait.destinations.map((d) => portExhaustion(r, d)),
    timeWaitOnServer(r.timeWait),
    timeWaitBuckets(r.timeWait),
    timeWaitOverflow(r),
    twRecycle(r.sysctl),
  );
}

/** What tcp_tw_reuse (connect() taking a TIME_WAIT port whose last timestamp is 1 s old) does for this destination. */
function twReuseText(reuse: number | null, loopback: boolean): string {
  return reuse === 1
    ? 'tcp_tw_reuse is already 1: connect() reuses a TIME_WAIT port once its last timestamp is 1 s old, so exhaustion shows only if timestamps are off or the rate is extreme.'
    : reuse === 2 && loopback
      ? 'tcp_tw_reuse is 2 (the default): connect() already reuses TIME_WAIT ports of loopback connections once their last timestamp is 1 s old.'
      : `net.ipv4.tcp_tw_reuse=1 (now ${reuse ?? '?'}${reuse === 2 ? ', which covers loopback only' : ''}) lets connect() reuse a TIME_WAIT port whose last timestamp is at least 1 s old: safe for outgoing connections when TCP timestamps are on.`;
}

/**
 * Outgoing TIME_WAITs hold their local port for 60 s (TCP_TIMEWAIT_LEN): at a high enough rate to
 * one destination, ip_local_port_range runs out and connect() fails with EADDRNOTAVAIL.
 */
function portExhaustion(r: Report, d: TimeWaitDestination): Finding | null {
  const tw = r.timeWait;
  const pct = Math.max(d.usedPct, d.ratePct);
  if (pct < 5 || d.count < 20) return null;
  const severity: Finding['severity'] = pct >= 75 || (d.exhaustionSec !== null && d.exhaustionSec < 300) ? 'critical' : pct >= 25 ? 'warning' : 'info';
  const rateText = d.rateSource === 'two samples'
    ? `new TIME_WAITs at ${num(d.ratePerSec)}/s (two samples ${duration(r.intervalSec ?? 0)} apart)`
    : `${num(d.ratePerSec)}/s over the last 10 s (from the TIME_WAIT timers)`;
  const reuseText = twReuseText(r.sysctl.tcp_tw_reuse, d.loopback);
  return {
    id: 'time-wait-ports',
    severity,
    title: `TIME_WAIT to ${d.remote} is created at ${num(d.ratePerSec)}/s, ${d.ratePct} % of the port range capacity; ${d.usedPct} % of the ports are in use`,
    evidence: `${plural(d.count, 'TIME_WAIT socket')} from ${d.localAddr} to ${d.remote}; ${num(d.portsInUse)} of ${num(tw.portRangeSize ?? 0)} local ports in use for this destination (ip_local_port_range ${tw.portRange?.join('-') ?? '?'}); ${rateText}, against a capacity of ${num(d.capacityPerSec)}/s (${num(tw.portRangeSize ?? 0)} ports / 60 s)${d.exhaustionSec === 0 ? '; no port is left: connect() to it fails with EADDRNOTAVAIL' : d.exhaustionSec !== null ? `; at this rate no port is left in ${duration(d.exhaustionSec)} and connect() then fails with EADDRNOTAVAIL` : '; at this rate TIME_WAITs expire as fast as they are created'}.`,
    fix: `This host opens short connections to ${d.remote} and closes them first, so each one leaves a TIME_WAIT holding its local port for 60 s (fixed in the kernel). Reuse connections instead (HTTP keep-alive, a connection pool); or let the server close first; or widen net.ipv4.ip_local_port_range, or spread over more local or destination addresses. ${reuseText} tcp_fin_timeout does not shorten TIME_WAIT (it bounds orphaned FIN_WAIT2), and tcp_tw_recycle is no fix: it broke clients behind NAT and was removed in Linux 4.12.`,
  };
}

/** Incoming TIME_WAITs: this server closes first (the active closer keeps TIME_WAIT). */
function timeWaitOnServer(tw: TimeWaitReport): Finding | null {
  if (tw.incoming < 1000) return null;
  return {
    id: 'time-wait-incoming',
    severity: 'info',
    title: `${num(tw.incoming)} TIME_WAIT sockets of incoming connections: this server closes first`,
    evidence: `top: ${tw.incomingByService.map((t) => `${t.key} (${num(t.count)})`).join(', ')}`,
    fix: 'TIME_WAIT stays with whichever side closes first. On a server it costs a small entry each (no port: the listening port is shared), so it is harmless below tcp_max_tw_buckets. To move it to the clients, let them close first (HTTP/1.1 keep-alive with a client-side idle timeout shorter than the server\'s). tcp_fin_timeout does not change TIME_WAIT.',
  };
}

/** sockstat's tw near net.ipv4.tcp_max_tw_buckets (inet_twsk_alloc fails past it). */
function timeWaitBuckets(tw: TimeWaitReport): Finding | null {
  const twNow = tw.sockstatTw ?? tw.total;
  if (!(tw.maxBuckets && twNow >= 0.8 * tw.maxBuckets)) return null;
  return {
    id: 'time-wait-buckets',
    severity: twNow >= 0.95 * tw.maxBuckets ? 'critical' : 'warning',
    title: `TIME_WAIT at ${round((100 * twNow) / tw.maxBuckets, 1)} % of tcp_max_tw_buckets`,
    evidence: `${num(twNow)} timewait entries (sockstat tw) against net.ipv4.tcp_max_tw_buckets = ${num(tw.maxBuckets)}`,
    fix: 'Past the limit, closing connections skip TIME_WAIT entirely (TCPTimeWaitOverflow, "time wait bucket table overflow" in the kernel log) and lose its protection against old duplicates. Open fewer short connections (keep-alive, pooling); raise tcp_max_tw_buckets if memory allows (each entry is a few hundred bytes).',
  };
}

/** TcpExtTCPTimeWaitOverflow: connections that closed without TIME_WAIT, the bucket table being full. */
function timeWaitOverflow(r: Report): Finding | null {
  const overflow = counter(r, 'TcpExtTCPTimeWaitOverflow');
  if (overflow.n <= 0) return null;
  return {
    id: 'time-wait-overflow',
    severity: 'warning',
    title: 'connections closed without TIME_WAIT because tcp_max_tw_buckets was reached',
    evidence: `TcpExtTCPTimeWaitOverflow: ${overflow.text}; tcp_max_tw_buckets = ${num(r.timeWait.maxBuckets ?? 0)}`,
    fix: 'Open fewer short connections (keep-alive, pooling) or raise net.ipv4.tcp_max_tw_buckets; never turn TIME_WAIT off.',
  };
}

/** net.ipv4.tcp_tw_recycle on (kernels before 4.12): never recommended, always flagged. */
function twRecycle(sys: Report['sysctl']): Finding | null {
  if (sys.tcp_tw_recycle === null || sys.tcp_tw_recycle === 0) return null;
  return {
    id: 'tw-recycle',
    severity: 'critical',
    title: 'tcp_tw_recycle is on: clients behind NAT lose connections',
    evidence: `net.ipv4.tcp_tw_recycle = ${sys.tcp_tw_recycle} (this kernel is older than 4.12)`,
    fix: 'Set net.ipv4.tcp_tw_recycle=0. It drops SYNs whose timestamps are older than the last one seen from the same address, which breaks every client behind NAT; Linux 4.12 removed it. Use keep-alive or tcp_tw_reuse for outgoing connections instead.',
  };
}

// --- Orphans and FIN_WAIT2.

function orphanFindings(r: Report): Finding[] {
  return found(orphanedFinWait2(r.orphans), heldFinWait2(r.orphans), orphansLimit(r.orphans));
}

/** Orphaned FIN_WAIT2 (closed by the process, waiting for the peer's FIN): ended by tcp_fin_timeout. */
function orphanedFinWait2(o: OrphanReport): Finding | null {
  if (o.finWait2Orphaned <= 0) return null;
  const where = o.finWait2Groups.slice(0, 3).map((g) => {
    const what = g.direction === 'incoming' ? `${num(g.count)} on ${g.service} from ${g.peer}` : `${num(g.count)} to ${g.service}`;
    const held = g.peerHolders.length ? ` (the other ends are on this host, in CLOSE_WAIT held by ${g.peerHolders.map((h) => `${h.key} ${num(h.count)}`).join(', ')})` : '';
    return what + held;
  }).join('; ');
  return {
    id: 'fin-wait2-orphans',
    severity: o.finWait2Orphaned >= 1000 ? 'warning' : 'info',
    title: `${plural(o.finWait2Orphaned, 'orphaned FIN_WAIT2 connection')}: the peers acknowledged our FIN but never sent theirs`,
    evidence: `${plural(o.finWait2Orphaned, 'socket')} closed by their process wait in FIN_WAIT2 for the peer's FIN: ${where}. Each is dropped after tcp_fin_timeout = ${o.finTimeout ?? '?'} s.`,
    fix: `The remote application has not closed its side (it sits in CLOSE_WAIT there): fix it there. net.ipv4.tcp_fin_timeout (now ${o.finTimeout ?? '?'} s) is exactly the limit for these orphaned FIN_WAIT2 connections; lowering it frees them sooner. It does not change TIME_WAIT, which is always 60 s.`,
  };
}

/** FIN_WAIT2 after shutdown(SHUT_WR), the socket still open: no timer applies. */
function heldFinWait2(o: OrphanReport): Finding | null {
  if (o.finWait2Held <= 0) return null;
  return {
    id: 'fin-wait2-held',
    severity: 'info',
    title: `${plural(o.finWait2Held, 'half-closed connection')} in FIN_WAIT2 still held by a process`,
    evidence: `held by ${o.finWait2HeldBy.map((t) => `${t.key} (${num(t.count)})`).join(', ')}`,
    fix: 'The process called shutdown(SHUT_WR) and still reads; the peer has not closed. No timer applies while the process holds the socket (tcp_fin_timeout starts only after close()): if the peer never finishes, close the socket after an application timeout.',
  };
}

/** sockstat's orphan near net.ipv4.tcp_max_orphans (tcp_too_many_orphans resets them past it). */
function orphansLimit(o: OrphanReport): Finding | null {
  if (!(o.sockstatOrphan !== null && o.maxOrphans && o.sockstatOrphan >= 0.5 * o.maxOrphans)) return null;
  return {
    id: 'orphans-limit',
    severity: o.sockstatOrphan >= 0.9 * o.maxOrphans ? 'critical' : 'warning',
    title: `orphaned sockets at ${round((100 * o.sockstatOrphan) / o.maxOrphans, 1)} % of tcp_max_orphans`,
    evidence: `sockstat orphan ${num(o.sockstatOrphan)}, net.ipv4.tcp_max_orphans = ${num(o.maxOrphans)}; by state: ${Object.entries(o.byState).map(([k, v]) => `${k} ${num(v)}`).join(', ')}`,
    fix: 'Past the limit the kernel resets orphans at once ("too many orphaned sockets", TCPAbortOnMemory). Orphans pile up when peers do not acknowledge or do not close: check FIN_WAIT1 peers (zero windows, dead hosts); lower tcp_orphan_retries (orphans still retransmitting in FIN_WAIT1) or tcp_fin_timeout (orphaned FIN_WAIT2 waiting for the peer\'s FIN).',
  };
}

// --- Listen queues and SYN_RECV.

function listenQueueFindings(r: Report): Finding[] {
  return found(listenOverflow(r), synRecvPileUp(r));
}

/** TcpExtListenOverflows/ListenDrops: full accept queues (sk_acceptq_is_full), now or only earlier. */
function listenOverflow(r: Report): Finding | null {
  const sys = r.sysctl;
  const sampled = sampledTwice(r);
  const lo = counter(r, 'TcpExtListenOverflows');
  const ld = counter(r, 'TcpExtListenDrops');
  const loTotal = r.counters['TcpExtListenOverflows'] ?? 0, ldTotal = r.counters['TcpExtListenDrops'] ?? 0;
  if (lo.n > 0 || ld.n > 0) {
    const queued = r.orphans.listeners.filter((l) => l.acceptQueue > 0);
    const severity: Finding['severity'] = sampled && lo.n / (r.intervalSec ?? 1) >= 10 ? 'critical' : 'warning';
    return {
      id: 'listen-overflow',
      severity,
      title: queued.length
        ? `accept queue of ${queued[0]!.local} (${who(queued[0]!.pid, queued[0]!.process)}) overflows: connections are dropped`
        : 'listen queues overflowed: connections were dropped',
      evidence: `TcpExtListenOverflows: ${lo.text}; TcpExtListenDrops: ${ld.text}${sampled ? '' : ' (one sample: --interval 1s or --watch shows whether it is still happening)'}${queued.length ? `; waiting for accept(): ${queued.slice(0, 5).map((l) => `${l.local} ${who(l.pid, l.process)} ${num(l.acceptQueue)}`).join(', ')}` : ''}; net.core.somaxconn = ${sys.somaxconn ?? '?'}`,
      fix: `When a listener's accept queue is full, Linux drops the final ACK of the handshake and new SYNs (tcp_abort_on_overflow=${sys.tcp_abort_on_overflow ?? 0}), so clients see slow connects and retransmitted SYNs rather than an error. The application must accept() faster (more workers, never block the accept loop); a larger backlog in listen() absorbs bursts, capped by net.core.somaxconn (now ${sys.somaxconn ?? '?'}). tcp_abort_on_overflow=1 only turns the drops into resets.`,
    };
  }
  if (!(sampled && (loTotal > 0 || ldTotal > 0))) return null;
  return {
    id: 'listen-overflow',
    severity: 'info',
    title: `listen queues overflowed earlier, not in the last ${duration(r.intervalSec!)}`,
    evidence: `TcpExtListenOverflows ${num(loTotal)}, TcpExtListenDrops ${num(ldTotal)} since the network namespace started; no change between the samples`,
    fix: `Nothing is being dropped now. If it comes back under load, accept() faster or raise the listen() backlog (capped by net.core.somaxconn = ${sys.somaxconn ?? '?'}).`,
  };
}

/** Half-open connections (SYN_RECV request socks) and SYN cookies sent: a SYN flood or lost SYN-ACKs. */
function synRecvPileUp(r: Report): Finding | null {
  const sys = r.sysctl, o = r.orphans;
  const cookies = counter(r, 'TcpExtSyncookiesSent');
  const bigSyn = o.listeners.filter((l) => l.synRecv >= 100);
  if (!(bigSyn.length || (sampledTwice(r) && cookies.n > 0))) return null;
  return {
    id: 'syn-recv',
    severity: 'warning',
    title: `many half-open connections (SYN_RECV): ${num(o.synRecv)}`,
    evidence: `${bigSyn.map((l) => `${l.local}: ${num(l.synRecv)}`).join(', ') || 'spread over listeners'}; TcpExtSyncookiesSent: ${cookies.text}; tcp_max_syn_backlog = ${sys.tcp_max_syn_backlog ?? '?'}, tcp_syncookies = ${sys.tcp_syncookies ?? '?'}`,
    fix: 'Clients send SYNs and do not complete the handshake: a SYN flood, or SYN-ACKs lost on the way back (asymmetric routing, a firewall). Keep tcp_syncookies=1; raise tcp_max_syn_backlog for real bursts; lower tcp_synack_retries to free half-open entries sooner.',
  };
}

// --- Connections that never complete.

/** SYN_SENT with retransmitted SYNs: connect() to destinations that do not answer (tcp_syn_retries). */
function unansweredSyns(r: Report): Finding[] {
  const synSent = r.sockets.filter((s) => s.state === 'SYN_SENT' && s.timer.retransmits > 0);
  if (!synSent.length) return [];
  const by = new Map<string, number>();
  for (const s of synSent) by.set(s.remote, (by.get(s.remote) ?? 0) + 1);
  return [{
    id: 'syn-sent',
    severity: 'warning',
    title: `${plural(synSent.length, 'connect()')} waiting on unanswered SYNs`,
    evidence: [...by.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, v]) => `${k}: ${num(v)}`).join(', '),
    fix: `The destination does not answer (host down, a firewall dropping SYNs, or its listen queue full). connect() gives up after tcp_syn_retries = ${r.sysctl.tcp_syn_retries ?? '?'} retransmissions (about 127 s at 6): use a shorter connect timeout in the application.`,
  }];
}

// --- Resets and aborts.

/** The nstat counters of connections ended by a reset or an abort, and what each one counts. */
const ABORTS: [string, string][] = [
  ['TcpExtTCPAbortOnTimeout', 'connections given up after retransmission or keepalive timeouts (dead peers or paths)'],
  ['TcpExtTCPAbortOnMemory', 'orphans reset for lack of memory or over tcp_max_orphans'],
  ['TcpExtTCPAbortOnClose', 'sockets closed with unread data: the peer got a RST instead of a FIN'],
  ['TcpExtTCPAbortOnData', 'data arrived after close() or SO_LINGER {1,0} aborts: RST sent'],
  ['TcpExtTCPAbortOnLinger', 'orphaned FIN_WAIT2 reset at once (TCP_LINGER2 < 0)'],
  ['TcpEstabResets', 'established connections reset (RST received in ESTABLISHED or CLOSE_WAIT)'],
  ['TcpAttemptFails', 'connect() attempts that failed (refused or reset)'],
];

function resetFindings(r: Report): Finding[] {
  const sampled = sampledTwice(r);
  const moving = ABORTS.map(([name, what]) => ({ name, what, d: counter(r, name) })).filter((x) => x.d.n > 0);
  if (!moving.length) return [];
  const bad = moving.some((x) => x.name === 'TcpExtTCPAbortOnMemory' || x.name === 'TcpExtTCPAbortOnTimeout');
  return [{
    id: 'resets',
    severity: sampled && bad ? 'warning' : 'info',
    title: sampled ? `connections reset or aborted in the last ${duration(r.intervalSec!)}` : 'connections reset or aborted since the namespace started',
    evidence: moving.map((x) => `${x.name} ${x.d.text}: ${x.what}`).join('; '),
    fix: 'TCPAbortOnClose: read everything (or shutdown first) before close(). TCPAbortOnTimeout: peers or paths die; keepalive or application timeouts find them sooner. TCPAbortOnMemory: see orphans. EstabResets: the peers abort; look at their logs.',
  }];
}

// --- Keepalive: probes unanswered now, and against a middlebox's idle timeout (--idle-timeout).

function keepaliveFindings(r: Report): Finding[] {
  const ka = r.keepalive;
  const idle = ka.idleTimeoutSec;
  if (idle === null) return found(keepaliveProbing(ka));
  return found(keepaliveProbing(ka), keepaliveDefaultsTooLong(ka, idle), keepaliveProbeTooLate(ka, idle, r.sysctl), keepaliveMissing(ka, idle));
}

/** Keepalive probes sent and unanswered (icsk_probes_out): tcp_keepalive_probes of them end the connection. */
function keepaliveProbing(ka: KeepaliveReport): Finding | null {
  if (!ka.probing.length) return null;
  return {
    id: 'keepalive-probing',
    severity: 'warning',
    title: `${plural(ka.probing.length, 'connection')} with unanswered keepalive probes`,
    evidence: ka.probing.slice(0, 5).map((p) => `${p.local} -> ${p.remote} ${p.process}: ${p.probes} probes`).join('; '),
    fix: `The peer (or a middlebox on the way) no longer answers: after tcp_keepalive_probes = ${ka.settings.probes ?? '?'} unanswered probes the kernel resets the connection and the application gets ETIMEDOUT.`,
  };
}

/** net.ipv4.tcp_keepalive_time or _intvl at or past the idle timeout: the defaults probe too late. */
function keepaliveDefaultsTooLong(ka: KeepaliveReport, idle: number): Finding | null {
  const t = ka.settings.time, i = ka.settings.intvl;
  if (!((t !== null && t >= idle) || (i !== null && i >= idle))) return null;
  return {
    id: 'keepalive-settings',
    severity: 'warning',
    title: `default keepalive timing is longer than the ${duration(idle)} idle timeout`,
    evidence: `net.ipv4.tcp_keepalive_time = ${t ?? '?'} s, tcp_keepalive_intvl = ${i ?? '?'} s, tcp_keepalive_probes = ${ka.settings.probes ?? '?'}; a middlebox that drops connections idle for ${duration(idle)} forgets them before the first probe`,
    fix: `Sockets that enable SO_KEEPALIVE without their own timing inherit these values. Set TCP_KEEPIDLE and TCP_KEEPINTVL below ${Math.floor(idle)} s on those sockets (for example ${Math.max(1, Math.floor(idle * 0.8))} s and ${Math.max(1, Math.floor(idle / 10))} s), or lower net.ipv4.tcp_keepalive_time to ${Math.max(1, Math.floor(idle * 0.8))} and tcp_keepalive_intvl below ${Math.floor(idle)}; or send application heartbeats more often than every ${duration(idle)}.`,
  };
}

/** Sockets whose keepalive timer fires after the idle timeout: the middlebox drops them first. */
function keepaliveProbeTooLate(ka: KeepaliveReport, idle: number, sys: Report['sysctl']): Finding | null {
  if (!ka.tooLate.count) return null;
  return {
    id: 'keepalive-too-late',
    severity: 'warning',
    title: `${plural(ka.tooLate.count, 'keepalive socket')} will send their next probe after the ${duration(idle)} idle timeout`,
    evidence: `by process: ${ka.tooLate.byProcess.map((x) => `${x.key} (${num(x.count)})`).join(', ')}; e.g. ${ka.tooLate.examples.slice(0, 3).map((x) => `${x.local} -> ${x.remote} probe in ${duration(x.expiresSec)}`).join(', ')}`,
    fix: `If these connections stay idle, the middlebox drops them before the probe that would have kept them open; the next send then waits through retransmissions (up to about 15 min with tcp_retries2 = ${sys.tcp_retries2 ?? '?'}) or meets a reset. Set TCP_KEEPIDLE (and TCP_KEEPINTVL) below ${Math.floor(idle)} s on these sockets.`,
  };
}

/** ESTABLISHED without SO_KEEPALIVE: an idle one is forgotten by the middlebox silently. */
function keepaliveMissing(ka: KeepaliveReport, idle: number): Finding | null {
  if (!ka.without.count) return null;
  return {
    id: 'keepalive-missing',
    severity: 'info',
    title: `${plural(ka.without.count, 'established connection')} without keepalive`,
    evidence: `by process: ${ka.without.byProcess.map((x) => `${x.key} (${num(x.count)})`).join(', ')}`,
    fix: `If any of them is idle for more than ${duration(idle)}, the middlebox forgets it silently and neither side knows until it sends. Enable SO_KEEPALIVE with TCP_KEEPIDLE below ${Math.floor(idle)} s, or an application heartbeat, or close idle connections sooner than ${duration(idle)} (pool idle timeout).`,
  };
}

// --- Lines of /proc that could not be parsed.

function parseErrorFindings(r: Report): Finding[] {
  if (!r.parseErrors.length) return [];
  const files = [...new Set(r.parseErrors.map((e) => e.file))].join(', ');
  return [{
    id: 'parse-errors',
    severity: 'info',
    title: `${plural(r.parseErrors.length, 'line')} of /proc could not be read and were skipped`,
    evidence: `${files}: ${r.parseErrors.slice(0, 3).map((e) => `line ${e.line}: ${e.reason}`).join('; ')}`,
    fix: 'The numbers above leave these lines out. Please report the lines (parseErrors in --json) with `uname -r`.',
  }];
}

/**
 * `linger inspect`'s diagnosis: every rule family in turn, the findings then sorted by severity
 * (a stable sort: within one severity they keep this order).
 */
export function diagnose(r: Report): Finding[] {
  return [
    ...closeWaitFindings(r),
    ...timeWaitFindings(r),
    ...orphanFindings(r),
    ...listenQueueFindings(r),
    ...unansweredSyns(r),
    ...resetFindings(r),
    ...keepaliveFindings(r),
    ...parseErrorFindings(r),
  ].sort((a, b) => SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity]);
}
