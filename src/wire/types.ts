// Parsed representations of what travels on the wire, separate from the byte views that
// decode and encode them (smoltcp's Repr/Packet split). Addresses are canonical strings:
// dotted quad for IPv4 ("10.0.0.1"), RFC 5952 lower-case compressed form for IPv6 ("fd00::1").

/** TCP flag bits as they sit in byte 13 of the header. */
export const FIN = 0x01;
export const SYN = 0x02;
export const RST = 0x04;
export const PSH = 0x08;
export const ACK = 0x10;
export const URG = 0x20;
export const ECE = 0x40;
export const CWR = 0x80;

/** One TCP option, in the order it appears on the wire. */
export type TcpOption =
  | { kind: 'eol' }
  | { kind: 'nop' }
  | { kind: 'mss'; value: number }
  | { kind: 'wscale'; shift: number }
  | { kind: 'sackPermitted' }
  | { kind: 'sack'; blocks: Array<[left: number, right: number]> }
  | { kind: 'timestamp'; val: number; ecr: number }
  | { kind: 'unknown'; type: number; data: Uint8Array };

export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number; // uint32
  ack: number; // uint32 (meaningful only with ACK set)
  flags: number; // FIN|SYN|RST|PSH|ACK|URG|ECE|CWR bits
  window: number; // raw 16-bit field, not scaled
  urgent: number;
  options: TcpOption[];
  payload: Uint8Array; // a view into the packet when decoded; no copy
  /**
   * skb_shinfo(skb)->gso_size: set by a link that hands over several segments as one (GRO, a
   * TUN device's GSO packet), the size of each; absent for a segment that came as it was sent.
   */
  gsoSize?: number;
}

export interface IpRepr {
  version: 4 | 6;
  src: string;
  dst: string;
  protocol: number; // 6 = TCP (next header for IPv6)
  ttl: number; // hop limit for IPv6
  /** IPv4 identification; ignored for IPv6. */
  id?: number;
  /** IPv4 DF bit (Linux sets DF on TCP). Default true. */
  dontFragment?: boolean;
  tos?: number; // IPv4 TOS / IPv6 traffic class
  flowLabel?: number; // IPv6 only
}

export type WireLayer = 'ipv4' | 'ipv6' | 'tcp' | 'pcap';
export type WireErrorKind =
  | 'truncated'
  | 'bad-version'
  | 'bad-header-length'
  | 'bad-total-length'
  | 'bad-checksum'
  | 'bad-data-offset'
  | 'bad-option-length'
  | 'fragmented'
  | 'unsupported-protocol'
  | 'bad-address'
  | 'bad-magic';

/** A typed decoding error: malformed input never throws out of a receive path. */
export interface WireError {
  layer: WireLayer;
  kind: WireErrorKind;
  detail: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: WireError };
