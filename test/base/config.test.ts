// The host configuration: Linux sysctls and linger's model knobs are separate tables, every
// accepted sysctl is honoured, and the ones linger fixes are refused at any other value.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { APPROXIMATED_SYSCTLS, ConfigError, FIXED_SYSCTLS, applySysctl, defaultConfig, knownSysctls } from '../../src/base/config.ts';
import { planShell } from '../../src/drill/shell.ts';

test('config: sysctls by their Linux names; model knobs are not sysctls', () => {
  const cfg = defaultConfig();
  applySysctl(cfg, 'net.ipv4.tcp_fin_timeout', '5');
  applySysctl(cfg, 'net.core.somaxconn', 16);
  applySysctl(cfg, 'net.ipv4.tcp_rmem', '4096 65536 1048576');
  assert.deepEqual([cfg.tcp_fin_timeout, cfg.somaxconn, cfg.tcp_rmem], [5, 16, [4096, 65536, 1048576]]);
  for (const knob of ['lb_time_wait_timeout_ms', 'tcp_initial_cwnd', 'mtu', 'hz', 'tcp_rto_max_us']) {
    assert.throws(() => applySysctl(cfg, `net.ipv4.${knob}`, '1'), (e: unknown) => e instanceof ConfigError && e.message === `unknown sysctl net.ipv4.${knob}`);
  }
  // The prefix must be the sysctl's own.
  assert.throws(() => applySysctl(cfg, 'net.core.tcp_fin_timeout', '1'), ConfigError);
  assert.throws(() => applySysctl(cfg, 'net.ipv4.somaxconn', '1'), ConfigError);
  assert.throws(() => applySysctl(cfg, 'net.ipv4.tcp_rmem', '1 2'), /takes 3 integers/);
  assert.throws(() => applySysctl(cfg, 'net.ipv4.tcp_fin_timeout', 'x'), /takes an integer/);
  assert.equal(defaultConfig().lb_time_wait_timeout_ms, 60_000, "TIME_WAIT's default is Linux's TCP_TIMEWAIT_LEN");
  assert.equal(defaultConfig().tcp_rmem === defaultConfig().tcp_rmem, false, 'each config owns its arrays');
});

test('config: a sysctl linger fixes is accepted only at its value; one it approximates warns; neither is a config field', () => {
  const known = new Set(knownSysctls());
  for (const [name, f] of Object.entries(FIXED_SYSCTLS)) {
    assert.equal(known.has(name), false, name);
    assert.deepEqual(planShell(`sysctl -q ${name}=${f.value}`), { ok: true, writes: [], routes: [], warnings: [] }, name);
    const other = f.value === '0' ? '1' : '0';
    assert.deepEqual(planShell(`sysctl -q ${name}=${other}`), { ok: false, reason: `sysctl ${name}=${other}: only ${f.value} is supported (${f.why})` });
  }
  assert.ok(!('tcp_retries1' in defaultConfig()) && !('tcp_no_metrics_save' in defaultConfig()));
  for (const [name, a] of Object.entries(APPROXIMATED_SYSCTLS)) {
    assert.equal(known.has(name), false, name);
    assert.deepEqual(planShell(`sysctl -q ${name}=${a.value}`), { ok: true, writes: [], routes: [], warnings: [] }, name);
  }
  // tcp_syncookies is modelled (tcp/syncookies.ts): a real write, Linux's default 1, 0..2.
  assert.equal(defaultConfig().tcp_syncookies, 1);
  assert.deepEqual(planShell('sysctl -q net.ipv4.tcp_syncookies=2'), { ok: true, writes: [{ name: 'net.ipv4.tcp_syncookies', value: '2' }], routes: [], warnings: [] });
  assert.deepEqual(planShell('sysctl -q net.ipv4.tcp_congestion_control=cubic').ok, true);
  assert.deepEqual(planShell('sysctl -q net.ipv4.tcp_syncookies=3'), { ok: false, reason: 'sysctl net.ipv4.tcp_syncookies=3: not a value Linux accepts' });
  assert.deepEqual(planShell('sysctl -q net.ipv4.lb_time_wait_timeout_ms=2000'), { ok: false, reason: 'sysctl net.ipv4.lb_time_wait_timeout_ms is not modelled by linger' });
});
