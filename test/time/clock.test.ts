import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock } from '../../src/time/clock.ts';

test('VirtualClock starts where told and moves forward only', () => {
  const c = new VirtualClock();
  assert.equal(c.now(), 0);
  const d = new VirtualClock(5_000_000);
  assert.equal(d.now(), 5_000_000);
  d.advance(250);
  assert.equal(d.now(), 5_000_250);
  d.set(5_000_250);
  assert.equal(d.now(), 5_000_250);
  d.set(2 ** 52);
  assert.equal(d.now(), 2 ** 52);
  assert.throws(() => d.set(2 ** 52 - 1), RangeError);
  assert.equal(d.now(), 2 ** 52);
  assert.throws(() => d.advance(-1), RangeError);
  assert.throws(() => new VirtualClock().set(1.5), RangeError);
  assert.throws(() => new VirtualClock(-1), RangeError);
  assert.throws(() => new VirtualClock(NaN), RangeError);
});
