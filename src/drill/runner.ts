// The packetdrill interpreter on a virtual clock. One linger Host is the local side, driven
// through the BSD call layer (src/bsd); the runner plays the remote host: it injects the `<`
// packets and captures what the host sends, matching it against the `>` lines in order, as
// packetdrill does with its tun device:
//
// - Time: the script starts at 0; `+T` is relative to when the previous event happened (for
//   an outbound packet, when the host sent it). An event at T runs when the virtual clock
//   reaches T; the host's timers fire on the way at their exact times. Outbound packets and
//   blocking calls must happen within the tolerance: max(--tolerance_usecs, 4 ms by default;
//   --tolerance_percent, 12.5 % by default, of the time since the previous event).
// - Every packet the host sends goes to one queue, in order; an outbound event takes the
//   next one, so an unexpected packet fails the next `>` line (or is left over at the end,
//   which packetdrill does not check either).
// - Sequence numbers are in "script space": the remote side's are used as written (the
//   inbound SYN's number is the remote ISN), the local side's are mapped between the script's
//   ISN (the `>` SYN or SYN-ACK line) and the host's real one. Inbound TS ecr values are
//   mapped back to the host's live TS val that matched that script val.
// - Blocking calls `T...END call()` start at T and must return at END; later events run while
//   they block. A call written without `...END` must return at once.

import { BLOCKED, Call } from '../bsd/call.ts';
import * as K from '../bsd/constants.ts';
import { BSD_ERRNO } from '../bsd/constants.ts';
import { Syscalls, type PollFd, type Ret, type SockAddr } from '../bsd/syscalls.ts';
import { tcpInfo, type TcpInfo } from '../bsd/tcpinfo.ts';
import { defaultConfig, type HostConfig } from '../base/config.ts';
import { Host } from '../host/host.ts';
import type { Socket } from '../host/socket.ts';
import { TcpConn } from '../tcp/conn.ts';
import { findKey } from '../tcp/key.ts';
import { canonicalIp } from '../wire/addr.ts';
import type { DrillEvent, Expr, Script, SyscallSpec } from './ast.ts';
import { buildProgram, scriptLineOf, type CodeBlock } from './code.ts';
import { applyDrillOption, defaultDrillConfig, DrillOptionError, type DrillConfig } from './config.ts';
import { DrillSyntaxError } from './lexer.ts';
import { parse } from './parser.ts';
import { DrillFailure, fail, fmtTime, pollNames, snapshotSummary, TraceLog, type DrillResult, type DrillStatus, type Failure, type RunOptions, type TraceLine } from './result.ts';
import { applyWrites, planShell } from './shell.ts';
import { PacketEvents } from './packets.ts';
import { SockTable, type SockRec } from './sockets.ts';
import { EPOLL, symbolValue } from './symbols.ts';
import { REPORT_LOOKAHEAD_US, Timeline } from './timing.ts';

export type { DrillResult, DrillStatus, Failure, RunOptions, TraceLine } from './result.ts';
export { fmtTime } from './result.ts';
export { fmtPacketSpec } from './notation.ts';

interface Outstanding {
  ev: DrillEvent;
  call: Call<unknown>;
  verify: (r: unknown) => void;
  startAt: number; // script µs
  endAt: number; // script µs the script expects it to return
  tol: number;
  text: string;
}

interface EpollReg {
  fd: number; // live
  events: number;
  data: number; // script fd as given in {fd=...}
  lastMask: number;
  disabled: boolean;
}

export function runDrill(source: string, file: string, opts: RunOptions = {}): DrillResult {
  let script: Script;
  try {
    script = parse(source);
  } catch (e) {
    if (e instanceof DrillSyntaxError) {
      return {
        file, status: 'FAIL', warnings: [], trace: [], lines: source.split('\n'), events: 0, virtualUs: 0,
        failure: { line: e.line, col: e.col, message: `syntax error: ${e.detail}` },
      };
    }
    throw e;
  }
  return new DrillRun(script, file, opts).run();
}

export class DrillRun {
  readonly cfg: DrillConfig;
  readonly warnings: string[] = [];
  readonly trace: TraceLine[] = [];
  private readonly log = new TraceLog(this.trace, () => this.now());
  private readonly time: Timeline;
  private host!: Host;
  private sys!: Syscalls;
  private socks!: SockTable;
  private packets!: PacketEvents;
  private outstanding: Outstanding | null = null;
  private code: CodeBlock[] = [];
  private epolls = new Map<number, Map<number, EpollReg>>();
  private eventCount = 0;
  private curLine = 0;

  constructor(readonly script: Script, readonly file: string, readonly opts: RunOptions = {}) {
    this.cfg = { ...defaultDrillConfig(), ...opts.config };
    this.time = new Timeline(this.cfg, () => this.callDeadline(), () => this.pollCalls());
  }

  private now(): number {
    return this.time.now();
  }

  // ---- set-up ----

  /** Features linger does not have, found before running (empty: the script can run). */
  unsupported(): string[] {
    const why = new Set<string>();
    const s = this.script;
    for (const c of [...s.init, ...s.cleanup]) {
      if (c.kind === 'shell') {
        const p = planShell(c.text);
        if (!p.ok) why.add(`line ${c.line}: ${p.reason}`);
      } else if (!this.opts.python) why.add(`line ${c.line}: %{ }% python blocks (python3 is not available)`);
    }
    for (const ev of s.events) {
      const b = ev.body;
      const at = `line ${ev.line}`;
      if (b.kind === 'shell') {
        const p = planShell(b.command);
        if (!p.ok) why.add(`${at}: ${p.reason}`);
      } else if (b.kind === 'code') {
        if (!this.opts.python) why.add(`${at}: %{ }% python blocks (python3 is not available)`);
      } else if (b.kind === 'packet') {
        const p = b.packet;
        if (p.proto !== 'tcp') {
          why.add(`${at}: ${p.proto.toUpperCase()} packets (linger is TCP only)`);
          continue;
        }
        if (p.ip.ecn && p.ip.ecn !== 'noect') why.add(`${at}: ECN codepoint [${p.ip.ecn}] (linger does not implement ECN)`);
        if (/[EW]/.test(p.flags)) why.add(`${at}: ECN flags E/W (linger does not implement ECN)`);
        if (p.flags.includes('U') || p.urg !== undefined) why.add(`${at}: urgent data (linger does not implement URG)`);
        if (p.options && p.options !== 'any') {
          for (const o of p.options) {
            if (o.kind === 'md5') why.add(`${at}: TCP MD5 signatures (RFC 2385)`);
            else if (o.kind === 'FO' || o.kind === 'FOEXP') why.add(`${at}: TCP Fast Open`);
            else if (o.kind === 'unknown') why.add(`${at}: TCP option "${o.name}"`);
          }
        }
      } else {
        const c = b.call;
        if (!SYSCALLS.has(c.name)) why.add(`${at}: system call ${c.name}()`);
        const walk = (e: Expr, field?: string): void => {
          switch (e.kind) {
            case 'sym':
              if (symbolValue(e.name) === undefined) why.add(`${at}: symbol ${e.name} (not known to linger)`);
              break;
            case 'or': e.parts.forEach((p) => walk(p)); break;
            case 'neg': walk(e.e); break;
            case 'list': e.items.forEach((p) => walk(p)); break;
            case 'struct': for (const f of e.fields) if (!(f.name === 'msg_name')) walk(f.value, f.name); break;
            case 'call':
              if (!['htons', 'htonl', 'ntohs', 'ntohl', 'inet_addr', 'inet6_addr', 'sizeof'].includes(e.name)) why.add(`${at}: ${e.name}() in an argument`);
              break;
            default: break;
          }
          void field;
        };
        c.args.forEach((a) => walk(a));
        if (c.ret.kind !== 'ellipsis') walk(c.ret);
        if (c.name === 'setsockopt' && c.args[2]?.kind === 'sym' && c.args[2].name === 'TCP_MAXSEG') why.add(`${at}: setsockopt(TCP_MAXSEG) (linger has no user MSS)`);
        if (/^(send|recv|sendto|recvfrom|sendmsg|recvmsg)$/.test(c.name)) {
          const flagsArg = c.args[c.name.endsWith('msg') ? 2 : 3];
          if (flagsArg && this.mentions(flagsArg, 'MSG_OOB')) why.add(`${at}: MSG_OOB (linger does not implement urgent data)`);
        }
      }
    }
    return [...why];
  }

  private mentions(e: Expr, name: string): boolean {
    if (e.kind === 'sym') return e.name === name;
    if (e.kind === 'or') return e.parts.some((p) => this.mentions(p, name));
    return false;
  }

  private setup(): void {
    const explicit = new Set<string>();
    for (const [n, v] of this.opts.flags ?? []) {
      const w = applyDrillOption(this.cfg, n, v, explicit);
      if (w) this.warnings.push(w);
    }
    for (const o of this.script.options) {
      try {
        const w = applyDrillOption(this.cfg, o.name, o.value, explicit);
        if (w) this.warnings.push(`line ${o.line}: ${w}`);
      } catch (e) {
        if (e instanceof DrillOptionError) throw new DrillFailure({ line: o.line, col: o.col, message: e.message });
        throw e;
      }
    }
    const c = this.cfg;
    for (const [what, a] of [['local_ip', c.localIp], ['remote_ip', c.remoteIp]] as const) {
      const r = canonicalIp(a);
      const v6 = c.ipVersion === 'ipv6';
      if (!r.ok || r.value.includes(':') !== v6) throw new DrillFailure({ line: 1, col: 1, message: `--${what}=${a} is not an ${v6 ? 'IPv6' : 'IPv4'} address (--ip_version=${c.ipVersion})` });
      if (what === 'local_ip') c.localIp = r.value;
      else c.remoteIp = r.value;
    }
    const hostCfg: Partial<HostConfig> = { mtu: c.mtu };
    this.host = new Host({
      name: 'linger', addresses: [c.localIp], clock: this.time.clock, seed: this.opts.seed ?? 1,
      config: { ...defaultConfig(), ...hostCfg }, trace: (e) => this.log.host(e), tracePackets: false,
    });
    this.host.setEmit((bytes) => this.packets.capture(bytes));
    this.time.attach(this.host);
    this.sys = new Syscalls(this.host);
    this.socks = new SockTable(this.cfg, this.sys);
    this.packets = new PacketEvents(this.cfg, this.time, this.log, this.socks, this.host, () => this.pollCalls());
  }

  private note(mark: string, text: string, line?: number): void {
    this.log.note(mark, text, line);
  }

  // ---- the run ----

  run(): DrillResult {
    const s = this.script;
    const result = (status: DrillStatus, extra: Partial<DrillResult> = {}): DrillResult => ({
      file: this.file, status, warnings: this.warnings, trace: this.trace, lines: s.lines, events: this.eventCount,
      virtualUs: this.host ? this.now() : 0, ...extra,
    });
    const un = this.unsupported();
    if (un.length) return result('UNSUPPORTED', { unsupported: un });
    try {
      this.setup();
      for (const c of s.init) this.untimed(c.kind, c.text, c.line);
      for (const ev of s.events) {
        this.curLine = ev.line;
        this.event(ev);
        this.eventCount++;
      }
      this.finishOutstanding();
      for (const c of s.cleanup) this.untimed(c.kind, c.text, c.line);
      this.runCode();
      return result('ok');
    } catch (e) {
      if (e instanceof DrillFailure) return result('FAIL', { failure: e.f });
      if (e instanceof Error) {
        return result('FAIL', { failure: { line: this.curLine, col: 1, message: `runner error: ${e.message}`, detail: (e.stack ?? '').split('\n').slice(1, 6).map((l) => l.trim()) } });
      }
      throw e;
    }
  }

  private untimed(kind: 'shell' | 'code', text: string, line: number): void {
    if (kind === 'shell') this.shell(text, line);
    else this.code.push({ line, code: text, info: null, why: 'untimed block' });
  }

  private fail(ev: { line: number; col: number }, message: string, more: Partial<Failure> = {}): never {
    return fail(ev, message, more);
  }

  private event(ev: DrillEvent): void {
    const b = ev.body;
    switch (b.kind) {
      case 'packet':
        if (b.packet.proto !== 'tcp') this.fail(ev, `${b.packet.proto} packets are not supported`);
        if (b.packet.dir === '<') this.packets.inbound(ev, b.packet);
        else this.packets.outbound(ev, b.packet);
        return;
      case 'syscall':
        this.syscall(ev, b.call);
        return;
      case 'shell': {
        const w = this.time.reach(ev.time);
        this.shell(b.command, ev.line);
        this.time.settle(w);
        return;
      }
      case 'code': {
        const w = this.time.reach(ev.time);
        const snap = this.snapshot();
        this.code.push({ line: ev.line, code: b.code, info: snap.info, ...(snap.why ? { why: snap.why } : {}) });
        this.note('#', `%{ python }% (TCP_INFO snapshot${snap.info ? `: state ${snap.info.tcpi_state}` : ` unavailable: ${snap.why}`})`, ev.line);
        this.time.settle(w);
        return;
      }
    }
  }

  private shell(command: string, line: number): void {
    const p = planShell(command);
    if (!p.ok) throw new DrillFailure({ line, col: 1, message: p.reason });
    applyWrites(this.host.cfg, p.writes);
    this.note('#', `\`${p.writes.map((w) => `sysctl ${w.name}=${w.value}`).join('; ')}\``, line);
  }

  // ---- time ----

  /** The earliest deadline of a blocked call (host µs; Infinity: none). */
  private callDeadline(): number {
    let d = Infinity;
    const o = this.outstanding;
    if (o && !o.call.done) d = Math.min(d, o.call.deadline);
    for (const c of this.waiting) if (!c.done) d = Math.min(d, c.deadline);
    return d;
  }
  private waiting: Array<Call<unknown>> = [];

  private pollCalls(): void {
    const o = this.outstanding;
    if (o && !o.call.done && o.call.poll()) {
      this.note('$', `${o.text.replace(/^\S+\s+/, '').replace(/\s*=[^=]*$/, '')} returned ${this.fmtResult(o.call.result)}`, o.ev.line);
    }
    for (const c of this.waiting) c.poll();
  }

  // ---- system calls ----

  private snapshot(): { info: TcpInfo | null; why?: string } {
    const s = this.socks.sut;
    if (!s) return { info: null, why: 'no socket yet' };
    if (s.fd !== null) {
      const r = this.sys.tcpInfo(s.fd);
      if ('errno' in r && r.errno !== undefined) return { info: null, why: `getsockopt(TCP_INFO) failed: ${r.errno}` };
      return { info: r as TcpInfo };
    }
    if (s.localPort !== null && s.remotePort !== null) {
      const k = findKey(this.cfg.localIp, s.localPort, this.cfg.remoteIp, s.remotePort);
      const c = k === undefined ? undefined : this.host.demux.get(k);
      if (c instanceof TcpConn) return { info: tcpInfo({ listener: null } as unknown as Socket, c, this.host.now(), this.host.cfg.mtu) };
    }
    return { info: null, why: 'the socket under test has no descriptor' };
  }

  private fmtResult(r: unknown): string {
    const x = r as Ret & { errno?: string };
    return x.errno ? `-1 ${x.errno}` : String(x.ret);
  }

  private finishOutstanding(): void {
    const o = this.outstanding;
    if (!o) return;
    while (!o.call.done && this.time.step(o.endAt + o.tol)) { /* run */ }
    const t = o.call.done ? this.time.scriptTime(o.call.endedAt) : null;
    if (t === null || t < o.endAt - o.tol || t > o.endAt + o.tol) {
      let actual: string;
      if (t === null) {
        while (!o.call.done && this.time.step(this.now() + REPORT_LOOKAHEAD_US)) { /* look further, for the report */ }
        actual = o.call.done ? `returned ${this.fmtResult(o.call.result)} at ${fmtTime(this.time.scriptTime(o.call.endedAt))} s` : `still blocked at ${fmtTime(this.now())} s`;
      } else actual = `returned ${this.fmtResult(o.call.result)} at ${fmtTime(t)} s`;
      this.fail(o.ev, `timing error: expected the blocking ${o.ev.body.kind === 'syscall' ? o.ev.body.call.name : ''}() to return at ${fmtTime(o.endAt)} s (tolerance ${fmtTime(o.tol)} s)`, {
        expected: `${fmtTime(o.startAt)}...${fmtTime(o.endAt)} ${o.text.replace(/^\S+\s+/, '')}`, actual: `${fmtTime(o.startAt)} ${o.text.replace(/^\S+\s+/, '').replace(/\s*=[^=]*$/, '')} ${actual}`,
      });
    }
    this.outstanding = null;
    o.verify(o.call.result);
  }

  private syscall(ev: DrillEvent, c: SyscallSpec): void {
    // packetdrill waits for a blocking call still running before it starts the next one.
    this.finishOutstanding();
    const w = this.time.reach(ev.time);
    const text = ev.text;
    const { call, verify } = this.makeCall(ev, c);
    const callText = text.replace(/^\S+\s+/, '').replace(/\s*=[^=]*$/, '');
    this.note('$', `${callText}${call.done ? ` = ${this.fmtResult(call.result)}` : '  (blocks)'}`, ev.line);
    const startAt = this.now();
    this.time.settle(w);
    if (c.endUs !== undefined) {
      const endAt = this.time.endOf(ev.time, w.at, c.endUs);
      const tol = this.time.tolerance(endAt, startAt);
      this.outstanding = { ev, call: call as Call<unknown>, verify: verify as (r: unknown) => void, startAt, endAt, tol, text };
      if (call.done) this.finishOutstanding();
      return;
    }
    if (!call.done) {
      const tol = this.time.tolerance(w.at, w.at);
      this.waiting.push(call as Call<unknown>);
      while (!call.done && this.time.step(startAt + tol)) { /* run */ }
      if (!call.done) {
        while (!call.done && this.time.step(this.now() + REPORT_LOOKAHEAD_US)) { /* for the report */ }
        this.waiting = this.waiting.filter((x) => x !== call);
        this.fail(ev, `${c.name}() blocked, but the script expects it to return at once (write it as T...END for a blocking call)`, {
          expected: `${fmtTime(w.at)} ${text.replace(/^\S+\s+/, '')}`,
          actual: call.done ? `returned ${this.fmtResult(call.result)} at ${fmtTime(this.time.scriptTime(call.endedAt))} s` : `still blocked at ${fmtTime(this.now())} s (nothing would wake it)`,
        });
      }
      this.waiting = this.waiting.filter((x) => x !== call);
    }
    verify(call.result!);
  }

  private lookup(ev: { line: number; col: number }, name: string): number {
    const v = symbolValue(name);
    if (v === undefined) this.fail(ev, `unknown symbol ${name}`);
    return v;
  }

  /** An integer expression (symbols, |, -, htons()). */
  private int(e: Expr | undefined, what: string): number {
    if (!e) this.fail({ line: this.curLine, col: 1 }, `missing argument: ${what}`);
    switch (e.kind) {
      case 'num': return e.value;
      case 'sym': return this.lookup(e, e.name);
      case 'neg': return -this.int(e.e, what);
      case 'or': return e.parts.reduce((a, p) => a | this.int(p, what), 0);
      case 'list': if (e.items.length === 1) return this.int(e.items[0], what); break;
      case 'call':
        if (['htons', 'htonl', 'ntohs', 'ntohl'].includes(e.name) && e.args.length === 1) return this.int(e.args[0], what);
        break;
      default: break;
    }
    this.fail(e, `${what}: expected an integer, found ${this.describeExpr(e)}`);
  }

  private describeExpr(e: Expr): string {
    switch (e.kind) {
      case 'num': return e.text;
      case 'sym': return e.name;
      case 'str': return JSON.stringify(e.value);
      case 'ellipsis': return '...';
      case 'list': return `[${e.items.map((x) => this.describeExpr(x)).join(', ')}]`;
      case 'struct': return `{${e.fields.map((f) => `${f.name ? `${f.name}=` : ''}${this.describeExpr(f.value)}`).join(', ')}}`;
      case 'call': return `${e.name}(...)`;
      case 'neg': return `-${this.describeExpr(e.e)}`;
      case 'or': return e.parts.map((x) => this.describeExpr(x)).join('|');
    }
  }

  /** An fd argument: script numbers map to live ones. */
  private fd(e: Expr | undefined): number {
    const n = this.int(e, 'file descriptor');
    return this.socks.fdMap.get(n) ?? n;
  }

  private field(e: Expr, name: string): Expr | undefined {
    if (e.kind !== 'struct') return undefined;
    return e.fields.find((f) => f.name === name)?.value;
  }

  private sockaddr(e: Expr | undefined, dflt: 'bind' | 'connect'): SockAddr {
    const c = this.cfg;
    const mapped = c.ipVersion === 'ipv4-mapped-ipv6';
    const fam = c.ipVersion === 'ipv4' ? K.AF_INET : K.AF_INET6;
    const show = (a: string): string => (mapped ? `::ffff:${a}` : a);
    if (!e || e.kind === 'ellipsis' || (e.kind === 'sym' && e.name === 'NULL')) {
      return dflt === 'bind' ? { family: fam, addr: show(c.localIp), port: c.bindPort } : { family: fam, addr: show(c.remoteIp), port: c.connectPort };
    }
    if (e.kind === 'struct') {
      const famE = this.field(e, 'sa_family') ?? this.field(e, 'sin_family') ?? this.field(e, 'sin6_family');
      const portE = this.field(e, 'sin_port') ?? this.field(e, 'sin6_port');
      const addrE = this.field(e, 'sin_addr') ?? this.field(e, 'sin6_addr');
      const family = famE ? this.int(famE, 'sa_family') : fam;
      const port = portE ? this.int(portE, 'port') : dflt === 'bind' ? c.bindPort : c.connectPort;
      let addr = dflt === 'bind' ? show(c.localIp) : show(c.remoteIp);
      if (addrE) {
        if (addrE.kind === 'call' && (addrE.name === 'inet_addr' || addrE.name === 'inet6_addr') && addrE.args[0]?.kind === 'str') addr = addrE.args[0].value;
        else if (addrE.kind === 'str') addr = addrE.value;
        else if (addrE.kind === 'sym' && addrE.name === 'INADDR_ANY') addr = family === K.AF_INET ? '0.0.0.0' : '::';
        else this.fail(addrE, `cannot read an address from ${this.describeExpr(addrE)}`);
      }
      return { family, addr, port };
    }
    this.fail(e, `expected a socket address (... or {sa_family=..., sin_port=htons(N), sin_addr=inet_addr("...")}), found ${this.describeExpr(e)}`);
  }

  /** Bytes of an iovec array ([{..., 100}, {..., 50}]) or a msghdr's msg_iov. */
  private iovLen(e: Expr | undefined): number {
    if (!e) return 0;
    if (e.kind === 'list') return e.items.reduce((a, x) => a + this.iovLen(x), 0);
    if (e.kind === 'struct') {
      const iov = this.field(e, 'msg_iov');
      if (iov) return this.iovLen(iov);
      const len = this.field(e, 'iov_len') ?? e.fields[1]?.value;
      if (len) return this.int(len, 'iov_len');
    }
    this.fail(e, `expected an iovec array [{..., N}], found ${this.describeExpr(e)}`);
  }

  private bytesFor(buf: Expr | undefined, count: number): Uint8Array {
    const b = new Uint8Array(Math.max(0, count)).fill(0x78);
    if (buf && buf.kind === 'str') b.set(new TextEncoder().encode(buf.value).subarray(0, count));
    return b;
  }

  /** Compares a call's result with the script's `= ret [ERRNO]`. */
  private checkRet(ev: DrillEvent, c: SyscallSpec, r: { ret: number; errno?: string }, anyFd = false): void {
    const want = c.ret.kind === 'ellipsis' ? null : this.int(c.ret, 'return value');
    const show = (x: { ret: number; errno?: string }): string => (x.errno ? `-1 ${x.errno}` : String(x.ret));
    const expected = `${c.name}(...) = ${want === null ? '...' : want}${c.errno ? ` ${c.errno}` : ''}`;
    const actual = `${c.name}(...) = ${show(r)}${r.errno ? ` (${BSD_ERRNO[r.errno as keyof typeof BSD_ERRNO] ?? '?'})` : ''}`;
    const bad = (msg: string): never => this.fail(c.namePos, msg, { expected, actual });
    if (c.errno) {
      if (!r.errno) bad(`${c.name}() returned ${r.ret}, the script expects -1 ${c.errno}`);
      if (r.errno !== c.errno) bad(`${c.name}() failed with ${r.errno}, the script expects ${c.errno}`);
      if (want !== null && want !== -1) bad(`${c.name}(): an errno comes with -1, the script says ${want}`);
      return;
    }
    if (r.errno) {
      if (want === -1) return;
      bad(`${c.name}() failed with ${r.errno}, the script expects ${want === null ? 'success' : want}`);
    }
    if (want === null) return;
    if (anyFd && want >= 0 && r.ret >= 0) return;
    if (r.ret !== want) bad(`${c.name}() returned ${r.ret}, the script expects ${want}`);
    void ev;
  }

  private makeCall(ev: DrillEvent, c: SyscallSpec): { call: Call<Ret>; verify: (r: Ret) => void } {
    const a = c.args;
    const sys = this.sys;
    const clock = (): number => this.time.clock.now();
    const done = (r: Ret): Call<Ret> => Call.done(c.name, clock, r);
    const plain = (r: Ret): { call: Call<Ret>; verify: (r: Ret) => void } => ({ call: done(r), verify: (x) => this.checkRet(ev, c, x) });
    const need = (n: number): void => {
      if (a.length < n) this.fail(c.namePos, `${c.name}() takes ${n} arguments, the script gives ${a.length}`);
    };
    switch (c.name) {
      case 'socket': {
        need(3);
        const domain = a[0]!.kind === 'ellipsis' ? (this.cfg.ipVersion === 'ipv4' ? K.AF_INET : K.AF_INET6) : this.int(a[0], 'domain');
        const r = sys.socket(domain, this.int(a[1], 'type'), this.int(a[2], 'protocol'));
        return {
          call: done(r),
          verify: (x) => {
            this.checkRet(ev, c, x, true);
            if (x.errno === undefined) {
              if (c.ret.kind !== 'ellipsis') this.socks.fdMap.set(this.int(c.ret, 'fd'), x.ret);
              const rec = this.socks.rec(x.ret);
              rec.kind = 'init';
              this.socks.sut = rec;
            }
          },
        };
      }
      case 'bind': {
        need(2);
        return plain(sys.bind(this.fd(a[0]), this.sockaddr(a[1], 'bind')));
      }
      case 'listen': {
        need(2);
        const fd = this.fd(a[0]);
        const r = sys.listen(fd, this.int(a[1], 'backlog'));
        if (r.errno === undefined) {
          const rec = this.socks.rec(fd);
          rec.kind = 'listener';
          rec.localPort = this.socks.localPortOf(fd);
          this.socks.sut = rec;
        }
        return plain(r);
      }
      case 'accept':
      case 'accept4': {
        need(1);
        const fd = this.fd(a[0]);
        const call = c.name === 'accept' ? sys.begin.accept(fd) : sys.begin.accept4(fd, a[3] ? this.int(a[3], 'flags') : 0);
        return {
          call: call as Call<Ret>,
          verify: (x) => {
            this.checkRet(ev, c, x, true);
            if (x.errno === undefined) {
              if (c.ret.kind !== 'ellipsis') this.socks.fdMap.set(this.int(c.ret, 'fd'), x.ret);
              const peer = (x as { addr?: { port: number } }).addr?.port ?? null;
              let rec: SockRec;
              if (this.socks.sut && this.socks.sut.kind === 'child' && this.socks.sut.fd === null && (peer === null || this.socks.sut.remotePort === peer)) {
                rec = this.socks.sut;
                rec.fd = x.ret;
                rec.kind = 'conn';
              } else {
                rec = { kind: 'conn', fd: x.ret, localPort: this.socks.localPortOf(x.ret), remotePort: peer };
              }
              this.socks.set(x.ret, rec);
            }
          },
        };
      }
      case 'connect': {
        need(2);
        const fd = this.fd(a[0]);
        const addr = this.sockaddr(a[1], 'connect');
        const call = sys.begin.connect(fd, addr);
        const rec = this.socks.rec(fd);
        if (rec.kind === 'init' || rec.kind === 'connecting') {
          rec.kind = 'connecting';
          rec.localPort = this.socks.localPortOf(fd);
          rec.remotePort = addr.port;
          this.socks.sut = rec;
        }
        return { call, verify: (x) => this.checkRet(ev, c, x) };
      }
      case 'close': {
        need(1);
        const scriptFd = this.int(a[0], 'fd');
        const fd = this.socks.fdMap.get(scriptFd) ?? scriptFd;
        const call = sys.begin.close(fd);
        this.epolls.delete(fd);
        for (const m of this.epolls.values()) m.delete(fd);
        return { call, verify: (x) => this.checkRet(ev, c, x) };
      }
      case 'shutdown':
        need(2);
        return plain(sys.shutdown(this.fd(a[0]), this.int(a[1], 'how')));
      case 'read':
      case 'recv':
      case 'recvfrom':
      case 'readv':
      case 'recvmsg': {
        need(c.name === 'read' || c.name === 'readv' ? 3 : c.name === 'recvmsg' ? 3 : 4);
        const fd = this.fd(a[0]);
        let count: number;
        let flags = 0;
        if (c.name === 'readv') count = this.iovLen(a[1]);
        else if (c.name === 'recvmsg') {
          count = this.iovLen(a[1]);
          flags = this.int(a[2], 'flags');
        } else {
          count = this.int(a[2], 'count');
          if (c.name !== 'read') flags = this.int(a[3], 'flags');
        }
        const call = flags ? sys.begin.recv(fd, count, flags) : sys.begin.read(fd, count);
        return { call: call as Call<Ret>, verify: (x) => this.checkRet(ev, c, x) };
      }
      case 'write':
      case 'send':
      case 'sendto':
      case 'writev':
      case 'sendmsg': {
        need(3);
        const fd = this.fd(a[0]);
        let data: Uint8Array;
        let flags = 0;
        if (c.name === 'writev') data = this.bytesFor(undefined, this.iovLen(a[1]));
        else if (c.name === 'sendmsg') {
          data = this.bytesFor(undefined, this.iovLen(a[1]));
          flags = this.int(a[2], 'flags');
        } else {
          data = this.bytesFor(a[1], this.int(a[2], 'count'));
          if (c.name !== 'write') flags = this.int(a[3], 'flags');
        }
        const call = flags ? sys.begin.send(fd, data, flags & ~K.MSG_NOSIGNAL) : sys.begin.write(fd, data);
        return { call, verify: (x) => this.checkRet(ev, c, x) };
      }
      case 'setsockopt': {
        need(4);
        const fd = this.fd(a[0]);
        const level = this.int(a[1], 'level');
        const name = this.int(a[2], 'optname');
        const v = a[3]!;
        let value: number | { l_onoff: number; l_linger: number } | { tv_sec: number; tv_usec: number };
        if (v.kind === 'struct') {
          const on = this.field(v, 'onoff') ?? this.field(v, 'l_onoff');
          const lg = this.field(v, 'linger') ?? this.field(v, 'l_linger');
          const sec = this.field(v, 'tv_sec');
          const usec = this.field(v, 'tv_usec');
          if (on && lg) value = { l_onoff: this.int(on, 'onoff'), l_linger: this.int(lg, 'linger') };
          else if (sec) value = { tv_sec: this.int(sec, 'tv_sec'), tv_usec: usec ? this.int(usec, 'tv_usec') : 0 };
          else this.fail(v, `setsockopt: cannot read ${this.describeExpr(v)}`);
        } else value = this.int(v, 'option value');
        return plain(sys.setsockopt(fd, level, name, value));
      }
      case 'getsockopt': {
        need(4);
        const fd = this.fd(a[0]);
        const level = this.int(a[1], 'level');
        const name = this.int(a[2], 'optname');
        const r = sys.getsockopt(fd, level, name);
        return {
          call: done(r),
          verify: (x) => {
            this.checkRet(ev, c, x);
            if (x.errno !== undefined) return;
            const got = (x as unknown as { value: unknown; optlen: number });
            this.checkOptValue(c, a[3]!, got.value);
            const lenE = a[4];
            if (lenE && lenE.kind === 'list' && lenE.items.length === 1 && lenE.items[0]!.kind !== 'ellipsis') {
              const wantLen = this.int(lenE.items[0], 'optlen');
              const gotLen = Math.min(wantLen, got.optlen);
              if (gotLen !== wantLen) this.fail(lenE, `getsockopt optlen ${gotLen} != ${wantLen}`, { expected: `optlen [${wantLen}]`, actual: `optlen [${got.optlen}]` });
            }
          },
        };
      }
      case 'fcntl': {
        need(2);
        return plain(sys.fcntl(this.fd(a[0]), this.int(a[1], 'cmd'), a[2] ? this.int(a[2], 'arg') : 0));
      }
      case 'ioctl': {
        need(2);
        const fd = this.fd(a[0]);
        const req = this.int(a[1], 'request');
        const argE = a[2];
        const arg = req === K.FIONBIO && argE ? this.int(argE, 'arg') : 0;
        const r = sys.ioctl(fd, req, arg);
        return {
          call: done(r),
          verify: (x) => {
            this.checkRet(ev, c, x);
            if (x.errno !== undefined || req === K.FIONBIO || !argE || argE.kind === 'ellipsis') return;
            const want = this.int(argE, 'ioctl value');
            const got = (x as unknown as { value: number }).value;
            if (got !== want) this.fail(argE, `ioctl() value ${got} != ${want}`, { expected: `[${want}]`, actual: `[${got}]` });
          },
        };
      }
      case 'poll': {
        need(3);
        const arr = a[0]!;
        const items = arr.kind === 'list' ? arr.items : arr.kind === 'struct' ? [arr] : this.fail(arr, 'poll() takes an array of {fd=..., events=..., revents=...}');
        const fds: PollFd[] = items.map((it) => {
          const fdE = this.field(it, 'fd');
          const evE = this.field(it, 'events');
          if (!fdE || !evE) this.fail(it, 'a pollfd needs fd= and events=');
          return { fd: this.fd(fdE), events: this.int(evE, 'events') };
        });
        const call = sys.begin.poll(fds, this.int(a[2], 'timeout'));
        return {
          call: call as Call<Ret>,
          verify: (x) => {
            this.checkRet(ev, c, x);
            items.forEach((it, i) => {
              const rv = this.field(it, 'revents');
              if (!rv || rv.kind === 'ellipsis') return;
              const want = this.int(rv, 'revents');
              const got = fds[i]!.revents ?? 0;
              if (got !== want) this.fail(rv, `poll() revents of fd ${this.describeExpr(this.field(it, 'fd')!)} is ${pollNames(got)}, the script expects ${pollNames(want)}`, { expected: `revents=${pollNames(want)}`, actual: `revents=${pollNames(got)}` });
            });
          },
        };
      }
      case 'epoll_create':
      case 'epoll_create1': {
        need(1);
        const r = sys.dup(0); // reserves the lowest free descriptor, as Linux's epoll fd would take
        return {
          call: done(r),
          verify: (x) => {
            this.checkRet(ev, c, x, true);
            if (x.errno === undefined) {
              if (c.ret.kind !== 'ellipsis') this.socks.fdMap.set(this.int(c.ret, 'fd'), x.ret);
              this.epolls.set(x.ret, new Map());
            }
          },
        };
      }
      case 'epoll_ctl': {
        need(4);
        const ep = this.epolls.get(this.fd(a[0]));
        const op = this.int(a[1], 'op');
        const scriptFd = this.int(a[2], 'fd');
        const fd = this.socks.fdMap.get(scriptFd) ?? scriptFd;
        const EXTRA: Record<string, number> = { EEXIST: 17 };
        const fail = (e: string): Ret => ({ ret: -1, errno: e, errnum: BSD_ERRNO[e as keyof typeof BSD_ERRNO] ?? EXTRA[e] ?? 0 }) as unknown as Ret;
        let r: Ret;
        if (!ep) r = fail('EBADF');
        else if (!sys.socketOf(fd)) r = fail('EBADF');
        else if (op === EPOLL.EPOLL_CTL_DEL) r = ep.delete(fd) ? { ret: 0 } : fail('ENOENT');
        else {
          const evE = a[3]!;
          const events = this.int(this.field(evE, 'events') ?? evE, 'events');
          const dataE = this.field(evE, 'fd') ?? this.field(evE, 'u32') ?? this.field(evE, 'u64') ?? this.field(evE, 'ptr');
          const data = dataE ? this.int(dataE, 'data') : scriptFd;
          if (op === EPOLL.EPOLL_CTL_ADD && ep.has(fd)) r = fail('EEXIST');
          else if (op === EPOLL.EPOLL_CTL_MOD && !ep.has(fd)) r = fail('ENOENT');
          else {
            ep.set(fd, { fd, events, data, lastMask: 0, disabled: false });
            r = { ret: 0 };
          }
        }
        return plain(r);
      }
      case 'epoll_wait': {
        need(4);
        const ep = this.epolls.get(this.fd(a[0]));
        if (!ep) return plain({ ret: -1, errno: 'EBADF', errnum: 9 });
        const max = this.int(a[2], 'maxevents');
        const timeout = this.int(a[3], 'timeout');
        let ready: Array<{ events: number; data: number }> = [];
        const scan = (): number => {
          ready = [];
          for (const reg of ep.values()) {
            if (reg.disabled) continue;
            const m = this.sys.revents({ fd: reg.fd, events: reg.events & 0xffff }) & (reg.events | K.POLLERR | K.POLLHUP);
            const et = (reg.events & EPOLL.EPOLLET) !== 0;
            const report = et ? m !== 0 && m !== reg.lastMask : m !== 0;
            if (et) reg.lastMask = m;
            if (report && ready.length < max) {
              ready.push({ events: m, data: reg.data });
              if (reg.events & EPOLL.EPOLLONESHOT) reg.disabled = true;
            }
          }
          return ready.length;
        };
        const deadline = timeout < 0 ? Infinity : clock() + timeout * 1000;
        const call = new Call<Ret>('epoll_wait', clock, () => (scan() ? { ret: ready.length } : BLOCKED), () => ({ ret: scan() }), deadline);
        return {
          call,
          verify: (x) => {
            this.checkRet(ev, c, x);
            const evE = a[1]!;
            const want = evE.kind === 'list' ? evE.items : evE.kind === 'struct' ? [evE] : [];
            want.forEach((w, i) => {
              const got = ready[i];
              const evs = this.field(w, 'events');
              const fdE = this.field(w, 'fd') ?? this.field(w, 'u32') ?? this.field(w, 'u64') ?? this.field(w, 'ptr');
              if (!got) return;
              if (evs && evs.kind !== 'ellipsis' && this.int(evs, 'events') !== got.events) {
                this.fail(evs, `epoll_wait() events ${pollNames(got.events)} != ${pollNames(this.int(evs, 'events'))}`, { expected: `events=${pollNames(this.int(evs, 'events'))}`, actual: `events=${pollNames(got.events)}` });
              }
              if (fdE && fdE.kind !== 'ellipsis' && this.int(fdE, 'fd') !== got.data) this.fail(fdE, `epoll_wait() data ${got.data} != ${this.int(fdE, 'fd')}`);
            });
          },
        };
      }
      case 'getsockname':
      case 'getpeername':
        need(1);
        return plain(c.name === 'getsockname' ? sys.getsockname(this.fd(a[0])) : sys.getpeername(this.fd(a[0])));
      case 'dup':
      case 'dup2':
      case 'dup3': {
        need(1);
        const old = this.fd(a[0]);
        const r = c.name === 'dup' ? sys.dup(old) : sys.dup2(old, this.fd(a[1]));
        return {
          call: done(r),
          verify: (x) => {
            this.checkRet(ev, c, x, true);
            if (x.errno === undefined && c.ret.kind !== 'ellipsis') this.socks.fdMap.set(this.int(c.ret, 'fd'), x.ret);
          },
        };
      }
      default:
        this.fail(c.namePos, `system call ${c.name}() is not supported`);
    }
  }

  private checkOptValue(c: SyscallSpec, want: Expr, got: unknown): void {
    if (want.kind === 'ellipsis') return;
    if (want.kind === 'list' && want.items.length === 1) {
      const inner = want.items[0]!;
      if (inner.kind === 'ellipsis') return;
      if (inner.kind !== 'struct') {
        const w = this.int(inner, 'option value');
        if (typeof got !== 'number' || got !== w) this.fail(want, `getsockopt() value ${JSON.stringify(got)} != ${w}`, { expected: `[${w}]`, actual: `[${typeof got === 'number' ? got : JSON.stringify(got)}]` });
        return;
      }
      want = inner;
    }
    if (want.kind === 'struct') {
      const obj = got as Record<string, number>;
      const alias: Record<string, string> = { onoff: 'l_onoff', linger: 'l_linger' };
      for (const f of want.fields) {
        if (!f.name || f.value.kind === 'ellipsis') continue;
        const key = f.name in obj ? f.name : alias[f.name] ?? f.name;
        if (!(key in obj)) this.fail(f, `getsockopt(): the result has no field ${f.name}`);
        const w = this.int(f.value, f.name);
        if (obj[key] !== w) this.fail(f, `getsockopt() ${f.name} ${obj[key]} != ${w}`, { expected: `${f.name}=${w}`, actual: `${f.name}=${obj[key]}` });
      }
      return;
    }
    const w = this.int(want, 'option value');
    if (got !== w) this.fail(want, `getsockopt() value ${JSON.stringify(got)} != ${w}`);
    void c;
  }

  // ---- python ----

  private runCode(): void {
    if (!this.code.length) return;
    const py = this.opts.python;
    if (!py) return;
    const prog = buildProgram(this.code);
    const r = py(prog.source);
    if (r.ok) {
      this.note('#', `python: ${this.code.length} block(s) passed`);
      return;
    }
    const line = scriptLineOf(r.output, prog) || this.code[0]!.line;
    const block = [...this.code].reverse().find((b) => b.line <= line) ?? this.code[0]!;
    const lastLine = r.output.trim().split('\n').pop() ?? '';
    this.fail({ line, col: 1 }, `python block failed: ${lastLine}`, {
      detail: [
        ...(block.info ? [`TCP_INFO snapshot at line ${block.line}: ${snapshotSummary(block.info)}`] : [`no TCP_INFO snapshot at line ${block.line}: ${block.why ?? ''}`]),
        ...r.output.trim().split('\n').slice(-6),
      ],
    });
  }
}


const SYSCALLS = new Set([
  'socket', 'bind', 'listen', 'accept', 'accept4', 'connect', 'close', 'shutdown', 'getsockopt', 'setsockopt',
  'read', 'readv', 'recv', 'recvfrom', 'recvmsg', 'write', 'writev', 'send', 'sendto', 'sendmsg', 'fcntl', 'ioctl',
  'poll', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_wait', 'getsockname', 'getpeername', 'dup', 'dup2', 'dup3',
]);
