// TCP segments in the script's notation: flag letters, options, the `<`/`>` lines of a script
// and a live segment written the same way.

import { formatFlags } from '../wire/packet.ts';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, type TcpOption, type TcpRepr } from '../wire/types.ts';
import type { Pos, TcpOptSpec, TcpPacketSpec } from './ast.ts';

export const u32 = (n: number): number => n >>> 0;

const FLAG_BITS: Record<string, number> = { F: FIN, S: SYN, R: RST, P: PSH, '.': ACK, U: URG, E: ECE, W: CWR };

/** The header bits of a script's flag letters (`S.` -> SYN|ACK). */
export function flagBits(letters: string): number {
  let b = 0;
  for (const c of letters) b |= FLAG_BITS[c] ?? 0;
  return b;
}

/** tcpdump's flag letters without "none" ('' for no flags, shown as '-'). */
export const letters = (f: number): string => (f ? formatFlags(f) : '');

type Unplaced<T> = T extends unknown ? Omit<T, keyof Pos> : never;
/** A TCP option as a script writes it (without its place in the script). */
export type OptSpec = Unplaced<TcpOptSpec>;

export function fmtOptSpec(o: OptSpec): string {
  switch (o.kind) {
    case 'nop': return 'nop';
    case 'eol': return 'eol';
    case 'mss': return `mss ${o.value}`;
    case 'wscale': return `wscale ${o.value}`;
    case 'sackOK': return 'sackOK';
    case 'sack': return `sack ${o.blocks.map(([l, r]) => `${l}:${r}`).join(' ')}`;
    case 'TS': return `TS val ${o.val} ecr ${o.ecr}`;
    case 'md5': return 'md5';
    case 'FO':
    case 'FOEXP': return o.cookie ? `${o.kind} ${o.cookie}` : o.kind;
    case 'unknown': return `${o.name}${o.text ? ` ${o.text}` : ''}`;
  }
}

/** A live option in the script's terms: sackOK, TS, unsigned 32-bit numbers, opt-N. */
function optSpecOf(o: TcpOption): OptSpec {
  switch (o.kind) {
    case 'wscale': return { kind: 'wscale', value: o.shift };
    case 'sackPermitted': return { kind: 'sackOK' };
    case 'sack': return { kind: 'sack', blocks: o.blocks.map(([l, r]) => [u32(l), u32(r)]) };
    case 'timestamp': return { kind: 'TS', val: u32(o.val), ecr: u32(o.ecr) };
    case 'unknown': return { kind: 'unknown', name: `opt-${o.type}`, text: '' };
    default: return o; // nop, eol, mss: the same in both
  }
}

export const fmtLiveOpt = (o: TcpOption): string => fmtOptSpec(optSpecOf(o));

export function fmtPacketSpec(p: TcpPacketSpec): string {
  let s = `${p.dir} ${p.flags || '-'} ${p.start}:${p.end}(${p.len})`;
  if (p.ack !== undefined) s += ` ack ${p.ack}`;
  if (p.win !== undefined) s += ` win ${p.win}`;
  if (p.urg !== undefined) s += ` urg ${p.urg}`;
  if (p.options === 'any') s += ' <...>';
  else if (p.options) s += ` <${p.options.map(fmtOptSpec).join(',')}>`;
  return s;
}

/** A segment the host sent, as a `>` line; `seq` is its sequence number in script space. */
export function fmtLiveSegment(f: TcpRepr, seq: number): string {
  let s = `> ${letters(f.flags) || '-'} ${seq}:${u32(seq + f.payload.length)}(${f.payload.length})`;
  if (f.flags & ACK) s += ` ack ${u32(f.ack)}`;
  s += ` win ${f.window}`;
  if (f.flags & URG) s += ` urg ${f.urgent}`;
  if (f.options.length) s += ` <${f.options.map(fmtLiveOpt).join(',')}>`;
  return s;
}
