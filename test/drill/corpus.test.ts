// The whole corpus (test/drill/**/*.pkt) against linger, in virtual time; and the CLI around it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expandPaths, runFiles } from '../../src/drill/files.ts';
import { formatResult } from '../../src/drill/report.ts';

const { files } = expandPaths(['test/drill']);

test('the corpus: at least 200 scripts, each with a header comment giving its rule and source', () => {
  assert.ok(files.length >= 200, `${files.length} scripts`);
  for (const f of files) {
    let head = readFileSync(f, 'utf8').split('\n');
    // A script the kernel cannot run says why first (drill --kernel reports it so).
    if (/^\/\/ linger-only: \S/.test(head[0]!)) head = head.slice(1);
    assert.match(head[0]!, /^\/\/ \S/, `${f}: first line states the rule`);
    assert.match(head[1]!, /^\/\/ Source: \S/, `${f}: second line gives the source`);
  }
});

test('the corpus: every script passes against linger', () => {
  const t0 = performance.now();
  const results = runFiles(files);
  const bad = results.filter((r) => r.status !== 'ok');
  assert.equal(bad.length, 0, bad.map((r) => formatResult(r)).join('\n'));
  // Virtual time: hours of TCP timers in seconds of CPU.
  const virtual = results.reduce((a, r) => a + r.virtualUs, 0) / 1e6;
  assert.ok(virtual > 10_000, `${virtual} s of virtual time`);
  assert.ok(performance.now() - t0 < 60_000, 'the corpus runs in well under a minute');
});

const cli = (args: string[]) => spawnSync(process.execPath, ['bin/linger.mjs', 'drill', ...args], { encoding: 'utf8' });

test('linger drill: ok exits 0; a failing script exits 1 with its report; --json and --tap', () => {
  const dir = mkdtempSync(join(tmpdir(), 'drill-'));
  const good = 'test/drill/closed/syn-gets-rst-ack.pkt';
  const bad = join(dir, 'bad.pkt');
  writeFileSync(bad, '0 < S 0:0(0) win 1000\n+0 > R. 0:0(0) ack 2 win 0\n');
  const unsup = join(dir, 'unsup.pkt');
  writeFileSync(unsup, '0 `sysctl -q net.ipv4.tcp_min_tso_segs=2`\n');
  const a = cli([good]);
  assert.equal(a.status, 0, a.stderr);
  assert.match(a.stdout, /^ok {10}test\/drill\/closed\/syn-gets-rst-ack\.pkt/);
  const b = cli([good, bad, unsup]);
  assert.equal(b.status, 1);
  assert.match(b.stdout, /FAIL {8}\S+bad\.pkt:2:1: outbound packet does not match the script/);
  assert.match(b.stdout, /expected {2}0\.000 > R\. 0:0\(0\) ack 2 win 0\n {4}actual {4}0\.000 > R\. 0:0\(0\) ack 1 win 0/);
  assert.match(b.stdout, /UNSUPPORTED \S+unsup\.pkt: uses what linger does not implement:\n {4}line 1: sysctl net\.ipv4\.tcp_min_tso_segs is not modelled by linger/);
  assert.match(b.stdout, /drill: 3 scripts: 1 ok, 1 FAIL, 1 UNSUPPORTED/);
  const j = cli(['--json', good, bad]);
  assert.equal(j.status, 1);
  const o = JSON.parse(j.stdout) as { summary: { ok: number; fail: number }; scripts: Array<{ status: string }> };
  assert.deepEqual([o.summary.ok, o.summary.fail, o.scripts.map((s) => s.status)], [1, 1, ['ok', 'FAIL']]);
  const t = cli(['--tap', good]);
  assert.equal(t.status, 0);
  assert.equal(t.stdout.split('\n').slice(0, 3).join('|'), 'TAP version 13|1..1|ok 1 - test/drill/closed/syn-gets-rst-ack.pkt');
  const v = cli(['--verbose', good]);
  assert.match(v.stdout, / {9}0\.000 {2}> R\. 0:0\(0\) ack 1 win 0 {3}\[line 5\]/);
});

test('linger drill: bad arguments print a message and exit 2', () => {
  for (const args of [[], ['no/such/file.pkt'], ['--ip-version', 'ipv5', 'test/drill'], ['--json', '--tap', 'test/drill'], ['--flag', 'frobnicate=1', 'test/drill'], ['-D', '1BAD=2', 'test/drill']]) {
    const r = cli(args);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.ok(r.stderr.trim().length > 0, `${args.join(' ')}: a message on stderr`);
  }
});
