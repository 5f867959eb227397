// Smoke runs of every benchmark at tiny sizes, so the suite does not rot. They assert what each
// run must have done (bytes arrived, lifecycles completed, entries made, probes sent), never how
// fast: timing lives in `npm run bench`.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { keepaliveIdle, lingerBulk, lingerChurn, lingerLossy, lingerPingpong, lingerScale, nodeBulk, nodeChurn, nodePingpong, wheelOps } from '../../src/bench/cases.ts';

test('bulk: 4 MiB arrive over linger at MTU 1500 and 65535, and over Node net', async () => {
  for (const mtu of [1500, 65535]) assert.ok(lingerBulk(4 << 20, mtu) > 0);
  assert.ok((await nodeBulk(4 << 20)) > 0);
});

test('churn: 300 lifecycles leave exactly 300 TIME_WAIT entries on the server (it closes first)', async () => {
  const r = lingerChurn(300, 50);
  assert.equal(r.tw, 300);
  assert.ok((await nodeChurn(100, 10)) > 0);
});

test('pingpong: 1000 round trips on linger and on Node net', async () => {
  assert.ok(lingerPingpong(1000) > 0);
  assert.ok((await nodePingpong(1000)) > 0);
});

test('scale: 2000 established connections, then 2000 TIME_WAIT entries; memory figures are positive', () => {
  const r = lingerScale(2000);
  assert.ok(r.perSocket > 0 && r.perTimeWait > 0, JSON.stringify(r));
});

test('timers: the wheel takes arm/cancel operations; 2 h of idle sends one keepalive probe per connection', () => {
  assert.ok(wheelOps(10_000, 100_000) > 0);
  // tcp_keepalive_time 7200 s: exactly one probe each within 2 h (answered, so no second one).
  const k = keepaliveIdle(500, 2);
  assert.equal(k.probes, 500);
});

test('lossy: 300 kB cross a 1 % loss, 20 ms RTT link; goodput and the Mathis estimate are reported', () => {
  const r = lingerLossy(300_000, 20, 0.01);
  assert.ok(r.goodputMbit > 0);
  assert.equal(r.mathisMbit.toFixed(3), (((1448 * 8) / 0.02) * Math.sqrt(1.5) / 0.1 / 1e6).toFixed(3));
});

test('linger bench: unknown names are refused with a message and a non-zero exit', () => {
  const r = spawnSync(process.execPath, ['bin/linger.mjs', 'bench', 'no-such'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /invalid|Allowed choices/i);
});
