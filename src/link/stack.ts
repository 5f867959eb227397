// A linger host on a TUN device whose kernel side lives in a network namespace: the kernel (and
// every program run with `ip netns exec NS`) reaches linger at 10.77.0.2 / fd00:77::2 over the
// device, and linger's node:net bindings (src/net) run on the host in real time.

import { randomInt } from 'node:crypto';
import { Host } from '../host/host.ts';
import type { HostConfig } from '../base/config.ts';
import type { TraceSink } from '../base/trace.ts';
import { bindNet, type LingerNet } from '../net/index.ts';
import { configureTunInNs, nsAdd, nsDel, nsExists, NetnsError } from './netns.ts';
import { RealClock, RealtimeDriver, RealtimeRuntime } from './realtime.ts';
import { TunDevice } from './tun.ts';
import { gsoSegments } from './vnet.ts';

/**
 * What linger does with a GSO super-packet from the kernel: 'gro' hands TCP the whole packet as
 * one skb with its gso_size, as Linux's TCP gets it from GRO or a virtio device with guest TSO
 * (one ACK for it: more than a full frame received); 'split' cuts it into its segments first
 * (tcp_gso_segment's cut), as a link without GRO would deliver them (an ACK every other one).
 */
export type GsoReceive = 'gro' | 'split';

export const TUN_DEFAULTS = {
  ns: 'linger0',
  /** The interface's name inside the namespace. */
  dev: 'linger',
  kernel4: '10.77.0.1',
  linger4: '10.77.0.2',
  prefix4: 24,
  kernel6: 'fd00:77::1',
  linger6: 'fd00:77::2',
  prefix6: 64,
  mtu: 1500,
};

export interface TunStackOptions {
  ns?: string;
  mtu?: number;
  /** Linger's sysctls (mtu follows the device). */
  config?: Partial<HostConfig>;
  trace?: TraceSink;
  /** Keep packet bytes on segment events (for a pcap). Default false. */
  tracePackets?: boolean;
  /** Host seed (ISNs, ports); random by default. */
  seed?: number;
  /** Delete a namespace of that name left over from an earlier run instead of failing. */
  replace?: boolean;
  /**
   * The kernel's offloads on the device (IFF_VNET_HDR, TUNSETOFFLOAD: checksums, TSO4/6 both
   * ways). Default true, unless LINGER_TUN_OFFLOAD=0; false: plain packets, every checksum whole.
   */
  offload?: boolean;
  /** GSO super-packets from the kernel (default 'gro'). */
  gsoReceive?: GsoReceive;
  /** Where the line saying offloads were asked for and refused goes (default stderr). */
  log?: (line: string) => void;
}

/** Offloads by default; LINGER_TUN_OFFLOAD=0 turns them off (the plain path). */
export const offloadDefault = (): boolean => process.env['LINGER_TUN_OFFLOAD'] !== '0';

let devCounter = 0;

export class TunStack {
  readonly ns: string;
  readonly mtu: number;
  readonly host: Host;
  readonly tun: TunDevice;
  readonly clock: RealClock;
  readonly runtime: RealtimeRuntime;
  readonly driver: RealtimeDriver;
  readonly net: LingerNet;
  /** The device carries the kernel's offloads (vnet headers, TSO and checksums both ways). */
  readonly offload: boolean;
  private downed = false;

  private constructor(ns: string, mtu: number, tun: TunDevice, opts: TunStackOptions) {
    this.ns = ns;
    this.mtu = mtu;
    this.tun = tun;
    this.clock = new RealClock();
    this.offload = tun.vnetHdr && tun.offloadRefused === null;
    this.host = new Host({
      name: 'linger',
      addresses: [TUN_DEFAULTS.linger4, TUN_DEFAULTS.linger6],
      clock: this.clock,
      seed: opts.seed ?? randomInt(1, 0x7fffffff),
      config: { ...opts.config, mtu },
      trace: opts.trace,
      tracePackets: opts.tracePackets ?? false,
      // TUN_F_CSUM: linger's segments leave with partial checksums, the kernel's arrive saying
      // whether they need a check (Host.deliver's csumValid).
      checksumOffload: this.offload ? 'tx' : false,
      // TSO4/6: TCP hands the device up to 64 KB of segments at once, and the kernel's GSO
      // packets are taken whole (gsoReceive 'gro', the default).
      gso: this.offload,
    });
    this.driver = new RealtimeDriver(this.host, this.clock, (p, gso) => tun.write(p, gso));
    // No NAPI batching of the device's read batches (Host.napiBegin/napiEnd around each):
    // measured 2026-12-07, keep-alive HTTP under wrk ran at 0.54-0.64x of node:http on lo with
    // it, 0.66-0.68x without, and bulk kernel -> linger at 1 GB the same either way.
    this.runtime = new RealtimeRuntime(this.clock);
    this.runtime.names.set('linger', [TUN_DEFAULTS.linger4, TUN_DEFAULTS.linger6]);
    this.runtime.names.set('kernel', [TUN_DEFAULTS.kernel4, TUN_DEFAULTS.kernel6]);
    this.net = bindNet(this.host, this.runtime);
    const driver = this.driver;
    if ((opts.gsoReceive ?? 'gro') === 'split') {
      tun.start((p, csumValid, gso) => {
        const segs = gso ? gsoSegments(p, gso) : null;
        if (!segs) return driver.input(p, csumValid, 0);
        for (const s of segs) driver.input(s, true, 0);
      }, () => driver.arm());
    } else tun.start((p, csumValid, gso) => driver.input(p, csumValid, gso), () => driver.arm());
  }

  /** Creates the namespace and the device, configures both, and starts the host. Needs root. */
  static up(opts: TunStackOptions = {}): TunStack {
    const ns = opts.ns ?? TUN_DEFAULTS.ns;
    const mtu = opts.mtu ?? TUN_DEFAULTS.mtu;
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(ns)) throw new NetnsError(`bad namespace name "${ns}"`);
    if (!Number.isInteger(mtu) || mtu < 1280 || mtu > 65535) throw new NetnsError(`MTU must be 1280..65535, got ${mtu}`);
    if (nsExists(ns)) {
      if (!opts.replace) throw new NetnsError(`network namespace ${ns} already exists (linger tun down --ns ${ns} removes it)`);
      nsDel(ns);
    }
    const offload = opts.offload ?? offloadDefault();
    const tun = new TunDevice({ name: `lgt${process.pid % 100000}x${devCounter++}`, vnetHdr: offload });
    // Never silent: offloads asked for and not had are said, with the kernel's reason.
    if (tun.offloadRefused !== null) (opts.log ?? ((l: string) => process.stderr.write(`${l}\n`)))(`linger tun: offloads off, plain packets: ${tun.offloadRefused}`);
    try {
      nsAdd(ns);
      configureTunInNs(ns, tun.name, TUN_DEFAULTS.dev, mtu, {
        kernel4: `${TUN_DEFAULTS.kernel4}/${TUN_DEFAULTS.prefix4}`,
        kernel6: `${TUN_DEFAULTS.kernel6}/${TUN_DEFAULTS.prefix6}`,
      });
    } catch (e) {
      void tun.close();
      nsDel(ns);
      throw e;
    }
    return new TunStack(ns, mtu, tun, opts);
  }

  /** Stops the host's timers, closes the device and deletes the namespace. */
  async down(): Promise<void> {
    if (this.downed) return;
    this.downed = true;
    this.driver.stop();
    await this.tun.close();
    nsDel(this.ns);
  }
}
