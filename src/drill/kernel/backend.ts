// This machine's Linux TCP as the host under test: the script's calls on real sockets
// (syscalls.ts), its packets through tun0 in real time (wire.ts), its shell commands run in the
// run's own network namespace. The process must already be in a namespace of its own (the
// parent starts each run under `unshare --net`, see files.ts): every sysctl written here is
// that namespace's, never the machine's.

import { existsSync, readFileSync } from 'node:fs';
import { lingerSysctls } from '../../base/config.ts';
import type { TcpInfo } from '../../bsd/tcpinfo.ts';
import type { BackendHooks, DrillBackend } from '../backend.ts';
import type { DrillConfig } from '../config.ts';
import { DrillFailure, fail } from '../result.ts';
import { parseShell, type ScriptReader } from '../shell.ts';
import type { SockRec } from '../sockets.ts';
import type { CallPool } from './pool.ts';
import { lib } from './libc.ts';
import { KernelSyscalls } from './syscalls.ts';
import { openTun, RealTimeline, run, sysctlPath, writeSysctl } from './wire.ts';

const IPPROTO_TCP = 6;
const CC = 'net.ipv4.tcp_congestion_control';

/** A TCP packet from the host under test (what else the kernel sends on tun0, ICMPv6 and such, is not the script's). */
function isTcp(b: Uint8Array): boolean {
  const v = b[0]! >> 4;
  if (v === 4) return b.length >= 20 && b[9] === IPPROTO_TCP;
  if (v === 6) return b.length >= 40 && b[6] === IPPROTO_TCP;
  return false;
}

export class KernelBackend implements DrillBackend {
  readonly kind = 'kernel';
  readonly time: RealTimeline;
  readonly sys: KernelSyscalls;
  private readonly tun: number;

  /** Sysctls linger has that this kernel has not (older kernels lack some), for the trace. */
  readonly missing: string[] = [];

  constructor(cfg: DrillConfig, hooks: BackendHooks, pool: CallPool, private readonly readFile?: ScriptReader) {
    const tun = openTun(cfg);
    this.tun = tun;
    this.time = new RealTimeline(cfg, tun, pool, {
      packet: (b) => { if (isTcp(b)) hooks.capture(b); },
      afterStep: hooks.afterStep,
    });
    this.sys = new KernelSyscalls(pool, () => this.time.hostNow(), (hr) => this.time.hostTimeOf(hr));
    // The namespace starts as linger's host does (base/config.ts lingerSysctls): Linux's stock
    // defaults, not this machine's (its tcp_rmem, its bbr), and where linger approximates
    // Linux, the setting it behaves as. A script's own settings come after, on both hosts.
    for (const [name, value] of lingerSysctls()) {
      if (name === CC) this.sys.congestionControl = value;
      else if (existsSync(sysctlPath(name))) writeSysctl(name, value);
      else this.missing.push(name);
    }
  }

  deliver(packet: Uint8Array): void {
    this.time.inject(packet);
  }

  shell(command: string, line: number): string {
    const p = parseShell(command, this.readFile);
    if (!p.ok) fail({ line, col: 1 }, p.reason);
    const done: string[] = [];
    for (const st of p.steps) {
      try {
        if (st.kind === 'command' || st.kind === 'route') {
          run(st.argv);
          done.push(st.argv.join(' '));
        } else if (st.name === CC) {
          // A namespace may only pick from tcp_allowed_congestion_control, which holds no cubic
          // on this kind of machine; a socket of a privileged process may pick any available one.
          const cc = st.value.trim();
          const avail = readFileSync('/proc/sys/net/ipv4/tcp_available_congestion_control', 'utf8').trim().split(/\s+/);
          if (!avail.includes(cc)) fail({ line, col: 1 }, `sysctl ${st.name}=${cc}: this kernel has ${avail.join(', ')}`);
          this.sys.congestionControl = cc;
          done.push(`TCP_CONGESTION ${cc} on every new socket`);
        } else {
          writeSysctl(st.name, st.value);
          done.push(`sysctl ${st.name}=${st.value}`);
        }
      } catch (e) {
        if (e instanceof Error && !(e instanceof DrillFailure)) fail({ line, col: 1 }, `${st.raw}: ${e.message}`);
        throw e;
      }
    }
    return `\`${done.join('; ')}\``;
  }

  snapshot(s: SockRec | null): { info: TcpInfo | null; why?: string } {
    if (!s) return { info: null, why: 'no socket yet' };
    if (s.fd === null) return { info: null, why: 'the socket under test is not accepted yet (no descriptor to ask the kernel)' };
    const r = this.sys.tcpInfo(s.fd);
    if ('errno' in r) return { info: null, why: `getsockopt(TCP_INFO) failed: ${r.errno}` };
    return { info: r };
  }

  start(): void {
    this.time.start();
  }

  /** The script's sockets and tun0 closed; the namespace goes when its last reference does. */
  close(): void {
    this.sys.closeAll();
    lib().close(this.tun);
  }
}
