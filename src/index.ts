/**
 * linger: a TCP/IP stack with Linux's connection lifecycle, on simulated networks in virtual time.
 *
 * The root entry has what it takes to build a simulated network and run ordinary Node code on it:
 * a {@link Network} of {@link Host}s joined by links (latency, bandwidth, loss, duplication,
 * reordering, corruption, MTU, queues; partitions, links going down, middlebox filters), a
 * {@link Runtime} that drives it in virtual time, and {@link bindNet}, which gives `node:net`'s
 * functions bound to one host.
 *
 * ```js
 * import { Network, Host, Runtime, bindNet } from 'linger';
 * const net = new Network({ seed: 1 });
 * const rt = new Runtime(net);
 * const a = rt.addHost(new Host({ name: 'a', addresses: ['10.0.0.1'], clock: net.clock }));
 * const b = rt.addHost(new Host({ name: 'b', addresses: ['10.0.0.2'], clock: net.clock }));
 * net.link('a', 'b', { latencyUs: 10_000, loss: 0.01 });
 * bindNet(b, rt).createServer((s) => s.pipe(s)).listen(7);
 * const c = bindNet(a, rt).connect(7, '10.0.0.2');
 * ```
 *
 * Subpaths: `linger/net` (node:net on a host), `linger/http` (node:http, node:http2 and undici on
 * a host), `linger/bsd` (the BSD socket calls), `linger/drill` (packetdrill scripts),
 * `linger/lab` (the lifecycle scenarios), `linger/inspect` (TIME_WAIT, CLOSE_WAIT and keepalive
 * on a real Linux host).
 * @packageDocumentation
 */

// The simulated network: nodes, links and their faults.
export {
  Network,
  Link,
  LinkDirection,
  type NetworkOptions,
  type LinkParams,
  type ResolvedLinkParams,
  type PacketFilter,
  type PacketEvent,
  type PacketFate,
  type DropFate,
  type LinkDropFate,
  type LinkStats,
  type NetworkStats,
  type SimNode,
} from './sim/network.ts';
export { VirtualClock, type Clock } from './time/clock.ts';

// A host: Linux's TCP, its sockets and sysctls.
export { Host, type HostOptions, type SocketRow } from './host/host.ts';
export { Socket, type SocketEventName, type SockOptName, type SockOptValue } from './host/socket.ts';
export { defaultConfig, ConfigError, type HostConfig, type Sysctls, type ModelKnobs } from './base/config.ts';
export { SocketError, type ErrnoCode } from './base/errno.ts';
export type { TraceEvent, TraceSink, SegmentEvent, StateEvent, TimerEvent, CallEvent, ErrorEvent, DropEvent, TimerKind, CauseKind } from './base/trace.ts';

// Node code on a host, in virtual time.
export { bindNet, type LingerNet } from './net/index.ts';
export { Runtime, type RuntimeOptions, type NetRuntime, type VTimer } from './net/runtime.ts';
export { NetSocket, type NetSocketOptions, type ConnectOptions } from './net/socket.ts';
export { NetServer, type ServerOptions, type ListenOptions } from './net/server.ts';

// A TCP load balancer on a host (an L4 proxy with an F5-like TCP profile).
export { L4Proxy, F5_DEFAULTS, type TcpProfile, type L4ProxyOptions, type ProxyEvent, type ProxyStats, type Scheduler } from './proxy/l4.ts';

// Packets to a file Wireshark and tcpdump read.
export { PcapWriter, type PcapWriterOptions, LINKTYPE_RAW } from './wire/pcap.ts';
