// The property harness tells "still making progress when the budget ended" from "stuck".
// Seeds 7789 and 20462 (schedule N is seed N, as LINGER_PROPERTY_SEED numbers them) deliver for
// 40 minutes and more under heavy loss: the SYN-ACK's timestamp echo of an earlier SYN gives a
// huge first RTT sample (tcp_ack_update_rtt), the RTO sits at TCP_RTO_MAX (120 s), and every
// loss then costs two minutes. They used to be reported as failures when the one-hour budget
// cut them; now a cut run that is still delivering is 'progressing', and a stall is a failure.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../src/base/config.ts';
import { runSchedule, stallLimitUs, stalled } from './schedule.ts';

test('stall limit: first RTO at TCP_RTO_MAX + tcp_retries2 budget (924.6 s) + TCP_RTO_MAX = 1164.6 s', () => {
  assert.equal(stallLimitUs(defaultConfig()), 1_164_600_000);
  assert.equal(stalled(1_164_600_000, defaultConfig()), false);
  assert.equal(stalled(1_164_600_001, defaultConfig()), true);
});

test('seed 7789: cut at 2700 s while delivering -> progressing; with the hour the orphan client gives up at its capped RTO', () => {
  const cut = runSchedule(7789, { limitUs: 2_700_000_000 });
  assert.equal(cut.outcome, 'progressing', cut.detail);
  assert.match(cut.detail, /budget ended at 2700\.0 s, last progress 26\d\d\.\d s, longest timer 120\.0 s/);
  const full = runSchedule(7789);
  assert.equal(full.outcome, 'gave-up', full.detail);
  assert.match(full.detail, /idle at \d+\.\d s/);
});

test('seed 20462: cut at 2000 s while delivering -> progressing; with the hour it ends before the budget', () => {
  const cut = runSchedule(20462, { limitUs: 2_000_000_000 });
  assert.equal(cut.outcome, 'progressing', cut.detail);
  assert.match(cut.detail, /budget ended at 2000\.0 s, last progress 1\d\d\d\.\d s, longest timer 120\.0 s/);
  const full = runSchedule(20462);
  assert.equal(full.outcome, 'gave-up', full.detail);
  assert.match(full.detail, /idle at \d+\.\d s/);
});

test('a real stall fails: the server application stops reading, the client probes a zero window for the rest of the hour', () => {
  // Zero-window probes are answered, so nothing gives up (tcp_probe_timer): no byte moves for ~3577 s.
  assert.throws(() => runSchedule(1, { serverStopsReadingUs: 2_000_000, clientBytes: 3_000_000 }), /stalled: no progress for 35\d\d\.\d s at the end of the budget/);
});

test('seed 3945: a timer at exactly TCP_RTO_MAX from a fractional now is within the bound (float rounding, not a bug)', () => {
  // Under a finite bandwidth virtual time is fractional; (now + 120 s) - now came out 0.003 µs
  // over 120 s, which the first soak reported as a timer past TCP_RTO_MAX.
  const r = runSchedule(3945);
  assert.equal(r.outcome, 'gave-up', r.detail);
  assert.match(r.detail, /longest timer 120\.0 s/);
});

test('seeds 67214, 77008 and 55135: the loss probe never lies past TCP_RTO_MAX (inet_csk_reset_xmit_timer clamps it); 77008 is cut by the hour while delivering', () => {
  // With the RTO already due and an SRTT over 60 s, 2 x SRTT put the probe 128.6 s (67214) and
  // 126.5 s (77008) ahead before the clamp.
  const a = runSchedule(67214);
  assert.equal(a.outcome, 'gave-up', a.detail);
  assert.match(a.detail, /longest timer 120\.0 s;/);
  const b = runSchedule(77008);
  assert.equal(b.outcome, 'progressing', b.detail);
  assert.match(b.detail, /budget ended at 3600\.0 s, last progress 3\d\d\d\.\d s, longest timer 120\.0 s;/);
  const c = runSchedule(55135); // 143.8 s before the clamp
  assert.equal(c.outcome, 'gave-up', c.detail);
  assert.match(c.detail, /longest timer 120\.0 s;/);
});

test('seed 34997: the server drops its request after tcp_synack_retries, the client (ESTABLISHED) is reset by the listener: a give-up, not a failure', () => {
  const r = runSchedule(34997);
  assert.equal(r.outcome, 'gave-up', r.detail);
  assert.match(r.detail, /client sent 490\/490 recv 0; server sent 0\/13474 recv 0; errors c=recv ECONNRESET s= /);
});
