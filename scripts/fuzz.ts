// npm run fuzz -- <target> [--time S]: coverage-guided fuzzing of one target of
// test/fuzz/targets.ts with Jazzer.js (libFuzzer), starting from test/fuzz/corpus/<target>/.
// New interesting inputs go to that folder; a crashing input is written there as crash-<hash>
// (libFuzzer's -artifact_prefix): fix it, keep the file, and test/fuzz/corpus.test.ts replays it.
// Not part of npm test.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { TARGETS } from '../test/fuzz/targets.ts';

const args = process.argv.slice(2);
const target = args[0];
const usage = (msg: string): never => {
  process.stderr.write(`fuzz: ${msg}\nusage: npm run fuzz -- <${Object.keys(TARGETS).join('|')}> [--time S]\n`);
  process.exit(2);
};
if (!target || !(target in TARGETS)) usage(target ? `no target "${target}"` : 'which target?');
let time = 60;
for (let i = 1; i < args.length; i++) {
  if (args[i] === '--time') {
    const n = Number(args[++i]);
    if (!Number.isSafeInteger(n) || n < 1) usage(`--time takes whole seconds >= 1, got "${args[i] ?? ''}"`);
    time = n;
  } else usage(`unknown argument "${args[i]}"`);
}

// Jazzer.js ships its libFuzzer addon prebuilt; say exactly why when it cannot load here.
const require = createRequire(import.meta.url);
try {
  require('@jazzer.js/fuzzer');
} catch (e) {
  const why = (e as Error).message.split('\n')[0];
  process.stderr.write(`fuzz: Jazzer.js cannot run on this machine: ${why}\n` +
    'fuzz: (@jazzer.js/fuzzer 4.0.0 ships only prebuilt addons, linked against glibc >= 2.38 and libstdc++ GLIBCXX_3.4.32;\n' +
    'fuzz:  the package has no C++ sources to rebuild from.) The corpus is still replayed by test/fuzz/corpus.test.ts.\n');
  process.exit(3);
}

const corpus = fileURLToPath(new URL(`../test/fuzz/corpus/${target}/`, import.meta.url));
const entry = fileURLToPath(new URL('../test/fuzz/jazzer-target.mjs', import.meta.url));
const jazzer = require.resolve('@jazzer.js/core/dist/cli.js');
const r = spawnSync(process.execPath, [jazzer, entry, corpus, '--', `-max_total_time=${time}`, `-artifact_prefix=${corpus}`], {
  stdio: 'inherit',
  env: { ...process.env, LINGER_FUZZ_TARGET: target },
});
process.exit(r.status ?? 1);
