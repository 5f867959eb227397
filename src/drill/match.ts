// Packet matching: a script's expected segment against a live one, field by field. Sequence
// numbers are in "script space": the remote side's as written, the local side's mapped between
// the script's ISN (the `>` SYN or SYN-ACK line) and the host's real one. Inbound TS ecr values
// are mapped back to the host's live TS val that matched that script val.

import { ACK, FIN, PSH, RST, type IpRepr, type TcpOption, type TcpRepr } from '../wire/types.ts';
import type { TcpOptSpec, TcpPacketSpec } from './ast.ts';
import type { DrillConfig } from './config.ts';
import { flagBits, fmtLiveOpt, fmtOptSpec, letters, u32 } from './notation.ts';
import { fmtTime } from './result.ts';

/** A segment the host sent, at the script time it sent it. */
export interface Live {
  t: number;
  ip: IpRepr;
  tcp: TcpRepr;
}

interface TsPair {
  script: number;
  live: number;
}

/** The local side's sequence numbers and TS values, between script space and the host's. */
export class SeqSpace {
  private scriptIsn = 0;
  private liveIsn = 0;
  private tsMap = new Map<number, number>();
  private lastTs: TsPair | null = null;
  /** The first TS val pair matched: outbound TS vals are checked as time since it. */
  tsFirst: TsPair | null = null;

  /** An outbound SYN or SYN-ACK sets the mapping (script ISN <-> live ISN). */
  setIsn(script: number, live: number): void {
    this.scriptIsn = script;
    this.liveIsn = live;
  }

  toLive(scriptSeq: number): number {
    return u32(scriptSeq - this.scriptIsn + this.liveIsn);
  }

  toScript(liveSeq: number): number {
    return u32(liveSeq - this.liveIsn + this.scriptIsn);
  }

  /**
   * A live outbound sequence number in script space. A reset sent with seq 0 (the RST|ACK
   * answering a segment without ACK, tcp_v4_send_reset) has no sequence number to map: it
   * stays 0, as a script writes it.
   */
  outSeq(f: TcpRepr): number {
    return f.flags & RST && f.seq === 0 ? 0 : this.toScript(f.seq);
  }

  /** An inbound TS ecr: the live val the script's val stood for. */
  ecrToLive(ecr: number): number {
    const m = this.tsMap.get(ecr);
    if (m !== undefined) return m;
    if (ecr === 0 || !this.lastTs) return ecr;
    return u32(ecr - this.lastTs.script + this.lastTs.live);
  }

  /** Remembers the TS val of a matched outbound segment. */
  recordTs(p: TcpPacketSpec, l: Live): void {
    if (!p.options || p.options === 'any') return;
    const ts = p.options.find((o) => o.kind === 'TS');
    const lt = l.tcp.options.find((o) => o.kind === 'timestamp');
    if (!ts || ts.kind !== 'TS' || !lt || lt.kind !== 'timestamp') return;
    this.tsMap.set(ts.val, lt.val);
    this.lastTs = { script: ts.val, live: lt.val };
    if (!this.tsFirst) this.tsFirst = this.lastTs;
  }
}

export interface MatchContext {
  cfg: Pick<DrillConfig, 'tcpTsTickUsecs' | 'toleranceUsecs'>;
  seq: SeqSpace;
  /** The ports of the connection under test, when known. */
  conn: { localPort: number | null; remotePort: number | null } | null;
}

export interface SegmentDiff {
  problems: string[];
  /** The live segment begins the expected one; more live ones must carry the rest. */
  partial: boolean;
}

/**
 * The differences between an expected segment and a live one. `piece` > 1 (or `covered` > 0)
 * when the live one continues an expected segment that earlier live ones began.
 */
export function segmentDiff(cx: MatchContext, p: TcpPacketSpec, l: Live, piece: number, covered = 0): SegmentDiff {
  const f = l.tcp;
  const problems: string[] = [];
  const s = cx.conn;
  if (s && s.localPort !== null && s.remotePort !== null && (f.srcPort !== s.localPort || f.dstPort !== s.remotePort)) {
    problems.push(`ports ${f.srcPort} > ${f.dstPort}: not the script's connection (${s.localPort} > ${s.remotePort})`);
  }
  const want = flagBits(p.flags);
  const seq = cx.seq.outSeq(f);
  const len = f.payload.length;
  const start = u32(p.start + covered);
  const remaining = p.len - covered;
  const partial = len > 0 && len < remaining && seq === start;
  // A piece that is not the last may lack PSH and FIN; the last carries them.
  const mask = partial ? ~(PSH | FIN) : ~0;
  if ((f.flags & mask) !== (want & mask)) problems.push(`flags ${letters(f.flags) || '-'} != ${p.flags || '-'}`);
  if (seq !== start) problems.push(`seq ${seq} != ${start}`);
  if (!partial && len !== remaining) problems.push(`length ${len} != ${remaining}${piece > 1 ? ` (the rest after ${covered} bytes)` : ''}`);
  if (p.ack !== undefined && f.flags & ACK && u32(f.ack) !== p.ack) problems.push(`ack ${u32(f.ack)} != ${p.ack}`);
  if (p.win !== undefined && f.window !== p.win) problems.push(`win ${f.window} != ${p.win}`);
  if (p.urg !== undefined && f.urgent !== p.urg) problems.push(`urg ${f.urgent} != ${p.urg}`);
  if (p.options === undefined) {
    if (f.options.length) problems.push(`options <${f.options.map(fmtLiveOpt).join(',')}> sent, none expected`);
  } else if (p.options !== 'any') {
    const op = optionsDiff(cx, p.options, f.options);
    if (op) problems.push(op);
  }
  return { problems, partial: partial && problems.length === 0 };
}

/** The expected option list against the live one, or null when they match. */
function optionsDiff(cx: MatchContext, exp: TcpOptSpec[], live: TcpOption[]): string | null {
  // A trailing eol the script does not write is padding.
  const got = live.filter((o, i, a) => !(o.kind === 'eol' && i === a.length - 1 && !exp.some((x) => x.kind === 'eol')));
  const problem = (): string | null => {
    if (got.length !== exp.length) return 'different number of options';
    for (let i = 0; i < exp.length; i++) {
      const p = optionDiff(cx, exp[i]!, got[i]!, i);
      if (p) return p;
    }
    return null;
  };
  const op = problem();
  return op ? `options <${got.map(fmtLiveOpt).join(',')}> != <${exp.map(fmtOptSpec).join(',')}>: ${op}` : null;
}

/** Option i: expected against live, or null when they match. */
function optionDiff(cx: MatchContext, e: TcpOptSpec, g: TcpOption, i: number): string | null {
  const differs = `option ${i + 1}: ${fmtLiveOpt(g)} != ${fmtOptSpec(e)}`;
  switch (e.kind) {
    case 'nop': return g.kind !== 'nop' ? differs : null;
    case 'eol': return g.kind !== 'eol' ? differs : null;
    case 'mss': return g.kind !== 'mss' || g.value !== e.value ? differs : null;
    case 'wscale': return g.kind !== 'wscale' || g.shift !== e.value ? differs : null;
    case 'sackOK': return g.kind !== 'sackPermitted' ? differs : null;
    case 'sack':
      return g.kind !== 'sack' || g.blocks.length !== e.blocks.length || g.blocks.some(([a, b], k) => u32(a) !== e.blocks[k]![0] || u32(b) !== e.blocks[k]![1]) ? differs : null;
    case 'TS':
      if (g.kind !== 'timestamp') return differs;
      if (u32(g.ecr) !== e.ecr) return `TS ecr ${u32(g.ecr)} != ${e.ecr}`;
      return tsValDiff(cx, e.val, g.val);
    default: return `option ${fmtOptSpec(e)} cannot be checked`;
  }
}

/** With --tcp_ts_tick_usecs, a TS val is checked as time since the first one. */
function tsValDiff(cx: MatchContext, scriptVal: number, liveVal: number): string | null {
  const tick = cx.cfg.tcpTsTickUsecs;
  const first = cx.seq.tsFirst;
  if (!(tick > 0 && first)) return null;
  const wantDelta = (scriptVal - first.script) * tick;
  const gotDelta = u32(liveVal - first.live) * tick;
  if (Math.abs(wantDelta - gotDelta) > Math.max(cx.cfg.toleranceUsecs, tick)) return `TS val ${u32(liveVal)} is ${fmtTime(gotDelta)} s after the first, the script says ${fmtTime(wantDelta)} s`;
  return null;
}
