// `linger tun up|http|echo|down`: linger on a Linux TUN device whose kernel side is a network
// namespace (default linger0: kernel 10.77.0.1/24 and fd00:77::1/64, linger 10.77.0.2 and
// fd00:77::2). Programs run with `ip netns exec linger0 ...` talk to linger; nothing is routed
// outside the namespace. Needs root (CAP_NET_ADMIN and /dev/net/tun).

import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { eventLine } from '../lab/render.ts';
import { ssLine } from '../lab/ss.ts';
import type { TraceEvent } from '../base/trace.ts';
import { echoServer, http2Server, httpServer } from '../link/apps.ts';
import { nsDel, nsExists, NetnsError } from '../link/netns.ts';
import { TunStack, TUN_DEFAULTS } from '../link/stack.ts';
import { TunError } from '../link/tun.ts';

export class TunUsageError extends Error {}

const PID_DIR = '/run/linger';
const pidFile = (ns: string) => `${PID_DIR}/${ns}.pid`;

interface Common {
  ns: string;
  mtu: string;
  segments?: boolean;
  quiet?: boolean;
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
  const other = ownerPid(o.ns);
  if (other) throw new TunUsageError(`namespace ${o.ns} is in use by linger process ${other} (linger tun down --ns ${o.ns} stops it)`);
  const print = (s: string) => process.stdout.write(s + '\n');
  const trace = (e: TraceEvent): void => {
    if (o.quiet) return;
    if (e.kind === 'segment' && !o.segments) return;
    if (e.kind === 'timer' && !o.segments) return;
    const l = eventLine(e);
    if (l) print(l);
  };
  let stack: TunStack;
  try {
    stack = TunStack.up({ ns: o.ns, mtu, replace: true, trace });
  } catch (e) {
    if (e instanceof NetnsError || e instanceof TunError) throw new TunUsageError(e.message);
    throw e;
  }
  mkdirSync(PID_DIR, { recursive: true });
  writeFileSync(pidFile(o.ns), `${process.pid}\n`);
  const d = TUN_DEFAULTS;
  print(`linger tun ${mode}: namespace ${o.ns}, device ${d.dev} (MTU ${mtu}): kernel ${d.kernel4}/${d.prefix4} ${d.kernel6}/${d.prefix6}, linger ${d.linger4} ${d.linger6}`);
  if (mode === 'echo') {
    echoServer(stack.net, port ?? 7);
    print(`linger tun echo: TCP echo on port ${port ?? 7}; try: sudo ip netns exec ${o.ns} nc ${d.linger4} ${port ?? 7}`);
  } else if (mode === 'http') {
    httpServer(stack.net, port ?? 80);
    const h2 = Number(o.h2Port ?? 8080);
    if (h2) http2Server(stack.net, h2);
    print(`linger tun http: node:http (keep-alive) on port ${port ?? 80}${h2 ? `, HTTP/2 h2c on ${h2}` : ''}; try: sudo ip netns exec ${o.ns} curl -v http://${d.linger4}/ http://${d.linger4}/`);
  } else print(`linger tun up: nothing listens on linger (connections are refused with RST); try: sudo ip netns exec ${o.ns} nc -vz ${d.linger4} 80 (refused: linger's RST; linger has no ICMP, so ping gets no answer)`);
  print(`Ctrl-C (SIGINT) or SIGTERM stops it and removes the namespace.`);
  await new Promise<void>((resolve) => {
    const stop = (sig: string) => {
      print(`linger tun ${mode}: ${sig}: stopping`);
      resolve();
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGHUP', () => stop('SIGHUP'));
  });
  const counters = stack.host.counters.snapshot(true);
  print(`counters linger: ${Object.entries(counters).map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`);
  print(`sockets linger at the end:`);
  for (const r of stack.host.sockets()) print(`  ${ssLine(r)}`);
  print(`tun ${stack.tun.name}: ${JSON.stringify(stack.tun.stats)}`);
  await stack.down();
  rmSync(pidFile(o.ns), { force: true });
  print(`linger tun ${mode}: namespace ${o.ns} removed`);
  process.exit(0); // the servers hold no Node handles, but be explicit: stopped means gone
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
      .option('--segments', 'print every segment and timer too (default: states, calls, errors, drops)')
      .option('--quiet', 'print no trace events');
  common(tun.command('up').description('create the namespace and the TUN device; linger listens on nothing; run until stopped'))
    .action(guarded((o: Common) => serve('up', o)));
  common(tun.command('http').description('as up, and serve node:http (keep-alive) on port 80 and HTTP/2 (h2c) on 8080'))
    .option('--port <n>', 'HTTP/1.x port', '80')
    .option('--h2-port <n>', 'HTTP/2 prior-knowledge port (0: none)', '8080')
    .action(guarded((o: Common & { port: string; h2Port: string }) => serve('http', o)));
  common(tun.command('echo').description('as up, and serve TCP echo on port 7'))
    .option('--port <n>', 'echo port', '7')
    .action(guarded((o: Common & { port: string }) => serve('echo', o)));
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
