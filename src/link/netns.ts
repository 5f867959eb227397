// Network namespaces for the TUN link: the kernel side of a linger TUN device lives in a
// namespace of its own, so its addresses and traffic never leave it. Everything here runs `ip`
// and `sysctl` (iproute2, procps) and needs root.

import { spawnSync } from 'node:child_process';

export class NetnsError extends Error {}

/** Packets the kernel may queue for linger on the TUN device before it drops (see below). */
export const TUN_TXQUEUELEN = 10000;

export function run(cmd: string, args: string[], opts: { ok?: boolean } = {}): { code: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 20_000 });
  const res = { code: r.status ?? -1, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error.message) : '') };
  if (!opts.ok && res.code !== 0) throw new NetnsError(`${cmd} ${args.join(' ')}: ${res.err.trim() || `exit ${res.code}`}`);
  return res;
}

export function nsExists(ns: string): boolean {
  const r = run('ip', ['netns', 'list'], { ok: true });
  return r.out.split('\n').some((l) => l.split(' ')[0] === ns);
}

export function nsAdd(ns: string): void {
  run('ip', ['netns', 'add', ns]);
  run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
}

/** Deletes the namespace (its TUN and veth devices go with it). Quiet when it is not there. */
export function nsDel(ns: string): void {
  if (nsExists(ns)) run('ip', ['netns', 'del', ns], { ok: true });
}

export const nsExec = (ns: string, cmd: string, args: string[], opts: { ok?: boolean } = {}) => run('ip', ['netns', 'exec', ns, cmd, ...args], opts);

/** IPv6 in the namespace without autoconfiguration noise: no RA, no SLAAC, no link-local, no DAD. */
export function quietIpv6(ns: string, dev: string): void {
  const keys = ['accept_ra=0', 'autoconf=0', 'router_solicitations=0', 'dad_transmits=0', 'accept_dad=0', 'addr_gen_mode=1'];
  const args: string[] = [];
  for (const d of ['all', 'default', dev]) for (const k of keys) args.push(`net.ipv6.conf.${d}.${k}`);
  // Some keys do not exist for "all" on every kernel: set one by one, tolerate those.
  for (const a of args) nsExec(ns, 'sysctl', ['-q', '-w', a], { ok: true });
}

export interface LinkAddresses {
  kernel4: string; // with prefix, 10.77.0.1/24
  kernel6: string; // fd00:77::1/64
}

/** Moves a device into the namespace, names it, sets its MTU, addresses and brings it up. */
export function configureTunInNs(ns: string, dev: string, name: string, mtu: number, a: LinkAddresses): void {
  run('ip', ['link', 'set', 'dev', dev, 'netns', ns]);
  if (name !== dev) run('ip', ['-n', ns, 'link', 'set', 'dev', dev, 'name', name]);
  quietIpv6(ns, name);
  run('ip', ['-n', ns, 'link', 'set', 'dev', name, 'mtu', String(mtu)]);
  // The kernel queues packets for the reader of the device (tun's ring, sized by txqueuelen,
  // 500 by default) and drops them when it is full. linger reads in JavaScript between bursts of
  // its own sending: give it room so the kernel's ACKs and FIN are not dropped at the device.
  run('ip', ['-n', ns, 'link', 'set', 'dev', name, 'txqueuelen', String(TUN_TXQUEUELEN)]);
  run('ip', ['-n', ns, 'addr', 'add', a.kernel4, 'dev', name]);
  run('ip', ['-n', ns, '-6', 'addr', 'add', a.kernel6, 'dev', name, 'nodad']);
  run('ip', ['-n', ns, 'link', 'set', 'dev', name, 'up']);
}
