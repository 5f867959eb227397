// Reusable parsed segments for a host's own data path, so that a segment in or out allocates
// nothing: the TCP options as fields (as Linux's struct tcp_options_received) rather than a list
// of objects, and the payload as a range of some bytes rather than a view of its own. The
// representation stays apart from the bytes (smoltcp's Repr/Packet split): a RxSegment is filled
// from a packet and the packet is not touched again; a TxSegment is encoded into a packet.
// Both are plain TcpReprs to every reader: `options` and `payload` are made on demand (for a
// trace or a test) and only then allocate.

import { NOP_OPTION } from './tcp.ts';
import type { IpRepr, TcpOption, TcpRepr } from './types.ts';

const EMPTY = new Uint8Array(0);
const NO_OPTIONS: TcpOption[] = [];

/** The fields every segment has, and its payload as bytes[payloadStart, payloadStart + payloadLength). */
export abstract class SegmentFields {
  srcPort = 0;
  dstPort = 0;
  seq = 0;
  ack = 0;
  flags = 0;
  window = 0;
  urgent = 0;
  /** Timestamp option (RFC 7323): present, TSval, TSecr. */
  hasTs = false;
  tsVal = 0;
  tsEcr = 0;
  payloadBytes: Uint8Array = EMPTY;
  payloadStart = 0;
  payloadLength = 0;
  private view: Uint8Array | null = null;

  /** The payload as a view (made once, on the first ask). */
  get payload(): Uint8Array {
    if (this.view === null) {
      const b = this.payloadBytes;
      const s = this.payloadStart;
      const n = this.payloadLength;
      this.view = s === 0 && n === b.length ? b : b.subarray(s, s + n);
    }
    return this.view;
  }
  set payload(p: Uint8Array) {
    this.setPayload(p, 0, p.length);
  }

  setPayload(bytes: Uint8Array, start: number, length: number): void {
    this.payloadBytes = bytes;
    this.payloadStart = start;
    this.payloadLength = length;
    this.view = null;
  }
}

/**
 * A received segment: what decodePacketInto fills. Beside the timestamp, the options a SYN or a
 * SACK-carrying ACK brings are fields too (-1 / 0 / false / null when absent; for each kind the
 * last one on the wire counts, as in tcp_parse_options); the list exactly as decoded is kept
 * only for segments with other layouts than the common ones.
 */
export class RxSegment extends SegmentFields implements TcpRepr {
  /** Set by the host for a GSO/GRO packet from an offloading link (its segment size), per packet. */
  gsoSize: number | undefined = undefined;
  mss = 0;
  /** The window scale shift as sent (not yet capped), -1 absent. */
  wscale = -1;
  sackOk = false;
  sack: Array<[number, number]> | null = null;
  private list: TcpOption[] | null = null;

  /** The options as a list (made on demand when the fast decoder filled only the fields). */
  get options(): TcpOption[] {
    if (this.list === null) this.list = this.hasTs ? [NOP_OPTION, NOP_OPTION, { kind: 'timestamp', val: this.tsVal, ecr: this.tsEcr }] : NO_OPTIONS;
    return this.list;
  }
  set options(opts: TcpOption[]) {
    this.setOptions(opts);
  }

  /**
   * The option layout when the fast decoder read it, without building the list: 'ts' for exactly
   * NOP NOP TS, 'none' for no options, null when only the list can tell (tcp_rcv_established's
   * header prediction looks at exactly this).
   */
  get fastLayout(): 'ts' | 'none' | null {
    if (this.list === NO_OPTIONS) return 'none';
    return this.list === null && this.hasTs ? 'ts' : null;
  }

  /** No options, or only the timestamp (Linux's data-segment layout NOP NOP TS). */
  setTimestampOnly(has: boolean, val: number, ecr: number): void {
    this.mss = 0;
    this.wscale = -1;
    this.sackOk = false;
    this.sack = null;
    this.list = has ? null : NO_OPTIONS;
    this.hasTs = has;
    this.tsVal = val;
    this.tsEcr = ecr;
  }

  /** Any option list: the fields from it, and the list kept as it is. */
  setOptions(opts: TcpOption[]): void {
    this.setTimestampOnly(false, 0, 0);
    this.list = opts;
    for (const o of opts) {
      switch (o.kind) {
        case 'mss': this.mss = o.value; break;
        case 'wscale': this.wscale = o.shift; break;
        case 'sackPermitted': this.sackOk = true; break;
        case 'timestamp': this.hasTs = true; this.tsVal = o.val; this.tsEcr = o.ecr; break;
        case 'sack': this.sack = o.blocks; break;
        default: break;
      }
    }
  }

  /** Copies a decoded TcpRepr (the general decoder's) in. */
  setFrom(t: TcpRepr): void {
    this.srcPort = t.srcPort;
    this.dstPort = t.dstPort;
    this.seq = t.seq;
    this.ack = t.ack;
    this.flags = t.flags;
    this.window = t.window;
    this.urgent = t.urgent;
    this.setOptions(t.options);
    this.setPayload(t.payload, 0, t.payload.length);
  }
}

/**
 * A segment to send, as a connection builds its data segments and ACKs: the options of Linux's
 * data-segment layout (NOP NOP TS) as fields, any other list given whole.
 */
export class TxSegment extends SegmentFields implements TcpRepr {
  private list: TcpOption[] | null = NO_OPTIONS;
  /** False while the options are none or NOP NOP TS with the values in the fields. */
  private custom = false;

  get options(): TcpOption[] {
    if (this.list === null) this.list = [NOP_OPTION, NOP_OPTION, { kind: 'timestamp', val: this.tsVal, ecr: this.tsEcr }];
    return this.list;
  }
  set options(opts: TcpOption[]) {
    this.list = opts;
    this.custom = true;
    this.hasTs = false;
  }

  /** True when the options are none or NOP NOP TS with the values in the fields. */
  get timestampLayout(): boolean {
    return !this.custom;
  }

  /**
   * The options: NOP NOP TS (has) or none. val and ecr may come as int32 (the same 32 bits: a
   * uint32 above 2^31 would be boxed for the call); they are kept as the u32s.
   */
  setTimestamp(has: boolean, val: number, ecr: number): void {
    this.list = has ? null : NO_OPTIONS;
    this.custom = false;
    this.hasTs = has;
    this.tsVal = val >>> 0;
    this.tsEcr = ecr >>> 0;
  }
}

/** The payload's length without making a view of it. */
export function payloadLength(t: TcpRepr): number {
  return t instanceof SegmentFields ? t.payloadLength : t.payload.length;
}

/** An IpRepr to fill again and again (a host's received packets, its sent ones). */
export function scratchIpRepr(): IpRepr {
  return { version: 4, src: '', dst: '', protocol: 6, ttl: 64, id: 0, dontFragment: true, tos: 0, flowLabel: 0 };
}
