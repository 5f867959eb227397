// Runs a scenario on a fresh two-host network and collects the trace of both hosts.

import { Host } from '../host/host.ts';
import type { TraceEvent } from '../base/trace.ts';
import { Network } from '../sim/network.ts';
import { LINK_LOSS, type LabEvent, type ParamSpec, type Scenario, type ScenarioContext, type StatsEvent } from './scenario.ts';
import { SCENARIOS } from './scenarios/index.ts';

export class LabError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabError';
  }
}

export interface LabRun {
  scenario: Scenario;
  seed: number;
  params: Record<string, number>;
  events: LabEvent[];
  hosts: Host[];
  net: Network;
}

/** The catalogue: the engine-only scenarios, plus those a Node-side caller registers. */
export const CATALOGUE: Scenario[] = [...SCENARIOS];

export function registerScenarios(list: Scenario[]): void {
  for (const s of list) if (!CATALOGUE.some((x) => x.id === s.id)) CATALOGUE.push(s);
}

/** Provided by a Node-side caller for scenarios that run real Node code in virtual time. */
export interface RunEnv {
  /** `observe`, when given, is called after each step of virtual time (possibly more than once per instant). */
  prepare(ctx: ScenarioContext): Promise<{ run(untilUs: number, observe?: () => void): Promise<void>; dispose(): void }>;
}

export function findScenario(id: string): Scenario {
  const s = CATALOGUE.find((x) => x.id === id);
  if (!s) throw new LabError(`unknown scenario "${id}"; see \`linger lab list\``);
  return s;
}

/** Parameters every scenario takes. */
export const COMMON_PARAMS: ParamSpec[] = [
  { name: 'ipv6', description: 'run over IPv6 (client fd00::1, server fd00::2) instead of IPv4', default: 0, min: 0, max: 1 },
];

export function resolveParams(s: Scenario, set: Record<string, string>): Record<string, number> {
  const p: Record<string, number> = {};
  const specs = [...s.params, ...COMMON_PARAMS];
  for (const spec of specs) p[spec.name] = spec.default;
  for (const [k, v] of Object.entries(set)) {
    const spec = specs.find((x) => x.name === k);
    if (!spec) throw new LabError(`scenario ${s.id} has no parameter "${k}" (it has: ${specs.map((x) => x.name).join(', ')})`);
    const n = Number(v);
    if (!Number.isFinite(n)) throw new LabError(`parameter ${k}: "${v}" is not a number`);
    if (n < spec.min || n > spec.max) throw new LabError(`parameter ${k}: ${n} is outside ${spec.min}..${spec.max}`);
    p[k] = n;
  }
  return p;
}

/**
 * Runs a scenario. `observe`, when given, is called after each instant of virtual time has been
 * processed (for samples of the socket tables and counters; the web UI's time slider). It only
 * reads: the run is the same with or without it.
 */
export async function runScenario(id: string, opts: { seed?: number; set?: Record<string, string>; env?: RunEnv; observe?: (nowUs: number, hosts: Host[]) => void } = {}): Promise<LabRun> {
  const scenario = findScenario(id);
  const seed = opts.seed ?? 1;
  const params = resolveParams(scenario, opts.set ?? {});
  const events: LabEvent[] = [];
  const lab = labNetwork(scenario, params, seed, events);
  const ctx = scenarioContext(lab, params, events);
  const observe = opts.observe;
  await runToEnd(scenario, ctx, params, opts.env, observe ? () => observe(lab.net.now, lab.hosts) : undefined);
  return { scenario, seed, params, events, hosts: lab.hosts, net: lab.net };
}

/** The simulated network of a run: client and server, linked directly or through a proxy host. */
interface LabNetwork {
  net: Network;
  client: Host;
  server: Host;
  proxy: Host | undefined;
  /** Left to right, as the diagrams draw them. */
  hosts: Host[];
  clientAddr: string;
  serverAddr: string;
  proxyAddr: string | undefined;
}

/** The hosts (every one tracing into `events`) and their links; a packet the link loses is a drop event. */
function labNetwork(scenario: Scenario, params: Record<string, number>, seed: number, events: LabEvent[]): LabNetwork {
  const net = new Network({ seed });
  const keep = scenario.keepEvent;
  const sink = keep ? (e: TraceEvent) => { if (keep(e)) events.push(e); } : (e: TraceEvent) => events.push(e);
  const cfg = scenario.config?.(params) ?? {};
  const v6 = params['ipv6'] === 1;
  const clientAddr = v6 ? 'fd00::1' : '10.0.0.1';
  const serverAddr = v6 ? 'fd00::2' : '10.0.0.2';
  const client = new Host({ name: 'client', addresses: [clientAddr, ...(scenario.extraClientAddresses ?? [])], clock: net.clock, seed: (seed * 2654435761) >>> 0, config: cfg.client, trace: sink, ...scenario.hostOptions?.(params).client });
  const server = new Host({ name: 'server', addresses: [serverAddr], clock: net.clock, seed: (seed * 2246822519 + 1) >>> 0, config: cfg.server, trace: sink, ...scenario.hostOptions?.(params).server });
  net.addNode(client);
  net.addNode(server);
  const hosts = [client, server];
  const link = scenario.link?.(params) ?? { latencyUs: Math.round((params['latency_ms'] ?? 5) * 1000) };
  let proxy: Host | undefined;
  const proxyAddr = v6 ? 'fd00::3' : '10.0.0.3';
  if (scenario.topology === 'proxy') {
    proxy = new Host({ name: 'proxy', addresses: [proxyAddr], clock: net.clock, seed: (seed * 3266489917 + 2) >>> 0, config: cfg.proxy, trace: sink });
    net.addNode(proxy);
    net.link('client', 'proxy', link);
    net.link('proxy', 'server', link);
    hosts.splice(1, 0, proxy);
  } else net.link('client', 'server', link);
  net.onPacket = (ev) => {
    if (ev.fate !== 'delivered') {
      events.push({ kind: 'drop', t: ev.t, host: ev.from, reason: `${LINK_LOSS} (${ev.fate})` });
    }
  };
  return { net, client, server, proxy, hosts, clientAddr, serverAddr, proxyAddr: proxy ? proxyAddr : undefined };
}

/** What the scenario's script gets: the hosts, the parameters, a timer, and the lab's own events. */
function scenarioContext(lab: LabNetwork, params: Record<string, number>, events: LabEvent[]): ScenarioContext {
  const { net } = lab;
  return {
    net, client: lab.client, server: lab.server, p: params, clientAddr: lab.clientAddr, serverAddr: lab.serverAddr, proxy: lab.proxy, proxyAddr: lab.proxyAddr,
    timer: (delayUs, fn) => {
      let cancelled = false;
      net.at(net.now + Math.max(0, Math.round(delayUs)), () => { if (!cancelled) fn(); });
      return { cancel: () => { cancelled = true; } };
    },
    note: (host, t) => events.push({ kind: 'call', t: net.now, host: host.name, socket: '-', call: 'note', args: t }),
    http: (ev) => events.push({ kind: 'http', t: net.now, ...ev }),
    stats: (host) => events.push(statsEvent(host, net.now)),
  };
}

/** A sample of a host's socket table: sockets per state, and per remote address (listeners left out). */
function statsEvent(host: Host, t: number): StatsEvent {
  const byState: Record<string, number> = {};
  const byRemote: Record<string, number> = {};
  for (const r of host.sockets()) {
    byState[r.state] = (byState[r.state] ?? 0) + 1;
    if (r.state === 'LISTEN') continue;
    const addr = r.remote.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
    byRemote[addr] = (byRemote[addr] ?? 0) + 1;
  }
  return { kind: 'stats', t, host: host.name, byState, byRemote };
}

/** Sets the scenario up and runs the network until its duration; `tick` after each instant, when given. */
async function runToEnd(scenario: Scenario, ctx: ScenarioContext, params: Record<string, number>, env: RunEnv | undefined, tick: (() => void) | undefined): Promise<void> {
  const { net } = ctx;
  if (scenario.node) {
    if (!env) throw new LabError(`scenario ${scenario.id} runs Node's own HTTP code: run it from the linger CLI`);
    const d = await env.prepare(ctx);
    try {
      await scenario.setup(ctx);
      await d.run(scenario.duration(params), tick);
    } finally {
      d.dispose();
    }
    return;
  }
  await scenario.setup(ctx);
  const end = scenario.duration(params);
  if (tick) {
    // Instant by instant: run() processes everything due up to t, so this is the same run.
    for (let t = net.nextEventTime(); t <= end; t = net.nextEventTime()) {
      net.run(Math.max(t, net.now));
      tick();
      if (net.nextEventTime() <= net.now) net.run(Math.min(end, net.now + 1)); // never stall
      if (net.now >= end) break;
    }
  }
  net.run(end);
}
