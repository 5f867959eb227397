// Packet events: the runner plays the remote host. A `<` line is built and injected; every
// packet the host sends goes to one queue, in order, and a `>` line takes the next one, so an
// unexpected packet fails the next `>` line (or is left over at the end, which packetdrill
// does not check either). Several live segments may carry one expected segment unless
// --strict_segments.

import { decodePacket, encodePacket, makeIpRepr } from '../wire/packet.ts';
import { ACK, FIN, PSH, SYN, type TcpOption, type TcpRepr } from '../wire/types.ts';
import type { DrillEvent, TcpOptSpec, TcpPacketSpec } from './ast.ts';
import type { DrillConfig } from './config.ts';
import { SeqSpace, segmentDiff, type Live, type MatchContext, type SegmentDiff } from './match.ts';
import { flagBits, fmtLiveSegment, fmtOptSpec, fmtPacketSpec } from './notation.ts';
import { fail, fmtTime, type TraceLog } from './result.ts';
import type { SockTable } from './sockets.ts';
import { type Due, type ScriptClock } from './timing.ts';

/** Where injected packets go. */
export interface Wire {
  deliver(packet: Uint8Array): void;
}

export class PacketEvents {
  /** Packets the host sent, oldest first. */
  private readonly sent: Live[] = [];
  private readonly seq = new SeqSpace();

  /** @param afterDeliver polls the blocked calls once the host has taken a packet. */
  constructor(
    private readonly cfg: DrillConfig,
    private readonly time: ScriptClock,
    private readonly trace: TraceLog,
    private readonly socks: SockTable,
    private readonly wire: Wire,
    private readonly afterDeliver: () => void,
  ) {}

  /** The host's emit hook: queues what it sends. */
  capture(bytes: Uint8Array): void {
    const r = decodePacket(bytes);
    if (!r.ok) throw new Error(`linger emitted an undecodable packet: ${r.error.detail}`);
    this.sent.push({ t: this.time.now(), ip: r.value.ip, tcp: r.value.tcp });
  }

  /** A `<` line: the segment, injected at its time. */
  inbound(ev: DrillEvent, p: TcpPacketSpec): void {
    const w = this.time.reach(ev.time);
    const bits = flagBits(p.flags);
    const { lport, rport } = this.socks.tuple((bits & SYN) !== 0 && !(bits & ACK));
    const seg: TcpRepr = {
      srcPort: rport, dstPort: lport, seq: p.start, ack: p.ack !== undefined ? this.seq.toLive(p.ack) : 0, flags: bits,
      window: p.win ?? 0, urgent: p.urg ?? 0, options: this.liveOptions(p.options), payload: new Uint8Array(p.len).fill(0x61),
    };
    const v4 = this.cfg.ipVersion !== 'ipv6';
    const ip = makeIpRepr(this.cfg.remoteIp, this.cfg.localIp, {
      ...(p.ip.tos !== undefined ? { tos: p.ip.tos } : {}), ...(p.ip.ttl !== undefined ? { ttl: p.ip.ttl } : {}),
      ...(!v4 && p.ip.flowlabel !== undefined ? { flowLabel: p.ip.flowlabel } : {}),
    });
    this.trace.note('<', fmtPacketSpec(p).slice(2), ev.line);
    for (const piece of this.pieces(seg)) this.wire.deliver(encodePacket(ip, piece));
    this.afterDeliver();
    this.time.settle(w);
  }

  /**
   * The segment as injected: with --mss, one of more payload goes in pieces of that size, back
   * to back, PSH and FIN on the last only (as the kernel's GSO splits a super-packet).
   */
  private pieces(seg: TcpRepr): TcpRepr[] {
    const mss = this.cfg.injectMss;
    const n = seg.payload.length;
    if (!mss || n <= mss) return [seg];
    const out: TcpRepr[] = [];
    for (let off = 0; off < n; off += mss) {
      const last = off + mss >= n;
      out.push({ ...seg, seq: (seg.seq + off) >>> 0, flags: last ? seg.flags : seg.flags & ~(PSH | FIN), payload: seg.payload.subarray(off, Math.min(n, off + mss)) });
    }
    return out;
  }

  /** The options of an inbound segment, local sequence numbers and TS ecr mapped to the host's. */
  private liveOptions(spec: TcpPacketSpec['options']): TcpOption[] {
    const options: TcpOption[] = [];
    for (const o of (spec === 'any' ? [] : spec) ?? []) options.push(this.liveOption(o));
    return options;
  }

  private liveOption(o: TcpOptSpec): TcpOption {
    switch (o.kind) {
      case 'nop': return { kind: 'nop' };
      case 'eol': return { kind: 'eol' };
      case 'mss': return { kind: 'mss', value: o.value };
      case 'wscale': return { kind: 'wscale', shift: o.value };
      case 'sackOK': return { kind: 'sackPermitted' };
      case 'sack': return { kind: 'sack', blocks: o.blocks.map(([l, r]) => [this.seq.toLive(l), this.seq.toLive(r)]) };
      case 'TS': return { kind: 'timestamp', val: o.val, ecr: this.seq.ecrToLive(o.ecr) };
      default: return fail(o, `option ${fmtOptSpec(o)} cannot be sent by linger's runner`);
    }
  }

  /** The host's next packet at or before script time `limit` (moving time as needed), or null. */
  private nextOut(limit: number): Live | null {
    while (!this.sent.length) {
      if (!this.time.step(limit)) {
        if (limit !== Infinity && limit > this.time.now()) this.time.advanceTo(limit);
        break;
      }
    }
    return this.sent.shift() ?? null;
  }

  /** The live packet in the script's notation (local sequence numbers mapped). */
  private fmtLive(l: Live): string {
    return fmtLiveSegment(l.tcp, this.seq.outSeq(l.tcp));
  }

  private fmtPieces(pieces: Live[]): string {
    return pieces.map((x) => `${fmtTime(x.t)} ${this.fmtLive(x)}`).join('\n          ');
  }

  private matchContext(): MatchContext {
    return { cfg: this.cfg, seq: this.seq, conn: this.socks.sut };
  }

  /** A `>` line: the host's next packet(s) must match it, in time. */
  outbound(ev: DrillEvent, p: TcpPacketSpec): void {
    const w = this.time.when(ev.time);
    const limit = (): number => (w.any ? this.time.now() + this.time.anyLimitUs : w.hi);
    const first = this.nextOut(limit());
    const expected = fmtPacketSpec(p);
    if (!first) this.failNothingSent(ev, w, expected);
    const pieces: Live[] = [first];
    this.checkTime(ev, w, first, expected);
    if (flagBits(p.flags) & SYN) {
      this.seq.setIsn(p.start, first.tcp.seq);
      const s = this.socks.sut;
      if (s && s.kind === 'connecting' && s.localPort === null) s.localPort = first.tcp.srcPort;
    }
    let diff = segmentDiff(this.matchContext(), p, first, pieces.length);
    if (diff.partial && !this.cfg.strictSegments) {
      diff = this.takeRest(ev, p, w, pieces, diff, limit, expected);
    } else if (diff.partial) {
      diff.problems.push(`length ${first.tcp.payload.length} != ${p.len} (--strict_segments: one live segment per expected segment)`);
    }
    if (diff.problems.length) {
      fail(ev, 'outbound packet does not match the script', { expected: `${fmtTime(w.any ? pieces[0]!.t : w.at)} ${expected}`, actual: this.fmtPieces(pieces), diff: diff.problems });
    }
    for (const x of pieces) this.trace.note('>', this.fmtLive(x).slice(2), ev.line);
    const last = pieces[pieces.length - 1]!;
    this.seq.recordTs(p, last);
    this.time.lastEventUs = last.t;
  }

  /** The live segments after the first that carry the rest of an expected one (added to `pieces`). */
  private takeRest(ev: DrillEvent, p: TcpPacketSpec, w: Due, pieces: Live[], diff: SegmentDiff, limit: () => number, expected: string): SegmentDiff {
    let covered = pieces[0]!.tcp.payload.length;
    while (diff.partial) {
      const next = this.nextOut(limit());
      if (!next) {
        fail(ev, `outbound packet only partly sent: ${covered} of ${p.len} bytes by ${fmtTime(this.time.now())} s`, {
          expected: `${fmtTime(w.at)} ${expected}`, actual: this.fmtPieces(pieces),
        });
      }
      this.checkTime(ev, w, next, expected);
      pieces.push(next);
      diff = segmentDiff(this.matchContext(), p, next, pieces.length, covered);
      if (diff.problems.length) break;
      covered += next.tcp.payload.length;
    }
    return diff;
  }

  private failNothingSent(ev: DrillEvent, w: Due, expected: string): never {
    const late = this.nextOut(this.time.now() + this.time.lookaheadUs);
    return fail(ev, w.any ? 'expected an outbound packet, but the host sent nothing more (nothing left to happen)' : `expected an outbound packet at ${fmtTime(w.at)} s, but the host sent nothing by ${fmtTime(w.hi)} s`, {
      expected: `${fmtTime(w.at)} ${expected}`,
      actual: late ? `${fmtTime(late.t)} ${this.fmtLive(late)}   (the next packet the host sent, ${fmtTime(late.t - w.at)} s later)` : `nothing (none within ${this.time.lookaheadUs / 1e6} s more)`,
    });
  }

  private checkTime(ev: DrillEvent, w: Due, l: Live, expected: string): void {
    if (w.any || (l.t >= w.lo && l.t <= w.hi)) return;
    const range = ev.time.kind === 'absRange' || ev.time.kind === 'relRange';
    fail(ev, `timing error: expected the outbound packet ${range ? `in ${fmtTime(w.lo)}~${fmtTime(w.hi)} s` : `at ${fmtTime(w.at)} s (tolerance ${fmtTime(w.hi - w.at)} s)`}, but it was sent at ${fmtTime(l.t)} s (${l.t < w.at ? 'early' : 'late'} by ${fmtTime(Math.abs(l.t - w.at))} s)`, {
      expected: `${fmtTime(w.at)} ${expected}`, actual: `${fmtTime(l.t)} ${this.fmtLive(l)}`,
    });
  }
}
