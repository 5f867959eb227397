// Text reports of `linger inspect`: summary, time-wait, close-wait, orphans, keepalive, findings.

import type { Finding, Report, Top } from './analyze.ts';
import { ALL_STATES } from './analyze.ts';
import { duration, num } from './rules.ts';

/** Aligns rows of cells; numbers (and cells starting with a digit) are right-aligned. */
export function table(rows: string[][], indent = '  '): string {
  if (!rows.length) return '';
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows
    .map((r, ri) => indent + r.map((c, i) => (ri > 0 && /^[\d,.]+( %| s|\/s)?$/.test(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

const tops = (t: Top[]): string => (t.length ? t.map((x) => `${x.key} ${num(x.count)}`).join(', ') : '-');

export function renderHeader(r: Report): string {
  const ns = r.host.netns ? ` netns ${r.host.netns}` : '';
  const when = r.intervalSec !== null ? `, two samples ${duration(r.intervalSec)} apart` : '';
  return `linger inspect: ${r.host.hostname} (Linux ${r.host.kernel}${ns}) at ${r.takenAt}${when}`;
}

export function renderStates(r: Report): string {
  const parts = ALL_STATES.filter((s) => r.states[s]).map((s) => `${s} ${num(r.states[s]!)}`);
  const total = Object.values(r.states).reduce((a, b) => a + b, 0);
  const ss = r.sockstat ? `   (sockstat: inuse ${num(r.sockstat.inuse)}, orphan ${num(r.sockstat.orphan)}, tw ${num(r.sockstat.tw)})` : '';
  return `TCP sockets: ${num(total)}${parts.length ? ': ' + parts.join(', ') : ''}${ss}`;
}

export function renderSummary(r: Report): string {
  const rows: string[][] = [['state', 'count', 'top remote addresses', 'top local ports', 'top processes']];
  for (const st of ALL_STATES) {
    const s = r.summary[st];
    if (!s) continue;
    rows.push([st, num(s.count), tops(s.topRemotes.slice(0, 3)), tops(s.topLocalPorts.slice(0, 3)), tops(s.topProcesses.slice(0, 3))]);
  }
  return rows.length > 1 ? `Connections by state (the "connection statistics" view)\n${table(rows)}` : 'Connections by state: no TCP sockets';
}

export function renderTimeWait(r: Report): string {
  const t = r.timeWait;
  const lines = [
    `TIME_WAIT: ${num(t.total)} (${num(t.outgoing)} from connections this host opened, ${num(t.incoming)} from connections to its listeners)`,
    `  ages (from the 60 s timer): under 10 s ${num(t.ages.under10s)}, 10-30 s ${num(t.ages.from10to30s)}, 30-60 s ${num(t.ages.from30to60s)}`,
    `  new TIME_WAITs: ${num(t.ratePerSec ?? 0)}/s (${t.rateSource === 'two samples' ? `two samples ${duration(r.intervalSec ?? 0)} apart` : 'made in the last 10 s, from their timers; --interval 1s measures it between two samples'})`,
    `  port range ${t.portRange?.join('-') ?? '?'}: ${num(t.portRangeSize ?? 0)} ports, capacity ${num(t.capacityPerSec ?? 0)} new connections/s per destination (range / 60 s); tcp_tw_reuse = ${r.sysctl.tcp_tw_reuse ?? '?'}, tcp_max_tw_buckets = ${num(t.maxBuckets ?? 0)}`,
  ];
  if (t.destinations.length) {
    const rows = [['from -> destination', 'TIME_WAIT', 'ports used', 'rate', 'of capacity', 'ports left in']];
    for (const d of t.destinations) rows.push([d.key, num(d.count), `${d.usedPct} %`, `${num(d.ratePerSec)}/s`, `${d.ratePct} %`, d.exhaustionSec === null ? 'never at this rate' : duration(d.exhaustionSec)]);
    lines.push('', 'Outgoing connections (this host closed first; each TIME_WAIT holds a local port):', table(rows));
  }
  if (t.incomingByService.length) {
    lines.push('', 'Incoming connections (this server closed first; no local port is held):', table([['service <- client', 'TIME_WAIT'], ...t.incomingByService.map((x) => [x.key, num(x.count)])]));
  }
  return lines.join('\n');
}

export function renderCloseWait(r: Report): string {
  const c = r.closeWait;
  if (!c.total) return 'CLOSE_WAIT: none';
  const rows = [['process', 'CLOSE_WAIT', 'service', 'peers', 'oldest (watched)', 'read to EOF', 'max unread bytes']];
  for (const g of c.groups) {
    rows.push([g.pid !== null ? `${g.process}[${g.pid}]` : g.process ?? '?', num(g.count), `${g.direction === 'incoming' ? 'local ' : 'remote '}${g.service}`, g.peer, g.oldestAgeSec === null ? 'unknown' : `>= ${duration(g.oldestAgeSec)}`, `${num(g.readToEnd)} of ${num(g.count)}`, num(g.unreadBytes)]);
  }
  const aged = r.sockets.filter((x) => x.state === 'CLOSE_WAIT' && x.ageSec !== null).sort((x, y) => y.ageSec! - x.ageSec!);
  const oldest = aged.length
    ? `\nOldest sockets (age as watched, by inode):\n${table([['inode', 'process', 'local', 'remote', 'age', 'rx_queue'], ...aged.slice(0, 10).map((x) => [String(x.inode), x.pid !== null ? `${x.process}[${x.pid}]` : '?', x.local, x.remote, `>= ${duration(x.ageSec!)}`, String(x.rxQueue)])])}`
    : '';
  return `CLOSE_WAIT: ${num(c.total)} (the peer closed; the local process has not)\n${table(rows)}${oldest}`;
}

export function renderOrphans(r: Report): string {
  const o = r.orphans;
  const lines = [
    `Orphans (closed by their process, still finishing): sockstat ${o.sockstatOrphan ?? '?'} of tcp_max_orphans ${o.maxOrphans === null ? '(not shown inside a network namespace)' : num(o.maxOrphans)}; ${Object.entries(o.byState).map(([k, v]) => `${k} ${num(v)}`).join(', ') || 'none listed'}`,
    `FIN_WAIT2: ${num(o.finWait2Orphaned)} orphaned (dropped after tcp_fin_timeout = ${o.finTimeout ?? '?'} s), ${num(o.finWait2Held)} half-closed and still held by a process${o.finWait2HeldBy.length ? ` (${tops(o.finWait2HeldBy)})` : ''}`,
    `SYN_RECV: ${num(o.synRecv)}`,
  ];
  if (o.listeners.length) {
    const rows = [['listener', 'process', 'accept queue', 'SYN_RECV']];
    for (const l of o.listeners.slice(0, 10)) rows.push([l.local, l.pid !== null ? `${l.process}[${l.pid}]` : '?', num(l.acceptQueue), num(l.synRecv)]);
    lines.push(`Listeners (somaxconn ${r.sysctl.somaxconn ?? '?'}, tcp_max_syn_backlog ${r.sysctl.tcp_max_syn_backlog ?? '?'}):`, table(rows));
  }
  const rows = [['counter', 'total', r.intervalSec !== null ? `delta in ${duration(r.intervalSec)}` : 'delta', 'per s']];
  for (const c of r.resets) rows.push([c.name, num(c.value), c.delta === null ? '-' : num(c.delta), c.perSec === null ? '-' : num(c.perSec)]);
  lines.push('Listen queue, reset and abort counters:', table(rows));
  return lines.join('\n');
}

export function renderKeepalive(r: Report): string {
  const k = r.keepalive;
  const lines = [
    `Keepalive: ${num(k.withTimer)} established socket(s) with a keepalive timer, ${num(k.without.count)} without; sysctl time ${k.settings.time ?? '?'} s, intvl ${k.settings.intvl ?? '?'} s, probes ${k.settings.probes ?? '?'}`,
  ];
  const ka = r.sockets.filter((s) => s.state === 'ESTABLISHED' && s.timer.kind === 'keepalive').sort((a, b) => b.timer.expiresSec - a.timer.expiresSec);
  if (ka.length) {
    const rows = [['local', 'remote', 'process', 'next probe in', 'probes sent']];
    for (const s of ka.slice(0, 10)) rows.push([s.local, s.remote, s.pid !== null ? `${s.process}[${s.pid}]` : '?', duration(s.timer.expiresSec), String(s.timer.probes)]);
    lines.push(table(rows));
  }
  if (k.idleTimeoutSec !== null) {
    lines.push(`Against an idle timeout of ${duration(k.idleTimeoutSec)}: ${num(k.tooLate.count)} keepalive socket(s) probe too late, ${num(k.without.count)} established socket(s) have no keepalive${k.without.byProcess.length ? ` (${tops(k.without.byProcess)})` : ''}`);
  } else {
    lines.push('(--idle-timeout 350s checks these against a middlebox idle timeout)');
  }
  return lines.join('\n');
}

const SEV = { critical: 'CRITICAL', warning: 'WARNING ', info: 'info    ' } as const;

export function renderFindings(findings: Finding[], opts: { brief?: boolean } = {}): string {
  if (!findings.length) return 'Findings: none';
  const out = [`Findings (${findings.length}):`];
  for (const f of findings) {
    if (opts.brief) {
      out.push(`  ${SEV[f.severity]} ${f.title}`);
      continue;
    }
    out.push(wrap(`${SEV[f.severity]} ${f.title}`, '  ', '             '));
    out.push(wrap(`evidence: ${f.evidence}`, '             ', '               '));
    out.push(wrap(`fix: ${f.fix}`, '             ', '               '));
  }
  return out.join('\n');
}

/** Wraps at 100 columns: the first line starts with `first`, the others with `rest`. */
export function wrap(text: string, first: string, rest: string, width = 100): string {
  const words = text.split(' ');
  const lines: string[] = [];
  let cur = first;
  for (const w of words) {
    if (cur.length + w.length + 1 > width && cur.trim()) {
      lines.push(cur.trimEnd());
      cur = rest;
    }
    cur += (cur.trim() ? ' ' : '') + w;
  }
  if (cur.trim()) lines.push(cur.trimEnd());
  return lines.join('\n');
}

export function renderNotes(r: Report): string {
  const lines: string[] = [];
  for (const n of r.notes) lines.push(`note: ${n}`);
  for (const e of r.parseErrors.slice(0, 5)) lines.push(`skipped ${e.file} line ${e.line}: ${e.reason}: ${JSON.stringify(e.text)}`);
  if (r.parseErrors.length > 5) lines.push(`... and ${r.parseErrors.length - 5} more skipped lines (--json lists them)`);
  return lines.join('\n');
}

/** The plain `linger inspect` report. */
export function renderFull(r: Report): string {
  return [renderHeader(r), renderStates(r), '', renderSummary(r), '', renderFindings(r.findings), renderNotes(r)].filter((x, i, a) => x !== '' || a[i - 1] !== '').join('\n').trimEnd();
}
