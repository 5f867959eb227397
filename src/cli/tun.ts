// `linger tun up|http|echo|down`: linger on a Linux TUN device whose kernel side is a network
// namespace (default linger0: kernel 10.77.0.1/24 and fd00:77::1/64, linger 10.77.0.2 and
// fd00:77::2). Programs run with `ip netns exec linger0 ...` talk to linger; nothing is routed
// outside the namespace. Needs root (CAP_NET_ADMIN and /dev/net/tun).

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { eventLine } from '../lab/render.ts';
import { ssLine, ssTable } from '../lab/ss.ts';
import type { TraceEvent } from '../base/trace.ts';
import type { SocketRow } from '../host/ss.ts';
import { parseNstatFile } from '../inspect/proc.ts';
import { SS_NAMES, TcpState } from '../tcp/states.ts';
import { echoServer, http2Server, httpServer, HTTP_PATHS, type HttpServers } from '../link/apps.ts';
import { ControlError, queryControl, serveControl, type ControlAnswer } from '../link/control.ts';
import { bindHttp, bindHttp2 } from '../net/http.ts';
import { nsDel, nsExists, NetnsError } from '../link/netns.ts';
import { TunStack, TUN_DEFAULTS } from '../link/stack.ts';
import { TunError } from '../link/tun.ts';

export class TunUsageError extends Error {}

const PID_DIR = '/run/linger';
const pidFile = (ns: string) => `${PID_DIR}/${ns}.pid`;
const ctlPath = (ns: string) => `${PID_DIR}/${ns}.sock`;
const historyFile = (ns: string) => `${PID_DIR}/${ns}.nstat`;

interface Common {
  ns: string;
  mtu: string;
  trace?: boolean;
  segments?: boolean;
  quiet?: boolean;
  every: string;
  /** commander's --no-offload: false. */
  offload?: boolean;
}

/** Sockets counted per state, in the kernel's TCP_* order: `ESTAB 3, TIME-WAIT 15000, LISTEN 2`. */
export function statesSummary(rows: readonly SocketRow[]): string {
  const n = new Map<number, number>();
  for (const r of rows) n.set(r.stateNum, (n.get(r.stateNum) ?? 0) + 1);
  return [...n].sort((a, b) => a[0] - b[0]).map(([s, c]) => `${SS_NAMES[s as TcpState] ?? s} ${c}`).join(', ') || 'none';
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function ownerPid(ns: string): number | null {
  try {
    const pid = Number(readFileSync(pidFile(ns), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid) ? pid : null;
  } catch {
    return null;
  }
}

function checkRoot(): void {
  if (process.platform !== 'linux') throw new TunUsageError('linger tun needs Linux (TUN devices and network namespaces)');
  if (process.getuid?.() !== 0) throw new TunUsageError('linger tun needs root (it creates a TUN device and a network namespace): run it with sudo');
}

async function serve(mode: 'up' | 'http' | 'echo', o: Common & { port?: string; h2Port?: string }): Promise<void> {
  checkRoot();
  const mtu = Number(o.mtu);
  if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) throw new TunUsageError(`--mtu takes 1280..65535, got "${o.mtu}"`);
  const port = o.port !== undefined ? Number(o.port) : undefined;
  if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65535)) throw new TunUsageError(`--port takes 1..65535, got "${o.port}"`);
  const every = Number(o.every);
  if (!Number.isFinite(every) || every < 0) throw new TunUsageError(`--every takes seconds (0: no summary), got "${o.every}"`);
  if (o.quiet && (o.trace || o.segments)) throw new TunUsageError('--quiet prints nothing while serving; it cannot go with --trace or --segments');
  const tracing = !!(o.trace || o.segments);
  const other = ownerPid(o.ns);
  if (other) throw new TunUsageError(`namespace ${o.ns} is in use by linger process ${other} (linger tun down --ns ${o.ns} stops it)`);
  const print = (s: string) => process.stdout.write(s + '\n');
  const trace = (e: TraceEvent): void => {
    if (!tracing) return;
    if (e.kind === 'segment' && !o.segments) return;
    if (e.kind === 'timer' && !o.segments) return;
    const l = eventLine(e);
    if (l) print(l);
  };
  let stack: TunStack;
  try {
    // No trace sink unless something prints it: the host skips building segment events then.
    stack = TunStack.up({ ns: o.ns, mtu, replace: true, trace: tracing ? trace : undefined, offload: o.offload === false ? false : undefined, log: print });
  } catch (e) {
    if (e instanceof NetnsError || e instanceof TunError) throw new TunUsageError(e.message);
    throw e;
  }
  mkdirSync(PID_DIR, { recursive: true });
  writeFileSync(pidFile(o.ns), `${process.pid}\n`);
  const started = Date.now();
  const ctl = await serveControl(ctlPath(o.ns), (req): ControlAnswer => {
    const a: ControlAnswer = { pid: process.pid, ns: o.ns, mode, started };
    if (req.q === 'ss') a.sockets = stack.host.sockets();
    else if (req.q === 'nstat') a.counters = stack.host.counters.snapshot();
    return a;
  });
  const d = TUN_DEFAULTS;
  let web: HttpServers | null = null;
  let prefaces = 0;
  const link = stack.offload ? 'offloads: TSO/GSO and checksums both ways' : 'plain packets';
  print(`linger tun ${mode}: namespace ${o.ns}, device ${d.dev} (MTU ${mtu}, ${link}): kernel ${d.kernel4}/${d.prefix4} ${d.kernel6}/${d.prefix6}, linger ${d.linger4} ${d.linger6}`);
  if (mode === 'echo') {
    echoServer(stack.net, port ?? 7);
    print(`linger tun echo: TCP echo on port ${port ?? 7}; try: sudo ip netns exec ${o.ns} nc ${d.linger4} ${port ?? 7}`);
  } else if (mode === 'http') {
    const h2 = Number(o.h2Port ?? 8080);
    web = httpServer(bindHttp(stack.net), port ?? 80, {
      h2Port: h2,
      onH2Preface: () => {
        prefaces++;
        if (tracing) print(`http: an HTTP/2 preface on port ${port ?? 80}: answered 505 naming ${h2 ? `port ${h2}` : 'no h2c port'}`);
      },
    });
    if (h2) http2Server(bindHttp2(stack.net), h2);
    print(`linger tun http: node:http (keep-alive) on port ${port ?? 80}${h2 ? `, HTTP/2 h2c on ${h2}` : ''}; try: sudo ip netns exec ${o.ns} curl -v http://${d.linger4}/ http://${d.linger4}/`);
  } else print(`linger tun up: nothing listens on linger (connections are refused with RST); try: sudo ip netns exec ${o.ns} nc -vz ${d.linger4} 80 (refused: linger's RST; linger has no ICMP, so ping gets no answer)`);
  print(`linger tun ss --ns ${o.ns} and linger tun nstat --ns ${o.ns} show its sockets and counters. Ctrl-C (SIGINT) or SIGTERM stops it and removes the namespace.`);
  // The periodic summary (not with --trace or --quiet): one line per --every seconds in which
  // a connection was accepted, a request served or the sockets per state changed.
  let seen = { accepted: 0, requests: 0, states: statesSummary(stack.host.sockets()) };
  const tick = every > 0 && !tracing && !o.quiet
    ? setInterval(() => {
      const now = { accepted: stack.host.counters.v.PassiveOpens, requests: web?.requests ?? 0, states: statesSummary(stack.host.sockets()) };
      if (now.accepted === seen.accepted && now.requests === seen.requests && now.states === seen.states) return;
      const parts = [`accepted ${now.accepted} (+${now.accepted - seen.accepted})`];
      if (web) parts.push(`requests ${now.requests} (+${now.requests - seen.requests})`);
      if (prefaces) parts.push(`HTTP/2 prefaces ${prefaces}`);
      print(`linger tun ${mode}: ${Math.round((Date.now() - started) / 1000)} s: ${parts.join(', ')}; sockets: ${now.states}`);
      seen = now;
    }, every * 1000)
    : null;
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      print(`linger tun ${mode}: ${sig}: stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGHUP', () => stop('SIGHUP'));
  });
  if (tick) clearInterval(tick);
  ctl.close();
  const counters = stack.host.counters.snapshot(true);
  print(`counters linger: ${Object.entries(counters).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`);
  const rows = stack.host.sockets();
  if (web) print(`requests served: ${web.requests}`);
  print(`sockets linger at the end: ${statesSummary(rows)}${tracing ? ':' : ''}`);
  if (tracing) for (const r of rows) print(`  ${ssLine(r)}`);
  print(`tun ${stack.tun.name}: ${JSON.stringify(stack.tun.stats)}`);
  await stack.down();
  for (const f of [pidFile(o.ns), ctlPath(o.ns), historyFile(o.ns)]) rmSync(f, { force: true });
  print(`linger tun ${mode}: namespace ${o.ns} removed`);
  process.exit(0); // the servers hold no Node handles, but be explicit: stopped means gone
}

/** Asks the process serving ns; a usage error (exit 2) when none does. */
async function ask(ns: string, q: 'ss' | 'nstat'): Promise<ControlAnswer> {
  try {
    return await queryControl(ctlPath(ns), { q });
  } catch (e) {
    if (!(e instanceof ControlError)) throw e;
    const pid = ownerPid(ns);
    throw new TunUsageError(`no linger process serves namespace ${ns}${pid ? ` (process ${pid} holds ${pidFile(ns)} but does not answer: ${e.message})` : ''}; start one with linger tun up|http|echo --ns ${ns}`);
  }
}

interface SsOpts { ns: string; all?: boolean; listening?: boolean; options?: boolean; info?: boolean; header: boolean; ipv4?: boolean; ipv6?: boolean }

/**
 * `ss -t` on linger's table. States as ss selects them: by default every state but LISTEN,
 * TIME-WAIT, SYN-RECV and CLOSE (iproute2 SS_CONN), -l LISTEN only, -a all. Rows in the order
 * ss dumps them: AF_INET, then AF_INET6 (listeners, then connections, within each). A `::`
 * listener takes IPv4 too (no IPV6_V6ONLY), which ss prints as `*:80` with peer `*:*`.
 */
async function ssCommand(o: SsOpts): Promise<void> {
  checkRoot();
  const a = await ask(o.ns, 'ss');
  const hidden = new Set<number>([TcpState.LISTEN, TcpState.TIME_WAIT, TcpState.SYN_RECV, TcpState.CLOSED]);
  const v6 = (r: SocketRow) => r.local.startsWith('[');
  const rows = (a.sockets ?? [])
    .filter((r) => (o.all ? true : o.listening ? r.stateNum === TcpState.LISTEN : !hidden.has(r.stateNum)))
    .filter((r) => (o.ipv4 && !o.ipv6 ? !v6(r) : o.ipv6 && !o.ipv4 ? v6(r) : true));
  const ordered = [...rows.filter((r) => !v6(r)), ...rows.filter(v6)]
    .map((r) => (r.stateNum === TcpState.LISTEN && r.local.startsWith('[::]:') ? { ...r, local: `*:${r.local.slice(5)}`, remote: '*:*' } : r));
  const out = ssTable(ordered, { noHeader: !o.header, timers: o.options, info: o.info });
  if (out.length) process.stdout.write(out.join('\n') + '\n');
}

interface NstatOpts { ns: string; ignore?: boolean; zeros?: boolean; noupdate?: boolean; nooutput?: boolean; reset?: boolean }

/** nstat's order: /proc/net/snmp then /proc/net/netstat, as this kernel lists them. */
function kernelOrder(): Map<string, number> {
  const order = new Map<string, number>();
  for (const f of ['/proc/net/snmp', '/proc/net/netstat']) {
    try {
      for (const k of Object.keys(parseNstatFile(readFileSync(f, 'utf8'), f).counters)) if (!order.has(k)) order.set(k, order.size);
    } catch {
      // not Linux: linger's own order
    }
  }
  return order;
}

/**
 * `nstat` on linger's counters: by default the change since the last call (its history, kept
 * per linger process in /run/linger/NS.nstat, as nstat keeps its own in $NSTAT_HISTORY), -a the
 * totals, -z the zeros too, -s without updating the history, -n only updating it, -r resetting
 * it; PATTERNs (globs with * and ?) select names. Lines as nstat prints them, `%-32s%-16llu%6.1f`
 * under `#kernel` (nstat's source line); the rate is 0.0, as nstat's without its daemon (-d).
 */
async function nstatCommand(patterns: string[], o: NstatOpts): Promise<void> {
  checkRoot();
  const a = await ask(o.ns, 'nstat');
  const cur = a.counters ?? {};
  const tag = `#linger ${a.pid} ${a.started}`;
  const hist: Record<string, number> = {};
  if (!o.reset) {
    try {
      const [head, ...lines] = readFileSync(historyFile(o.ns), 'utf8').split('\n');
      if (head === tag) for (const l of lines) { const [k, v] = l.split(' '); if (k && v) hist[k] = Number(v); }
    } catch {
      // no history yet: deltas from zero, as nstat's first run
    }
  }
  if (!o.noupdate) writeFileSync(historyFile(o.ns), [tag, ...Object.entries(cur).map(([k, v]) => `${k} ${v}`)].join('\n') + '\n');
  if (o.nooutput) return;
  const globs = patterns.map((p) => new RegExp(`^${p.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`));
  const order = kernelOrder();
  const rank = (k: string) => order.get(k) ?? order.size + Object.keys(cur).indexOf(k);
  const names = Object.keys(cur).filter((k) => !globs.length || globs.some((g) => g.test(k))).sort((x, y) => rank(x) - rank(y));
  const lines = ['#kernel'];
  for (const k of names) {
    const v = o.ignore || o.reset ? cur[k]! : cur[k]! - (hist[k] ?? 0);
    if (v === 0 && !o.zeros) continue;
    lines.push(`${k.padEnd(32)}${String(v).padEnd(16)}${'0.0'.padStart(6)}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}

/** Usage errors end the command here (status 2, as main's other usage errors). */
function guarded<A extends unknown[]>(fn: (...a: A) => Promise<void>): (...a: A) => Promise<void> {
  return async (...a: A) => {
    try {
      await fn(...a);
    } catch (e) {
      if (!(e instanceof TunUsageError)) throw e;
      process.stderr.write(`linger: ${e.message}\n`);
      process.exit(2);
    }
  };
}

export function registerTun(program: Command): void {
  const tun = program.command('tun').description('linger on a Linux TUN device; the kernel side in a network namespace (root)');
  const common = (c: Command): Command =>
    c
      .option('--ns <name>', 'network namespace', TUN_DEFAULTS.ns)
      .option('--mtu <n>', 'MTU of the TUN device (and linger\'s MSS)', String(TUN_DEFAULTS.mtu))
      .option('--trace', 'print each event as it happens (states, calls, errors, drops) and the whole socket table at the stop')
      .option('--segments', 'as --trace, and every segment and timer too')
      .option('--every <s>', 'without --trace: a one-line summary (accepted, requests, sockets per state) every s seconds in which something changed; 0: none', '5')
      .option('--quiet', 'no summary and no events while serving (the start and stop lines only)')
      .option('--no-offload', 'a plain TUN device: no vnet header, no TSO/GSO, every checksum computed (default: the kernel\'s offloads; LINGER_TUN_OFFLOAD=0 too)');
  common(tun.command('up').description('create the namespace and the TUN device; linger listens on nothing; run until stopped'))
    .action(guarded((o: Common) => serve('up', o)));
  common(tun.command('http').description('as up, and serve node:http (keep-alive) on port 80 and HTTP/2 (h2c) on 8080'))
    .option('--port <n>', 'HTTP/1.x port', '80')
    .option('--h2-port <n>', 'HTTP/2 prior-knowledge port (0: none)', '8080')
    .addHelpText('after', `\nPaths on the HTTP/1.x port:\n${HTTP_PATHS.map(([p, w]) => `  ${p.padEnd(16)}${w}`).join('\n')}\n` +
      `On the HTTP/2 port, any path: one text line (method and path).\n` +
      `  HTTP/2 on the HTTP/1.x port (the PRI * HTTP/2.0 preface, curl --http2-prior-knowledge): an HTTP/2\n  505 whose body names the h2c port, instead of node:http's 400 (which curl shows as an empty reply)\n` +
      `\nWhile it runs: linger tun ss --ns NS -tan, linger tun nstat --ns NS\n`)
    .action(guarded((o: Common & { port: string; h2Port: string }) => serve('http', o)));
  common(tun.command('echo').description('as up, and serve TCP echo on port 7'))
    .option('--port <n>', 'echo port', '7')
    .action(guarded((o: Common & { port: string }) => serve('echo', o)));
  tun
    .command('ss')
    .description('the socket table of the running linger tun process, as `ss -t` prints it (-tan, -tln, -tano...)')
    .option('--ns <name>', 'network namespace', TUN_DEFAULTS.ns)
    .option('-t, --tcp', 'TCP sockets (the only kind linger has; accepted for -tan)')
    .option('-a, --all', 'every state (default: all but LISTEN, TIME-WAIT, SYN-RECV, as ss)')
    .option('-l, --listening', 'LISTEN sockets only')
    .option('-n, --numeric', 'numeric ports (linger always prints them so; accepted for -tan)')
    .option('-o, --options', 'timers: timer:(on|keepalive|timewait|persist,left,retries)')
    .option('-i, --info', 'tcp_info on a second line (wscale rto rtt mss cwnd ssthresh bytes_* last* retrans)')
    .option('-H, --no-header', 'no header line')
    .option('-4, --ipv4', 'IPv4 sockets only')
    .option('-6, --ipv6', 'IPv6 sockets only')
    .action(guarded((o: SsOpts) => ssCommand(o)));
  tun
    .command('nstat')
    .description('the counters of the running linger tun process, as `nstat` prints them (changes since the last call)')
    .argument('[pattern...]', 'counter names or globs (TcpPassiveOpens, "TcpExt*")')
    .option('--ns <name>', 'network namespace', TUN_DEFAULTS.ns)
    .option('-a, --ignore', 'totals: ignore the history')
    .option('-z, --zeros', 'counters at zero too')
    .option('-s, --noupdate', 'do not update the history')
    .option('-n, --nooutput', 'update the history only')
    .option('-r, --reset', 'reset the history (totals now)')
    .action(guarded((patterns: string[], o: NstatOpts) => nstatCommand(patterns, o)));
  tun
    .command('down')
    .description('stop the linger process serving the namespace (if any) and delete the namespace and its TUN device')
    .option('--ns <name>', 'network namespace', TUN_DEFAULTS.ns)
    .action(guarded(async (o: { ns: string }) => {
      checkRoot();
      const pid = ownerPid(o.ns);
      if (pid) {
        process.kill(pid, 'SIGTERM');
        for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      }
      rmSync(pidFile(o.ns), { force: true });
      const had = nsExists(o.ns);
      nsDel(o.ns);
      const what = pid ? `stopped linger process ${pid}; ` : '';
      process.stdout.write(`linger tun down: ${what}${had || pid ? `namespace ${o.ns} removed` : `no namespace ${o.ns}`}\n`);
    }));
}
