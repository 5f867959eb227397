// The script's sockets: script descriptors mapped to live ones, what each socket is, and the
// socket under test, the one the script's packets go to and come from.

import type { ScriptSyscalls } from './syscalls.ts';
import type { DrillConfig } from './config.ts';

export interface SockRec {
  kind: 'init' | 'listener' | 'connecting' | 'child' | 'conn';
  /** Live descriptor, or null for a passive child not yet accepted. */
  fd: number | null;
  localPort: number | null;
  remotePort: number | null;
}

export class SockTable {
  /** Script fd -> live fd. */
  readonly fdMap = new Map<number, number>();
  /** Live fd -> record. */
  private readonly recs = new Map<number, SockRec>();
  /** The socket under test. */
  sut: SockRec | null = null;
  private nextEphemeral: number;

  constructor(
    private readonly cfg: DrillConfig,
    private readonly sys: ScriptSyscalls,
  ) {
    this.nextEphemeral = cfg.ephemeralPortStart;
  }

  /** The live descriptor a script number stands for. */
  live(scriptFd: number): number {
    return this.fdMap.get(scriptFd) ?? scriptFd;
  }

  /** The record of a live descriptor (a fresh one if it has none). */
  rec(fd: number): SockRec {
    let r = this.recs.get(fd);
    if (!r) {
      r = { kind: 'init', fd, localPort: null, remotePort: null };
      this.recs.set(fd, r);
    }
    return r;
  }

  set(fd: number, r: SockRec): void {
    this.recs.set(fd, r);
  }

  localPortOf(fd: number): number | null {
    const n = this.sys.getsockname(fd);
    return n.errno === undefined && n.addr.port ? n.addr.port : null;
  }

  /** The ports of the next inbound packet (a SYN without ACK may open a new connection). */
  tuple(syn: boolean): { lport: number; rport: number } {
    let s = this.sut;
    if (syn && s && s.kind === 'listener') {
      // A SYN to a listener: a new connection from the next ephemeral port (packetdrill's
      // handle_listen_for_script_packet); later packets go to it.
      s = { kind: 'child', fd: null, localPort: s.localPort, remotePort: this.nextEphemeral++ };
      this.sut = s;
    }
    if (!s) {
      s = { kind: 'init', fd: null, localPort: null, remotePort: null };
      this.sut = s;
    }
    if (s.localPort === null) s.localPort = this.cfg.bindPort;
    if (s.remotePort === null) s.remotePort = s.kind === 'connecting' ? this.cfg.connectPort : this.nextEphemeral++;
    return { lport: s.localPort, rport: s.remotePort };
  }
}
