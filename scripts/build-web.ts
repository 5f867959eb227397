// Builds the lab's web UI into web/dist: writes web/generated (the catalogue and, for the
// scenarios that run Node's own HTTP code (`node: true`), their runs with default parameters,
// JSON and pcap), then bundles web/ with Vite. Engine-only scenarios run in the page itself.
// Dev checkout only (Vite is a devDependency): `linger lab serve` from the sources calls
// ensureWebBuilt(); `npm run build` runs this file to prebuild the UI for the package.
//   node --import tsx scripts/build-web.ts [--force]

import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { UserConfig } from 'vite';
import { CATALOGUE, COMMON_PARAMS, runScenario } from '../src/lab/runner.ts';
import { nodeEnv } from '../src/lab/node/index.ts';
import { toPcap } from '../src/lab/export.ts';
import { Recorder, toWebRun, type ScenarioMeta } from '../src/lab/record.ts';

const ROOT = resolve(import.meta.dirname, '..');
const WEB = join(ROOT, 'web');
/** Vite's output (web/vite.config.ts). */
export const WEB_DIST = join(WEB, 'dist');
const GENERATED = join(WEB, 'generated');
const STAMP = join(WEB_DIST, '.linger-build');

/** Every file the build depends on, as (path, size, mtime): its hash says whether dist is current. */
function inputsHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name === 'dist' || name === 'generated' || name.startsWith('.')) continue;
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else h.update(`${relative(ROOT, p)}\0${st.size}\0${st.mtimeMs}\n`);
    }
  };
  walk(join(ROOT, 'src'));
  walk(WEB);
  for (const f of ['package-lock.json', 'scripts/build-web.ts']) {
    const p = join(ROOT, f);
    if (existsSync(p)) h.update(`${f}\0${statSync(p).mtimeMs}\n`);
  }
  return h.digest('hex');
}

export function webIsCurrent(): boolean {
  return existsSync(join(WEB_DIST, 'index.html')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === inputsHash();
}

export function catalogueMeta(): ScenarioMeta[] {
  return CATALOGUE.map((s) => ({
    id: s.id, title: s.title, topic: s.topic, explain: s.explain, question: s.question, notice: s.notice,
    params: [...s.params, ...COMMON_PARAMS], node: s.node === true, topology: s.topology ?? 'pair',
  }));
}

/** Writes web/generated: catalogue.json and runs/<id>.json + .pcap for the Node-only scenarios. */
export async function generateData(log: (s: string) => void = () => {}): Promise<void> {
  rmSync(GENERATED, { recursive: true, force: true });
  mkdirSync(join(GENERATED, 'runs'), { recursive: true });
  const meta = catalogueMeta();
  writeFileSync(join(GENERATED, 'catalogue.json'), JSON.stringify(meta));
  for (const s of meta.filter((m) => m.node)) {
    const t0 = Date.now();
    const rec = new Recorder();
    const run = await runScenario(s.id, { env: nodeEnv(), observe: rec.observe });
    writeFileSync(join(GENERATED, 'runs', `${s.id}.json`), JSON.stringify(toWebRun(run, rec.finish(run))));
    writeFileSync(join(GENERATED, 'runs', `${s.id}.pcap`), toPcap(run));
    log(`  ran ${s.id} with Node's http (${Date.now() - t0} ms)`);
  }
}

/** Builds web/dist: the generated data, then Vite. */
export async function buildWeb(log: (s: string) => void = () => {}): Promise<void> {
  const hash = inputsHash();
  log('linger: building the web UI (web/dist)...');
  await generateData(log);
  const { build } = await import('vite');
  const { default: config } = (await import(pathToFileURL(join(WEB, 'vite.config.ts')).href)) as { default: UserConfig };
  await build({ ...config, configFile: false, logLevel: 'warn' });
  writeFileSync(STAMP, hash + '\n');
  log('linger: web UI built');
}

/** Builds web/dist when it is missing or older than its sources (always with `force`); returns its path. */
export async function ensureWebBuilt(opts: { force?: boolean; log?: (s: string) => void } = {}): Promise<string> {
  if (opts.force || !webIsCurrent()) await buildWeb(opts.log);
  return WEB_DIST;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await ensureWebBuilt({ force: process.argv.includes('--force'), log: (s) => process.stderr.write(s + '\n') });
}
