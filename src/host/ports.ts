// Local ports (Linux inet_hashtables.c, inet_connection_sock.c): the sockets bound to each port,
// bind()'s conflict check and port 0 (inet_csk_get_port, inet_csk_find_open_port), and
// connect()'s ephemeral port (__inet_hash_connect). The only place the bind table changes.

import type { HostConfig } from '../base/config.ts';
import { SocketError } from '../base/errno.ts';
import { endpoint } from '../base/trace.ts';
import type { Clock } from '../time/clock.ts';
import { keyedHash } from '../tcp/isn.ts';
import { TimeWaitEntry, twReusable } from '../tcp/timewait.ts';
import { isLoopback, isWildcard } from '../wire/addr.ts';
import type { DemuxTable } from './demux.ts';

/** What the port table needs of a socket bound to a port. */
export interface BoundSocket {
  readonly boundAddr: string | null;
  readonly opts: { readonly reuseaddr: boolean };
  readonly state: string;
}

export class PortTable {
  /** Sockets bound to a local port (bind() or listen()), for EADDRINUSE. */
  private readonly bound = new Map<number, Set<BoundSocket>>();

  constructor(
    private readonly cfg: HostConfig,
    private readonly seed: number,
    private readonly clock: Clock,
    private readonly demux: DemuxTable,
  ) {}

  /** The socket holds addr:port (inet_bind_hash); the caller checked for conflicts. */
  bind(sock: BoundSocket, port: number): void {
    let set = this.bound.get(port);
    if (!set) this.bound.set(port, (set = new Set()));
    set.add(sock);
  }

  /** The socket gives its port back (inet_put_port). */
  unbind(sock: BoundSocket, port: number): void {
    const set = this.bound.get(port);
    if (set?.delete(sock) && set.size === 0) this.bound.delete(port);
  }

  /** The host lost its state. */
  clear(): void {
    this.bound.clear();
  }

  portBusyForBind(addr: string, port: number, reuse: boolean, self: BoundSocket): boolean {
    const set = this.bound.get(port);
    if (set) {
      for (const s of set) {
        if (s === self || !s.boundAddr) continue;
        const overlap = s.boundAddr === addr || isWildcard(s.boundAddr) || isWildcard(addr);
        if (!overlap) continue;
        // SO_REUSEADDR on both and no listener among them (inet_csk_bind_conflict).
        if (reuse && s.opts.reuseaddr && s.state !== 'LISTEN') continue;
        return true;
      }
    }
    // A connection or TIME_WAIT entry on that local port: Linux refuses unless SO_REUSEADDR.
    if (!reuse && this.demux.localPortInUse(addr, port, isWildcard(addr))) return true;
    return false;
  }

  /**
   * __inet_hash_connect (Linux 6.x): an ephemeral port from ip_local_port_range for this
   * destination. The scan starts at a keyed hash of the destination plus a per-destination
   * perturbation, tries ports of the range's low parity first (bind() prefers the other), and
   * skips ports held by bind(); a TIME_WAIT 4-tuple is taken over when tcp_tw_reuse allows.
   * After a success the perturbation moves on, so the next connect() starts further along.
   */
  pickEphemeral(laddr: string, raddr: string, rport: number): { port: number; tw: TimeWaitEntry | null } {
    const [low, hi] = this.cfg.ip_local_port_range;
    const high = hi + 1;
    let remaining = high - low;
    if (remaining <= 0) throw new SocketError('EADDRNOTAVAIL', 'connect', 'empty ip_local_port_range');
    if (remaining > 1) remaining &= ~1;
    const portOffset = keyedHash(this.seed ^ 0x1f2e3d4c, laddr, raddr, rport);
    const index = keyedHash(this.seed ^ 0x2545f491, laddr, raddr, rport) & 0xffff; // INET_TABLE_PERTURB_SIZE
    const perturb = this.perturb.get(index) ?? 0;
    let offset = ((perturb + portOffset) % remaining) & ~1;
    const step = 2;
    for (;;) {
      let port = low + offset;
      for (let i = 0; i < remaining; i += step, port += step) {
        if (port >= high) port -= remaining;
        const binds = this.bound.get(port);
        if (binds && binds.size) continue; // a bind() bucket: not shared with connect()
        const e = this.demux.find(laddr, port, raddr, rport);
        let tw: TimeWaitEntry | null = null;
        if (e) {
          if (!(e instanceof TimeWaitEntry && twReusable(e, this.clock.now(), this.cfg.tcp_tw_reuse, this.cfg.tcp_tw_reuse_delay, isLoopback(laddr) && isLoopback(raddr)))) continue;
          tw = e;
        }
        // "a little bit of randomness to the next source port": max(i, random(8) * step).
        const r = keyedHash(this.seed ^ 0x6a09e667, this.connectCount++) % 8;
        this.perturb.set(index, perturb + Math.max(i, r * step) + step);
        return { port, tw };
      }
      offset++;
      if (!((offset & 1) && remaining > 1)) break;
    }
    throw new SocketError('EADDRNOTAVAIL', 'connect', `no free port in ${low}-${hi} towards ${endpoint(raddr, rport)}`);
  }
  /**
   * inet_csk_find_open_port: bind() to port 0 starts at a random odd offset in the range (the
   * parity __inet_hash_connect does not favour), scans every other port with wrap-around, then
   * the other parity. Returns 0 when every port is taken.
   */
  pickBindPort(addr: string, reuse: boolean, self: BoundSocket): number {
    const [low, hi] = this.cfg.ip_local_port_range;
    const high = hi + 1;
    let remaining = high - low;
    if (remaining <= 0) return 0;
    if (remaining > 1) remaining &= ~1;
    let offset = keyedHash(this.seed ^ 0x3c6ef372, this.bindCount++) % remaining;
    offset |= 1;
    for (;;) {
      let port = low + offset;
      for (let i = 0; i < remaining; i += 2, port += 2) {
        if (port >= high) port -= remaining;
        if (!this.portBusyForBind(addr, port, reuse, self)) return port;
      }
      offset--;
      if (offset & 1) return 0; // both parities scanned
    }
  }
  private bindCount = 0;

  /** table_perturb of __inet_hash_connect, by destination hash. */
  private readonly perturb = new Map<number, number>();
  private connectCount = 0;
}
