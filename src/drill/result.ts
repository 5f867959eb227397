// What a run produces: its result, the trace and the failure that stops it, and the small
// formatters that trace lines and failure reports share.

import type { ScriptReader } from './shell.ts';
import * as K from '../bsd/constants.ts';
import type { TcpInfo } from '../bsd/tcpinfo.ts';
import type { TraceEvent } from '../base/trace.ts';
import type { Pos } from './ast.ts';
import type { PythonRunner } from './code.ts';
import type { DrillConfig } from './config.ts';

export type DrillStatus = 'ok' | 'FAIL' | 'UNSUPPORTED';

export interface TraceLine {
  /** Script time (µs since the script started). */
  t: number;
  /** '<' injected, '>' sent by the host, '$' a call, '*' a state change, '!' a note, '~' a timer, '#' an event of the script. */
  mark: string;
  text: string;
  line?: number;
}

export interface Failure {
  line: number;
  col: number;
  /** One line: what went wrong. */
  message: string;
  /** The script's expectation and what happened, each one line in script syntax. */
  expected?: string;
  actual?: string;
  /** Field-by-field differences. */
  diff?: string[];
  /** Extra explanation lines. */
  detail?: string[];
}

export interface DrillResult {
  file: string;
  /** What the script ran against (default linger, on a virtual clock; the kernel runs in real time). */
  host?: 'linger' | 'kernel';
  status: DrillStatus;
  failure?: Failure;
  unsupported?: string[];
  warnings: string[];
  trace: TraceLine[];
  /** The script's source lines (for reports). */
  lines: string[];
  events: number;
  /** Script time covered (µs): virtual on linger, real on the kernel. */
  virtualUs: number;
}

export interface RunOptions {
  /** Settings before the script's own option lines (the CLI's flags). */
  config?: Partial<DrillConfig>;
  /** packetdrill's -D NAME=VALUE symbols (a word NAME in the script stands for VALUE). */
  defines?: ReadonlyMap<string, string>;
  /** Raw `--name=value` settings applied like the script's option lines, before them. */
  flags?: Array<[string, string | undefined]>;
  /** Runs the %{ }% blocks; without one a script that has them is UNSUPPORTED. */
  python?: PythonRunner;
  /** Host seed (ISNs, TS offsets, ports). */
  seed?: number;
  /** Reads a file a shell command names, relative to the script's folder (a suite's defaults.sh). */
  readFile?: ScriptReader;
}

/** Thrown to end a run with a FAIL result. */
export class DrillFailure extends Error {
  constructor(readonly f: Failure) {
    super(f.message);
  }
}

/** Ends the run: a failure at a script position. */
export function fail(at: Pos, message: string, more: Partial<Failure> = {}): never {
  throw new DrillFailure({ line: at.line, col: at.col, message, ...more });
}

/** Script time in seconds as packetdrill prints it: at least milliseconds, µs when needed. */
export function fmtTime(us: number): string {
  const neg = us < 0;
  const a = Math.abs(Math.round(us));
  const s = Math.floor(a / 1e6);
  const frac = String(a % 1e6).padStart(6, '0').replace(/0{1,3}$/, (m) => (m.length === 3 ? '' : m));
  return `${neg ? '-' : ''}${s}.${frac.length >= 3 ? frac : frac.padEnd(3, '0')}`;
}

/** The trace of a run, stamped with script time. */
export class TraceLog {
  constructor(
    readonly lines: TraceLine[],
    private readonly now: () => number,
  ) {}

  /** A line of the trace, at `t` (script µs; default now). */
  note(mark: string, text: string, line?: number, t = this.now()): void {
    const l: TraceLine = { t, mark, text };
    if (line !== undefined) l.line = line;
    this.lines.push(l);
  }

  /** The host's state changes, timers and drops. */
  host(e: TraceEvent): void {
    if (e.kind === 'state') this.note('*', `${e.from} -> ${e.to}  (${e.cause})`);
    else if (e.kind === 'timer') this.note('~', `${e.timer} timer fired`);
    else if (e.kind === 'drop') this.note('!', `dropped: ${e.reason}`);
  }
}

/** A call event's text without its time: `write(4, ..., 10) = 10`. */
export const callText = (eventText: string): string => eventText.replace(/^\S+\s+/, '');
/** ... and without its expected result: `write(4, ..., 10)`. */
export const callOnly = (eventText: string): string => callText(eventText).replace(/\s*=[^=]*$/, '');

const POLL_NAMES: Array<[number, string]> = [
  [K.POLLIN, 'POLLIN'], [K.POLLPRI, 'POLLPRI'], [K.POLLOUT, 'POLLOUT'], [K.POLLERR, 'POLLERR'], [K.POLLHUP, 'POLLHUP'],
  [K.POLLNVAL, 'POLLNVAL'], [K.POLLRDNORM, 'POLLRDNORM'], [K.POLLRDBAND, 'POLLRDBAND'], [K.POLLWRNORM, 'POLLWRNORM'],
  [K.POLLWRBAND, 'POLLWRBAND'], [K.POLLRDHUP, 'POLLRDHUP'],
];

/** A poll/epoll event mask by name: POLLIN|POLLOUT. */
export function pollNames(m: number): string {
  if (!m) return '0';
  const parts = POLL_NAMES.filter(([b]) => m & b).map(([, n]) => n);
  const rest = m & ~POLL_NAMES.reduce((a, [b]) => a | b, 0);
  if (rest) parts.push(`0x${rest.toString(16)}`);
  return parts.join('|');
}

/** The TCP_INFO fields a failed python block most often asserts on. */
export function snapshotSummary(i: TcpInfo): string {
  return `tcpi_state=${i.tcpi_state} tcpi_ca_state=${i.tcpi_ca_state} tcpi_rto=${i.tcpi_rto} tcpi_backoff=${i.tcpi_backoff} tcpi_probes=${i.tcpi_probes} tcpi_retransmits=${i.tcpi_retransmits} tcpi_snd_cwnd=${i.tcpi_snd_cwnd} tcpi_unacked=${i.tcpi_unacked}`;
}
