// A lab scenario: a small declarative description (who, what question, which parameters)
// plus a script of application calls and faults, run on the simulated network in virtual time.

import type { Host, HostOptions } from '../host/host.ts';
import type { TraceEvent } from '../base/trace.ts';
import type { HostConfig } from '../base/config.ts';
import type { Network, LinkParams } from '../sim/network.ts';

export type Topic = 'A' | 'B' | 'C' | 'D' | 'E' | 'F';

export interface ParamSpec {
  name: string;
  description: string;
  default: number;
  min: number;
  max: number;
}

/** An HTTP request, response or failure, as the application saw it. */
export interface HttpEvent {
  kind: 'http';
  t: number;
  host: string;
  phase: 'request' | 'response' | 'error';
  method: string;
  path: string;
  status?: number;
  /** The TCP connection (its 4-tuple label) that carried it. */
  connection?: string;
  /** Whether the client sent it on a connection it had used before (http.ClientRequest.reusedSocket). */
  reusedSocket?: boolean;
  /** The failure's code (ECONNRESET, ...) for phase 'error'. */
  error?: string;
  detail?: string;
}

/** A sample of one host's socket table: counts per state and per remote address (the "connection statistics" view). */
export interface StatsEvent {
  kind: 'stats';
  t: number;
  host: string;
  byState: Record<string, number>;
  byRemote: Record<string, number>;
}

/** The start of a drop's reason when the simulated link lost the packet (the diagrams draw a lost arrow). */
export const LINK_LOSS = 'packet lost on the link';

/** Everything a lab run records: the hosts' trace plus the applications' HTTP events and samples. */
export type LabEvent = TraceEvent | HttpEvent | StatsEvent;

export interface ScenarioContext {
  net: Network;
  client: Host;
  server: Host;
  /** Parameter values after --set. */
  p: Record<string, number>;
  /** Addresses: client 10.0.0.1, server 10.0.0.2 (or fd00::1 / fd00::2 with ipv6=1). */
  clientAddr: string;
  serverAddr: string;
  /** With topology 'proxy': a third host between them (10.0.0.3 / fd00::3). */
  proxy?: Host;
  proxyAddr?: string;
  /** A cancellable timer on the virtual clock, for applications. */
  timer(delayUs: number, fn: () => void): { cancel(): void };
  /** Notes the scenario wants shown in the timeline at the current time. */
  note(host: Host, text: string): void;
  /** Records an HTTP event at the current time. */
  http(ev: Omit<HttpEvent, 'kind' | 't'>): void;
  /** Records a sample of a host's socket table at the current time. */
  stats(host: Host): void;
}

export interface Scenario {
  id: string;
  title: string;
  topic: Topic;
  /** Two to four sentences. */
  explain: string;
  question: string;
  params: ParamSpec[];
  /** What to look for in the trace. */
  notice: string[];
  /** Host configuration (sysctls) per host, from the parameters. */
  config?: (p: Record<string, number>) => { client?: Partial<HostConfig>; server?: Partial<HostConfig>; proxy?: Partial<HostConfig> };
  link?: (p: Record<string, number>) => LinkParams;
  /** More addresses for the client host (e.g. to show counts per remote address). */
  extraClientAddresses?: string[];
  /** Options for the hosts (lab-only hooks such as a predictable ISN). */
  hostOptions?: (p: Record<string, number>) => { client?: Pick<HostOptions, 'isn'>; server?: Pick<HostOptions, 'isn'> };
  /** 'proxy': client - proxy - server, with no direct link between client and server. */
  topology?: 'pair' | 'proxy';
  /** Needs Node (node:http and friends): runs only where a RunEnv is given (the CLI, tests). */
  node?: boolean;
  /** Sets up the applications and faults; the runner then runs the network until `duration`. */
  setup(ctx: ScenarioContext): void | Promise<void>;
  /**
   * Which trace events the run keeps (default all): a scenario with traffic too large to trace
   * one event at a time (a flood) keeps the rest and reports the flood in notes and counters.
   */
  keepEvent?: (e: LabEvent) => boolean;
  /** Virtual run length in µs. */
  duration: (p: Record<string, number>) => number;
}

export const ms = (x: number): number => Math.round(x * 1000);
export const sec = (x: number): number => Math.round(x * 1_000_000);
export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

export const latencyParam: ParamSpec = { name: 'latency_ms', description: 'one-way link latency', default: 5, min: 0, max: 1000 };
