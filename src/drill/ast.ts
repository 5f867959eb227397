// The syntax tree of a packetdrill script. Times are integer microseconds.

export interface Pos {
  line: number;
  col: number;
}

export type TimeSpec =
  | { kind: 'any' }
  | { kind: 'abs'; us: number }
  | { kind: 'rel'; us: number }
  | { kind: 'absRange'; us: number; endUs: number }
  | { kind: 'relRange'; us: number; endUs: number };

export type Expr = Pos &
  (
    | { kind: 'num'; value: number; text: string }
    | { kind: 'sym'; name: string }
    | { kind: 'str'; value: string }
    | { kind: 'ellipsis' }
    | { kind: 'or'; parts: Expr[] }
    | { kind: 'neg'; e: Expr }
    | { kind: 'list'; items: Expr[] }
    | { kind: 'struct'; fields: Field[] }
    | { kind: 'call'; name: string; args: Expr[] }
  );

/** A struct member: `name=value`, `name(index)=value` (msg_iov(1)=[...]) or a bare value (`{..., 100}`). */
export interface Field extends Pos {
  name?: string;
  index?: Expr;
  value: Expr;
}

export type TcpOptSpec = Pos &
  (
    | { kind: 'nop' }
    | { kind: 'eol' }
    | { kind: 'mss'; value: number }
    | { kind: 'wscale'; value: number }
    | { kind: 'sackOK' }
    | { kind: 'sack'; blocks: Array<[number, number]> }
    | { kind: 'TS'; val: number; ecr: number }
    | { kind: 'md5' }
    | { kind: 'FO'; cookie?: string }
    | { kind: 'FOEXP'; cookie?: string }
    | { kind: 'unknown'; name: string; text: string }
  );

export interface IpInfo {
  /** [noect], [ect0], [ect1], [ect01], [ce] */
  ecn?: string;
  tos?: number;
  flowlabel?: number;
  ttl?: number;
}

export interface TcpPacketSpec {
  proto: 'tcp';
  dir: '<' | '>';
  ip: IpInfo;
  /** Flag letters as written, '' for `-`. */
  flags: string;
  flagsPos: Pos;
  start: number;
  end: number;
  len: number;
  ack?: number;
  win?: number;
  urg?: number;
  /** undefined: no option list (none expected / none sent); 'any': `<...>`. */
  options?: TcpOptSpec[] | 'any';
}

/** UDP and ICMP packet lines: parsed, not run (linger is TCP only). */
export interface OtherPacketSpec {
  proto: 'udp' | 'icmp';
  dir: '<' | '>';
  text: string;
}

export type PacketSpec = TcpPacketSpec | OtherPacketSpec;

export interface SyscallSpec {
  name: string;
  namePos: Pos;
  args: Expr[];
  ret: Expr;
  errno?: string;
  errnoPos?: Pos;
  note?: string;
  /** `T...END`: the script time at which the blocking call must return (same base as T). */
  endUs?: number;
}

export type EventBody =
  | { kind: 'packet'; packet: PacketSpec }
  | { kind: 'syscall'; call: SyscallSpec }
  | { kind: 'shell'; command: string }
  | { kind: 'code'; code: string };

export interface DrillEvent extends Pos {
  time: TimeSpec;
  body: EventBody;
  /** The event's source text (its lines, trimmed). */
  text: string;
}

export interface OptionLine extends Pos {
  name: string;
  value: string | undefined;
}

export interface UntimedCommand extends Pos {
  kind: 'shell' | 'code';
  text: string;
}

export interface Script {
  options: OptionLine[];
  /** Untimed commands before the first event. */
  init: UntimedCommand[];
  events: DrillEvent[];
  /** Untimed commands after the last event. */
  cleanup: UntimedCommand[];
  /** Source lines, for reports. */
  lines: string[];
}
