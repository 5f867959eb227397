// `linger inspect`: the TCP sockets of the Linux host (the real kernel, not the engine), with the
// diagnosis of TIME_WAIT, CLOSE_WAIT, orphan, listen-queue and keepalive trouble.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Server } from 'node:http';
import { Command } from 'commander';
import type { Report } from '../inspect/analyze.ts';
import { collect, hostInfo } from '../inspect/collect.ts';
import { buildRegistry, parseListen, serveMetrics } from '../inspect/prometheus.ts';
import { Sampler, viewJson, viewText, type View } from '../inspect/views.ts';
import { watch } from '../inspect/watch.ts';

interface InspectOpts {
  json?: boolean;
  watch?: string | boolean;
  count?: string;
  interval?: string;
  idleTimeout?: string;
  prometheus?: string;
  top?: string;
  proc?: string;
}

/** "350s", "350", "1.5s", "500ms", "5m", "2h" -> seconds. */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|min|h)?$/.exec(text.trim());
  if (!m) throw new InspectUsageError(`${what} takes a duration such as 350s, 500ms, 5m or 2h, got "${text}"`);
  const v = Number(m[1]);
  const unit = m[2] ?? 's';
  return v * ({ ms: 0.001, s: 1, m: 60, min: 60, h: 3600 } as Record<string, number>)[unit]!;
}

class InspectUsageError extends Error {}

function intArg(text: string, what: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n < min || n > max) throw new InspectUsageError(`${what} takes an integer ${min}..${max}, got "${text}"`);
  return n;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits for SIGINT/SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      process.off('SIGINT', done);
      process.off('SIGTERM', done);
      resolve();
    };
    process.on('SIGINT', done);
    process.on('SIGTERM', done);
  });
}

/** Where reports go; tests pass their own. */
export interface InspectIO {
  out?: (s: string) => void;
}

async function run(view: View, o: InspectOpts, defaultIntervalSec: number, io: InspectIO): Promise<void> {
  const write = io.out ?? ((s: string): void => void process.stdout.write(s));
  const out = (s: string): void => write(s.endsWith('\n') ? s : s + '\n');
  const root = o.proc ?? '/proc';
  const watchSec = o.watch === undefined ? null : o.watch === true ? 2 : parseDuration(String(o.watch), '--watch');
  if (watchSec !== null && (watchSec < 0.1 || watchSec > 3600)) throw new InspectUsageError(`--watch interval must be between 100ms and 1h, got ${o.watch}`);
  const count = o.count !== undefined ? intArg(o.count, '--count', 1, 1_000_000) : null;
  if (count !== null && watchSec === null) throw new InspectUsageError('--count goes with --watch');
  const intervalSec = o.interval !== undefined ? parseDuration(o.interval, '--interval') : defaultIntervalSec;
  if (intervalSec > 600) throw new InspectUsageError('--interval must be at most 10m');
  const idle = o.idleTimeout !== undefined ? parseDuration(o.idleTimeout, '--idle-timeout') : null;
  if (idle !== null && idle <= 0) throw new InspectUsageError('--idle-timeout must be positive');
  const top = o.top !== undefined ? intArg(o.top, '--top', 1, 1000) : 5;
  let listen: { host: string; port: number } | null = null;
  if (o.prometheus !== undefined) {
    try {
      listen = parseListen(o.prometheus);
    } catch (e) {
      throw new InspectUsageError((e as Error).message);
    }
  }
  if (!existsSync(join(root, 'net/tcp'))) {
    throw new InspectUsageError(`cannot read ${join(root, 'net/tcp')}: linger inspect reads Linux's procfs (this is ${process.platform})`);
  }

  const host = hostInfo(root);
  const sampler = new Sampler(() => collect({ root }), { idleTimeoutSec: idle, host, top });

  let latest: Report | null = null;
  let server: Server | null = null;
  if (listen) {
    const reg = buildRegistry(() => latest);
    // Watching: scrapes read the latest sample. Not watching: each scrape takes a fresh one.
    server = await serveMetrics(listen, reg, () => {
      if (watchSec === null) latest = sampler.sample();
    });
    const addr = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
    process.stderr.write(`linger inspect: Prometheus metrics at http://${addr}:${listen.port}/metrics\n`);
  }
  try {
    if (watchSec !== null) {
      await watch({
        sampler, view, intervalSec: watchSec, count, json: Boolean(o.json), out,
        tty: Boolean(process.stdout.isTTY), columns: process.stdout.columns || 120,
        onReport: (r) => (latest = r),
      });
      return;
    }
    if (server) {
      process.stderr.write('linger inspect: serving until Ctrl-C\n');
      await untilSignal();
      return;
    }
    let r = sampler.sample();
    if (intervalSec > 0) {
      await sleep(intervalSec * 1000);
      r = sampler.sample();
    }
    out(o.json ? JSON.stringify(viewJson(view, r)) : viewText(view, r));
  } finally {
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
  }
}

function withOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print one JSON object (one per line with --watch)')
    .option('--watch [interval]', 'live view: sample every interval (default 2s) until Ctrl-C')
    .option('--count <n>', 'with --watch: stop after n samples')
    .option('--interval <duration>', 'take two samples this far apart for rates and counter deltas (0: one sample)')
    .option('--idle-timeout <duration>', 'check keepalive against a middlebox idle timeout, e.g. 350s')
    .option('--prometheus <[host:]port>', 'serve the numbers at http://HOST:PORT/metrics (host defaults to 127.0.0.1)')
    .option('--top <n>', 'rows in each top list (default 5)')
    .option('--proc <dir>', 'read this procfs tree instead of /proc (a captured copy)');
}

export function registerInspect(program: Command, io: InspectIO = {}): void {
  const inspect = withOptions(
    program
      .command('inspect')
      .description('diagnose TIME_WAIT, CLOSE_WAIT, orphans, listen queues and keepalive on this Linux host (its real sockets)'),
  );
  const act = (view: View, defaultInterval: number) => async (_o: InspectOpts, cmd: Command): Promise<void> => {
    const merged: InspectOpts = cmd === inspect ? inspect.opts() : { ...inspect.opts(), ...cmd.opts() };
    try {
      await run(view, merged, defaultInterval, io);
    } catch (e) {
      if (e instanceof InspectUsageError) cmd.error(`linger: ${e.message}`, { exitCode: 2, code: 'linger.usage' });
      throw e;
    }
  };
  inspect.action(act('full', 0));
  const sub: [string, View, number, string][] = [
    ['summary', 'summary', 0, 'sockets per state with the top remote addresses, local ports and processes'],
    ['time-wait', 'time-wait', 1, 'TIME_WAIT per destination, creation rate (two samples, --interval 1s) against the port range'],
    ['close-wait', 'close-wait', 0, 'CLOSE_WAIT per process and peer; ages need --watch (tracked by inode)'],
    ['orphans', 'orphans', 1, 'orphans, FIN_WAIT2, SYN_RECV, listen queues, reset and abort counters with deltas'],
    ['keepalive', 'keepalive', 0, 'keepalive timers; --idle-timeout 350s checks them against a middlebox'],
  ];
  for (const [name, view, interval, description] of sub) {
    withOptions(inspect.command(name).description(description)).action(act(view, interval));
  }
}
