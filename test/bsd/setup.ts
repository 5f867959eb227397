// Two hosts on a simulated network, each with a BSD call layer, one driver moving time.

import assert from 'node:assert/strict';
import { Network, type Link } from '../../src/sim/network.ts';
import { Host } from '../../src/host/host.ts';
import type { HostConfig } from '../../src/base/config.ts';
import type { SegmentEvent, TraceEvent } from '../../src/base/trace.ts';
import { NetworkDriver } from '../../src/bsd/call.ts';
import { Syscalls, type Ret, type SysError } from '../../src/bsd/syscalls.ts';
import { AF_INET, SOCK_NONBLOCK, SOCK_STREAM, IPPROTO_TCP } from '../../src/bsd/constants.ts';

export const CLIENT = '10.0.0.1';
export const SERVER = '10.0.0.2';
/** One-way latency of the link: an RTT is 2 ms. */
export const LAT = 1000;

export interface World {
  net: Network;
  link: Link;
  driver: NetworkDriver;
  client: Host;
  server: Host;
  /** The client's and the server's call layers. */
  c: Syscalls;
  s: Syscalls;
  events: TraceEvent[];
}

export function world(cfg: { client?: Partial<HostConfig>; server?: Partial<HostConfig> } = {}, addrs: [string[], string[]] = [[CLIENT], [SERVER]]): World {
  const net = new Network({ seed: 5 });
  const events: TraceEvent[] = [];
  const client = new Host({ name: 'client', addresses: addrs[0], clock: net.clock, seed: 11, config: cfg.client, trace: (e) => events.push(e), tracePackets: false });
  const server = new Host({ name: 'server', addresses: addrs[1], clock: net.clock, seed: 22, config: cfg.server, trace: (e) => events.push(e), tracePackets: false });
  net.addNode(client);
  net.addNode(server);
  const link = net.link('client', 'server', { latencyUs: LAT });
  const driver = new NetworkDriver(net);
  return { net, link, driver, client, server, c: new Syscalls(client, { driver }), s: new Syscalls(server, { driver }), events };
}

/** Asserts success and returns the result with its fields. */
export function ok<T extends object>(r: Ret<T>, what = 'call'): T & { ret: number } {
  if (r.errno !== undefined) assert.fail(`${what} failed: ${r.errno}`);
  return r as T & { ret: number };
}

/** The errno name of a failed call ('' for a success), checking ret -1 and the number. */
export function errno(r: Ret<object>): string {
  if (r.errno === undefined) return '';
  const e = r as SysError;
  assert.equal(e.ret, -1);
  return e.errno;
}

/** A TCP socket on a layer (non-blocking with nb). */
export function tcp(sys: Syscalls, nb = false): number {
  return ok(sys.socket(AF_INET, SOCK_STREAM | (nb ? SOCK_NONBLOCK : 0), IPPROTO_TCP)).ret;
}

/** A server socket listening on port (default 80). */
export function listener(w: World, port = 80, nb = false, backlog = 16): number {
  const fd = tcp(w.s, nb);
  ok(w.s.bind(fd, { addr: '0.0.0.0', port }));
  ok(w.s.listen(fd, backlog));
  return fd;
}

/** An established connection: client fd cfd, server fd sfd (both blocking), at t = 3 ms. */
export async function established(w: World, port = 80): Promise<{ lfd: number; cfd: number; sfd: number }> {
  const lfd = listener(w, port);
  const cfd = tcp(w.c);
  const [cr, ar] = await Promise.all([w.c.connect(cfd, { addr: SERVER, port }), w.s.accept(lfd)]);
  ok(cr, 'connect');
  return { lfd, cfd, sfd: ok(ar, 'accept').ret };
}

/** Segments a host sent (dir 'out') or received ('in'), optionally from time `from` on. */
export function segs(w: World, host: string, dir: 'in' | 'out', from = 0): SegmentEvent[] {
  return w.events.filter((e): e is SegmentEvent => e.kind === 'segment' && e.host === host && e.dir === dir && e.t >= from);
}

export function bytes(n: number, seed = 0): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 0xff;
  return b;
}
