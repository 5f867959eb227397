#!/usr/bin/env node
// Makes a fresh clone runnable: installs npm packages (npm ci) when node_modules is missing or
// older than package-lock.json, and, with --debian, the Debian packages the tests use.
// devDependencies always: a dev checkout runs the sources through tsx and builds the UI with Vite,
// even where NODE_ENV=production or an npm config would leave them out.
import { existsSync, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) { console.error(`ensure-deps: ${cmd} ${args.join(' ')} failed`); process.exit(r.status ?? 1); }
}
const stale = !existsSync('node_modules/.package-lock.json') ||
  statSync('node_modules/.package-lock.json').mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) run('npm', ['ci', '--include=dev', '--no-audit', '--no-fund']);
if (process.argv.includes('--debian')) run('bash', ['scripts/install-debian-deps.sh']);
