// npm run soak [-- --quick] [--from-seed N] [--only property|segments|lab] [--count N]
//   [--scenario ID] [--schedules N] [--segments N] [--lab-seeds N] [--workers N] [--unit-timeout S]
// The long run (not part of npm test): (a) the transfer property over 100,000 schedules, (b) the
// segment fuzzer over 10^7 segments, (c) every lab scenario under many seeds, each run checked
// against src/lab/invariants.ts. Work is spread over child processes (both cores). Everything is
// numbered by seed, so a run resumes with --from-seed; each failure prints its seed and the one
// line that reproduces it. The last line is always `soak: N schedules, M segments, F failures`.
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { CATALOGUE } from '../src/lab/runner.ts';
import '../src/lab/node/index.ts'; // registers the Node-run scenarios in CATALOGUE
import { SEGMENT_CHUNK, type Unit, type UnitFailure, type UnitResult } from './soak-worker.ts';

type Part = 'property' | 'segments' | 'lab';
const PARTS: Part[] = ['property', 'segments', 'lab'];

function usage(msg: string): never {
  process.stderr.write(`soak: ${msg}\n`);
  console.log('soak: 0 schedules, 0 segments, 1 failures');
  process.exit(2);
}

function parseArgs(argv: string[]) {
  const o = { quick: false, from: 1, only: null as Part | null, count: null as number | null, scenario: null as string | null, schedules: null as number | null, segments: null as number | null, labSeeds: null as number | null, workers: Math.max(1, Math.min(2, availableParallelism())), unitTimeoutS: 300 };
  const int = (name: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < min) usage(`${name} takes an integer >= ${min}, got ${v === undefined ? 'nothing' : `"${v}"`}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const v = (): string | undefined => argv[++i];
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--from-seed': o.from = int(a, v(), 1); break;
      case '--only': { const p = v(); if (!PARTS.includes(p as Part)) usage(`--only takes one of ${PARTS.join(', ')}`); o.only = p as Part; break; }
      case '--count': o.count = int(a, v(), 1); break;
      case '--scenario': { const s = v(); if (!s || !CATALOGUE.some((x) => x.id === s)) usage(`--scenario: unknown scenario "${s ?? ''}"`); o.scenario = s; break; }
      case '--schedules': o.schedules = int(a, v(), 0); break;
      case '--segments': o.segments = int(a, v(), 0); break;
      case '--lab-seeds': o.labSeeds = int(a, v(), 0); break;
      case '--workers': o.workers = int(a, v(), 1); break;
      case '--unit-timeout': o.unitTimeoutS = int(a, v(), 1); break;
      default: usage(`unknown argument "${a}"`);
    }
  }
  return o;
}

const o = parseArgs(process.argv.slice(2));
// Sizes: the full soak, or --quick (under 4 minutes on 2 shared cores).
let schedules = o.schedules ?? (o.quick ? 10_000 : 100_000);
let segmentChunks = Math.ceil((o.segments ?? (o.quick ? 1_000_000 : 10_000_000)) / SEGMENT_CHUNK);
let labSeeds = o.labSeeds ?? (o.quick ? 2 : 50);
if (o.only) {
  if (o.only !== 'property') schedules = 0;
  if (o.only !== 'segments') segmentChunks = 0;
  if (o.only !== 'lab') labSeeds = 0;
}
if (o.count !== null) {
  if (!o.only) usage('--count goes with --only');
  if (o.only === 'property') schedules = o.count;
  if (o.only === 'segments') segmentChunks = o.count;
  if (o.only === 'lab') labSeeds = o.count;
}
const scenarios = o.scenario ? [o.scenario] : CATALOGUE.map((s) => s.id);
const from = o.from;

// The work, in units: property runs in blocks of 200 schedules, segments in chunks, lab one run each.
const units: Unit[] = [];
let id = 0;
const PROPERTY_BLOCK = 200;
for (let s = from; s < from + schedules; s += PROPERTY_BLOCK) units.push({ id: id++, part: 'property', seed: s, count: Math.min(PROPERTY_BLOCK, from + schedules - s) });
for (let s = from; s < from + segmentChunks; s++) units.push({ id: id++, part: 'segments', seed: s, count: 1 });
for (let s = from; s < from + labSeeds; s++) for (const sc of scenarios) units.push({ id: id++, part: 'lab', seed: s, scenario: sc });
// Interleave the parts so that progress shows on all three and a slow part does not come last alone.
units.sort((a, b) => (a.id % 7) - (b.id % 7) || a.id - b.id);

const repro = (part: Part, f: UnitFailure): string => {
  if (part === 'property') return `npm run soak -- --only property --from-seed ${f.seed} --count 1   (or LINGER_PROPERTY_RUNS=1 LINGER_PROPERTY_SEED=${f.seed} LINGER_PROPERTY_TRACE=1 node --import tsx --test test/property/transfer.test.ts)`;
  if (part === 'segments') return `npm run soak -- --only segments --from-seed ${f.seed} --count 1`;
  return `npm run soak -- --only lab --scenario ${f.scenario} --from-seed ${f.seed} --count 1   (timeline: npx linger lab run ${f.scenario} --seed ${f.seed})`;
};

const totals = { schedules: 0, segments: 0, decodable: 0, answered: 0, labRuns: 0, outcomes: {} as Record<string, number> };
const failures: { part: Part; f: UnitFailure }[] = [];
const notes = new Set<string>();
const done = { property: 0, segments: 0, lab: 0 };
const planned = { property: schedules, segments: segmentChunks * SEGMENT_CHUNK, lab: labSeeds * scenarios.length };
const started = Date.now();
const tty = process.stdout.isTTY === true;
let lastPlain = 0;

function progress(final = false): void {
  const total = units.length;
  const finished = finishedUnits;
  const pct = total ? finished / total : 1;
  const secs = (Date.now() - started) / 1000;
  const eta = finished ? Math.round((secs / finished) * (total - finished)) : 0;
  const text = `schedules ${done.property}/${planned.property}, segments ${done.segments}/${planned.segments}, lab runs ${done.lab}/${planned.lab}, failures ${failures.length}, ${Math.round(secs)} s${final ? '' : `, ~${eta} s left`}`;
  if (tty) {
    const width = 24;
    const bar = '#'.repeat(Math.round(pct * width)).padEnd(width, '.');
    process.stdout.write(`\r[${bar}] ${(pct * 100).toFixed(0).padStart(3)}% ${text}\x1b[K${final ? '\n' : ''}`);
  } else if (final || Date.now() - lastPlain > 15_000) {
    lastPlain = Date.now();
    console.log(`soak progress: ${(pct * 100).toFixed(0)}% ${text}`);
  }
}

function report(part: Part, f: UnitFailure): void {
  failures.push({ part, f });
  const line = `FAIL ${part}${f.scenario ? ` ${f.scenario}` : ''} seed ${f.seed}: ${f.message}\n  reproduce: ${repro(part, f)}`;
  if (tty) process.stdout.write('\r\x1b[K');
  console.log(line);
}

function account(u: Unit, r: UnitResult): void {
  for (const f of r.failures) report(u.part, f);
  for (const n of r.notes ?? []) notes.add(n);
  if (u.part === 'property') {
    done.property += u.count;
    totals.schedules += u.count;
    for (const [k, v] of Object.entries(r.outcomes ?? {})) totals.outcomes[k] = (totals.outcomes[k] ?? 0) + v;
  } else if (u.part === 'segments') {
    done.segments += r.segments ?? 0;
    totals.segments += r.segments ?? 0;
    totals.decodable += r.decodable ?? 0;
    totals.answered += r.answered ?? 0;
  } else {
    done.lab++;
    totals.labRuns++;
  }
}

const workerFile = fileURLToPath(new URL('./soak-worker.ts', import.meta.url));
let next = 0;
let finishedUnits = 0;

function spawnWorker(): Promise<void> {
  return new Promise((resolve) => {
    let child: ChildProcess;
    let current: Unit | null = null;
    let timer: NodeJS.Timeout | null = null;
    const start = () => {
      child = fork(workerFile, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      child.on('message', (r: UnitResult) => {
        if (timer) clearTimeout(timer);
        account(current!, r);
        finishedUnits++;
        progress();
        feed();
      });
      child.on('exit', (code, signal) => {
        if (current && !timedOut) {
          // The worker died in the middle of a unit: that unit fails, a new worker goes on.
          const u = current;
          report(u.part, { seed: u.seed, scenario: u.part === 'lab' ? u.scenario : undefined, message: `the worker died (exit ${code}, signal ${signal})` });
          finishedUnits++;
          current = null;
          start();
          feed();
        }
      });
    };
    let timedOut = false;
    const feed = () => {
      if (next >= units.length) {
        current = null;
        child.removeAllListeners('exit');
        child.kill();
        resolve();
        return;
      }
      current = units[next++]!;
      timedOut = false;
      const u = current;
      timer = setTimeout(() => {
        // A unit that does not finish is a failure (a livelock, an endless loop): say which, go on.
        timedOut = true;
        child.removeAllListeners();
        child.kill('SIGKILL');
        report(u.part, { seed: u.seed, scenario: u.part === 'lab' ? u.scenario : undefined, message: `did not finish within ${o.unitTimeoutS} s of real time${u.part === 'property' ? ` (schedules ${u.seed}..${u.seed + u.count - 1})` : ''}` });
        finishedUnits++;
        start();
        feed();
      }, o.unitTimeoutS * 1000);
      child.send(u);
    };
    start();
    feed();
  });
}

const range = (n: number) => (n > 0 ? `${from}..${from + n - 1}` : 'none');
console.log(`soak: ${o.quick ? 'quick' : 'full'} run on ${o.workers} worker(s): property seeds ${range(schedules)}, segment chunks ${range(segmentChunks)} (${SEGMENT_CHUNK} segments each), lab seeds ${range(labSeeds)} x ${scenarios.length} scenario(s)`);
await Promise.all(Array.from({ length: Math.min(o.workers, Math.max(1, units.length)) }, () => spawnWorker()));
progress(true);

const secs = ((Date.now() - started) / 1000).toFixed(1);
console.log('');
console.log(`summary (${secs} s):`);
console.log(`  property: ${totals.schedules} schedules, seeds ${range(schedules)}; outcomes ${JSON.stringify(totals.outcomes)}`);
console.log(`  segments: ${totals.segments} segments in chunks ${range(segmentChunks)}; decodable ${totals.decodable}, answered ${totals.answered}`);
console.log(`  lab: ${totals.labRuns} runs, seeds ${range(labSeeds)} of ${scenarios.length} scenario(s)`);
for (const n of notes) console.log(`  note: ${n}`);
// The fuzz must reach the state machines, as in test/fuzz/segments.test.ts.
if (totals.segments > 0 && (totals.decodable <= totals.segments / 2 || totals.answered <= totals.segments / 10)) {
  report('segments', { seed: from, message: `the fuzz did not reach the state machines: decodable ${totals.decodable}, answered ${totals.answered} of ${totals.segments}` });
}
if (schedules > 0) {
  const other = (totals.outcomes['connect-failed'] ?? 0) + (totals.outcomes['gave-up'] ?? 0) + (totals.outcomes['progressing'] ?? 0);
  if (other > Math.ceil(totals.schedules * 0.05)) report('property', { seed: from, message: `${other} of ${totals.schedules} schedules did not finish cleanly (more than 5 %)` });
}
console.log(`  covered seeds ${from}..${from + Math.max(schedules, segmentChunks, labSeeds) - 1}; resume with --from-seed ${from + Math.max(schedules, segmentChunks, labSeeds)}`);
if (failures.length) {
  console.log(`  failures (${failures.length}):`);
  for (const { part, f } of failures.slice(0, 50)) console.log(`    ${part}${f.scenario ? ` ${f.scenario}` : ''} seed ${f.seed}: ${repro(part, f)}`);
}
console.log(`soak: ${totals.schedules} schedules, ${totals.segments} segments, ${failures.length} failures`);
process.exit(failures.length ? 1 : 0);
