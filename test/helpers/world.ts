// Two simulated hosts ("client" 10.0.0.1 and "server" 10.0.0.2, 5 ms apart) with node:net
// bindings and a virtual-time runtime. Call dispose() when done (it restores the real timers).

import type { EventEmitter } from 'node:events';
import { Network, type LinkParams } from '../../src/sim/network.ts';
import { Host } from '../../src/host/host.ts';
import type { HostConfig } from '../../src/base/config.ts';
import type { TraceEvent } from '../../src/base/trace.ts';
import { Runtime } from '../../src/net/runtime.ts';
import { bindNet, type LingerNet } from '../../src/net/index.ts';

export interface World {
  net: Network;
  rt: Runtime;
  client: Host;
  server: Host;
  cnet: LingerNet;
  snet: LingerNet;
  events: TraceEvent[];
  dispose(): void;
}

export function world(opts: { link?: LinkParams; client?: Partial<HostConfig>; server?: Partial<HostConfig>; trace?: boolean } = {}): World {
  const net = new Network({ seed: 5 });
  const rt = new Runtime(net);
  const events: TraceEvent[] = [];
  const trace = opts.trace === false ? undefined : (e: TraceEvent) => events.push(e);
  const client = rt.addHost(new Host({ name: 'client', addresses: ['10.0.0.1'], clock: net.clock, seed: 1, config: opts.client, trace, tracePackets: false }));
  const server = rt.addHost(new Host({ name: 'server', addresses: ['10.0.0.2'], clock: net.clock, seed: 2, config: opts.server, trace, tracePackets: false }));
  net.link('client', 'server', opts.link ?? { latencyUs: 5000 });
  return { net, rt, client, server, cnet: bindNet(client, rt), snet: bindNet(server, rt), events, dispose: () => rt.dispose() };
}

/** Resolves when `emitter` emits `event` (in virtual time, driven by the runtime). */
export function once<T = unknown>(emitter: EventEmitter, event: string): Promise<T> {
  return new Promise((resolve) => emitter.once(event, (...a: unknown[]) => resolve(a[0] as T)));
}
