// In-process worlds for the benchmarks: linger hosts on a simulated network with no delay (or
// the delay asked for), nothing traced, packet bytes not kept. The link cannot corrupt, so the
// hosts use TCP checksum offload as Linux's lo does (and so does the reference, Node over lo),
// and, unless `gso: false`, the segmentation offloads lo and veth have (HostOptions.gso: TSO on
// send, NAPI and GRO on receive).

import { Network, type LinkParams } from '../sim/network.ts';
import { Host } from '../host/host.ts';
import type { HostConfig } from '../base/config.ts';

export interface BenchWorld {
  net: Network;
  client: Host;
  server: Host;
}

export function benchWorld(opts: { link?: LinkParams; clientAddrs?: string[]; config?: Partial<HostConfig>; seed?: number; gso?: boolean } = {}): BenchWorld {
  const net = new Network({ seed: opts.seed ?? 1, maxStepsPerInstant: Number.MAX_SAFE_INTEGER });
  const client = new Host({ name: 'client', addresses: opts.clientAddrs ?? ['10.0.0.1'], clock: net.clock, seed: 1, config: opts.config, tracePackets: false, checksumOffload: true, gso: opts.gso ?? true });
  const server = new Host({ name: 'server', addresses: ['10.0.0.2'], clock: net.clock, seed: 2, config: opts.config, tracePackets: false, checksumOffload: true, gso: opts.gso ?? true });
  net.addNode(client);
  net.addNode(server);
  net.link('client', 'server', opts.link ?? { latencyUs: 0 });
  return { net, client, server };
}
