// The packetdrill interpreter on a virtual clock. One linger Host is the local side, driven
// through the BSD call layer (src/bsd); the runner plays the remote host, as packetdrill does
// with its tun device. This file sets a run up and runs the script's events in order; the
// rules live beside it: timing.ts (script time, tolerances), packets.ts and match.ts (`<` and
// `>` lines, script sequence space), blocking.ts and calls.ts (system calls), unsupported.ts
// (what linger does not have), result.ts (trace and failures).

import { tcpInfo, type TcpInfo } from '../bsd/tcpinfo.ts';
import { Syscalls } from '../bsd/syscalls.ts';
import { defaultConfig, type HostConfig } from '../base/config.ts';
import { Host } from '../host/host.ts';
import { canonicalIp } from '../wire/addr.ts';
import type { DrillEvent, Script } from './ast.ts';
import { CallArgs } from './args.ts';
import { CallEvents } from './blocking.ts';
import { makeCall, type CallContext } from './calls.ts';
import { buildProgram, scriptLineOf, type CodeBlock } from './code.ts';
import { applyDrillOption, defaultDrillConfig, DrillOptionError, type DrillConfig } from './config.ts';
import { Epolls } from './epoll.ts';
import { DrillSyntaxError } from './lexer.ts';
import { PacketEvents } from './packets.ts';
import { parse } from './parser.ts';
import { DrillFailure, fail, snapshotSummary, TraceLog, type DrillResult, type DrillStatus, type RunOptions, type TraceLine } from './result.ts';
import { planShell } from './shell.ts';
import { SockTable } from './sockets.ts';
import { Timeline } from './timing.ts';
import { unsupportedFeatures } from './unsupported.ts';

export type { DrillResult, DrillStatus, Failure, RunOptions, TraceLine } from './result.ts';
export { fmtTime } from './result.ts';
export { fmtPacketSpec } from './notation.ts';

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
  private readonly log: TraceLog;
  private readonly time: Timeline;
  private host!: Host;
  private sys!: Syscalls;
  private socks!: SockTable;
  private packets!: PacketEvents;
  private calls!: CallEvents;
  private code: CodeBlock[] = [];
  private eventCount = 0;
  private curLine = 0;

  constructor(readonly script: Script, readonly file: string, readonly opts: RunOptions = {}) {
    this.cfg = { ...defaultDrillConfig(), ...opts.config };
    this.time = new Timeline(this.cfg, () => this.calls.deadline(), () => this.calls.poll());
    this.log = new TraceLog(this.trace, () => this.time.now());
  }

  /** Features linger does not have, found before running (empty: the script can run). */
  unsupported(): string[] {
    return unsupportedFeatures(this.script, !!this.opts.python, this.opts.readFile);
  }

  // ---- set-up ----

  /** The option lines (after the CLI's flags), then the addresses they give. */
  private configure(): void {
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
        if (e instanceof DrillOptionError) fail(o, e.message);
        throw e;
      }
    }
    const c = this.cfg;
    for (const [what, a] of [['local_ip', c.localIp], ['remote_ip', c.remoteIp]] as const) {
      const r = canonicalIp(a);
      const v6 = c.ipVersion === 'ipv6';
      if (!r.ok || r.value.includes(':') !== v6) fail({ line: 1, col: 1 }, `--${what}=${a} is not an ${v6 ? 'IPv6' : 'IPv4'} address (--ip_version=${c.ipVersion})`);
      if (what === 'local_ip') c.localIp = r.value;
      else c.remoteIp = r.value;
    }
  }

  /** The host under test, driven through the BSD call layer; the runner is its wire. */
  private setup(): void {
    this.configure();
    const c = this.cfg;
    const hostCfg: Partial<HostConfig> = { mtu: c.mtu };
    this.host = new Host({
      name: 'linger', addresses: [c.localIp], clock: this.time.clock, seed: this.opts.seed ?? 1,
      config: { ...defaultConfig(), ...hostCfg }, trace: (e) => this.log.host(e), tracePackets: false,
    });
    this.host.setEmit((bytes) => this.packets.capture(bytes));
    this.time.attach(this.host);
    this.sys = new Syscalls(this.host);
    this.socks = new SockTable(c, this.sys);
    const cx: CallContext = {
      cfg: c, sys: this.sys, socks: this.socks, epolls: new Epolls(), clock: () => this.time.clock.now(),
      args: new CallArgs(c, this.socks.fdMap, () => this.curLine),
    };
    this.calls = new CallEvents(this.time, this.log, (call) => makeCall(cx, call));
    this.packets = new PacketEvents(c, this.time, this.log, this.socks, this.host, () => this.calls.poll());
  }

  // ---- the run ----

  run(): DrillResult {
    const s = this.script;
    const result = (status: DrillStatus, extra: Partial<DrillResult> = {}): DrillResult => ({
      file: this.file, status, warnings: this.warnings, trace: this.trace, lines: s.lines, events: this.eventCount,
      virtualUs: this.host ? this.time.now() : 0, ...extra,
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
      this.calls.finish();
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

  private event(ev: DrillEvent): void {
    const b = ev.body;
    switch (b.kind) {
      case 'packet':
        if (b.packet.proto !== 'tcp') fail(ev, `${b.packet.proto} packets are not supported`);
        if (b.packet.dir === '<') this.packets.inbound(ev, b.packet);
        else this.packets.outbound(ev, b.packet);
        return;
      case 'syscall':
        this.calls.run(ev, b.call);
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
        this.log.note('#', `%{ python }% (TCP_INFO snapshot${snap.info ? `: state ${snap.info.tcpi_state}` : ` unavailable: ${snap.why}`})`, ev.line);
        this.time.settle(w);
        return;
      }
    }
  }

  private shell(command: string, line: number): void {
    const p = planShell(command, this.opts.readFile);
    if (!p.ok) fail({ line, col: 1 }, p.reason);
    for (const w of p.warnings) this.warnings.push(`line ${line}: ${w}`);
    for (const w of p.writes) this.host.setSysctl(w.name, w.value);
    this.log.note('#', `\`${p.writes.map((w) => `sysctl ${w.name}=${w.value}`).join('; ')}\``, line);
  }

  // ---- python ----

  /** TCP_INFO of the socket under test, for a %{ }% block. */
  private snapshot(): { info: TcpInfo | null; why?: string } {
    const s = this.socks.sut;
    if (!s) return { info: null, why: 'no socket yet' };
    if (s.fd !== null) {
      const r = this.sys.tcpInfo(s.fd);
      if ('errno' in r) return { info: null, why: `getsockopt(TCP_INFO) failed: ${r.errno}` };
      return { info: r };
    }
    if (s.localPort !== null && s.remotePort !== null) {
      const c = this.host.findConnection(this.cfg.localIp, s.localPort, this.cfg.remoteIp, s.remotePort);
      if (c) return { info: tcpInfo(null, c, this.host.now(), this.host.cfg.mtu) };
    }
    return { info: null, why: 'the socket under test has no descriptor' };
  }

  private runCode(): void {
    if (!this.code.length) return;
    const py = this.opts.python;
    if (!py) return;
    const prog = buildProgram(this.code);
    const r = py(prog.source);
    if (r.ok) {
      this.log.note('#', `python: ${this.code.length} block(s) passed`);
      return;
    }
    const line = scriptLineOf(r.output, prog) || this.code[0]!.line;
    const block = [...this.code].reverse().find((b) => b.line <= line) ?? this.code[0]!;
    const lastLine = r.output.trim().split('\n').pop() ?? '';
    fail({ line, col: 1 }, `python block failed: ${lastLine}`, {
      detail: [
        ...(block.info ? [`TCP_INFO snapshot at line ${block.line}: ${snapshotSummary(block.info)}`] : [`no TCP_INFO snapshot at line ${block.line}: ${block.why ?? ''}`]),
        ...r.output.trim().split('\n').slice(-6),
      ],
    });
  }
}
