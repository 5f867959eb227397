// The virtual-time Runtime and fake timers: a setTimeout(fn, 0) made within a millisecond the
// fake clock has already reached must still fire. It used to be picked as the next event again
// and again without the clock ticking (the soak found http11-keepalive-race --seed 7 stuck at
// 1186.024 s of virtual time, a livelock).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network } from '../../src/sim/network.ts';
import { Runtime } from '../../src/net/runtime.ts';

test('setTimeout(fn, 0) inside an already-reached millisecond fires at that instant', { timeout: 10_000 }, async () => {
  const net = new Network({ seed: 1 });
  const rt = new Runtime(net);
  try {
    let firedAt = -1;
    // The network event runs, the fake clock reaches 5 ms, then the promise callback (run when
    // the runtime yields) sets a timer for callAt = 5 ms: already now.
    net.at(5000, () => void Promise.resolve().then(() => setTimeout(() => { firedAt = net.now; }, 0)));
    const done = await rt.runUntil(() => firedAt >= 0, 1_000_000);
    assert.equal(done, true);
    assert.equal(firedAt, 5000);
  } finally {
    rt.dispose();
  }
});

test('the same from a sub-millisecond instant: fires at 5.5 ms, the clock never runs backwards', { timeout: 10_000 }, async () => {
  const net = new Network({ seed: 1 });
  const rt = new Runtime(net);
  try {
    let firedAt = -1;
    net.at(5000, () => {});
    net.at(5500, () => setTimeout(() => { firedAt = net.now; }, 0));
    const done = await rt.runUntil(() => firedAt >= 0, 1_000_000);
    assert.equal(done, true);
    assert.equal(firedAt, 5500);
  } finally {
    rt.dispose();
  }
});
