import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/sim/rng.ts';

const draw = (r: Rng, n: number): number[] => Array.from({ length: n }, () => r.next());

test('xoshiro128** known-answer vector for state (1, 2, 3, 4)', () => {
  const r = Rng.fromState(1, 2, 3, 4);
  assert.deepEqual(draw(r, 8), [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849]);
  assert.throws(() => Rng.fromState(0, 0, 0, 0), RangeError);
});

test('same seed gives the same stream; different seeds differ', () => {
  assert.deepEqual(draw(new Rng(42), 100), draw(new Rng(42), 100));
  assert.notDeepEqual(draw(new Rng(42), 100), draw(new Rng(43), 100));
  assert.notDeepEqual(draw(new Rng(2 ** 40 + 42), 10), draw(new Rng(42), 10));
  for (const x of draw(new Rng(1), 1000)) assert.ok(Number.isInteger(x) && x >= 0 && x < 2 ** 32);
  assert.throws(() => new Rng(0.5), RangeError);
});

test('fork depends on the parent key and label only, not on draws', () => {
  const p1 = new Rng(7);
  const p2 = new Rng(7);
  draw(p2, 1000);
  assert.deepEqual(draw(p1.fork('link:a>b'), 50), draw(p2.fork('link:a>b'), 50));
  assert.deepEqual(draw(p1, 5), draw(new Rng(7), 5), 'forking does not consume the parent');
  assert.notDeepEqual(draw(p1.fork('a'), 20), draw(p1.fork('b'), 20));
  assert.notDeepEqual(draw(p1.fork('a'), 20), draw(p1, 20));
  assert.notDeepEqual(draw(new Rng(8).fork('a'), 20), draw(new Rng(7).fork('a'), 20));
  assert.deepEqual(draw(p1.fork('x').fork('y'), 10), draw(new Rng(7).fork('x').fork('y'), 10));
});

test('float, int and chance: ranges and rough uniformity for a fixed seed', () => {
  const r = new Rng(2024);
  let sum = 0;
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    const f = r.float();
    assert.ok(f >= 0 && f < 1);
    sum += f;
  }
  assert.ok(Math.abs(sum / N - 0.5) < 0.005, `mean ${sum / N}`); // sd of the mean is 0.0009

  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < N; i++) {
    const v = r.int(-3, 6);
    assert.ok(Number.isInteger(v) && v >= -3 && v <= 6);
    counts[v + 3]!++;
  }
  for (const c of counts) assert.ok(Math.abs(c - N / 10) < 500, `bucket ${c}`); // sd about 95
  assert.equal(r.int(5, 5), 5);
  const big = r.int(0, 2 ** 40);
  assert.ok(Number.isInteger(big) && big <= 2 ** 40);
  assert.throws(() => r.int(3, 2), RangeError);

  let hits = 0;
  for (let i = 0; i < N; i++) if (r.chance(0.25)) hits++;
  assert.ok(Math.abs(hits - N / 4) < 700, `hits ${hits}`); // sd about 137
});

test('chance(0) and chance(1) decide without drawing', () => {
  const a = new Rng(5);
  const b = new Rng(5);
  assert.equal(a.chance(0), false);
  assert.equal(a.chance(1), true);
  assert.equal(a.chance(-1), false);
  assert.equal(a.next(), b.next());
});
