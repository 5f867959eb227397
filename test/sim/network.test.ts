import type { Clock } from '../../src/time/clock.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network, type PacketEvent, type SimNode } from '../../src/sim/network.ts';
import { Timer, TimerWheel } from '../../src/time/wheel.ts';

// ---- helpers: minimal IP packets and test nodes ----

function v4bytes(a: string): number[] {
  return a.split('.').map(Number);
}

/** IPv4 packet of `len` bytes with a 32-bit tag at byte 20 and TTL at byte 8. */
function v4(src: string, dst: string, tag = 0, len = 40, ttl = 64): Uint8Array {
  const p = new Uint8Array(len);
  p[0] = 0x45;
  p[2] = len >> 8;
  p[3] = len & 255;
  p[8] = ttl;
  p[9] = 6;
  p.set(v4bytes(src), 12);
  p.set(v4bytes(dst), 16);
  new DataView(p.buffer).setUint32(20, tag);
  return p;
}

/** IPv6 packet (addresses given as 16 bytes) with a tag at byte 40. */
function v6(src: number[], dst: number[], tag = 0): Uint8Array {
  const p = new Uint8Array(60);
  p[0] = 0x60;
  p[7] = 64;
  p.set(src, 8);
  p.set(dst, 24);
  new DataView(p.buffer).setUint32(40, tag);
  return p;
}

function tagOf(p: Uint8Array): number {
  return new DataView(p.buffer, p.byteOffset).getUint32(p[0]! >> 4 === 6 && p.length >= 44 ? 40 : 20); // corruption may hit byte 0
}

/** Swap source and destination (a new buffer) and decrement the TTL / hop limit. */
function reply(p: Uint8Array): Uint8Array {
  const q = p.slice();
  if (p[0]! >> 4 === 6) {
    q.set(p.subarray(24, 40), 8);
    q.set(p.subarray(8, 24), 24);
    q[7] = p[7]! - 1;
  } else {
    q.set(p.subarray(16, 20), 12);
    q.set(p.subarray(12, 16), 16);
    q[8] = p[8]! - 1;
  }
  return q;
}

interface Rx {
  t: number;
  tag: number;
  packet: Uint8Array;
}

/** Records what it receives; optionally echoes while the TTL is positive; runs a list of timer deadlines. */
class TestNode implements SimNode {
  received: Rx[] = [];
  echo = false;
  timers: number[] = [];
  onTimer: (t: number) => void = () => {};
  private emit: (p: Uint8Array) => void = () => assert.fail('emit not installed');

  constructor(
    readonly name: string,
    readonly addresses: string[],
    private readonly clock: Clock,
  ) {}

  setEmit(emit: (packet: Uint8Array) => void): void {
    this.emit = emit;
  }

  deliver(packet: Uint8Array): void {
    this.received.push({ t: this.clock.now(), tag: tagOf(packet), packet });
    const ttl = packet[0]! >> 4 === 6 ? packet[7]! : packet[8]!;
    if (this.echo && ttl > 0) this.emit(reply(packet));
  }

  advance(): void {
    const nowUs = this.clock.now();
    while (this.timers.length > 0 && this.timers[0]! <= nowUs) this.onTimer(this.timers.shift()!);
  }

  nextDeadline(): number {
    return this.timers.length > 0 ? this.timers[0]! : Infinity;
  }

  send(p: Uint8Array): void {
    this.emit(p);
  }
}

/** Sends a keepalive to a peer every `periodUs`, driven by a TimerWheel. */
class KeepaliveNode implements SimNode {
  readonly wheel: TimerWheel<string>;
  readonly timer = new Timer('keepalive');
  fired: number[] = [];
  private emit: (p: Uint8Array) => void = () => {};

  constructor(
    readonly name: string,
    readonly addresses: string[],
    private readonly peer: string,
    private readonly periodUs: number,
    startUs: number,
    private readonly clock: Clock,
  ) {
    this.wheel = new TimerWheel(startUs);
    this.wheel.schedule(this.timer, startUs + periodUs);
  }

  setEmit(emit: (packet: Uint8Array) => void): void {
    this.emit = emit;
  }

  deliver(): void {}

  advance(): void {
    this.wheel.expire(this.clock.now(), (_p, d) => {
      this.fired.push(d);
      this.emit(v4(this.addresses[0]!, this.peer, this.fired.length));
      this.wheel.schedule(this.timer, d + this.periodUs);
    });
  }

  nextDeadline(): number {
    return this.wheel.nextDeadline();
  }
}

function pair(seed = 1): { net: Network; a: TestNode; b: TestNode } {
  const net = new Network({ seed });
  const a = new TestNode('a', ['10.0.0.1'], net.clock);
  const b = new TestNode('b', ['10.0.0.2'], net.clock);
  net.addNode(a);
  net.addNode(b);
  return { net, a, b };
}

const A = '10.0.0.1';
const B = '10.0.0.2';
const C = '10.0.0.3';

// ---- tests ----

test('latency: exact arrival times, per-direction override, zero latency', () => {
  const { net, a, b } = pair();
  b.echo = true;
  net.link('a', 'b', { latencyUs: 1500 }, { latencyUs: 300 });
  net.at(1000, () => a.send(v4(A, B, 7)));
  net.run(10_000);
  assert.deepEqual(b.received.map((r) => [r.t, r.tag]), [[2500, 7]]);
  assert.deepEqual(a.received.map((r) => [r.t, r.tag]), [[2800, 7]]);
  assert.equal(a.received[0]!.packet[8], 63, 'the echo is the reply built by b');
  assert.equal(net.now, 10_000);

  const z = pair();
  z.net.link('a', 'b', { latencyUs: 0 });
  z.net.at(42, () => z.a.send(v4(A, B, 1)));
  z.net.run(42);
  assert.deepEqual(z.b.received.map((r) => r.t), [42]);
});

test('IPv6 routing by destination bytes 24..39; non-canonical address text accepted', () => {
  const net = new Network({ seed: 3, startUs: 1_000_000 });
  const a = new TestNode('a', ['fd00::1', '10.0.0.1'], net.clock);
  const b = new TestNode('b', ['fd00:0:0:0::2'], net.clock);
  const c = new TestNode('c', ['::ffff:10.1.2.3'], net.clock);
  net.addNode(a);
  net.addNode(b);
  net.addNode(c);
  net.link('a', 'b', { latencyUs: 10 });
  net.link('a', 'c', { latencyUs: 20 });
  const fd = (x: number): number[] => [0xfd, ...new Array<number>(14).fill(0), x];
  const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3];
  a.send(v6(fd(1), fd(2), 11));
  a.send(v6(fd(1), mapped, 12));
  net.runUntilIdle();
  assert.deepEqual(b.received.map((r) => [r.t, r.tag]), [[1_000_010, 11]]);
  assert.deepEqual(c.received.map((r) => [r.t, r.tag]), [[1_000_020, 12]]);
});

test('bandwidth: serialization delay per direction, latency added after, rounded up', () => {
  const { net, a, b } = pair();
  net.link('a', 'b', { latencyUs: 100, bandwidthBps: 1_000_000 });
  net.at(0, () => {
    for (let i = 1; i <= 3; i++) a.send(v4(A, B, i, 1250)); // 10,000 bits = 10 ms each
    b.send(v4(B, A, 9, 1250)); // the other direction has its own transmitter
  });
  net.at(35_000, () => a.send(v4(A, B, 4, 1250))); // link idle again
  net.at(50_000, () => a.send(v4(A, B, 5, 1000)));
  net.run(100_000);
  assert.deepEqual(b.received.map((r) => [r.t, r.tag]), [[10_100, 1], [20_100, 2], [30_100, 3], [45_100, 4], [58_100, 5]]);
  assert.deepEqual(a.received.map((r) => [r.t, r.tag]), [[10_100, 9]]);

  const r = pair();
  r.net.link('a', 'b', { latencyUs: 0, bandwidthBps: 3_000_000 });
  r.a.send(v4(A, B, 1, 1000)); // 8000 bits / 3 Mbps = 2666.67 µs
  r.net.runUntilIdle();
  assert.deepEqual(r.b.received.map((x) => x.t), [2667]);
});

test('queue limit: tail drop while packets wait or serialize', () => {
  const { net, a, b } = pair();
  const link = net.link('a', 'b', { latencyUs: 0, bandwidthBps: 8_000_000, queuePackets: 2 }); // 1 byte per µs
  net.at(0, () => {
    for (let i = 1; i <= 5; i++) a.send(v4(A, B, i, 1000));
  });
  net.at(1000, () => {
    a.send(v4(A, B, 6, 1000)); // the first finished at 1000: one slot free
    a.send(v4(A, B, 7, 1000));
  });
  net.runUntilIdle();
  assert.deepEqual(b.received.map((r) => [r.t, r.tag]), [[1000, 1], [2000, 2], [3000, 6]]);
  assert.equal(link.ab.stats.queue, 4);
  assert.equal(link.ab.stats.sent, 7);
  assert.equal(net.stats.queue, 4);
});

function lossyRun(seed: number, withOtherTraffic: boolean): { tags: number[]; lost: number; log: string[] } {
  const net = new Network({ seed });
  const a = new TestNode('a', [A], net.clock);
  const b = new TestNode('b', [B], net.clock);
  const c = new TestNode('c', [C], net.clock);
  net.addNode(a);
  net.addNode(b);
  net.addNode(c);
  if (withOtherTraffic) net.link('a', 'c', { latencyUs: 5, loss: 0.5, duplicate: 0.5, corrupt: 0.5 });
  const link = net.link('a', 'b', { latencyUs: 1000, loss: 0.1 });
  const log: string[] = [];
  net.onPacket = (e: PacketEvent) => {
    if (e.to === 'b') log.push(`${e.t} ${e.fate} ${tagOf(e.packet)}`);
  };
  net.at(0, () => {
    for (let i = 0; i < 10_000; i++) {
      a.send(v4(A, B, i));
      if (withOtherTraffic) a.send(v4(A, C, i));
    }
  });
  assert.equal(net.runUntilIdle(), true);
  assert.equal(b.received.length + link.ab.stats.lost, 10_000);
  return { tags: b.received.map((r) => r.tag), lost: link.ab.stats.lost, log };
}

test('loss: within statistical bounds, identical for the same seed, independent of other links', () => {
  const r1 = lossyRun(1234, false);
  const r2 = lossyRun(1234, false);
  const r3 = lossyRun(1234, true);
  const r4 = lossyRun(4321, false);
  assert.ok(r1.lost > 850 && r1.lost < 1150, `lost ${r1.lost} of 10000 at p=0.1`); // 5 sd
  assert.deepEqual(r2.tags, r1.tags);
  assert.deepEqual(r2.log, r1.log);
  assert.deepEqual(r3.log, r1.log, 'traffic on another link does not perturb a->b');
  assert.notDeepEqual(r4.tags, r1.tags);
  assert.equal(r1.log.filter((l) => l.includes('lost')).length, r1.lost);
});

test('duplication: copies arrive at the same time, flagged, counted', () => {
  const { net, a, b } = pair(5);
  const link = net.link('a', 'b', { latencyUs: 700, duplicate: 1 });
  const events: PacketEvent[] = [];
  net.onPacket = (e) => events.push(e);
  const sent = [v4(A, B, 1), v4(A, B, 2)];
  for (const p of sent) a.send(p);
  net.runUntilIdle();
  assert.deepEqual(b.received.map((r) => [r.t, r.tag]), [[700, 1], [700, 1], [700, 2], [700, 2]]);
  assert.deepEqual(events.map((e) => e.duplicate), [false, true, false, true]);
  assert.equal(b.received[0]!.packet, sent[0], 'no copy without corruption');
  assert.equal(link.ab.stats.duplicated, 2);
  assert.equal(link.ab.stats.delivered, 4);

  const d = pair(6);
  const l2 = d.net.link('a', 'b', { latencyUs: 1, duplicate: 0.2 });
  for (let i = 0; i < 10_000; i++) d.a.send(v4(A, B, i));
  d.net.runUntilIdle();
  assert.equal(d.b.received.length, 10_000 + l2.ab.stats.duplicated);
  assert.ok(l2.ab.stats.duplicated > 1800 && l2.ab.stats.duplicated < 2200, `dups ${l2.ab.stats.duplicated}`);
});

test('reorder: extra delay on a fraction of packets, which then arrive out of order', () => {
  const { net, a, b } = pair(8);
  const link = net.link('a', 'b', { latencyUs: 1000, reorder: 0.3, reorderDelayUs: 5000 });
  const flagged: boolean[] = [];
  net.onPacket = (e) => flagged.push(e.reordered);
  for (let i = 0; i < 1000; i++) net.at(i * 100, () => a.send(v4(A, B, i)));
  net.runUntilIdle();
  assert.equal(b.received.length, 1000);
  let delayed = 0;
  b.received.forEach((r, k) => {
    const delay = r.t - r.tag * 100;
    assert.ok(delay === 1000 || delay === 6000, `delay ${delay}`);
    assert.equal(flagged[k], delay === 6000);
    if (delay === 6000) delayed++;
  });
  assert.equal(delayed, link.ab.stats.reordered);
  assert.ok(delayed > 227 && delayed < 373, `reordered ${delayed}`); // 5 sd around 300
  const tags = b.received.map((r) => r.tag);
  assert.notDeepEqual(tags, [...tags].sort((x, y) => x - y));
});

test('corruption: one byte of a copy differs; the sender buffer is untouched', () => {
  const { net, a, b } = pair(9);
  const link = net.link('a', 'b', { latencyUs: 10, corrupt: 1 });
  const sent: Uint8Array[] = [];
  const originals: Uint8Array[] = [];
  for (let i = 0; i < 200; i++) {
    const p = v4(A, B, i, 100);
    for (let j = 24; j < 100; j++) p[j] = (i * 7 + j) & 255;
    sent.push(p);
    originals.push(p.slice());
    a.send(p);
  }
  net.runUntilIdle();
  assert.equal(b.received.length, 200);
  const positions = new Set<number>();
  b.received.forEach((r, i) => {
    assert.notEqual(r.packet, sent[i]);
    assert.deepEqual(sent[i], originals[i], 'sender buffer unchanged');
    const diff: number[] = [];
    for (let j = 0; j < 100; j++) if (r.packet[j] !== originals[i]![j]) diff.push(j);
    assert.equal(diff.length, 1, `packet ${i} differs in ${diff.length} bytes`);
    positions.add(diff[0]!);
  });
  assert.ok(positions.size > 50, 'the flipped byte position varies');
  assert.equal(link.ab.stats.corrupted, 200);
  assert.equal(net.stats.corrupted, 200);
});

test('partition drops exactly the packets sent inside [from, to), both ways; in-flight ones arrive', () => {
  const { net, a, b } = pair();
  b.echo = true;
  const link = net.link('a', 'b', { latencyUs: 2500 });
  net.partition('a', 'b', 5000, 12_000);
  for (let t = 0; t <= 20_000; t += 1000) net.at(t, () => a.send(v4(A, B, t)));
  net.runUntilIdle();
  assert.deepEqual(b.received.map((r) => r.tag), [0, 1000, 2000, 3000, 4000, 12_000, 13_000, 14_000, 15_000, 16_000, 17_000, 18_000, 19_000, 20_000]);
  assert.equal(b.received[4]!.t, 6500, 'sent at 4000, arrives inside the window');
  // b echoes at arrival + 0: echoes sent at 5500 and 6500 fall inside the window.
  assert.deepEqual(a.received.map((r) => r.tag), [0, 1000, 2000, 12_000, 13_000, 14_000, 15_000, 16_000, 17_000, 18_000, 19_000, 20_000]);
  assert.equal(link.ab.stats.partitioned, 7);
  assert.equal(link.ba.stats.partitioned, 2);
  assert.equal(net.stats.partitioned, 9);
});

test('filters: drop, pass, rewrite (re-routed), removal', () => {
  const net = new Network({ seed: 1 });
  const a = new TestNode('a', [A], net.clock);
  const b = new TestNode('b', [B], net.clock);
  const c = new TestNode('c', [C], net.clock);
  for (const n of [a, b, c]) net.addNode(n);
  net.link('a', 'b', { latencyUs: 100 });
  net.link('a', 'c', { latencyUs: 300 });
  const seen: string[] = [];
  const removeDrop = net.addFilter(({ from, to, packet, now }) => {
    seen.push(`${now} ${from}>${to} ${tagOf(packet)}`);
    return tagOf(packet) % 2 === 1 ? null : 'pass';
  });
  const removeNat = net.addFilter(({ packet }) => {
    if (tagOf(packet) !== 4) return 'pass';
    const q = packet.slice();
    q.set(v4bytes(C), 16);
    return q;
  });
  const four = v4(A, B, 4);
  net.at(10, () => [1, 2, 3].forEach((i) => a.send(v4(A, B, i))));
  net.at(20, () => a.send(four));
  net.runUntilIdle();
  assert.deepEqual(seen, ['10 a>b 1', '10 a>b 2', '10 a>b 3', '20 a>b 4']);
  assert.deepEqual(b.received.map((r) => [r.t, r.tag]), [[110, 2]]);
  assert.deepEqual(c.received.map((r) => [r.t, r.tag]), [[320, 4]]);
  assert.deepEqual(Array.from(four.subarray(16, 20)), v4bytes(B), 'filter copied before rewriting');
  assert.equal(net.stats.filtered, 2);
  assert.equal(net.linkBetween('a', 'b')!.ab.stats.sent, 1);
  assert.equal(net.linkBetween('a', 'c')!.ab.stats.sent, 1);
  removeDrop();
  removeNat();
  a.send(v4(A, B, 5));
  net.runUntilIdle();
  assert.deepEqual(b.received.map((r) => r.tag), [2, 5]);
  assert.equal(seen.length, 4);
});

test('mtu per direction, unroutable packets, link down and up, parameter changes', () => {
  const net = new Network({ seed: 1 });
  const a = new TestNode('a', [A], net.clock);
  const b = new TestNode('b', [B], net.clock);
  const c = new TestNode('c', [C], net.clock);
  for (const n of [a, b, c]) net.addNode(n);
  const link = net.link('a', 'b', { latencyUs: 1500, mtu: 1500 }, { mtu: 9000 });
  const fates: string[] = [];
  net.onPacket = (e) => fates.push(`${e.t} ${e.from}>${e.to} ${e.fate}`);

  a.send(v4(A, B, 1, 1500));
  a.send(v4(A, B, 2, 1501));
  b.send(v4(B, A, 3, 1501));
  a.send(v4(A, '10.9.9.9', 4)); // nobody owns it
  a.send(v4(A, C, 5)); // c exists, no link
  a.send(new Uint8Array([0x45, 0, 0, 10, 0, 0, 0, 0, 0, 0])); // too short for a header
  a.send(v4(A, A, 6)); // to itself: no loopback in the network
  net.at(0, () => a.send(v4(A, B, 10)));
  net.at(500, () => a.send(v4(A, B, 11)));
  net.at(1000, () => link.down());
  net.at(1000, () => a.send(v4(A, B, 12)));
  net.at(2000, () => a.send(v4(A, B, 13)));
  net.at(3000, () => link.up());
  net.at(3000, () => a.send(v4(A, B, 14)));
  net.at(5000, () => link.set({ latencyUs: 3000 }, { latencyUs: 10 }));
  net.at(5000, () => a.send(v4(A, B, 15)));
  net.at(5000, () => b.send(v4(B, A, 16)));
  net.runUntilIdle();
  assert.deepEqual(b.received.map((r) => [r.t, r.tag]), [[1500, 1], [1500, 10], [2000, 11], [4500, 14], [8000, 15]]);
  assert.deepEqual(a.received.map((r) => [r.t, r.tag]), [[1500, 3], [5010, 16]]);
  assert.equal(link.ab.stats.mtu, 1);
  assert.equal(link.ab.stats.down, 2);
  assert.equal(link.isUp, true);
  assert.equal(link.ab.params.latencyUs, 3000);
  assert.equal(link.ba.params.mtu, 9000);
  assert.equal(net.stats.unroutable, 4);
  assert.deepEqual(fates.slice(0, 6), ['0 a>b mtu', '0 a>null unroutable', '0 a>c unroutable', '0 a>null unroutable', '0 a>a unroutable', '1000 a>b down']);
  assert.equal(link.direction('b'), link.ba);
  assert.throws(() => link.set({ loss: 2 }), RangeError);
  link.set({ mtu: 600 }); // both directions; other parameters kept
  assert.deepEqual([link.ab.params.mtu, link.ba.params.mtu, link.ab.params.latencyUs, link.ba.params.latencyUs], [600, 600, 3000, 10]);
});

test('a node deadline already in the past runs at the current time', () => {
  const net = new Network({ seed: 1, startUs: 1000 });
  const n = new TestNode('n', [A], net.clock);
  n.timers = [500, 1500];
  const at: number[] = [];
  n.onTimer = (t) => at.push(t, net.now);
  net.addNode(n);
  net.run(2000);
  assert.deepEqual(at, [500, 1000, 1500, 1500]);
  assert.equal(net.steps, 2);
});

test('totals balance: sent + duplicated = delivered + every kind of drop', () => {
  const net = new Network({ seed: 77 });
  const nodes = [A, B, C].map((ip, i) => new TestNode(`n${i}`, [ip], net.clock));
  nodes.forEach((n) => net.addNode(n));
  nodes[1]!.echo = true;
  net.link('n0', 'n1', { latencyUs: 200, bandwidthBps: 10_000_000, queuePackets: 20, loss: 0.2, duplicate: 0.1, mtu: 1000 });
  net.link('n1', 'n2', { latencyUs: 50, loss: 0.05, corrupt: 0.1 });
  net.partition('n0', 'n1', 3000, 4000);
  net.addFilter(({ packet }) => (tagOf(packet) % 13 === 0 ? null : 'pass'));
  for (let i = 0; i < 2000; i++) {
    net.at(i * 5, () => {
      nodes[0]!.send(v4(A, B, i, i % 50 === 0 ? 1200 : 600));
      nodes[1]!.send(v4(B, i % 10 === 0 ? '10.0.0.99' : C, i));
    });
  }
  assert.equal(net.runUntilIdle(), true);
  const s = net.stats;
  const drops = s.lost + s.partitioned + s.mtu + s.queue + s.down + s.filtered + s.unroutable;
  assert.equal(s.sent + s.duplicated, s.delivered + drops);
  for (const k of ['lost', 'partitioned', 'mtu', 'queue', 'filtered', 'unroutable', 'duplicated', 'corrupted'] as const) assert.ok(s[k] > 0, `some ${k}`);
  const l01 = net.linkBetween('n0', 'n1')!;
  const l12 = net.linkBetween('n1', 'n2')!;
  assert.equal(l01.stats.sent + l12.stats.sent + s.filtered + s.unroutable, s.sent);
  assert.equal(l01.stats.delivered + l12.stats.delivered, s.delivered);
});

test('actions and ties: at/after in scheduling order, packets before node timers at one instant', () => {
  const { net, a, b } = pair();
  net.link('a', 'b', { latencyUs: 1000 });
  const log: string[] = [];
  b.timers = [5000];
  b.onTimer = (t) => log.push(`timer ${t} @${net.now}`);
  b.deliver = (p) => void log.push(`packet ${tagOf(p)} @${net.now}`);
  net.at(5000, () => log.push(`action1 @${net.now}`));
  net.at(5000, () => log.push(`action2 @${net.now}`));
  net.at(4000, () => a.send(v4(A, B, 1)));
  net.at(2000, () => net.after(3000, () => log.push(`after @${net.now}`)));
  net.run(6000);
  assert.deepEqual(log, ['action1 @5000', 'action2 @5000', 'after @5000', 'packet 1 @5000', 'timer 5000 @5000']);
  assert.throws(() => net.at(5999, () => {}), RangeError);
  assert.throws(() => net.run(5000), RangeError);
});

test('runUntilIdle stops when nothing is pending; with maxUs it stops there', () => {
  const { net, a, b } = pair();
  a.echo = true;
  b.echo = true;
  net.link('a', 'b', { latencyUs: 1000 });
  net.at(0, () => a.send(v4(A, B, 1, 40, 5)));
  assert.equal(net.runUntilIdle(), true);
  assert.equal(net.now, 6000); // ttl 5,4,3,2,1,0: six deliveries, the last one not echoed
  assert.deepEqual(b.received.map((r) => r.t), [1000, 3000, 5000]);
  assert.deepEqual(a.received.map((r) => r.t), [2000, 4000, 6000]);
  assert.equal(net.steps, 7);

  const net2 = new Network({ seed: 1 });
  const k = new KeepaliveNode('k', [A], B, 1_000_000, 0, net2.clock);
  net2.addNode(k);
  assert.equal(net2.runUntilIdle(10_500_000), false);
  assert.equal(net2.now, 10_500_000);
  assert.equal(k.fired.length, 10);
  assert.equal(net2.stats.unroutable, 10);
});

test('runWhile stops as soon as the predicate turns false', () => {
  const { net, a, b } = pair();
  net.link('a', 'b', { latencyUs: 250 });
  for (let i = 0; i < 10; i++) net.at(i * 1000, () => a.send(v4(A, B, i)));
  assert.equal(net.runWhile(() => b.received.length < 3, 1_000_000), true);
  assert.equal(net.now, 2250);
  assert.equal(net.runWhile(() => true, 2600), false);
  assert.equal(net.now, 2600);
  assert.equal(b.received.length, 3);
  assert.equal(net.runWhile(() => true, Infinity), false);
  assert.equal(b.received.length, 10);
  assert.equal(net.now, 9250);
});

test('two idle hours cost a handful of steps, not a loop over microseconds', () => {
  const net = new Network({ seed: 1 });
  const k = new KeepaliveNode('k', [A], B, 7_200_000_000, 0, net.clock);
  const b = new TestNode('b', [B], net.clock);
  net.addNode(k);
  net.addNode(b);
  net.link('k', 'b', { latencyUs: 10_000 });
  net.run(7_200_010_000);
  assert.equal(net.steps, 2); // one timer round, one arrival
  assert.deepEqual(k.fired, [7_200_000_000]);
  assert.deepEqual(b.received.map((r) => r.t), [7_200_010_000]);

  const net2 = new Network({ seed: 1 });
  const k2 = new KeepaliveNode('k', [A], B, 75_000_000, 0, net2.clock);
  net2.addNode(k2);
  net2.addNode(new TestNode('b', [B], net2.clock));
  net2.link('k', 'b', { latencyUs: 10_000 });
  net2.run(7_200_000_000);
  assert.equal(k2.fired.length, 96);
  assert.equal(k2.fired[95], 7_200_000_000);
  assert.equal(net2.steps, 96 + 95); // the last keepalive is still in flight
});

test('a node whose deadline never moves trips the livelock guard', () => {
  const net = new Network({ seed: 1, maxStepsPerInstant: 1000 });
  const n = new TestNode('n', [A], net.clock);
  n.nextDeadline = () => 0;
  net.addNode(n);
  assert.throws(() => net.run(10), /more than 1000 steps at t=0/);
});

test('topology errors are reported', () => {
  const net = new Network({ seed: 1 });
  net.addNode(new TestNode('a', [A], net.clock));
  net.addNode(new TestNode('b', [B], net.clock));
  assert.throws(() => net.addNode(new TestNode('a', ['10.0.0.9'], net.clock)), /duplicate node name/);
  assert.throws(() => net.addNode(new TestNode('x', ['10.0.0.1'], net.clock)), /already belongs to a/);
  assert.throws(() => net.addNode(new TestNode('y', ['10.0.0.256'], net.clock)), /bad address/);
  assert.throws(() => net.addNode(new TestNode('z', ['fd00::1::2'], net.clock)), /bad address/);
  assert.throws(() => net.link('a', 'a', { latencyUs: 1 }), /itself/);
  assert.throws(() => net.link('a', 'q', { latencyUs: 1 }), /no node named q/);
  net.link('a', 'b', { latencyUs: 1 });
  assert.throws(() => net.link('b', 'a', { latencyUs: 1 }), /already linked/);
  assert.throws(() => net.link('a', 'b', { latencyUs: -1 }), /already linked/);
  net.addNode(new TestNode('c', [C], net.clock));
  assert.throws(() => net.link('a', 'c', { latencyUs: 1.5 }), RangeError);
  assert.throws(() => net.link('a', 'c', { latencyUs: 1, loss: -0.1 }), RangeError);
});
