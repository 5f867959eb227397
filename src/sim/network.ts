// A simulated IP network driven in virtual time: nodes, point-to-point links with latency, bandwidth,
// loss, duplication, reordering, corruption, MTU and queue limits, partitions and middlebox filters.
// One binary heap (time, sequence) holds packet arrivals and scheduled actions; node timers are polled
// through nextDeadline(). The loop jumps straight to the earliest of the two, so idle time is free.
// All randomness comes from an Rng forked per link direction: the same seed gives the same run.

import { VirtualClock } from '../time/clock.ts';
import { recyclePacket } from '../wire/packet.ts';
import { Rng } from './rng.ts';
import { gsoSegments, SegmentRun, tcpChecksumOk, tcpHeadersLen } from '../wire/gso.ts';

/** What the network needs of a node (a Host is one): its name and addresses, packet delivery and timers. */
export interface SimNode {
  readonly name: string;
  /** Canonical IP strings, e.g. "10.0.0.1", "fd00::1" (any valid text form is accepted). */
  readonly addresses: readonly string[];
  /**
   * Installed by the network; the node calls it synchronously to send an IP packet at the
   * network's current time (`gsoSize` > 0: a TSO packet, see gsoMaxSize). `recycles` (true from
   * a Network): packets of wire/packet.ts's pool come back to it once delivered or dropped, when
   * nothing else holds them (see deliver).
   */
  setEmit(emit: (packet: Uint8Array, gsoSize?: number) => void, recycles?: boolean): void;
  /**
   * One packet, arriving now. A node reads the time from the network's clock (`net.clock`,
   * which a Host is built with): the network never passes a second copy of it. Packets are
   * passed without copying (duplicates share one buffer): treat them as read-only. A GSO
   * packet (see gsoMaxSize) comes with `gsoSize` and its checksum partial (`csumValid`). Return
   * true only when the node kept nothing of the packet (no reference to it or to a view of its
   * bytes): the network may then give its memory to the next packet.
   */
  deliver(packet: Uint8Array, csumValid?: boolean, gsoSize?: number): boolean | void;
  /**
   * The node's device takes TSO/GSO super-packets of up to this many bytes (veth with its
   * offloads), and may emit them, each with its gso_size. Absent or 0: single segments only.
   */
  readonly gsoMaxSize?: number;
  /** The node trusts TCP checksums without a check (Host with checksumOffload true): GRO need not verify them. */
  readonly rxChecksumOffload?: boolean;
  /**
   * NAPI (nodes with gsoMaxSize): the packets of one poll come between these; applications wake
   * at napiEnd, which gives `released` each packet deliver() kept until then and holds no more.
   */
  napiBegin?(): void;
  napiEnd?(released?: (packet: Uint8Array) => void): void;
  /** Run every timer due at or before the clock's now. */
  advance(): void;
  /** Earliest pending timer (µs) or Infinity. */
  nextDeadline(): number;
}

/** A link's properties and faults; the probabilities are per packet and per direction. */
export interface LinkParams {
  latencyUs: number;
  /** Bits per second; 0 or undefined = infinite (no serialization delay). */
  bandwidthBps?: number;
  /** Probabilities in [0, 1]. */
  loss?: number;
  duplicate?: number;
  /** Probability a packet gets reorderDelayUs of extra delay. */
  reorder?: number;
  /** Default 1000 µs. */
  reorderDelayUs?: number;
  /** Probability one random byte (of a copy) is XORed with a random non-zero value. */
  corrupt?: number;
  /** Larger packets are dropped (fate 'mtu'); default Infinity. */
  mtu?: number;
  /** With a finite bandwidth: at most this many packets waiting or being serialized; more are tail-dropped. Default Infinity. */
  queuePackets?: number;
}

/** LinkParams with every default filled in. */
export type ResolvedLinkParams = Required<LinkParams>;

/** Drops on a link (counted per direction and in totals). */
export type LinkDropFate = 'lost' | 'partitioned' | 'mtu' | 'queue' | 'down';
/** Drops before a link is chosen (counted in totals only). */
export type DropFate = LinkDropFate | 'filtered' | 'unroutable';
/** What became of a packet: delivered, or why it was dropped. */
export type PacketFate = 'delivered' | DropFate;

/** Counters for one link direction. `sent` counts packets that entered the link (after routing and filters). */
export interface LinkStats {
  sent: number;
  delivered: number; // includes duplicates
  lost: number;
  partitioned: number;
  mtu: number;
  queue: number;
  down: number;
  duplicated: number;
  corrupted: number;
  reordered: number;
  bytesSent: number;
  bytesDelivered: number;
}

/** Totals. Here `sent` counts every emitted packet: sent = unroutable + filtered + sum of link `sent`. */
export interface NetworkStats extends LinkStats {
  filtered: number;
  unroutable: number;
}

/** One packet's fate, as Network.onPacket reports it. */
export interface PacketEvent {
  /** Arrival time for 'delivered', send time for drops. */
  t: number;
  sentAt: number;
  from: string;
  /** Receiving node; null when no node owns the destination (or the packet has no IP header). */
  to: string | null;
  packet: Uint8Array;
  fate: PacketFate;
  duplicate: boolean;
  corrupted: boolean;
  reordered: boolean;
}

/**
 * Middlebox hook, called at send time for every routed packet, in the order filters were added.
 * 'pass' keeps the packet, null drops it (fate 'filtered'), a Uint8Array replaces it (copy first: never
 * mutate the sender's buffer) and is routed again by its destination address.
 */
export type PacketFilter = (p: { from: string; to: string; packet: Uint8Array; now: number }) => Uint8Array | null | 'pass';

/** Options of a Network: `seed` makes every random choice of a run (loss, reordering...) repeatable. */
export interface NetworkOptions {
  seed: number;
  startUs?: number;
  /** Guard against livelock: more steps than this at one instant throw. Default 1,000,000. */
  maxStepsPerInstant?: number;
}

function newLinkStats(): LinkStats {
  return { sent: 0, delivered: 0, lost: 0, partitioned: 0, mtu: 0, queue: 0, down: 0, duplicated: 0, corrupted: 0, reordered: 0, bytesSent: 0, bytesDelivered: 0 };
}

const DEFAULTS: ResolvedLinkParams = {
  latencyUs: 0,
  bandwidthBps: 0,
  loss: 0,
  duplicate: 0,
  reorder: 0,
  reorderDelayUs: 1000,
  corrupt: 0,
  mtu: Infinity,
  queuePackets: Infinity,
};

function resolveParams(base: ResolvedLinkParams, p: Partial<LinkParams>): ResolvedLinkParams {
  const r: ResolvedLinkParams = { ...base };
  for (const k of Object.keys(DEFAULTS) as Array<keyof LinkParams>) {
    const v = p[k];
    if (v !== undefined) r[k] = v;
  }
  const intOk = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
  if (!intOk(r.latencyUs)) throw new RangeError(`link: latencyUs must be a non-negative integer, got ${r.latencyUs}`);
  if (!intOk(r.reorderDelayUs)) throw new RangeError(`link: reorderDelayUs must be a non-negative integer, got ${r.reorderDelayUs}`);
  if (!(r.bandwidthBps >= 0) || !Number.isFinite(r.bandwidthBps)) throw new RangeError(`link: bad bandwidthBps ${r.bandwidthBps}`);
  for (const k of ['loss', 'duplicate', 'reorder', 'corrupt'] as const) {
    if (!(r[k] >= 0 && r[k] <= 1)) throw new RangeError(`link: ${k} must be a probability, got ${r[k]}`);
  }
  if (!(r.mtu > 0)) throw new RangeError(`link: bad mtu ${r.mtu}`);
  if (!(r.queuePackets >= 1)) throw new RangeError(`link: bad queuePackets ${r.queuePackets}`);
  return r;
}

interface NodeEntry {
  readonly node: SimNode;
  readonly name: string;
  readonly out: Map<NodeEntry, LinkDirection>;
}

/** One direction of a link: its parameters, counters and serialization state. */
export class LinkDirection {
  readonly link: Link;
  readonly from: string;
  readonly to: string;
  readonly stats: LinkStats = newLinkStats();
  /** @internal */ _params: ResolvedLinkParams;
  /** @internal */ readonly _dst: NodeEntry;
  /** @internal */ readonly _rng: Rng;
  /** @internal end of serialization of the last accepted packet */ _busyUntil = 0;
  /** @internal serialization finish times of queued packets, from _qHead on */ _finishes: number[] = [];
  /** @internal */ _qHead = 0;

  /** @internal */
  constructor(link: Link, from: string, dst: NodeEntry, params: ResolvedLinkParams, rng: Rng) {
    this.link = link;
    this.from = from;
    this.to = dst.name;
    this._dst = dst;
    this._params = params;
    this._rng = rng;
  }

  get params(): Readonly<ResolvedLinkParams> {
    return this._params;
  }

  /** Packets waiting or being serialized at time nowUs (bandwidth-limited links only). */
  queued(nowUs: number): number {
    const f = this._finishes;
    while (this._qHead < f.length && f[this._qHead]! <= nowUs) this._qHead++;
    if (this._qHead > 64 && this._qHead * 2 > f.length) {
      f.splice(0, this._qHead);
      this._qHead = 0;
    }
    return f.length - this._qHead;
  }
}

/** A bidirectional link; `ab` carries a -> b, `ba` carries b -> a. */
export class Link {
  readonly a: string;
  readonly b: string;
  readonly ab: LinkDirection;
  readonly ba: LinkDirection;
  private _up = true;

  /** @internal */
  constructor(a: NodeEntry, b: NodeEntry, params: LinkParams, reverse: Partial<LinkParams> | undefined, rng: Rng) {
    this.a = a.name;
    this.b = b.name;
    const fwd = resolveParams(DEFAULTS, params);
    const rev = reverse ? resolveParams(fwd, reverse) : fwd;
    this.ab = new LinkDirection(this, a.name, b, fwd, rng.fork(`link:${a.name}>${b.name}`));
    this.ba = new LinkDirection(this, b.name, a, rev, rng.fork(`link:${b.name}>${a.name}`));
  }

  get isUp(): boolean {
    return this._up;
  }

  /** Packets sent while down are dropped (fate 'down'); packets already in flight still arrive. */
  down(): void {
    this._up = false;
  }

  /** Brings the link back up. */
  up(): void {
    this._up = true;
  }

  /** Change parameters: `params` apply to both directions, then `reverse` overrides b -> a. Takes effect for packets sent from now on. */
  set(params: Partial<LinkParams>, reverse?: Partial<LinkParams>): void {
    const fwd = resolveParams(this.ab._params, params);
    const rev = resolveParams(resolveParams(this.ba._params, params), reverse ?? {});
    this.ab._params = fwd;
    this.ba._params = rev;
  }

  /** The direction that carries packets sent by node `from`. */
  direction(from: string): LinkDirection {
    if (from === this.a) return this.ab;
    if (from === this.b) return this.ba;
    throw new Error(`link ${this.a}<->${this.b} has no end ${from}`);
  }

  /** Sum of both directions. */
  get stats(): LinkStats {
    const s = newLinkStats();
    for (const d of [this.ab, this.ba]) for (const k of Object.keys(s) as Array<keyof LinkStats>) s[k] += d.stats[k];
    return s;
  }
}

// step() results
const IDLE = 0;
const STEPPED = 1;
const BEYOND = 2;

const F_DUP = 1;
const F_CORRUPT = 2;
const F_REORDER = 4;
/** The packet may be held by someone else too (a filter saw it, or it was duplicated): never recycled. */
const F_SHARED = 8;

class Ev {
  constructor(
    public t: number,
    public seq: number,
    public fn: (() => void) | null,
    public dir: LinkDirection | null,
    public packet: Uint8Array | null,
    public sentAt: number,
    public flags: number,
    /** A GSO packet's segment size (0: a single segment). */
    public gso = 0,
  ) {}
}

/** NAPI_POLL_WEIGHT: the most packets one poll takes. */
const NAPI_POLL_WEIGHT = 64;

/** Events run go back here for the next ones (no object per packet in flight). Bounded. */
const EV_POOL_MAX = 4096;

/** Binary min-heap on (t, seq). */
class EventHeap {
  private a: Ev[] = [];

  get size(): number {
    return this.a.length;
  }

  peek(): Ev | undefined {
    return this.a[0];
  }

  push(e: Ev): void {
    const a = this.a;
    let i = a.length;
    a.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(e, a[p]!)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = e;
  }

  pop(): Ev | undefined {
    const a = this.a;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last !== undefined) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && less(a[r]!, a[l]!) ? r : l;
        if (!less(a[c]!, last)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

function less(x: Ev, y: Ev): boolean {
  return x.t < y.t || (x.t === y.t && x.seq < y.seq);
}

const HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Routing key of the packet's destination address, or null if it has no IPv4/IPv6 header. */
function destinationKey(p: Uint8Array): string | null {
  const v = p.length > 0 ? p[0]! >> 4 : 0;
  if (v === 4 && p.length >= 20) return `${p[16]}.${p[17]}.${p[18]}.${p[19]}`;
  if (v === 6 && p.length >= 40) {
    let s = '6:';
    for (let i = 24; i < 40; i++) s += HEX[p[i]!];
    return s;
  }
  return null;
}

/** The IPv4 address at b[o] as a number (the sim's numeric route key). */
function v4Number(b: ArrayLike<number>, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function v4Bytes(s: string): number[] | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  const out: number[] = [];
  for (const x of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(x) || Number(x) > 255) return null;
    out.push(Number(x));
  }
  return out;
}

/** Routing key of an address string (same keys as destinationKey), or null if it is not an IP address. */
function addressKey(s: string): string | null {
  if (!s.includes(':')) {
    const b = v4Bytes(s);
    return b ? b.join('.') : null;
  }
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null;
  const split = (x: string): string[] => (x === '' ? [] : x.split(':'));
  const head = dbl >= 0 ? split(s.slice(0, dbl)) : split(s);
  const tail = dbl >= 0 ? split(s.slice(dbl + 2)) : [];
  const words = (groups: string[], last: boolean): number[] | null => {
    const w: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (last && i === groups.length - 1 && g.includes('.')) {
        const b = v4Bytes(g);
        if (!b) return null;
        w.push((b[0]! << 8) | b[1]!, (b[2]! << 8) | b[3]!);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
        w.push(parseInt(g, 16));
      } else {
        return null;
      }
    }
    return w;
  };
  const hw = words(head, dbl < 0);
  const tw = words(tail, true);
  if (!hw || !tw) return null;
  const fill = 8 - hw.length - tw.length;
  if (dbl >= 0 ? fill < 1 : fill !== 0) return null;
  let key = '6:';
  for (const w of [...hw, ...new Array<number>(fill).fill(0), ...tw]) key += HEX[w >> 8]! + HEX[w & 255]!;
  return key;
}

/** A simulated IP network in virtual time: nodes (hosts), point-to-point links with their faults, partitions and middlebox filters. Time jumps from one event to the next, so idle time costs nothing. */
export class Network {
  readonly clock: VirtualClock;
  readonly rng: Rng;
  readonly stats: NetworkStats = { ...newLinkStats(), filtered: 0, unroutable: 0 };
  /** Observation hook: every packet's fate (drops at send time, deliveries at arrival). */
  onPacket?: (ev: PacketEvent) => void;

  private readonly nodes: NodeEntry[] = [];
  private readonly deadlines: number[] = [];
  private readonly byName = new Map<string, NodeEntry>();
  private readonly byAddr = new Map<string, NodeEntry>();
  /** IPv4 addresses as numbers: the per-packet route lookup builds no string. */
  private readonly byAddr4 = new Map<number, NodeEntry>();
  private readonly links: Link[] = [];
  private readonly heap = new EventHeap();
  private readonly evPool: Ev[] = [];
  private readonly partitions: Array<{ a: string; b: string; from: number; to: number }> = [];
  private readonly filters: PacketFilter[] = [];
  private readonly maxStepsPerInstant: number;
  private seq = 0;
  private _steps = 0;
  private instant = -1;
  private stepsAtInstant = 0;

  constructor(opts: NetworkOptions) {
    this.clock = new VirtualClock(opts.startUs ?? 0);
    this.rng = new Rng(opts.seed);
    this.maxStepsPerInstant = opts.maxStepsPerInstant ?? 1_000_000;
  }

  get now(): number {
    return this.clock.now();
  }

  /** Steps taken so far: one per event (packet arrival or action) and one per round of node timers. */
  get steps(): number {
    return this._steps;
  }

  /** Adds a node; its name and addresses must be unique on the network. */
  addNode(node: SimNode): void {
    if (this.byName.has(node.name)) throw new Error(`network: duplicate node name ${node.name}`);
    const keys: string[] = [];
    for (const a of node.addresses) {
      const k = addressKey(a);
      if (k === null) throw new Error(`network: node ${node.name}: bad address ${a}`);
      const owner = this.byAddr.get(k);
      if (owner || keys.includes(k)) throw new Error(`network: address ${a} of ${node.name} already belongs to ${owner?.name ?? node.name}`);
      keys.push(k);
    }
    const e: NodeEntry = { node, name: node.name, out: new Map() };
    this.nodes.push(e);
    this.deadlines.push(Infinity);
    this.byName.set(node.name, e);
    for (const k of keys) {
      this.byAddr.set(k, e);
      const b = k.includes('.') ? v4Bytes(k) : null;
      if (b) this.byAddr4.set(v4Number(b, 0), e);
    }
    node.setEmit((packet, gsoSize) => (gsoSize ? this.sendGso(e, packet, gsoSize) : this.send(e, packet)), true);
  }

  /** Links two nodes by name: `params` apply both ways, `reverse` overrides b -> a. */
  link(a: string, b: string, params: LinkParams, reverse?: Partial<LinkParams>): Link {
    const ea = this.entry(a);
    const eb = this.entry(b);
    if (ea === eb) throw new Error(`network: cannot link ${a} to itself`);
    if (ea.out.has(eb)) throw new Error(`network: ${a} and ${b} are already linked`);
    const l = new Link(ea, eb, params, reverse, this.rng);
    ea.out.set(eb, l.ab);
    eb.out.set(ea, l.ba);
    this.links.push(l);
    return l;
  }

  /** The link between two nodes, if any. */
  linkBetween(a: string, b: string): Link | undefined {
    return this.entry(a).out.get(this.entry(b))?.link;
  }

  /** Run fn at virtual time tUs (not in the past); ties run in scheduling order. */
  at(tUs: number, fn: () => void): void {
    if (!Number.isSafeInteger(tUs) || tUs < this.now) throw new RangeError(`network.at: ${tUs} is not a time at or after now (${this.now})`);
    this.heap.push(this.ev(tUs, fn, null, null, 0, 0));
  }

  /** Runs fn dUs microseconds of virtual time from now. */
  after(dUs: number, fn: () => void): void {
    if (!Number.isSafeInteger(dUs) || dUs < 0) throw new RangeError(`network.after: bad delay ${dUs}`);
    this.at(this.now + dUs, fn);
  }

  /** Packets sent between a and b (either way) at a time in [fromUs, toUs) are dropped. */
  partition(a: string, b: string, fromUs: number, toUs: number): void {
    if (a === b) throw new Error('network.partition: a and b must differ');
    if (!(fromUs <= toUs)) throw new RangeError(`network.partition: bad window [${fromUs}, ${toUs})`);
    this.partitions.push({ a, b, from: fromUs, to: toUs });
  }

  /** Add a middlebox filter; returns a function that removes it. */
  addFilter(fn: PacketFilter): () => void {
    this.filters.push(fn);
    return () => {
      const i = this.filters.indexOf(fn);
      if (i >= 0) this.filters.splice(i, 1);
    };
  }

  /** When the next thing happens (a packet arrival, an action or a node timer), or Infinity. */
  nextEventTime(): number {
    const top = this.heap.peek();
    let t = top ? top.t : Infinity;
    for (const e of this.nodes) {
      const d = e.node.nextDeadline();
      if (d < t) t = d;
    }
    return t < this.clock.now() ? this.clock.now() : t;
  }

  /** Process everything due up to untilUs inclusive, then leave the clock at untilUs. */
  run(untilUs: number): void {
    if (!Number.isSafeInteger(untilUs) || untilUs < this.now) throw new RangeError(`network.run: ${untilUs} is before now (${this.now})`);
    while (this.step(untilUs) === STEPPED);
    this.clock.set(untilUs);
  }

  /**
   * Run until nothing is in flight, scheduled or pending in any node (returns true, clock at the last
   * event), or until the next thing is after maxUs (returns false, clock at maxUs). A node with a
   * perpetual timer never goes idle: pass maxUs then.
   */
  runUntilIdle(maxUs = Infinity): boolean {
    if (maxUs < this.now) throw new RangeError(`network.runUntilIdle: ${maxUs} is before now (${this.now})`);
    let r: number;
    while ((r = this.step(maxUs)) === STEPPED);
    if (r === IDLE) return true;
    this.clock.set(maxUs);
    return false;
  }

  /**
   * Step while pred() holds. Returns true when pred() turned false (clock at that instant); false when
   * the next thing is after maxUs or nothing is left (clock moved to maxUs if finite).
   */
  runWhile(pred: () => boolean, maxUs: number): boolean {
    if (maxUs < this.now) throw new RangeError(`network.runWhile: ${maxUs} is before now (${this.now})`);
    while (pred()) {
      if (this.step(maxUs) !== STEPPED) {
        if (Number.isFinite(maxUs)) this.clock.set(maxUs);
        return false;
      }
    }
    return true;
  }

  private entry(name: string): NodeEntry {
    const e = this.byName.get(name);
    if (!e) throw new Error(`network: no node named ${name}`);
    return e;
  }

  private step(limit: number): number {
    const top = this.heap.peek();
    const evT = top ? top.t : Infinity;
    // An event due now runs before any node timer (a node's deadline is never earlier than now
    // once clamped below, and ties go to events): no need to ask every node for its deadline.
    if (evT <= this.clock.now() && evT <= limit) return this.popAndRun(top!);
    let nodeT = Infinity;
    const nodes = this.nodes;
    const dl = this.deadlines;
    for (let i = 0; i < nodes.length; i++) {
      const d = nodes[i]!.node.nextDeadline();
      dl[i] = d;
      if (d < nodeT) nodeT = d;
    }
    if (evT === Infinity && nodeT === Infinity) return IDLE;
    const now = this.clock.now();
    if (nodeT < now) nodeT = now;
    if (evT <= nodeT) return evT > limit ? BEYOND : this.popAndRun(top!);
    if (nodeT > limit) return BEYOND;
    this.enter(nodeT);
    for (let i = 0; i < nodes.length; i++) if (dl[i]! <= nodeT) nodes[i]!.node.advance();
    return STEPPED;
  }

  /** Runs the event at the top of the heap (ev), at its time. */
  private popAndRun(ev: Ev): number {
    this.enter(ev.t);
    this.heap.pop();
    try {
      if (ev.fn === null && ev.dir!._dst.node.gsoMaxSize) this.napiPoll(ev);
      else this.runEvent(ev);
    } finally {
      this.recycle(ev);
    }
    return STEPPED;
  }

  private recycle(ev: Ev): void {
    ev.fn = null;
    ev.dir = null;
    ev.packet = null;
    if (this.evPool.length < EV_POOL_MAX) this.evPool.push(ev);
  }

  /** An event (from the pool when it has one), with the next sequence number. */
  private ev(t: number, fn: (() => void) | null, dir: LinkDirection | null, packet: Uint8Array | null, sentAt: number, flags: number): Ev {
    const e = this.evPool.pop();
    if (e === undefined) return new Ev(t, this.seq++, fn, dir, packet, sentAt, flags);
    e.t = t;
    e.seq = this.seq++;
    e.fn = fn;
    e.dir = dir;
    e.packet = packet;
    e.sentAt = sentAt;
    e.flags = flags;
    e.gso = 0;
    return e;
  }

  private enter(t: number): void {
    this.clock.set(t);
    this._steps++;
    if (t !== this.instant) {
      this.instant = t;
      this.stepsAtInstant = 0;
    } else if (++this.stepsAtInstant > this.maxStepsPerInstant) {
      throw new Error(`network: more than ${this.maxStepsPerInstant} steps at t=${t} µs (a node whose nextDeadline() stays due after advance(), or a zero-delay loop?)`);
    }
  }

  private runEvent(ev: Ev): void {
    if (ev.fn !== null) {
      ev.fn();
      return;
    }
    this.arrived(ev);
    this.deliverOne(ev);
  }

  /**
   * A packet to its node. It is in flight in its event until delivered: then it is the
   * receiver's, and comes back to the pool when the receiver kept nothing of it and no observer
   * or other arrival shares it.
   */
  private deliverOne(ev: Ev): void {
    const node = ev.dir!._dst.node;
    const packet = ev.packet!;
    const free = ev.gso ? node.deliver(packet, true, ev.gso) : node.deliver(packet);
    if (free === true && !(ev.flags & F_SHARED) && !this.onPacket) recyclePacket(packet);
  }

  /**
   * NAPI and GRO at a node with offloads (gsoMaxSize): the packets that arrive over one link at
   * one instant, next in the heap, are taken as one poll (at most NAPI_POLL_WEIGHT 64); runs of
   * consecutive segments of a connection are merged into one packet as tcp_gro_receive merges
   * them (wire/gso.ts SegmentRun: same headers, the sequence continuing, PSH or a short segment
   * ending the run, checksums verified first) and delivered with their gso_size; the node wakes
   * its applications once, after the poll (napiEnd), as a woken process runs after the softirq.
   * The heap's order is kept: only the events that would have run next are taken. One run at a
   * time: a packet of another connection ends it (Linux keeps up to 8 flows in its gro_list).
   */
  private napiPoll(first: Ev): void {
    // A fixed array and a count: emptying an array by its length gives its storage up.
    const batch = this.napiBatch;
    batch[0] = first;
    let n = 1;
    const dir = first.dir!;
    for (let nx = this.heap.peek(); nx !== undefined && nx.t === first.t && nx.fn === null && nx.dir === dir && n < NAPI_POLL_WEIGHT; nx = this.heap.peek()) {
      this.enter(nx.t);
      this.heap.pop();
      batch[n++] = nx;
    }
    this.napiCount = n;
    const node = dir._dst.node;
    const run = (this.groRun ??= new SegmentRun(0));
    const verify = node.rxChecksumOffload !== true;
    node.napiBegin?.();
    try {
      for (let i = 0; i < n; i++) {
        const ev = batch[i]!;
        this.arrived(ev);
        const p = ev.packet!;
        // A poll of one packet has nothing to merge: it goes up as it came.
        const mergeable = n > 1 && ev.gso === 0 && (!verify || tcpChecksumOk(p));
        if (mergeable && run.len && run.extend(p)) {
          // Its bytes are in the run now: the packet is free.
          if (!(ev.flags & F_SHARED) && !this.onPacket) recyclePacket(p);
          if (run.full) this.groFlush(node);
          continue;
        }
        this.groFlush(node);
        if (mergeable && run.start(p)) {
          this.groStarted = ev;
          continue;
        }
        this.deliverOne(ev);
      }
      this.groFlush(node);
    } finally {
      run.len = 0;
      this.groStarted = null;
      node.napiEnd?.(this.onPacket ? undefined : this.releasedFn);
      this.napiCount = 0;
      for (let i = 1; i < n; i++) {
        this.recycle(batch[i]!);
        batch[i] = null;
      }
      batch[0] = null;
    }
  }
  private readonly napiBatch: Array<Ev | null> = new Array<Ev | null>(NAPI_POLL_WEIGHT).fill(null);
  private napiCount = 0;
  private groRun: SegmentRun | null = null;
  private groStarted: Ev | null = null; // the arrival that started the run
  /** Packets of a poll the node held until its applications ran, and holds no more. */
  private readonly releasedFn = (p: Uint8Array): void => {
    const b = this.napiBatch;
    for (let i = 0; i < this.napiCount; i++) if (b[i]!.packet === p && b[i]!.flags & F_SHARED) return;
    recyclePacket(p);
  };

  /** napi_gro_complete: the run goes up, one segment as it came, two or more as a GRO packet. */
  private groFlush(node: SimNode): void {
    const run = this.groRun!;
    const segs = run.segs;
    const n = run.end();
    if (!n) return;
    const first = this.groStarted!;
    this.groStarted = null;
    if (segs === 1) this.deliverOne(first);
    else {
      if (!(first.flags & F_SHARED) && !this.onPacket) recyclePacket(first.packet!);
      node.deliver(run.buf.slice(0, n), true, run.gsoSize);
    }
  }

  /** A packet's arrival: the link's and the network's counters, and the observer. */
  private arrived(ev: Ev): void {
    const dir = ev.dir!;
    const packet = ev.packet!;
    dir.stats.delivered++;
    dir.stats.bytesDelivered += packet.length;
    this.stats.delivered++;
    this.stats.bytesDelivered += packet.length;
    if (this.onPacket) {
      this.onPacket({
        t: ev.t,
        sentAt: ev.sentAt,
        from: dir.from,
        to: dir.to,
        packet,
        fate: 'delivered',
        duplicate: (ev.flags & F_DUP) !== 0,
        corrupted: (ev.flags & F_CORRUPT) !== 0,
        reordered: (ev.flags & F_REORDER) !== 0,
      });
    }
  }

  private route(src: NodeEntry, packet: Uint8Array): LinkDirection | string | null {
    let dst: NodeEntry | undefined;
    if (packet.length >= 20 && packet[0]! >> 4 === 4) dst = this.byAddr4.get(v4Number(packet, 16));
    else {
      const key = destinationKey(packet);
      dst = key === null ? undefined : this.byAddr.get(key);
    }
    if (!dst) return null;
    return src.out.get(dst) ?? dst.name;
  }

  /**
   * A TSO/GSO packet from a node with offloads. It crosses whole, as a GSO skb crosses a veth
   * pair, when the node at the other end takes such packets and the link does nothing per
   * packet (no bandwidth, loss, duplication, reordering or corruption, no filter, each segment
   * within the MTU); a partition drops it whole. Anywhere else it is cut into the segments it
   * stands for (tcp_gso_segment, as software GSO does before a device without TSO), and each
   * goes on as any packet. Counted as one packet when it crosses whole (a veth's tx_packets).
   */
  private sendGso(src: NodeEntry, packet: Uint8Array, gsoSize: number): void {
    const dir = this.filters.length ? null : this.route(src, packet);
    if (dir instanceof LinkDirection && (dir._dst.node.gsoMaxSize ?? 0) >= packet.length && dir.link.isUp) {
      const p = dir._params;
      const hl = tcpHeadersLen(packet);
      if (!p.bandwidthBps && !p.loss && !p.duplicate && !p.reorder && !p.corrupt && hl > 0 && hl + gsoSize <= p.mtu) {
        const now = this.clock.now();
        this.stats.sent++;
        this.stats.bytesSent += packet.length;
        dir.stats.sent++;
        dir.stats.bytesSent += packet.length;
        if (this.partitioned(src.name, dir.to, now)) return this.drop(dir, src.name, dir.to, packet, 'partitioned');
        const ev = this.ev(now + p.latencyUs, null, dir, packet, now, 0);
        ev.gso = gsoSize;
        this.heap.push(ev);
        return;
      }
    }
    const segs = gsoSegments(packet, gsoSize);
    if (segs === null) return this.send(src, packet);
    for (let i = 0; i < segs.length; i++) this.send(src, segs[i]!);
  }

  private send(src: NodeEntry, packet: Uint8Array): void {
    const now = this.clock.now();
    const total = this.stats;
    total.sent++;
    total.bytesSent += packet.length;
    let dir = this.route(src, packet);
    if (!(dir instanceof LinkDirection)) return this.drop(null, src.name, dir, packet, 'unroutable');
    let flags = this.filters.length ? F_SHARED : 0; // a filter may keep what it saw
    for (let i = 0; i < this.filters.length; i++) {
      const r = this.filters[i]!({ from: src.name, to: dir.to, packet, now });
      if (r === 'pass') continue;
      if (r === null) return this.drop(null, src.name, dir.to, packet, 'filtered');
      if (r !== packet) {
        packet = r;
        dir = this.route(src, packet);
        if (!(dir instanceof LinkDirection)) return this.drop(null, src.name, dir, packet, 'unroutable');
      }
    }
    const st = dir.stats;
    const p = dir._params;
    st.sent++;
    st.bytesSent += packet.length;
    if (!dir.link.isUp) return this.drop(dir, src.name, dir.to, packet, 'down', flags);
    if (this.partitioned(src.name, dir.to, now)) return this.drop(dir, src.name, dir.to, packet, 'partitioned', flags);
    if (packet.length > p.mtu) return this.drop(dir, src.name, dir.to, packet, 'mtu', flags);
    let depart = now;
    if (p.bandwidthBps > 0) {
      if (dir.queued(now) >= p.queuePackets) return this.drop(dir, src.name, dir.to, packet, 'queue', flags);
      const start = dir._busyUntil > now ? dir._busyUntil : now;
      depart = start + Math.ceil((packet.length * 8_000_000) / p.bandwidthBps);
      dir._busyUntil = depart;
      dir._finishes.push(depart);
    }
    const rng = dir._rng;
    if (rng.chance(p.loss)) return this.drop(dir, src.name, dir.to, packet, 'lost', flags);
    if (rng.chance(p.corrupt)) {
      packet = packet.slice();
      packet[rng.int(0, packet.length - 1)]! ^= rng.int(1, 255);
      flags |= F_CORRUPT;
      st.corrupted++;
      total.corrupted++;
    }
    let arrive = depart + p.latencyUs;
    if (rng.chance(p.reorder)) {
      arrive += p.reorderDelayUs;
      flags |= F_REORDER;
      st.reordered++;
      total.reordered++;
    }
    const ev = this.ev(arrive, null, dir, packet, now, flags);
    this.heap.push(ev);
    if (rng.chance(p.duplicate)) {
      st.duplicated++;
      total.duplicated++;
      ev.flags |= F_SHARED; // both arrivals share the buffer
      this.heap.push(this.ev(arrive, null, dir, packet, now, flags | F_DUP | F_SHARED));
    }
  }

  private partitioned(a: string, b: string, now: number): boolean {
    const ps = this.partitions;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      if (now >= p.from && now < p.to && ((p.a === a && p.b === b) || (p.a === b && p.b === a))) return true;
    }
    return false;
  }

  /** A packet dropped at send time: to the pool unless an observer or a filter saw it. */
  private drop(dir: LinkDirection | null, from: string, to: string | null, packet: Uint8Array, fate: DropFate, flags = F_SHARED): void {
    if (dir !== null) dir.stats[fate as LinkDropFate]++;
    this.stats[fate]++;
    if (this.onPacket) {
      const now = this.clock.now();
      this.onPacket({ t: now, sentAt: now, from, to, packet, fate, duplicate: false, corrupted: false, reordered: false });
    } else if (!(flags & F_SHARED)) recyclePacket(packet);
  }
}
