// What a script runs against. The runner plays the remote peer and checks the script; a backend
// is the host under test: linger on a virtual clock (LingerBackend, below), or this machine's
// Linux TCP in a private namespace in real time (kernel/backend.ts). Both take the same
// injected packets, make the same calls and report what they sent through the same hooks.

import { tcpInfo, type TcpInfo } from '../bsd/tcpinfo.ts';
import { Syscalls } from '../bsd/syscalls.ts';
import type { Ret } from '../bsd/types.ts';
import { defaultConfig } from '../base/config.ts';
import type { TraceEvent } from '../base/trace.ts';
import { Host } from '../host/host.ts';
import type { DrillConfig } from './config.ts';
import { fail } from './result.ts';
import { planShell, type ScriptReader } from './shell.ts';
import type { SockRec } from './sockets.ts';
import type { ScriptSyscalls } from './syscalls.ts';
import { Timeline, type ScriptClock } from './timing.ts';

/** What the runner gives a backend: where sent packets go, and what to do as time moves. */
export interface BackendHooks {
  /** A packet the host under test sent. */
  capture(bytes: Uint8Array): void;
  /** The earliest deadline of a blocked call (host µs; Infinity: none). */
  callDeadline(): number;
  /** Polls the blocked calls (after each step of time or packet). */
  afterStep(): void;
  /** The host's own trace (state changes, timers), for the run's trace. */
  hostTrace(e: TraceEvent): void;
}

export interface DrillBackend {
  /** 'linger' or 'kernel', for reports. */
  readonly kind: 'linger' | 'kernel';
  readonly time: ScriptClock;
  readonly sys: ScriptSyscalls;
  /** Injects a `<` packet. */
  deliver(packet: Uint8Array): void;
  /** Runs a backquoted command (fails the run with the reason if it cannot); returns the trace note. */
  shell(command: string, line: number, warnings: string[]): string;
  /** TCP_INFO of the socket under test, for a %{ }% block. */
  snapshot(sut: SockRec | null): { info: TcpInfo | null; why?: string };
  /** Script time 0 starts now (after set-up and the init commands). */
  start(): void;
}

/** Makes the host under test once the run's settings are known. */
export interface BackendFactory {
  readonly kind: 'linger' | 'kernel';
  make(cfg: DrillConfig, hooks: BackendHooks): DrillBackend;
}

/** linger's BSD layer as the runner calls it. */
class LingerSyscalls extends Syscalls implements ScriptSyscalls {
  epollFd(): Ret {
    return this.dup(0); // reserves the lowest free descriptor
  }

  onWake(fd: number, fn: () => void): void {
    const s = this.socketOf(fd);
    // Write space is not a wake-up here: Linux wakes a writer only after it found no room
    // (SOCK_NOSPACE, tcp_check_space); epoll.ts sees that as POLLOUT coming back.
    for (const ev of ['readable', 'connection', 'connect', 'error', 'close'] as const) s?.on(ev, fn);
  }
}

/** linger's Host on a virtual clock, driven through the BSD call layer. */
export class LingerBackend implements DrillBackend {
  readonly kind = 'linger';
  readonly time: Timeline;
  readonly sys: ScriptSyscalls;
  private readonly host: Host;
  private readonly bsd: LingerSyscalls;

  constructor(private readonly cfg: DrillConfig, hooks: BackendHooks, seed: number, private readonly readFile?: ScriptReader) {
    this.time = new Timeline(cfg, hooks.callDeadline, hooks.afterStep);
    this.host = new Host({
      name: 'linger', addresses: [cfg.localIp], clock: this.time.clock, seed,
      config: { ...defaultConfig(), mtu: cfg.mtu }, trace: hooks.hostTrace, tracePackets: false,
    });
    this.host.setEmit(hooks.capture);
    this.time.attach(this.host);
    this.bsd = new LingerSyscalls(this.host);
    this.sys = this.bsd;
  }

  deliver(packet: Uint8Array): void {
    this.host.deliver(packet);
  }

  shell(command: string, line: number, warnings: string[]): string {
    const p = planShell(command, this.readFile);
    if (!p.ok) fail({ line, col: 1 }, p.reason);
    for (const w of p.warnings) warnings.push(`line ${line}: ${w}`);
    for (const w of p.writes) this.host.setSysctl(w.name, w.value);
    for (const r of p.routes) this.host.setRoute(r);
    const routes = p.routes.map((r) => `route${r.mtu ? ` mtu ${r.mtu}` : ''}${r.advmss ? ` advmss ${r.advmss}` : ''}`);
    return `\`${[...p.writes.map((w) => `sysctl ${w.name}=${w.value}`), ...routes].join('; ')}\``;
  }

  snapshot(s: SockRec | null): { info: TcpInfo | null; why?: string } {
    if (!s) return { info: null, why: 'no socket yet' };
    if (s.fd !== null) {
      const r = this.bsd.tcpInfo(s.fd);
      if ('errno' in r) return { info: null, why: `getsockopt(TCP_INFO) failed: ${r.errno}` };
      return { info: r };
    }
    if (s.localPort !== null && s.remotePort !== null) {
      const c = this.host.findConnection(this.cfg.localIp, s.localPort, this.cfg.remoteIp, s.remotePort);
      if (c) return { info: tcpInfo(null, c, this.host.now(), this.host.cfg.mtu) };
    }
    return { info: null, why: 'the socket under test has no descriptor' };
  }

  start(): void {}
}
