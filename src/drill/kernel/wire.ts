// The kernel runner's wire: a TUN device in the run's own network namespace, set up as
// packetdrill sets up its tun0 (the host under test's address on it, the remote peer routed
// through it), and a real-time script clock that waits on it. Script packets are written to
// the device; what the kernel sends is read from it, timestamped when it is read.

import { writeFileSync } from 'node:fs';
import { run as runCommand } from '../../link/netns.ts';
import { formatIpv6, parseIpv6 } from '../../wire/addr.ts';
import type { DrillConfig } from '../config.ts';
import { BASE, ScriptClock } from '../timing.ts';
import { errno, errnoLabel, lib } from './libc.ts';
import type { CallPool } from './pool.ts';

const O_RDWR = 0o2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const POLLIN = 0x1;
const EAGAIN = 11;
export const TUN_NAME = 'tun0';
const SLICE_US = 50_000;
const SPIN_US = 8_000;

/** Runs a set-up command in this namespace; throws (NetnsError) with its output when it fails. */
export const run = (argv: string[]): void => void runCommand(argv[0]!, argv.slice(1));

export const sysctlPath = (name: string): string => `/proc/sys/${name.replace(/\./g, '/')}`;

/** Writes a sysctl of this namespace. */
export function writeSysctl(name: string, value: string): void {
  writeFileSync(sysctlPath(name), value);
}

/** tun0 in the current network namespace, up, with the script's addresses routed through it. */
export function openTun(cfg: DrillConfig): number {
  // No IPv6 autoconfiguration noise (router solicitations, DAD, link-local addresses) on tun0.
  for (const k of ['accept_ra=0', 'autoconf=0', 'router_solicitations=0', 'dad_transmits=0', 'accept_dad=0', 'addr_gen_mode=1']) {
    const [name, v] = k.split('=');
    writeSysctl(`net.ipv6.conf.default.${name}`, v!);
  }
  const c = lib();
  const fd = c.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw new Error(`open /dev/net/tun: ${errnoLabel(errno())}`);
  const ifr = Buffer.alloc(40);
  ifr.write(TUN_NAME, 0, 'latin1');
  ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI, 16);
  if (c.ioctl(fd, TUNSETIFF, ifr) < 0) throw new Error(`ioctl(TUNSETIFF): ${errnoLabel(errno())}`);
  run(['ip', 'link', 'set', 'lo', 'up']);
  // gso_max_segs 1: a device that takes no super-packets, as linger's link is. Without it
  // tcp_tso_autosize builds skbs of two or more MSS, software GSO splits them on the way to tun0,
  // and each skb's PSH lands on its last piece (seen: P on 1461:2921 of a 3000-byte write), and
  // TCP_NOTSENT_LOWAT fills skbs of that size_goal before it stops a writer.
  run(['ip', 'link', 'set', 'dev', TUN_NAME, 'mtu', String(cfg.mtu), 'gso_max_segs', '1', 'up']);
  // packetdrill's defaults: 192.168.0.1/16 (--netmask_ip=255.255.0.0) and fd3d:fa7b:d17d::/48.
  const v6 = cfg.ipVersion === 'ipv6';
  run(['ip', ...(v6 ? ['-6'] : []), 'addr', 'add', `${cfg.localIp}/${v6 ? 48 : 16}`, 'dev', TUN_NAME, ...(v6 ? ['nodad'] : [])]);
  // The remote's prefix through tun0, as packetdrill routes it (so a script's own
  // `ip route change 192.0.2.0/24 dev tun0 mtu lock N advmss M` finds the route).
  run(['ip', ...(v6 ? ['-6'] : []), 'route', 'add', remotePrefix(cfg.remoteIp, v6), 'dev', TUN_NAME]);
  return fd;
}

/** The /24 (IPv4) or /64 (IPv6) the remote address is in. */
function remotePrefix(ip: string, v6: boolean): string {
  if (!v6) return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
  const b = parseIpv6(ip);
  if (!b.ok) throw new Error(`not an IPv6 address: ${ip}`);
  const net = new Uint8Array(16);
  net.set(b.value.subarray(0, 8));
  return `${formatIpv6(net)}/64`;
}

/** What the clock hands on: each packet read from the device, and a wake-up after each wait. */
export interface WireHooks {
  packet(bytes: Uint8Array): void;
  afterStep(): void;
}

/**
 * Script time in real time. Waiting means sleeping in ppoll() on the TUN device and the call
 * pool's eventfd: every packet the kernel sends is read (and stamped) as it comes, every call
 * that returns is seen at once.
 */
export class RealTimeline extends ScriptClock {
  /** `*` waits at most this long on the kernel (a script with longer timers is linger-only). */
  readonly anyLimitUs = 60e6;
  /** A failure report waits this much longer for what came instead. */
  readonly lookaheadUs = 3e6;
  private origin = process.hrtime.bigint();
  private readonly buf = Buffer.alloc(65536);
  private readonly fds = Buffer.alloc(16);
  private readonly ts = Buffer.alloc(16);

  constructor(cfg: Pick<DrillConfig, 'toleranceUsecs' | 'tolerancePercent'>, private readonly tunFd: number, private readonly pool: CallPool, private readonly hooks: WireHooks) {
    super(cfg);
    this.fds.writeInt32LE(tunFd, 0);
    this.fds.writeInt16LE(POLLIN, 4);
    this.fds.writeInt32LE(pool.wakeFd, 8);
    this.fds.writeInt16LE(POLLIN, 12);
  }

  /** Script time 0 is now. */
  start(): void {
    this.origin = process.hrtime.bigint();
  }

  now(): number {
    return Number((process.hrtime.bigint() - this.origin) / 1000n);
  }

  /** A process.hrtime.bigint() stamp (another thread's too) in host time, µs. */
  hostTimeOf(hr: bigint): number {
    return Number((hr - this.origin) / 1000n) + BASE;
  }

  advanceTo(t: number): void {
    for (;;) {
      const left = t - this.now();
      if (left <= 0) {
        this.pump(0);
        return;
      }
      this.pump(this.waitFor(left));
    }
  }

  step(limit: number): boolean {
    // The caller's limit (a `*` event's is now + anyLimitUs already); never an endless wait.
    const end = limit === Infinity ? this.now() + this.anyLimitUs : limit;
    if (this.pump(0)) return true;
    for (;;) {
      const left = end - this.now();
      if (left <= 0) return false;
      if (this.pump(this.waitFor(left))) return true;
    }
  }

  /**
   * How long to sleep when the next instant that matters is `left` µs away. On a virtual
   * machine a thread woken from sleep is often late by 0.1 ms and sometimes (1%) by 2.5 ms, and
   * an idle vCPU delays the kernel's own timers too (measured here: p99 2.6 ms on 10 ms sleeps;
   * a spinning thread sees gaps of 1 ms at most). So the last SPIN_US before an event are
   * spent polling without sleeping; the CPU this costs is a few ms per event.
   */
  private waitFor(left: number): number {
    return left > SPIN_US ? left - SPIN_US : 0;
  }

  /** Waits up to `us` for a packet or a returned call, handles what came; true if anything did. */
  private pump(us: number): boolean {
    // The kernel lets a poll timeout run late by 0.1% of its length (select_estimate_accuracy):
    // 4.5 ms on a 4.5 s wait, more than a script's tolerance. Waits are cut into slices short
    // enough for that slack to stay under 50 µs.
    us = Math.min(us, SLICE_US);
    this.ts.writeBigInt64LE(BigInt(Math.floor(us / 1e6)), 0);
    this.ts.writeBigInt64LE(BigInt(Math.floor(us % 1e6) * 1000), 8);
    this.fds.writeInt16LE(0, 6);
    this.fds.writeInt16LE(0, 14);
    const n = lib().ppoll(this.fds, 2, this.ts, null);
    if (n < 0 && errno() !== 4) throw new Error(`ppoll: ${errnoLabel(errno())}`);
    let any = false;
    if (this.fds.readInt16LE(6) & POLLIN) {
      for (;;) {
        const len = lib().read(this.tunFd, this.buf, this.buf.length);
        if (len < 0) {
          if (errno() === EAGAIN) break;
          throw new Error(`read(tun0): ${errnoLabel(errno())}`);
        }
        this.hooks.packet(new Uint8Array(this.buf.subarray(0, len)));
        any = true;
      }
    }
    if (this.fds.readInt16LE(14) & POLLIN) any = this.pool.collect() || any;
    this.hooks.afterStep();
    return any;
  }

  /** Writes a packet to the device (the kernel receives it). */
  inject(packet: Uint8Array): void {
    if (lib().write(this.tunFd, packet, packet.length) !== packet.length) throw new Error(`write(tun0): ${errnoLabel(errno())}`);
  }
}
