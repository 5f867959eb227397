// Every input kept under test/fuzz/corpus/<target>/ (the seeds the fuzzer starts from and every
// case it found) replayed through its target: none may be a finding again. A crash found by
// `npm run fuzz` is saved there as crash-*, fixed, and stays here as a regression test.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DrillSyntaxError } from '../../src/drill/lexer.ts';
import { Finding, TARGETS, cliArgs, drillError } from './targets.ts';

const CORPUS = new URL('./corpus/', import.meta.url);

for (const [name, target] of Object.entries(TARGETS)) {
  test(`fuzz corpus ${name}: every kept input passes its target`, async () => {
    const dir = new URL(`${name}/`, CORPUS);
    const files = readdirSync(dir).sort();
    assert.ok(files.length > 0, `no corpus for ${name}`);
    if (name === 'cli') {
      // In a process of its own: the target swaps process.stdout while main() runs.
      const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./replay.ts', import.meta.url)), name, ...files.map((f) => fileURLToPath(new URL(f, dir)))], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`replay cli: ${files.length} inputs, 0 findings`));
      return;
    }
    for (const f of files) {
      const data = new Uint8Array(readFileSync(new URL(f, dir)));
      await assert.doesNotReject(async () => target(data), `${name}/${f}`);
    }
  });
}

test('the checks can fail: an undocumented exception or an unclear syntax error is a finding', () => {
  assert.throws(() => drillError('parse', new TypeError('x is undefined'), 'a\n'), Finding);
  assert.throws(() => drillError('parse', new DrillSyntaxError(9, 1, 'bad'), 'a\n'), Finding, 'line past the end');
  assert.throws(() => drillError('parse', new DrillSyntaxError(1, 1, ' '), 'a\n'), Finding, 'no detail');
  assert.doesNotThrow(() => drillError('parse', new DrillSyntaxError(1, 2, 'expected a number'), 'a\n'));
});

test('cli target: the first byte picks the command, the rest are words; nothing that writes, listens or needs the kernel', () => {
  const enc = (cmd: number, s: string) => new Uint8Array([cmd, ...new TextEncoder().encode(s)]);
  assert.deepEqual(cliArgs(enc(2, 'x\n--seed\n7')), ['lab', 'run', 'x', '--seed', '7']);
  assert.deepEqual(cliArgs(enc(3, 'a.pkt\n--kernel\n--both\n--pcap=f\n--jobs\n2')), ['drill', 'a.pkt', '2']);
  assert.deepEqual(cliArgs(enc(3, 'test\nsrc')), ['drill'], 'existing folders are never arguments');
});
