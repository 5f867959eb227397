// A host: the pure state machine the engine shape describes. It is given IP packets, reads its
// one clock, and returns packets (through `emit`) and trace events. It owns demultiplexing
// (demux.ts), the listener table, ports (ports.ts), config, counters, the socket table and the
// timer wheel (Linux tcp_ipv4.c, inet_hashtables.c); every rule of the connection lifecycle is
// tcp/'s, which reaches the host through the env interfaces it implements (ConnEnv, ListenEnv,
// TimeWaitEnv, SocketHost).

import type { Clock } from '../time/clock.ts';
import { TimerWheel } from '../time/wheel.ts';
import { decodePacketInto, encodePacketPooled, encodePacketSlab, formatFlags, formatOptions, madeView, makeIpRepr } from '../wire/packet.ts';
import { ACK, FIN, RST, SYN, type IpRepr, type TcpRepr } from '../wire/types.ts';
import { ipVersion, isLoopback } from '../wire/addr.ts';
import { payloadLength, RxSegment, scratchIpRepr } from '../wire/segment.ts';

const EMPTY_BYTES = new Uint8Array(0);
import { TcpConn, defaultSockOpts, type ConnEnv, type ConnEvent, type ConnOwner, type SockOpts } from '../tcp/conn.ts';
import { connInput } from '../tcp/input.ts';
import { rmemAlloc } from '../tcp/autotune.ts';
import { memPages } from '../tcp/memory.ts';
import { Listener, listenInput, unlinkChild } from '../tcp/listen.ts';
import { initialWindow } from '../tcp/output.ts';
import { seqAdd } from '../tcp/seq.ts';
import { TcpState } from '../tcp/states.ts';
import { connTimers } from '../tcp/timers.ts';
import type { TcpTimer } from '../tcp/timer.ts';
import { TimeWaitEntry, TimeWaitQueue, TimeWaitTable } from '../tcp/timewait.ts';
import { applySysctl, defaultConfig, type HostConfig } from '../base/config.ts';
import { Counters } from '../base/counters.ts';
import { secureSeq, secureTsOffset } from '../tcp/isn.ts';
import { DemuxTable } from './demux.ts';
import { PortTable } from './ports.ts';
import { Socket, type SocketHost } from './socket.ts';
import { socketRows, type SocketRow } from './ss.ts';
import { ChallengeAckBudget } from '../tcp/oow.ts';

export type { SocketRow } from './ss.ts';
import { connLabel, endpoint, type TraceEvent, type TraceSink } from '../base/trace.ts';

/** How to make a Host: its name, addresses and clock (the network's `net.clock`); `config` sets sysctls. */
export interface HostOptions {
  name: string;
  addresses: string[];
  clock: Clock;
  seed?: number;
  config?: Partial<HostConfig>;
  trace?: TraceSink;
  /** Keep each packet's bytes on segment events (for pcap). Default true. */
  tracePackets?: boolean;
  /**
   * Replaces the RFC 6528 ISN generator (lab use only: to show what an old stack with a
   * predictable ISN would suffer). Never set it to model Linux.
   */
  isn?: (laddr: string, lport: number, raddr: string, rport: number, nowUs: number) => number;
  /**
   * TCP checksum offload as on Linux's lo (NETIF_F_HW_CSUM, NETIF_F_RXCSUM): segments leave with
   * only the pseudo-header sum in the field (CHECKSUM_PARTIAL) and arriving TCP checksums are not
   * verified (CHECKSUM_UNNECESSARY). Only for links that cannot corrupt: the benchmarks' world.
   * Default false: every checksum computed and verified. `'tx'`: only the sending half, for a
   * link that completes partial checksums and says per packet whether one arriving needs a check
   * (a TUN device with vnet headers, TUN_F_CSUM: see deliver()).
   */
  checksumOffload?: boolean | 'tx';
  /**
   * The device's segmentation offloads, as on veth or lo (TSO/GSO and GRO on): TCP hands it up
   * to 64 KB of consecutive full segments as one packet (gso_size the MSS, emitted with that
   * size) and takes such packets whole on receive, as one GRO skb. The simulator carries them
   * whole between two such hosts over a link with no per-packet effect and cuts them into their
   * segments everywhere else. Default false: one segment per packet (as gso_max_segs 1).
   */
  gso?: boolean;
}

/** A simulated host with Linux's TCP: its sockets, listeners, TIME_WAIT table, sysctls and nstat counters. Add it to a Network (or a Runtime), then make sockets with socket() or, for Node code, bindNet(). */
export class Host implements ConnEnv, SocketHost {
  readonly name: string;
  readonly addresses: string[];
  readonly cfg: HostConfig;
  readonly counters = new Counters();
  readonly clock: Clock;
  readonly seed: number;
  private emitFn: ((packet: Uint8Array, gsoSize?: number) => void) | null = null;
  private traceSinks: TraceSink[] = [];
  private tracePackets: boolean;
  private readonly wheel: TimerWheel<TcpTimer>;
  /** A real-time driver's hook: told of every timer armed, so it can wake earlier (link/realtime.ts). */
  private armHook: ((deadlineUs: number) => void) | null = null;
  /** Established, embryonic and closing connections plus TIME_WAIT entries, by 4-tuple. */
  readonly demux = new DemuxTable();
  /** Listeners by "addr|port" (the wildcard address as 0.0.0.0 or ::). */
  private readonly listeners = new Map<string, Listener>();
  /** Local ports: bind(), port 0, ephemeral ports. */
  readonly ports: PortTable;
  /** TIME_WAIT and orphan FIN_WAIT2 entries (tcp/timewait.ts). */
  readonly timeWait = new TimeWaitTable(this);
  /** Sockets made so far, for their labels (sock#N). */
  private socketCount = 0;
  /** Orphaned connections (tcp_orphan_count), bounded by tcp_max_orphans. */
  private orphanCount = 0;
  /** tcp_orphan_cache: the count as tcp_orphan_update last read it, and the 100 ms tick it did. */
  private orphanCache = 0;
  private orphanCacheTick = 0;
  /** tcp_memory_allocated (pages) as last summed, and the jiffy it was; tcp_memory_pressure. */
  private memPagesCache = 0;
  private memPagesAt = -1;
  private memPressure = false;
  private memPressureSince = 0;
  /** net_info_ratelimited: 10 lines per 5 s. */
  private noteWindow = -Infinity;
  private noteCount = 0;
  private readonly challengeAcks: ChallengeAckBudget;
  private ipId = 0;
  private readonly isnOverride: HostOptions['isn'];
  /** Arriving TCP checksums are not verified (NETIF_F_RXCSUM on a link that cannot corrupt). */
  readonly rxChecksumOffload: boolean;
  /** Segments leave CHECKSUM_PARTIAL. */
  private readonly txChecksumOffload: boolean;
  /** HostOptions.gso: the largest TSO packet the device takes (ConnEnv), 0 with no offload. */
  readonly gsoMaxSize: number;

  constructor(opts: HostOptions) {
    this.name = opts.name;
    this.addresses = opts.addresses.slice();
    this.clock = opts.clock;
    this.seed = opts.seed ?? 1;
    this.challengeAcks = new ChallengeAckBudget(this.seed);
    this.cfg = { ...defaultConfig(), ...opts.config };
    if (opts.trace) this.traceSinks.push(opts.trace);
    this.tracePackets = opts.tracePackets ?? true;
    this.isnOverride = opts.isn;
    this.rxChecksumOffload = opts.checksumOffload === true;
    this.txChecksumOffload = (opts.checksumOffload ?? false) !== false;
    this.gsoMaxSize = opts.gso ? 65536 : 0; // GSO_LEGACY_MAX_SIZE
    this.wheel = new TimerWheel<TcpTimer>(opts.clock.now());
    this.ports = new PortTable(this.cfg, this.seed, this.clock, this.demux);
  }

  // ---- The driver's side (SimNode) ----

  /**
   * Installed by the network (SimNode): how the host sends a packet (`gsoSize` > 0: a TSO packet
   * of segments of that size). `recycles`: the driver gives the packets it is done with back to
   * the packet pool (wire/packet.ts recyclePacket), so the host takes its packets from there.
   */
  setEmit(emit: (packet: Uint8Array, gsoSize?: number) => void, recycles = false): void {
    this.emitFn = emit;
    this.pooledOutput = recycles;
  }
  private pooledOutput = false;
  /** `sysctl -w name=value` on this host (a ConfigError for an unknown name or a bad value). */
  setSysctl(name: string, value: string | number): void {
    applySysctl(this.cfg, name, value);
  }
  /** `ip route change ... mtu [lock] N advmss M` for the host's one route (0 or undefined: unchanged). */
  setRoute(r: { mtu?: number; advmss?: number }): void {
    if (r.mtu) this.cfg.mtu = r.mtu;
    if (r.advmss) this.cfg.route_advmss = r.advmss;
  }
  /** Calls fn with the deadline of every timer armed from now on (null: no more). */
  onTimerArmed(fn: ((deadlineUs: number) => void) | null): void {
    this.armHook = fn;
  }
  /** Adds a sink for the host's trace: segments, state changes, timers, calls and errors. */
  onTrace(sink: TraceSink): void {
    this.traceSinks.push(sink);
  }
  /** The host's clock, in microseconds. */
  now(): number {
    return this.clock.now();
  }
  /** The earliest pending timer (µs), or Infinity (SimNode). */
  nextDeadline(): number {
    return this.wheel.nextDeadline();
  }

  /** Runs every timer due at or before the clock's now (the host's one source of time). */
  advance(): void {
    this.wheel.expire(this.clock.now(), (item) => {
      if (item instanceof TimeWaitQueue) this.timeWait.fire(item);
      else if (item instanceof TcpConn) {
        connTimers(item, this.clock.now());
        this.reschedule(item);
      }
    });
    this.flush();
  }

  /**
   * One IP packet from the link. Malformed packets are counted and dropped, never thrown. The
   * host keeps views of the payload in its receive queues (as Linux keeps the skb), so the
   * caller must not modify the packet's bytes afterwards: hand each packet over, as a driver does.
   * A link with offloads says what it knows: `csumValid`, the TCP checksum needs no check (the
   * kernel's CHECKSUM_PARTIAL or CHECKSUM_UNNECESSARY); `gsoSize`, the packet is a GSO/GRO
   * super-packet of segments of that size, taken by TCP as one skb (tcp/input.ts). Returns true
   * when the host kept nothing of the packet (its payload was read at once, or it had none, and
   * no trace sink saw it): the caller may then reuse its memory (SimNode.deliver).
   */
  deliver(packet: Uint8Array, csumValid = false, gsoSize = 0): boolean {
    const c = this.counters;
    c.v.InReceives++; // direct fields on the per-packet path: no keyed lookup
    // The parsed segment is reused packet after packet (one per nesting level, should a
    // delivery ever cause another): nothing on the path below may keep it or its ip.
    const depth = this.rxDepth;
    const ip = this.rxIp[depth] ??= scratchIpRepr();
    const tcp = this.rxSeg[depth] ??= new RxSegment();
    const e = decodePacketInto(packet, ip, tcp, true, !this.rxChecksumOffload && !csumValid);
    if (e !== null) {
      if (e.layer === 'tcp') {
        c.inc('InErrs');
        if (e.kind === 'bad-checksum') c.inc('InCsumErrors');
      } else if (e.kind === 'unsupported-protocol') c.inc('InUnknownProtos');
      else c.inc('InHdrErrors');
      this.emitTrace({ kind: 'drop', t: this.now(), host: this.name, reason: `${e.layer} ${e.kind}: ${e.detail}`, packet });
      return !this.tracing;
    }
    if (!this.addresses.includes(ip.dst)) {
      c.inc('InAddrErrors');
      this.emitTrace({ kind: 'drop', t: this.now(), host: this.name, reason: `not our address: ${ip.dst}`, packet });
      return !this.tracing;
    }
    c.v.InDelivers++;
    // InSegs counts a GRO packet once, as tcp_v4_rcv does (one skb).
    c.v.InSegs++;
    // A GSO/GRO packet from the link (TUN with offloads): the reused segment says so for this packet only.
    tcp.gsoSize = gsoSize && tcp.payloadLength > gsoSize ? gsoSize : undefined;
    // Kept by the fast decoder's segment only as a payload range; the general one's option list
    // may hold views of the packet, so such a packet counts as kept.
    const plain = tcp.fastLayout !== null;
    const hasPayload = tcp.payloadLength !== 0;
    let to: TcpConn | null = null;
    this.rxDepth++;
    try {
      to = this.segmentIn(ip, tcp, packet);
    } finally {
      this.rxDepth--;
      tcp.setPayload(EMPTY_BYTES, 0, 0); // the packet is not kept through the segment
    }
    if (this.napiDepth === 0) this.flush();
    // Whether the packet may be reused: nothing holds it but, maybe, the receive queue of the
    // connection it went to, as the payload view queued (tcp/input.ts dataQueue), until read.
    if (this.tracing || !plain) return false;
    if (!hasPayload) return true;
    if (to === null) return false;
    if (this.napiDepth !== 0) {
      // The application reads at napiEnd: asked again then.
      this.napiHeld.push(packet);
      this.napiHeldBy.push(to);
      return false;
    }
    return !to.rcvBuf.holds(packet, madeView(packet));
  }

  /**
   * NAPI: the packets delivered until napiEnd() are one poll's; the applications they wake run
   * once, at napiEnd(), as a woken process runs after the softirq (a driver or the simulator
   * calls these around a batch; see Network's napiPoll). `released` gets each packet of the poll
   * that deliver() could not yet say was free and that nothing holds once the applications ran.
   */
  napiBegin(): void {
    this.napiDepth++;
  }
  napiEnd(released?: (packet: Uint8Array) => void): void {
    if (--this.napiDepth !== 0) return;
    this.flush();
    const ps = this.napiHeld;
    const by = this.napiHeldBy;
    for (let i = 0; i < ps.length; i++) {
      const p = ps[i]!;
      if (released && !by[i]!.rcvBuf.holds(p, madeView(p))) released(p);
    }
    ps.length = 0;
    by.length = 0;
  }
  private readonly napiHeld: Uint8Array[] = [];
  private readonly napiHeldBy: TcpConn[] = [];
  private napiDepth = 0;
  private rxDepth = 0;
  private readonly rxIp: IpRepr[] = [];
  private readonly rxSeg: RxSegment[] = [];

  // ---- Demultiplexing (tcp_v4_rcv) ----

  /** tcp_v4_rcv; returns the connection the segment went to, null for any other end. */
  private segmentIn(ip: IpRepr, seg: TcpRepr, packet: Uint8Array): TcpConn | null {
    const found = this.demux.find(ip.dst, seg.dstPort, ip.src, seg.srcPort);
    if (this.traceSinks.length) this.traceSegment('in', ip, seg, found?.label, undefined, packet);
    if (found instanceof TcpConn) {
      if (connInput(found, seg)) this.sendReset(ip, seg);
      this.reschedule(found);
      return found;
    }
    if (found instanceof TimeWaitEntry) {
      this.timeWait.input(found, ip, seg);
      return null;
    }
    const l = this.lookupListener(ip.dst, seg.dstPort);
    if (l) {
      listenInput(this, l, ip, seg);
      return null;
    }
    this.sendReset(ip, seg);
    return null;
  }

  /** The connection or TIME_WAIT entry holding a 4-tuple. */
  findEntry(laddr: string, lport: number, raddr: string, rport: number): TcpConn | TimeWaitEntry | undefined {
    return this.demux.find(laddr, lport, raddr, rport);
  }

  /** The full connection holding a 4-tuple, if any (not a TIME_WAIT entry). */
  findConnection(laddr: string, lport: number, raddr: string, rport: number): TcpConn | undefined {
    const e = this.demux.find(laddr, lport, raddr, rport);
    return e instanceof TcpConn ? e : undefined;
  }

  /** listen(): the listener joins the table; false when addr:port has one (EADDRINUSE). */
  addListener(l: Listener): boolean {
    if (this.listeners.has(l.key)) return false;
    this.listeners.set(l.key, l);
    return true;
  }

  /** @internal close() of a listener. */
  removeListener(l: Listener): void {
    if (this.listeners.get(l.key) === l) this.listeners.delete(l.key);
  }

  /** inet_lookup_listener: the exact address first, then the wildcard of the family, then ::. */
  lookupListener(addr: string, port: number): Listener | undefined {
    return this.listeners.get(`${addr}|${port}`) ?? this.listeners.get(`${ipVersion(addr) === 6 ? '::' : '0.0.0.0'}|${port}`) ??
      (ipVersion(addr) === 4 ? this.listeners.get(`::|${port}`) : undefined);
  }

  // ---- Output ----

  /** Encodes, counts, traces and emits one packet; returns the segments it stands for (tcp_skb_pcount). */
  private output(ip: IpRepr, seg: TcpRepr, label: string | undefined, note?: string, gsoSize = 0): number {
    if (ip.version === 4) ip.id = this.ipId = (this.ipId + 1) & 0xffff;
    // Who may keep a packet made here: the trace sinks, given its bytes (tracePackets: pcap, the
    // lab), so then it is never a pooled one; otherwise it is the driver's from emit on: a link
    // may hold it while in flight, delay or duplicate it, and a receiver queue its payload
    // (deliver); a driver that recycles gives it back to the pool only once none of them holds it.
    const packet = this.pooledOutput && !(this.tracePackets && this.traceSinks.length)
      ? encodePacketPooled(ip, seg, this.txChecksumOffload)
      : encodePacketSlab(ip, seg, this.txChecksumOffload);
    // tcp_skb_pcount: a TSO packet counts its segments (OutSegs, segs_out), and inet_gso_segment
    // gives them consecutive IPv4 identifications from the packet's.
    const pcount = gsoSize ? Math.ceil(payloadLength(seg) / gsoSize) : 1;
    if (pcount > 1 && ip.version === 4) this.ipId = (this.ipId + pcount - 1) & 0xffff;
    this.counters.v.OutSegs += pcount;
    this.counters.v.OutRequests++;
    this.traceSegment('out', ip, seg, label, note, packet);
    this.emitFn?.(packet, pcount > 1 ? gsoSize : 0);
    return pcount;
  }

  /** ConnEnv.transmit: a segment (or a TSO packet of segments of `gsoSize`) from a connection's 4-tuple. */
  transmit(conn: TcpConn, seg: TcpRepr, note?: string, gsoSize = 0): void {
    // One IpRepr per family, filled for each segment: output() keeps nothing of it.
    const ip = conn.v6 ? (this.txIp6 ??= makeIpRepr('::', '::')) : (this.txIp4 ??= makeIpRepr('0.0.0.0', '0.0.0.0'));
    ip.src = conn.localAddr;
    ip.dst = conn.remoteAddr;
    conn.segsOut += this.output(ip, seg, this.traceSinks.length ? conn.label : undefined, note, gsoSize);
  }
  private txIp4: IpRepr | null = null;
  private txIp6: IpRepr | null = null;

  /** tcp_v4_send_reset: answer a segment that has no connection (RFC 9293 §3.10.7.1). */
  sendReset(ip: IpRepr, seg: TcpRepr): void {
    if (seg.flags & RST) return;
    const reply: TcpRepr = seg.flags & ACK
      ? { srcPort: seg.dstPort, dstPort: seg.srcPort, seq: seg.ack, ack: 0, flags: RST, window: 0, urgent: 0, options: [], payload: new Uint8Array(0) }
      : {
        srcPort: seg.dstPort, dstPort: seg.srcPort, seq: 0,
        ack: seqAdd(seg.seq, payloadLength(seg) + (seg.flags & SYN ? 1 : 0) + (seg.flags & FIN ? 1 : 0)),
        flags: RST | ACK, window: 0, urgent: 0, options: [], payload: new Uint8Array(0),
      };
    this.counters.inc('OutRsts');
    this.output(makeIpRepr(ip.dst, ip.src), reply, connLabel(ip.dst, seg.dstPort, ip.src, seg.srcPort), 'reset');
  }

  // ---- Trace ----

  /** @internal Sends an event to the trace sinks. */
  trace(ev: TraceEvent): void {
    this.emitTrace(ev);
  }
  get tracing(): boolean {
    return this.traceSinks.length !== 0;
  }
  private emitTrace(ev: TraceEvent): void {
    for (const s of this.traceSinks) s(ev);
  }

  private traceSegment(dir: 'in' | 'out', ip: IpRepr, seg: TcpRepr, label: string | undefined, note: string | undefined, packet: Uint8Array): void {
    if (!this.traceSinks.length) return;
    const ev: TraceEvent = {
      kind: 'segment', t: this.now(), host: this.name, dir,
      src: endpoint(ip.src, seg.srcPort), dst: endpoint(ip.dst, seg.dstPort),
      flags: formatFlags(seg.flags), seq: seg.seq, ack: seg.ack, win: seg.window, len: payloadLength(seg),
      options: formatOptions(seg.options),
    };
    if (label) ev.socket = label;
    if (note) ev.note = note;
    if (this.tracePackets) ev.packet = packet;
    this.emitTrace(ev);
  }

  // ---- ConnEnv ----

  reschedule(conn: TcpConn): void {
    const d = conn.nextWheelDeadline();
    if (d === -1 || conn.state === TcpState.CLOSED) this.wheel.cancel(conn);
    else this.arm(conn, d);
  }

  release(conn: TcpConn): void {
    this.wheel.cancel(conn);
    if (this.demux.get(conn.key) === conn) this.demux.delete(conn.key);
    unlinkChild(conn);
    if (conn.orphan) this.orphanCountAdd(-1);
    conn.orphan = false;
  }

  /** @internal ListenEnv. */
  cookieChildInput(conn: TcpConn, seg: TcpRepr): boolean {
    return connInput(conn, seg, true);
  }

  /** @internal ConnEnv. */
  hashConn(conn: TcpConn): void {
    this.demux.set(conn.key, conn);
  }

  enterTimeWait(conn: TcpConn, substate: 'TIME_WAIT' | 'FIN_WAIT2', timeoutUs: number): boolean {
    this.wheel.cancel(conn);
    if (conn.orphan) this.orphanCountAdd(-1);
    conn.orphan = false;
    return this.timeWait.enter(conn, substate, timeoutUs);
  }

  // ---- TimeWaitEnv ----

  /** @internal TimeWaitEnv. */
  arm(t: TcpTimer, at: number): void {
    this.wheel.schedule(t, at);
    if (this.armHook) this.armHook(at);
  }
  /** @internal TimeWaitEnv. */
  disarm(t: TcpTimer): void {
    this.wheel.cancel(t);
  }
  /** @internal TimeWaitEnv. */
  lookup(key: string): TcpConn | TimeWaitEntry | undefined {
    return this.demux.get(key);
  }
  /** @internal TimeWaitEnv. */
  hash(key: string, e: TimeWaitEntry): void {
    this.demux.set(key, e);
  }
  /** @internal TimeWaitEnv. */
  unhash(key: string): void {
    this.demux.delete(key);
  }
  /** @internal TimeWaitEnv. */
  transmitBare(src: string, dst: string, seg: TcpRepr, label: string, note: string): void {
    this.output(makeIpRepr(src, dst), seg, label, note);
  }
  /** @internal TimeWaitEnv. */
  tsOffsetFor(laddr: string, raddr: string): number {
    return secureTsOffset(this.seed, laddr, raddr);
  }

  /** @internal ConnEnv: the namespace's tcp_challenge_ack_limit budget (tcp/oow.ts). */
  challengeBudget(): boolean {
    return this.challengeAcks.take(this.cfg, this.now());
  }

  /**
   * Wakes the owner. Like a process woken by softirq work, the application runs after the
   * segment or timer has been processed completely: events queue here and flush() runs them.
   */
  notify(conn: TcpConn, what: ConnEvent): void {
    const s = conn.socket;
    if (s) this.queueWake(s, what);
  }

  defer(fn: () => void): void {
    this.queueWake(fn, null);
  }

  /** Runs queued application wake-ups (and those they cause) in order. */
  flush(): void {
    if (this.flushing) return;
    this.flushing = true;
    const who = this.pendingWho;
    const what = this.pendingWhat;
    try {
      for (let i = 0; i < this.pendingCount; i++) {
        const w = who[i]!;
        if (typeof w === 'function') w();
        else w.connEvent(what[i]!);
      }
    } finally {
      for (let i = 0; i < this.pendingCount; i++) who[i] = null;
      this.pendingCount = 0;
      this.flushing = false;
    }
  }
  /** The wake-up queue: a socket and its event, or a deferred function (event null). The arrays are kept, not rebuilt per packet. */
  private queueWake(w: ConnOwner | (() => void), what: ConnEvent | null): void {
    const i = this.pendingCount++;
    if (i < this.pendingWho.length) {
      this.pendingWho[i] = w;
      this.pendingWhat[i] = what;
    } else {
      this.pendingWho.push(w);
      this.pendingWhat.push(what);
    }
  }
  private readonly pendingWho: Array<ConnOwner | (() => void) | null> = [];
  private readonly pendingWhat: Array<ConnEvent | null> = [];
  private pendingCount = 0;
  private flushing = false;

  orphan(conn: TcpConn): void {
    conn.orphan = true;
    conn.socket = null;
    this.orphanCountAdd(1);
  }

  /**
   * tcp_orphan_count changes; tcp_orphan_update (a 100 ms timer since 5.15) copies it into
   * tcp_orphan_cache, which is what tcp_too_many_orphans reads. The copy is taken lazily: the
   * count held since the last change is what each 100 ms tick of host time passed since saw.
   */
  private orphanCountAdd(d: number): void {
    this.orphanCacheSync();
    this.orphanCount += d;
  }
  private orphanCacheSync(): void {
    const tick = Math.floor(this.now() / 100_000);
    if (tick > this.orphanCacheTick) {
      this.orphanCache = this.orphanCount;
      this.orphanCacheTick = tick;
    }
  }

  tooManyOrphans(shift = 0): boolean {
    this.orphanCacheSync();
    return this.orphanCache * 2 ** shift > this.cfg.tcp_max_orphans;
  }

  /** Orphans now (tcp_orphan_count), and as tcp_max_orphans sees them (tcp_orphan_cache). */
  orphans(): { count: number; cached: number } {
    this.orphanCacheSync();
    return { count: this.orphanCount, cached: this.orphanCache };
  }

  /**
   * tcp_memory_allocated: every connection's pages (memory.ts memPages), summed at most once per
   * jiffy (Linux's own counter is batched per CPU, up to 1 MiB each, so it is never exact either);
   * pressure starts above tcp_mem[1] (TCPMemoryPressures) and ends at or below tcp_mem[0]
   * (TCPMemoryPressuresChrono, ms).
   */
  memoryAllocated(): number {
    const jiffy = Math.floor(this.now() / (1e6 / this.cfg.hz));
    if (jiffy !== this.memPagesAt) {
      this.memPagesAt = jiffy;
      let pages = 0;
      for (const e of this.demux.values()) if (e instanceof TcpConn) pages += memPages(e);
      this.memPagesCache = pages;
      this.memPressureUpdate(pages);
    }
    return this.memPagesCache;
  }
  private memPressureUpdate(pages: number): void {
    const [low, pressure] = this.cfg.tcp_mem;
    if (pages <= low && this.memPressure) {
      this.memPressure = false;
      this.counters.inc('TCPMemoryPressuresChrono', Math.floor((this.now() - this.memPressureSince) / 1000));
    } else if (pages > pressure && !this.memPressure) {
      this.memPressure = true;
      this.memPressureSince = this.now();
      this.counters.inc('TCPMemoryPressures');
    }
  }

  memoryPressure(): boolean {
    this.memoryAllocated();
    return this.memPressure;
  }

  /**
   * __sk_mem_raise_allocated for receive memory: under tcp_mem[0] always; above tcp_mem[2] never;
   * between, a socket under tcp_rmem[0] always, and under pressure one holding less than its
   * share (tcp_mem[2] / sockets) of pages.
   */
  rmemSchedule(conn: TcpConn, truesize: number): boolean {
    const [low, , high] = this.cfg.tcp_mem;
    const allocated = this.memoryAllocated() + Math.ceil(truesize / 4096);
    if (allocated <= low) return true;
    this.memPressureUpdate(allocated);
    if (allocated > high) return false;
    if (rmemAlloc(conn) < this.cfg.tcp_rmem[0]) return true;
    if (!this.memPressure) return true;
    return high > this.demux.size * memPages(conn);
  }

  kernelNote(text: string): void {
    const now = this.now();
    if (now - this.noteWindow >= 5_000_000) {
      this.noteWindow = now;
      this.noteCount = 0;
    }
    if (++this.noteCount > 10) return;
    this.emitTrace({ kind: 'drop', t: now, host: this.name, reason: `kernel: TCP: ${text}` });
  }

  // ---- Connections and ports ----

  /** @internal A connection for a socket (connect) or a listener (SYN). */
  newConn(local: { addr: string; port: number }, remote: { addr: string; port: number }, opts: SockOpts): TcpConn {
    const conn = new TcpConn(this, local, remote, opts);
    conn.advMss = this.cfg.mtu - (conn.v6 ? 60 : 40);
    if (this.cfg.route_advmss && this.cfg.route_advmss < conn.advMss) conn.advMss = this.cfg.route_advmss;
    // tcp_mss_clamp: TCP_MAXSEG lowers the MSS offered (tcp_connect_init, tcp_create_openreq_child).
    if (opts.userMss && opts.userMss < conn.advMss) conn.advMss = opts.userMss;
    conn.rcvMss = Math.min(conn.advMss, 536);
    conn.tsOffset = secureTsOffset(this.seed, local.addr, remote.addr);
    conn.cwnd = this.cfg.tcp_initial_cwnd;
    conn.rcvSsthresh = initialWindow(conn);
    return conn;
  }

  /** The defaults, one frozen object shared by every socket until setsockopt() copies it. */
  defaultSockOpts(): SockOpts {
    const d = this.sharedOpts;
    if (d && d.rcvbuf === this.cfg.tcp_rmem[1] && d.sndbuf === this.cfg.tcp_wmem[1]) return d;
    return (this.sharedOpts = Object.freeze(defaultSockOpts(this.cfg)));
  }
  private sharedOpts: SockOpts | null = null;

  /** Local address for a destination: the first of ours with the same family. */
  sourceAddressFor(dst: string): string | undefined {
    const v = ipVersion(dst);
    if (isLoopback(dst) && this.addresses.includes(dst)) return dst;
    return this.addresses.find((a) => ipVersion(a) === v);
  }

  /** @internal The initial sequence number for a 4-tuple. */
  isnFor(laddr: string, lport: number, raddr: string, rport: number): number {
    if (this.isnOverride) return this.isnOverride(laddr, lport, raddr, rport, this.now()) >>> 0;
    return secureSeq(this.seed, laddr, raddr, lport, rport, this.now());
  }

  /**
   * The host loses all TCP state at once, as in a power cycle or a kernel crash: nothing is
   * sent; afterwards the peers' segments meet no socket and are answered with RST.
   */
  crash(): void {
    const now = this.now();
    for (const e of [...this.demux.values()]) {
      const from = e instanceof TimeWaitEntry ? e.substate : e.stateName;
      this.emitTrace({ kind: 'state', t: now, host: this.name, socket: e.label, from, to: 'CLOSED', cause: 'host crashed (state lost)', causeKind: 'call' });
      if (e instanceof TcpConn) {
        this.wheel.cancel(e);
        // TcpCurrEstab is a gauge of the sockets in ESTABLISHED or CLOSE_WAIT: a rebooted
        // kernel has none (the state is set here directly, not through tcp_set_state).
        if (e.state === TcpState.ESTABLISHED || e.state === TcpState.CLOSE_WAIT) this.counters.inc('CurrEstab', -1);
        e.state = TcpState.CLOSED;
        e.socket = null;
      } else e.deadline = -1;
    }
    this.demux.clear();
    this.timeWait.clear();
    for (const l of this.listeners.values()) {
      this.emitTrace({ kind: 'state', t: now, host: this.name, socket: endpoint(l.addr, l.port), from: 'LISTEN', to: 'CLOSED', cause: 'host crashed (state lost)', causeKind: 'call' });
    }
    this.listeners.clear();
    this.ports.clear();
    this.orphanCount = 0;
    this.orphanCache = 0;
  }

  // ---- Applications ----

  /** @internal */
  nextSocketId(): number {
    return ++this.socketCount;
  }

  /** A new socket, as socket(AF_INET, SOCK_STREAM, 0) gives (the engine's own API; bindNet() gives node:net's). */
  socket(): Socket {
    return new Socket(this);
  }

  /** Every socket: listeners, connections, TIME_WAIT entries (the rows of `ss -tanoie`). */
  sockets(): SocketRow[] {
    return socketRows(this.listeners.values(), this.demux.values(), this.now());
  }
}
