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
}

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
  private downed = false;

  private constructor(ns: string, mtu: number, tun: TunDevice, opts: TunStackOptions) {
    this.ns = ns;
    this.mtu = mtu;
    this.tun = tun;
    this.clock = new RealClock();
    this.host = new Host({
      name: 'linger',
      addresses: [TUN_DEFAULTS.linger4, TUN_DEFAULTS.linger6],
      clock: this.clock,
      seed: opts.seed ?? randomInt(1, 0x7fffffff),
      config: { ...opts.config, mtu },
      trace: opts.trace,
      tracePackets: opts.tracePackets ?? false,
    });
    this.driver = new RealtimeDriver(this.host, this.clock, (p) => tun.write(p));
    this.runtime = new RealtimeRuntime(this.clock);
    this.runtime.names.set('linger', [TUN_DEFAULTS.linger4, TUN_DEFAULTS.linger6]);
    this.runtime.names.set('kernel', [TUN_DEFAULTS.kernel4, TUN_DEFAULTS.kernel6]);
    this.net = bindNet(this.host, this.runtime);
    tun.start((p) => this.driver.input(p), () => this.driver.arm());
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
    const tun = new TunDevice({ name: `lgt${process.pid % 100000}x${devCounter++}` });
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
