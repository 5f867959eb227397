#!/usr/bin/env node
// `npm run build` (and `prepack`): the package's dist/.
//   1. tsc -p tsconfig.build.json: src/**/*.ts to ESM JavaScript and .d.ts;
//   2. the files of src/ that are not TypeScript and are read or run at run time (the kernel
//      runner's worker.mjs, the bench's lossy-kernel.py), copied beside the compiled modules;
//   3. the lab's web UI, built by scripts/build-web.ts (Vite) into web/dist, copied to dist/web,
//      which the installed package's `linger lab serve` serves as is.
//   node scripts/build.mjs [--out DIR] [--no-web]    (--out, --no-web: for test/package.test.ts)

import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const argv = process.argv.slice(2);
const outAt = argv.indexOf('--out');
if (outAt >= 0 && !argv[outAt + 1]) fail('--out takes a directory');
const OUT = outAt >= 0 ? resolve(argv[outAt + 1]) : join(ROOT, 'dist');
const withWeb = !argv.includes('--no-web');

function fail(msg) {
  console.error(`build: ${msg}`);
  process.exit(1);
}
function run(args, what) {
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail(`${what} failed (exit ${r.status ?? r.signal})`);
}

rmSync(OUT, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
run([tsc, '-p', 'tsconfig.build.json', '--outDir', OUT], 'tsc');

const assets = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (!name.endsWith('.ts')) assets.push(relative(join(ROOT, 'src'), p));
  }
};
walk(join(ROOT, 'src'));
for (const a of assets) cpSync(join(ROOT, 'src', a), join(OUT, a));

if (withWeb) {
  run(['--import', 'tsx', 'scripts/build-web.ts'], 'the web UI build');
  const ui = join(ROOT, 'web', 'dist');
  if (!existsSync(join(ui, 'index.html'))) fail(`the web UI build left no ${relative(ROOT, ui)}/index.html`);
  cpSync(ui, join(OUT, 'web'), { recursive: true, filter: (src) => !src.endsWith('.linger-build') });
}
console.error(`build: ${relative(ROOT, OUT) || OUT} (${assets.length} assets${withWeb ? ', the web UI' : ''})`);
