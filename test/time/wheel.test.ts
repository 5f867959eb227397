import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Timer, TimerWheel } from '../../src/time/wheel.ts';

/** Small local PRNG (mulberry32) so these tests depend on nothing else in the project. */
function prng(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n: number) => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) / 4294967296) * n | 0; // integer in [0, n) for n <= 2^32
  };
}

function drain<T>(w: TimerWheel<T>, now: number): Array<[T, number]> {
  const out: Array<[T, number]> = [];
  w.expire(now, (p, d) => out.push([p, d]));
  return out;
}

test('deadlines fire exactly: not a microsecond early, exactly at the deadline', () => {
  for (const start of [0, 123_456_789, 2 ** 45 + 17]) {
    for (const delta of [1, 40_000, 60_000_000, 7_200_000_000, 2 ** 40]) {
      const w = new TimerWheel<string>(start);
      const t = new Timer('x');
      const deadline = start + delta;
      w.schedule(t, deadline);
      assert.equal(t.armed, true);
      assert.equal(t.deadline, deadline);
      assert.equal(w.nextDeadline(), deadline);
      assert.deepEqual(drain(w, deadline - 1), []);
      assert.equal(w.nextDeadline(), deadline, `after cascading toward ${deadline}`);
      assert.deepEqual(drain(w, deadline), [['x', deadline]]);
      assert.equal(t.armed, false);
      assert.ok(Number.isNaN(t.deadline));
      assert.equal(w.size, 0);
      assert.equal(w.nextDeadline(), Infinity);
    }
  }
});

test('a deadline is reported exactly when reached by many small expire steps', () => {
  const w = new TimerWheel<number>();
  const deadlines = [1, 63, 64, 65, 4095, 4096, 40_000, 60_000_000, 7_200_000_000];
  deadlines.forEach((d, i) => w.schedule(new Timer(i), d));
  const got: Array<[number, number, number]> = [];
  let now = 0;
  const step = 7_777;
  while (w.size > 0) {
    w.expire(now, (p, d) => got.push([p, d, now]));
    assert.equal(w.nextDeadline(), w.size ? deadlines[got.length] : Infinity);
    now += now < 100_000_000 ? step : 999_999_937;
  }
  assert.deepEqual(got.map(([p, d]) => [p, d]), deadlines.map((d, i) => [i, d]));
  for (const [, d, at] of got) assert.ok(at >= d && at - d < 999_999_937, `fired at ${at} for ${d}`);
});

test('deadlines up to the largest safe integer', () => {
  const w = new TimerWheel<number>(2 ** 52);
  const ds = [Number.MAX_SAFE_INTEGER, 2 ** 53 - 2, 2 ** 52 + 2 ** 51, 2 ** 52 + 1];
  ds.forEach((d, i) => w.schedule(new Timer(i), d));
  assert.equal(w.nextDeadline(), 2 ** 52 + 1);
  assert.deepEqual(drain(w, 2 ** 52 + 2 ** 51), [[3, 2 ** 52 + 1], [2, 2 ** 52 + 2 ** 51]]);
  assert.equal(w.nextDeadline(), 2 ** 53 - 2);
  assert.deepEqual(drain(w, Number.MAX_SAFE_INTEGER), [[1, 2 ** 53 - 2], [0, Number.MAX_SAFE_INTEGER]]);
  assert.throws(() => w.schedule(new Timer(9), 2 ** 53), RangeError);
  assert.throws(() => w.schedule(new Timer(9), 1.5), RangeError);
  assert.throws(() => w.schedule(new Timer(9), Infinity), RangeError);
});

test('fires in deadline order, ties in arming order, across levels and cascades', () => {
  const w = new TimerWheel<string>();
  // A is armed first, far away (high level); B and C later, when the deadline is near (level 0).
  const D = 5_000_123;
  w.schedule(new Timer('A'), D);
  w.schedule(new Timer('early'), 4_999_000);
  assert.deepEqual(drain(w, 4_999_990), [['early', 4_999_000]]);
  w.schedule(new Timer('B'), D);
  w.schedule(new Timer('C'), D);
  w.schedule(new Timer('before'), D - 1);
  w.schedule(new Timer('after'), D + 1);
  assert.deepEqual(drain(w, D + 10).map(([p]) => p), ['before', 'A', 'B', 'C', 'after']);

  // Shuffled deadlines with many ties, one big expire.
  const rnd = prng(7);
  const w2 = new TimerWheel<number>();
  const armed: Array<[number, number]> = [];
  for (let i = 0; i < 5000; i++) {
    const d = rnd(4) === 0 ? 1_000_000 : rnd(3_000_000) * (rnd(2) ? 1 : 1000);
    w2.schedule(new Timer(i), d);
    armed.push([i, d]);
  }
  const expected = [...armed].sort((x, y) => x[1] - y[1] || x[0] - y[0]);
  const got = drain(w2, 3_000_000_000);
  assert.deepEqual(got, expected);
});

test('re-arming makes a new arming: moves the timer to the end of its ties', () => {
  const w = new TimerWheel<string>();
  const a = new Timer('a');
  const b = new Timer('b');
  w.schedule(a, 100);
  w.schedule(b, 100);
  w.schedule(a, 100);
  assert.equal(w.size, 2);
  assert.deepEqual(drain(w, 100), [['b', 100], ['a', 100]]);
  w.schedule(a, 500);
  w.schedule(a, 300);
  assert.equal(w.size, 1);
  assert.equal(a.deadline, 300);
  assert.equal(w.nextDeadline(), 300);
  assert.deepEqual(drain(w, 1000), [['a', 300]]);
});

test('cancel: O(1) removal, no-op when not armed, nextDeadline moves to the next exact deadline', () => {
  const w = new TimerWheel<number>();
  const ts = [10, 70_000, 70_001, 9_000_000_000].map((d, i) => {
    const t = new Timer(i);
    w.schedule(t, d);
    return t;
  });
  assert.equal(w.size, 4);
  w.cancel(ts[0]!);
  assert.equal(ts[0]!.armed, false);
  assert.ok(Number.isNaN(ts[0]!.deadline));
  w.cancel(ts[0]!);
  assert.equal(w.size, 3);
  assert.equal(w.nextDeadline(), 70_000);
  w.cancel(ts[1]!); // the cached minimum of a higher-level slot
  assert.equal(w.nextDeadline(), 70_001);
  w.cancel(ts[2]!);
  assert.equal(w.nextDeadline(), 9_000_000_000);
  w.cancel(ts[3]!);
  assert.equal(w.nextDeadline(), Infinity);
  assert.equal(w.size, 0);
  assert.equal(w.expire(10_000_000_000, () => assert.fail('nothing is armed')), 0);
  w.cancel(new Timer(99));
  assert.equal(w.size, 0);
});

test('a deadline in the past fires first at the next expire, and nextDeadline reports it', () => {
  const w = new TimerWheel<string>(1_000);
  w.schedule(new Timer('now'), 1_000);
  w.schedule(new Timer('p2'), 900);
  w.schedule(new Timer('p1'), 5);
  w.schedule(new Timer('p1b'), 5);
  w.schedule(new Timer('later'), 2_000);
  assert.equal(w.nextDeadline(), 5);
  assert.deepEqual(drain(w, 1_000), [['p1', 5], ['p1b', 5], ['p2', 900], ['now', 1_000]]);
  assert.equal(w.nextDeadline(), 2_000);
  assert.equal(w.now, 1_000);
  assert.throws(() => w.expire(999, () => {}), RangeError);
});

test('callbacks may re-arm, arm due timers (fired in this call, in order), and cancel', () => {
  const w = new TimerWheel<string>();
  const tick = new Timer('tick');
  const victim = new Timer('victim');
  const spawned = new Timer('spawned');
  const past = new Timer('past');
  const late = new Timer('late');
  w.schedule(tick, 100);
  w.schedule(victim, 350);
  const log: string[] = [];
  let n = 0;
  const fired = w.expire(1000, (p, d) => {
    log.push(`${p}@${d}`);
    if (p === 'tick') {
      n++;
      if (n <= 4) w.schedule(tick, d + 100);
      if (n === 2) {
        w.cancel(victim);
        w.schedule(spawned, d); // same deadline as the one firing: fires right after it
        w.schedule(late, 1001); // after now: must not fire
      }
      if (n === 3) w.schedule(past, 50); // in the past: fires next
    }
  });
  assert.deepEqual(log, ['tick@100', 'tick@200', 'spawned@200', 'tick@300', 'past@50', 'tick@400', 'tick@500']);
  assert.equal(fired, 7);
  assert.equal(victim.armed, false);
  assert.equal(late.armed, true);
  assert.equal(w.size, 1);
  assert.equal(w.nextDeadline(), 1001);
  assert.throws(() => w.expire(1001, () => w.expire(1001, () => {})), /re-entered/);
});

test('a timer armed on one wheel cannot be scheduled or cancelled on another', () => {
  const w1 = new TimerWheel<number>();
  const w2 = new TimerWheel<number>();
  const t = new Timer(1);
  w1.schedule(t, 10);
  assert.throws(() => w2.schedule(t, 20), /another wheel/);
  assert.throws(() => w2.cancel(t), /another wheel/);
  w1.cancel(t);
  w2.schedule(t, 20);
  assert.deepEqual(drain(w2, 20), [[1, 20]]);
  assert.equal(w1.size, 0);
});

test('randomized: 200,000 operations against a brute-force model', () => {
  const rnd = prng(20240601);
  const K = 200;
  const w = new TimerWheel<number>();
  const timers = Array.from({ length: K }, (_, i) => new Timer(i));
  const md = new Float64Array(K).fill(NaN); // model deadline, NaN = not armed
  const ms = new Float64Array(K); // model arming sequence
  let seq = 0;
  let now = 0;
  let armed = 0;
  let fires = 0;
  let nextChecks = 0;

  const pickDeadline = (): number => {
    switch (rnd(9)) {
      case 0: return now + rnd(70);
      case 1: return now + rnd(5000);
      case 2: return now + rnd(2 ** 26);
      case 3: return now + rnd(2 ** 20) * 2 ** 20 + rnd(2 ** 20);
      case 4: return now - 1 - rnd(1000);
      case 5: return now;
      case 6: { const j = rnd(K); return Number.isNaN(md[j]!) ? now + 1 : md[j]!; }
      case 7: return now + 64 ** (1 + rnd(7)) + rnd(3) - 1; // level boundaries
      default: return now + rnd(200_000);
    }
  };
  const arm = (i: number, d: number): void => {
    if (Number.isNaN(md[i]!)) armed++;
    md[i] = d;
    ms[i] = ++seq;
    w.schedule(timers[i]!, d);
  };
  const disarm = (i: number): void => {
    if (!Number.isNaN(md[i]!)) armed--;
    md[i] = NaN;
    w.cancel(timers[i]!);
  };
  const modelMin = (limit: number): number => {
    let best = -1;
    for (let i = 0; i < K; i++) {
      const d = md[i]!;
      if (!(d <= limit)) continue;
      if (best < 0 || d < md[best]! || (d === md[best]! && ms[i]! < ms[best]!)) best = i;
    }
    return best;
  };

  for (let op = 0; op < 200_000; op++) {
    const r = rnd(100);
    if (r < 45) {
      arm(rnd(K), pickDeadline());
    } else if (r < 65) {
      disarm(rnd(K));
    } else if (r < 75) {
      const j = modelMin(Infinity);
      assert.equal(w.nextDeadline(), j < 0 ? Infinity : md[j]!, `op ${op}`);
      nextChecks++;
    } else {
      const k = rnd(100);
      const target = now + (k < 20 ? 0 : k < 60 ? rnd(100) : k < 90 ? rnd(100_000) : k < 99 ? rnd(2 ** 30) : rnd(2 ** 20) * 2 ** 20);
      const n = w.expire(target, (p, d) => {
        const j = modelMin(target);
        assert.equal(p, j, `op ${op}: fired ${p}@${d}, model says ${j}@${md[j]}`);
        assert.equal(d, md[j]!);
        md[j] = NaN;
        armed--;
        fires++;
        const a = rnd(10);
        if (a === 0) arm(p, d + rnd(300) - 100); // re-arm the fired one, maybe still due
        else if (a === 1) arm(rnd(K), pickDeadline());
        else if (a === 2) disarm(rnd(K));
        assert.equal(w.nextDeadline(), modelMin(Infinity) < 0 ? Infinity : md[modelMin(Infinity)]!);
      });
      assert.equal(modelMin(target), -1, `op ${op}: a due timer did not fire`);
      now = target;
      assert.ok(n >= 0);
    }
    assert.equal(w.size, armed);
  }
  for (let i = 0; i < K; i++) {
    assert.equal(timers[i]!.armed, !Number.isNaN(md[i]!));
    if (timers[i]!.armed) assert.equal(timers[i]!.deadline, md[i]!);
  }
  assert.ok(fires > 20_000 && nextChecks > 15_000, `coverage: ${fires} fires, ${nextChecks} checks`);
});

test('1,000,000 timers: arm, cancel, arm again, expire all in order', () => {
  const N = 1_000_000;
  const rnd = prng(99);
  const w = new TimerWheel<number>();
  const ts = new Array<Timer<number>>(N);
  const ds = new Float64Array(N);
  for (let i = 0; i < N; i++) {
    ts[i] = new Timer(i);
    ds[i] = rnd(7_200_000) * 1000 + rnd(1000); // within two hours
  }
  for (let i = 0; i < N; i++) w.schedule(ts[i]!, ds[i]!);
  assert.equal(w.size, N);
  let min = Infinity;
  for (let i = 0; i < N; i++) if (ds[i]! < min) min = ds[i]!;
  assert.equal(w.nextDeadline(), min);
  for (let i = 0; i < N; i++) w.cancel(ts[i]!);
  assert.equal(w.size, 0);
  assert.equal(w.nextDeadline(), Infinity);
  for (let i = 0; i < N; i++) w.schedule(ts[i]!, ds[i]!);
  assert.equal(w.size, N);
  let count = 0;
  let last = -1;
  let lastId = -1;
  let inOrder = true;
  const fire = (id: number, d: number): void => {
    if (d < last || (d === last && id < lastId) || d !== ds[id]) inOrder = false;
    last = d;
    lastId = id;
    count++;
  };
  const half = w.expire(3_600_000_000, fire);
  assert.equal(half, count);
  let expectHalf = 0;
  for (let i = 0; i < N; i++) if (ds[i]! <= 3_600_000_000) expectHalf++;
  assert.equal(half, expectHalf);
  assert.equal(w.size, N - half);
  w.expire(7_200_000_000, fire);
  assert.equal(count, N);
  assert.equal(w.size, 0);
  assert.ok(inOrder, 'fired in (deadline, arming) order with the right deadlines');
});
