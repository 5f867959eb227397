// `--prometheus [HOST:]PORT`: the numbers of the report in Prometheus' text format, through
// prom-client (the client library Prometheus' own docs list for Node). Each scrape reads the
// latest report: the one watch mode just drew, or a fresh sample when not watching.

import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Registry } from 'prom-client';
import type { Report } from './analyze.ts';
import { ALL_STATES } from './analyze.ts';

/** nstat values that are levels, not counts: exported as gauges. */
const GAUGE_COUNTERS = new Set(['TcpRtoAlgorithm', 'TcpRtoMin', 'TcpRtoMax', 'TcpMaxConn', 'TcpCurrEstab']);

/** Builds the registry; `current()` gives the report each metric reads at scrape time. */
export function buildRegistry(current: () => Report | null): Registry {
  const reg = new Registry();
  const g = (name: string, help: string, labelNames: string[], fill: (r: Report, set: (labels: Record<string, string>, v: number) => void) => void): void => {
    new Gauge({
      name, help, labelNames, registers: [reg],
      collect() {
        this.reset();
        const r = current();
        if (r) fill(r, (labels, v) => this.set(labels, v));
      },
    });
  };
  g('linger_tcp_sockets', 'TCP sockets per state (/proc/net/tcp and tcp6).', ['state'], (r, set) => {
    for (const st of ALL_STATES) set({ state: st }, r.states[st] ?? 0);
  });
  g('linger_sockstat', 'TCP line of /proc/net/sockstat (mem in pages).', ['field'], (r, set) => {
    if (r.sockstat) for (const [k, v] of Object.entries(r.sockstat)) set({ field: k }, v);
  });
  g('linger_close_wait_sockets', 'CLOSE_WAIT sockets per owning process and service.', ['pid', 'process', 'service'], (r, set) => {
    for (const c of r.closeWait.groups.slice(0, 20)) set({ pid: String(c.pid ?? ''), process: c.process ?? '', service: c.service }, c.count);
  });
  g('linger_close_wait_oldest_seconds', 'Age of the oldest CLOSE_WAIT socket per process and service, as watched (a lower bound).', ['pid', 'process', 'service'], (r, set) => {
    for (const c of r.closeWait.groups.slice(0, 20)) if (c.oldestAgeSec !== null) set({ pid: String(c.pid ?? ''), process: c.process ?? '', service: c.service }, c.oldestAgeSec);
  });
  g('linger_time_wait_sockets', 'TIME_WAIT sockets of outgoing connections per local address and destination.', ['destination'], (r, set) => {
    for (const d of r.timeWait.destinations) set({ destination: d.key }, d.count);
  });
  g('linger_time_wait_port_usage_ratio', 'Local ports in use to a destination over the size of ip_local_port_range.', ['destination'], (r, set) => {
    for (const d of r.timeWait.destinations) set({ destination: d.key }, d.usedPct / 100);
  });
  g('linger_time_wait_created_per_second', 'New TIME_WAIT sockets per second (between samples, or from the timers of the last 10 s).', [], (r, set) => {
    set({}, r.timeWait.ratePerSec ?? 0);
  });
  g('linger_listen_accept_queue', 'Connections waiting for accept() per listener.', ['listener', 'process'], (r, set) => {
    for (const l of r.orphans.listeners.slice(0, 50)) set({ listener: l.local, process: l.process ?? '' }, l.acceptQueue);
  });
  g('linger_keepalive_sockets', 'Established sockets with and without a keepalive timer.', ['keepalive'], (r, set) => {
    set({ keepalive: 'on' }, r.keepalive.withTimer);
    set({ keepalive: 'off' }, r.keepalive.without.count);
  });
  g('linger_sysctl', 'Lifecycle sysctls (ip_local_port_range as _low and _high).', ['name'], (r, set) => {
    for (const [k, v] of Object.entries(r.sysctl)) {
      if (Array.isArray(v)) { set({ name: `${k}_low` }, v[0]!); set({ name: `${k}_high` }, v[1]!); } else if (typeof v === 'number') set({ name: k }, v);
    }
  });
  g('linger_findings', 'Findings of the diagnosis rules per severity.', ['severity'], (r, set) => {
    for (const s of ['critical', 'warning', 'info']) set({ severity: s }, r.findings.filter((f) => f.severity === s).length);
  });
  g('linger_nstat', 'Level-type values of /proc/net/snmp (nstat names).', ['name'], (r, set) => {
    for (const [k, v] of Object.entries(r.counters)) if (GAUGE_COUNTERS.has(k)) set({ name: k }, v);
  });
  new Counter({
    name: 'linger_nstat_total', help: 'Tcp and TcpExt counters of /proc/net/snmp and /proc/net/netstat (nstat names).', labelNames: ['name'], registers: [reg],
    collect() {
      this.reset();
      const r = current();
      if (!r) return;
      for (const [k, v] of Object.entries(r.counters)) {
        if ((k.startsWith('Tcp') || k.startsWith('TcpExt')) && !GAUGE_COUNTERS.has(k) && v >= 0) this.inc({ name: k }, v);
      }
    },
  });
  return reg;
}

/** "9300" or "0.0.0.0:9300"; the default host is loopback so nothing is exposed by surprise. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:(.+):)?(\d+)$/.exec(text.trim());
  if (!m) throw new Error(`--prometheus takes PORT or HOST:PORT, got "${text}"`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) throw new Error(`--prometheus port must be 1..65535, got ${port}`);
  let host = m[1] ?? '127.0.0.1';
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host, port };
}

/** Serves /metrics. `refresh()` runs before each scrape (a fresh sample when not watching). */
export async function serveMetrics(listen: { host: string; port: number }, reg: Registry, refresh: () => void): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url !== '/metrics' && req.url !== '/') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('linger inspect: metrics are at /metrics\n');
      return;
    }
    try {
      refresh();
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(`linger inspect: ${(e as Error).message}\n`);
      return;
    }
    reg.metrics().then(
      (text) => res.writeHead(200, { 'content-type': reg.contentType }).end(text),
      (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`linger inspect: ${e.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
