// `linger lab list|explain|run|serve` and `linger tour`: the lifecycle scenarios on the simulated
// network, as a timeline, JSON, a pcap, a sequence diagram or the web UI.

import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { CATALOGUE as SCENARIOS } from '../lab/runner.ts';
import { nodeEnv } from '../lab/node/index.ts';
import { COMMON_PARAMS, findScenario, runScenario } from '../lab/runner.ts';
import { toJson, toPcap } from '../lab/export.ts';
import { toTimeline } from '../lab/render.ts';
import { renderSvg } from '../lab/svg.ts';
import { renderAscii } from '../lab/ascii.ts';
import { viewOfRun } from '../lab/view.ts';

/** A bad option value: main prints the message and exits 2. */
export class LabUsageError extends Error {}

const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');

function parseSet(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new LabUsageError(`--set takes name=value, got "${v}"`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new LabUsageError(`--seed takes an integer 0..4294967295, got "${v}"`);
  return n;
}

function parsePositive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new LabUsageError(`${flag} takes a positive integer, got "${v}"`);
  return n;
}

function parseNonNegative(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new LabUsageError(`${flag} takes a number >= 0, got "${v}"`);
  return n;
}

/** Colour on a terminal, unless NO_COLOR is set; FORCE_COLOR forces it. */
function useColor(): boolean {
  if (process.env['NO_COLOR']) return false;
  if (process.env['FORCE_COLOR'] && process.env['FORCE_COLOR'] !== '0') return true;
  return process.stdout.isTTY === true;
}

export function registerLab(program: Command): void {
  const lab = program.command('lab').description('run lifecycle scenarios on the simulated network');
  registerList(lab);
  registerExplain(lab);
  registerRun(lab);
  registerServe(lab);
}

/** `lab list`: one line per scenario (topic, id, title), or JSON. */
function registerList(lab: Command): void {
  lab
    .command('list')
    .description('list the scenarios')
    .addOption(new Option('--topic <letter>', 'only one topic (A-E as in seed-topics.md; F: attacks and limits)').choices(['A', 'B', 'C', 'D', 'E', 'F']))
    .option('--json', 'print JSON')
    .action((o: { topic?: string; json?: boolean }) => {
      const list = SCENARIOS.filter((s) => !o.topic || s.topic === o.topic);
      if (o.json) out(JSON.stringify(list.map((s) => ({ id: s.id, title: s.title, topic: s.topic, question: s.question, params: s.params })), null, 2));
      else for (const s of list) out(`${s.topic}  ${s.id.padEnd(26)} ${s.title}`);
    });
}

/** `lab explain <id>`: what a scenario shows, its question, what to notice, its parameters. */
function registerExplain(lab: Command): void {
  lab
    .command('explain <id>')
    .description('what a scenario shows and which parameters it takes')
    .action((id: string) => {
      const s = findScenario(id);
      out(`${s.id} (topic ${s.topic}): ${s.title}\n\n${s.explain}\n\nQuestion: ${s.question}\n\nWhat to notice:\n${s.notice.map((n) => `  - ${n}`).join('\n')}\n\nParameters (--set name=value):\n${[...s.params, ...COMMON_PARAMS].map((p) => `  ${p.name.padEnd(22)} ${p.description} (default ${p.default}, ${p.min}..${p.max})`).join('\n')}`);
    });
}

interface RunOptions {
  json?: boolean;
  pcap?: string;
  seed: string;
  set: string[];
  maxLines?: string;
  diagram?: boolean;
  svg?: string;
  maxArrows?: string;
  fromMs?: string;
  width?: string;
}

/** `lab run <id>`: runs a scenario; the timeline, JSON or a text diagram on stdout, pcap and SVG to files. */
function registerRun(lab: Command): void {
  lab
    .command('run <id>')
    .description('run a scenario and print its timeline (or JSON)')
    .option('--json', 'print one JSON object: scenario, seed, events, counters, sockets')
    .option('--pcap <file>', 'write the packets to a pcap file (LINKTYPE_RAW) for Wireshark')
    .option('--seed <n>', 'seed of the simulated network and hosts', '1')
    .option('--set <name=value...>', 'set a scenario parameter', [])
    .option('--max-lines <n>', 'cut the timeline after this many lines')
    .option('--diagram', 'print a sequence diagram (text) instead of the timeline')
    .option('--svg <file>', 'write the sequence diagram as SVG')
    .option('--max-arrows <n>', 'diagrams: draw at most this many segments (default: 200 text, 400 SVG)')
    .option('--from-ms <ms>', 'diagrams: start at this virtual time')
    .option('--width <cols>', 'text diagram width (default: the terminal\'s, else 132)')
    .action(runAction);
}

async function runAction(id: string, o: RunOptions): Promise<void> {
  const maxArrows = o.maxArrows !== undefined ? parsePositive('--max-arrows', o.maxArrows) : undefined;
  const fromUs = o.fromMs !== undefined ? Math.round(parseNonNegative('--from-ms', o.fromMs) * 1000) : undefined;
  const width = o.width !== undefined ? parsePositive('--width', o.width) : undefined;
  const maxLines = o.maxLines !== undefined ? parsePositive('--max-lines', o.maxLines) : undefined;
  const run = await runScenario(id, { seed: parseSeed(o.seed), set: parseSet(o.set), env: nodeEnv() });
  if (o.pcap) writeFileSync(o.pcap, toPcap(run));
  if (o.svg) {
    const r = renderSvg(viewOfRun(run), { maxArrows: maxArrows ?? 400, fromUs });
    writeFileSync(o.svg, r.svg);
    if (!r.layout.window.atEnd) process.stderr.write(`linger: ${o.svg}: the first ${r.layout.window.shown} of ${r.layout.window.total} segments (--max-arrows, --from-ms for more)\n`);
  }
  const color = useColor();
  if (o.json) out(JSON.stringify(toJson(run)));
  else if (o.diagram) out(renderAscii(viewOfRun(run), { maxArrows: maxArrows ?? 200, fromUs, color, width: width ?? (process.stdout.isTTY ? process.stdout.columns : undefined) }));
  else out(toTimeline(run, { maxLines, color }));
}

/** `lab serve`: the web UI on 127.0.0.1 (in a dev checkout built first when missing or stale) until SIGINT/SIGTERM. */
function registerServe(lab: Command): void {
  lab
    .command('serve')
    .description('serve the lab\'s web UI on 127.0.0.1 (a dev checkout builds it first when missing or stale; the package ships it prebuilt)')
    .option('--port <n>', 'TCP port', '8737')
    .option('--rebuild', 'build the web UI even if it looks current (dev checkout only)')
    .action(serveAction);
}

async function serveAction(o: { port: string; rebuild?: boolean }): Promise<void> {
  const port = Number(o.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new LabUsageError(`--port takes 0..65535, got "${o.port}"`);
  const { webUiDir, serveStatic } = await import('./web.ts');
  const dir = await webUiDir({ rebuild: o.rebuild, log: (s) => process.stderr.write(s + '\n') });
  let server;
  try {
    server = await serveStatic(dir, port);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new LabUsageError(`port ${port} is in use on 127.0.0.1; pick another with --port N`);
    throw e;
  }
  const addr = server.address();
  const actual = typeof addr === 'object' && addr ? addr.port : port;
  out(`linger lab: serving the web UI at http://127.0.0.1:${actual}/  (Ctrl-C stops it)`);
  await new Promise<void>((done) => {
    const stop = () => {
      server.close(() => done());
      server.closeAllConnections();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

const TOUR = ['handshake-close', 'close-unread-data', 'linger-zero', 'simultaneous-close', 'keepalive-dead-peer'];

/** `linger tour`: a few scenarios' explanations and timelines in a row. */
export function registerTour(program: Command): void {
  program
    .command('tour')
    .description('a short tour of the lifecycle on the simulated network, in the terminal')
    .action(async () => {
      out('linger: Linux\'s TCP connection lifecycle, simulated in virtual time and shown segment by segment.\n');
      for (const id of TOUR) {
        const s = findScenario(id);
        out(`\n${'='.repeat(100)}\n${s.title}\n${'-'.repeat(100)}\n${s.explain}\n`);
        out(toTimeline(await runScenario(id, { env: nodeEnv() }), { maxLines: 60, color: useColor() }));
      }
      out(`\nMore: npx linger lab list; npx linger lab explain <id>; npx linger lab run <id> [--json] [--pcap FILE] [--set k=v]`);
    });
}
