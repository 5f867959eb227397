// Behaviour is pinned: every lab scenario's JSON (exactly what `linger lab run <id> --json`
// prints) and pcap, and every drill corpus script's result and trace, against test/golden/*.
// A difference is a behaviour change: if it is intended, `npm run golden:write` and say why in
// the commit message.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CATALOGUE } from '../../src/lab/runner.ts';
import { DRILL_FILE, LAB_FILE, PCAP_FILE, drillLines, labLines, readLines } from './compute.ts';

const differing = (want: string[], got: string[]): string[] => {
  const w = new Set(want);
  return got.filter((l) => !w.has(l)).map((l) => l.split(/\s+/).at(-1)!);
};

test('golden: every scenario in the catalogue has its line, in lab list order', async () => {
  await import('../../src/lab/node/index.ts');
  assert.deepEqual(readLines(LAB_FILE).map((l) => l.split(/\s+/)[1]), CATALOGUE.map((s) => s.id));
  assert.ok(CATALOGUE.length >= 39, `${CATALOGUE.length} scenarios`);
});

test('golden: lab JSON and pcap of every scenario unchanged', async () => {
  const { json, pcap } = await labLines();
  assert.deepEqual(differing(readLines(LAB_FILE), json), [], 'scenarios whose JSON changed');
  assert.deepEqual(differing(readLines(PCAP_FILE), pcap), [], 'scenarios whose pcap changed');
});

test('golden: every drill corpus script has the same result, event count, virtual time and trace', () => {
  const got = drillLines();
  assert.equal(got.length, readLines(DRILL_FILE).length, 'number of corpus scripts');
  assert.deepEqual(differing(readLines(DRILL_FILE), got), [], 'scripts whose result or trace changed');
});
