#!/usr/bin/env node
// The linger CLI. What it runs depends on one thing, whether src/ is beside it:
// - a dev checkout has src/: the TypeScript sources run through tsx (a devDependency), so an edit
//   needs no build, and a stale dist/ left by `npm pack` is never run by mistake;
// - the installed package has no src/ (package.json "files" ships dist/ and bin/ only): the
//   JavaScript compiled into dist/ at pack time runs on plain node, with no tsx or TypeScript.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
const compiled = new URL('../dist/cli/main.js', import.meta.url);

function die(msg) {
  process.stderr.write(`linger: ${msg}\n`);
  process.exit(1);
}

let entry;
if (existsSync(source)) {
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch (e) {
    if (e.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    die('this is a dev checkout (src/ is here) and tsx is not installed: run `npm install` (devDependencies included)');
  }
  tsx.register();
  entry = source;
} else if (existsSync(compiled)) {
  entry = compiled;
} else {
  die(`neither ${source.pathname} (dev checkout) nor ${compiled.pathname} (package) exists: a package must be packed with \`npm pack\`, which builds dist/`);
}

// `linger ... | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
