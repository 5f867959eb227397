// The packetdrill interpreter. The host under test is a backend (backend.ts): one linger Host
// on a virtual clock driven through the BSD call layer (src/bsd), or the kernel in real time
// (kernel/); the runner plays the remote host, as packetdrill does with its tun device. This
// file sets a run up and runs the script's events in order; the rules live beside it:
// timing.ts (script time, tolerances), packets.ts and match.ts (`<` and `>` lines, script
// sequence space), blocking.ts and calls.ts (system calls), unsupported.ts (what the run cannot
// have), result.ts (trace and failures), compare.ts (--both).

import type { TcpInfo } from '../bsd/tcpinfo.ts';
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
import { SockTable } from './sockets.ts';
import type { ScriptClock } from './timing.ts';
import { LingerBackend, type BackendFactory, type BackendHooks, type DrillBackend } from './backend.ts';
import { unsupportedFeatures } from './unsupported.ts';

export type { DrillResult, DrillStatus, Failure, RunOptions, TraceLine } from './result.ts';
export { fmtTime } from './result.ts';
export { fmtPacketSpec } from './notation.ts';

/** Runs a script; against linger on a virtual clock unless `backend` says otherwise. */
export function runDrill(source: string, file: string, opts: RunOptions = {}, backend?: BackendFactory): DrillResult {
  let script: Script;
  try {
    script = parse(source, opts.defines);
  } catch (e) {
    if (e instanceof DrillSyntaxError) {
      return {
        file, status: 'FAIL', warnings: [], trace: [], lines: source.split('\n'), events: 0, virtualUs: 0,
        failure: { line: e.line, col: e.col, message: `syntax error: ${e.detail}` },
      };
    }
    throw e;
  }
  return new DrillRun(script, file, opts, backend).run();
}

export class DrillRun {
  readonly cfg: DrillConfig;
  readonly warnings: string[] = [];
  readonly trace: TraceLine[] = [];
  private readonly log: TraceLog;
  private backend!: DrillBackend;
  private time!: ScriptClock;
  private socks!: SockTable;
  private packets!: PacketEvents;
  private calls!: CallEvents;
  private code: CodeBlock[] = [];
  private eventCount = 0;
  private curLine = 0;

  /** @param backendFactory makes the host under test (default: linger on a virtual clock). */
  constructor(readonly script: Script, readonly file: string, readonly opts: RunOptions = {}, private readonly backendFactory?: BackendFactory) {
    this.cfg = { ...defaultDrillConfig(), ...opts.config };
    this.log = new TraceLog(this.trace, () => (this.time ? this.time.now() : 0));
  }

  /** Features the runner does not have, found before running (empty: the script can run). */
  unsupported(): string[] {
    return unsupportedFeatures(this.script, !!this.opts.python, this.opts.readFile, this.backendFactory?.kind ?? 'linger');
  }

  // ---- set-up ----

  /** The option lines (after the CLI's flags), then the addresses they give. */
  configure(): DrillConfig {
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
    return c;
  }

  /** The host under test behind the BSD call layer; the runner is its wire. */
  private setup(): void {
    const c = this.configure();
    const hooks: BackendHooks = {
      capture: (bytes) => this.packets.capture(bytes),
      callDeadline: () => this.calls.deadline(),
      afterStep: () => this.calls.poll(),
      hostTrace: (e) => this.log.host(e),
    };
    this.backend = this.backendFactory ? this.backendFactory.make(c, hooks) : new LingerBackend(c, hooks, this.opts.seed ?? 1, this.opts.readFile);
    this.time = this.backend.time;
    const sys = this.backend.sys;
    this.socks = new SockTable(c, sys);
    const cx: CallContext = {
      cfg: c, sys, socks: this.socks, epolls: new Epolls(), clock: () => this.time.hostNow(),
      args: new CallArgs(c, this.socks.fdMap, () => this.curLine),
    };
    this.calls = new CallEvents(this.time, this.log, (call) => makeCall(cx, call));
    this.packets = new PacketEvents(c, this.time, this.log, this.socks, this.backend, () => this.calls.poll());
  }

  // ---- the run ----

  run(): DrillResult {
    const s = this.script;
    const result = (status: DrillStatus, extra: Partial<DrillResult> = {}): DrillResult => ({
      file: this.file, ...(this.backendFactory?.kind === 'kernel' ? { host: 'kernel' as const } : {}), status, warnings: this.warnings, trace: this.trace, lines: s.lines, events: this.eventCount,
      virtualUs: this.time ? this.time.now() : 0, ...extra,
    });
    const un = this.unsupported();
    if (un.length) return result('UNSUPPORTED', { unsupported: un });
    try {
      this.setup();
      for (const c of s.init) this.untimed(c.kind, c.text, c.line);
      this.backend.start();
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
    this.log.note('#', this.backend.shell(command, line, this.warnings), line);
  }

  /** TCP_INFO of the socket under test, for a %{ }% block. */
  private snapshot(): { info: TcpInfo | null; why?: string } {
    return this.backend.snapshot(this.socks.sut);
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
