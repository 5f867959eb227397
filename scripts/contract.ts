// `npm run contract`: node:net's contract, with Node itself as the oracle. Each program in
// contract/programs/*.mjs is written once against a node:net-like interface and runs twice: on
// node:net over the kernel's loopback, and on linger's net between two simulated hosts in
// virtual time. Each actor's log (events in order with their significant arguments, errors'
// class, code, errno, syscall and message, property values, byte counts) must be the same.
// The last line is `contract: N programs, S same, D differ`; exit 1 when any differ.
//
//   npm run contract [-- name-filter] [--verbose]

import * as nodeNet from 'node:net';
import { once as eventsOnce } from 'node:events';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Network } from '../src/sim/network.ts';
import { Host } from '../src/host/host.ts';
import { Runtime } from '../src/net/runtime.ts';
import { bindNet } from '../src/net/index.ts';
import nodeHttp from 'node:http';
import nodeHttp2 from 'node:http2';
import { Agent as UndiciAgent, Pool as UndiciPool, type Dispatcher } from 'undici';
import { bindHttp, bindHttp2, undiciConnect, undiciDispatcher, type LingerHttp, type LingerHttp2 } from '../src/net/http.ts';

// Real timers, taken before any Runtime fakes the globals.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

type NetLike = typeof nodeNet | ReturnType<typeof bindNet>;

/** What a program gets: the client's and the server's net, the server's address, a log per actor. */
export interface ContractEnv {
  net: NetLike;
  serverNet: NetLike;
  serverHost: string;
  /** 'node' or 'linger': for the rare line that must differ (never logged). */
  side: 'node' | 'linger';
  log(actor: string, ...args: unknown[]): void;
  /** server.listen(0, host) and the port it got. */
  listen(server: nodeNet.Server | ReturnType<ReturnType<typeof bindNet>['createServer']>, ...args: unknown[]): Promise<number>;
  /** Logs every event of a socket as `actor` (lookup, connect, ready, end, finish, close, error, timeout, drain). */
  watch(actor: string, s: unknown): void;
  /** Resolves after `ms` of the side's own time (virtual on linger). */
  sleep(ms: number): Promise<void>;
  /** The event's arguments when it comes (unlike events.once, an 'error' does not reject). */
  once(em: unknown, ev: string): Promise<unknown[]>;
  /** A port on the server's host that nobody listens on any more (listened on, then closed). */
  closedPort(): Promise<number>;
  /** node:http as the client sees it, and as the server does (node: both node:http). */
  http: typeof nodeHttp | LingerHttp;
  serverHttp: typeof nodeHttp | LingerHttp;
  /** node:http2 likewise. */
  http2: typeof nodeHttp2 | LingerHttp2;
  serverHttp2: typeof nodeHttp2 | LingerHttp2;
  /** An undici Agent (dispatcher) for the client, and a Pool to an origin. */
  undiciAgent(opts?: ConstructorParameters<typeof UndiciAgent>[0]): Dispatcher;
  undiciPool(origin: string, opts?: ConstructorParameters<typeof UndiciPool>[1]): UndiciPool;
}

const once = (em: unknown, ev: string): Promise<unknown[]> =>
  new Promise((resolve) => (em as NodeJS.EventEmitter).once(ev, (...a: unknown[]) => resolve(a)));

interface Program {
  name: string;
  title: string;
  run: (env: ContractEnv) => Promise<void>;
}

// 'data' is left out: how bytes are split into chunks is the kernel's business, not node:net's
// contract; programs log byte counts instead.
const SOCKET_EVENTS = ['lookup', 'connect', 'ready', 'end', 'finish', 'close', 'error', 'timeout', 'drain'];

/** Replaces the side's own addresses and ports with placeholders, so logs compare. */
class Normalizer {
  ports = new Map<number, string>();
  constructor(readonly addrs: Map<string, string>) {}
  port(p: number, name?: string): string {
    let s = this.ports.get(p);
    if (!s) {
      s = name ?? `PORT${this.ports.size + 1}`;
      this.ports.set(p, s);
    }
    return s;
  }
  text(s: string): string {
    let out = s;
    for (const [a, name] of this.addrs) out = out.split(a).join(name);
    for (const [p, name] of this.ports) out = out.replace(new RegExp(`(?<=[:\\s])${p}\\b`, 'g'), name);
    return out;
  }
  value(v: unknown): string {
    if (v instanceof Error) {
      const e = v as NodeJS.ErrnoException;
      return `${e.constructor.name}{code=${e.code ?? ''} errno=${e.errno ?? ''} syscall=${e.syscall ?? ''} message=${JSON.stringify(this.text(e.message))}}`;
    }
    if (v instanceof Uint8Array) return `<${v.length} bytes>`;
    if (typeof v === 'string') return JSON.stringify(this.text(v));
    if (typeof v === 'number' && this.ports.has(v)) return this.ports.get(v)!;
    if (v === undefined) return 'undefined';
    if (typeof v === 'object' && v !== null) return this.text(JSON.stringify(v));
    return String(v);
  }
}

async function load(dir: string, filter: string | undefined): Promise<Program[]> {
  const files = readdirSync(dir).filter((f) => f.endsWith('.mjs') && (!filter || f.includes(filter))).sort();
  const out: Program[] = [];
  for (const f of files) {
    const m = (await import(pathToFileURL(join(dir, f)).href)) as { default: Program['run']; title?: string };
    out.push({ name: f.replace(/\.mjs$/, ''), title: m.title ?? '', run: m.default });
  }
  return out;
}

/** Runs one program on one side; the log per actor, or a failure line. */
async function runSide(p: Program, side: 'node' | 'linger'): Promise<Map<string, string[]>> {
  const logs = new Map<string, string[]>();
  let dispose = (): void => {};
  let drive = (p: Promise<void>): Promise<void> => p;
  // After the program: events already on their way (a 'close' a turn later) still count.
  let settle = (): Promise<void> => new Promise((r) => realSetTimeout(r, 50));
  let env: ContractEnv;
  const norm = new Normalizer(new Map());
  const log = (actor: string, ...args: unknown[]): void => {
    if (!logs.has(actor)) logs.set(actor, []);
    logs.get(actor)!.push(args.map((a) => (typeof a === 'string' && args.indexOf(a) === 0 ? norm.text(a) : norm.value(a))).join(' '));
  };
  const watch = (actor: string, s: unknown): void => {
    const em = s as NodeJS.EventEmitter;
    for (const ev of SOCKET_EVENTS) em.on(ev, (a: unknown) => log(actor, `'${ev}'`, ...(ev === 'error' || ev === 'close' ? [a] : [])));
  };
  const closedPort = async (): Promise<number> => {
    const s = env.serverNet.createServer();
    const port = await env.listen(s);
    s.close();
    await once(s, 'close');
    return port;
  };
  const common = { side, log, watch, once, closedPort };
  if (side === 'node') {
    // The server is 127.0.0.2 and the client's source address 127.0.0.1 (the kernel's choice
    // for loopback), so the two ends' addresses get names as distinct as on linger, v4-mapped
    // ones (::ffff:127.0.0.1 on a '::' listener) included.
    norm.addrs.set('127.0.0.2', 'SERVER');
    norm.addrs.set('127.0.0.1', 'CLIENT');
    env = {
      ...common,
      net: nodeNet,
      serverNet: nodeNet,
      serverHost: '127.0.0.2',
      http: nodeHttp,
      serverHttp: nodeHttp,
      http2: nodeHttp2,
      serverHttp2: nodeHttp2,
      undiciAgent: (opts) => new UndiciAgent(opts),
      undiciPool: (origin, opts) => new UndiciPool(origin, opts),
      sleep: (ms) => new Promise((r) => realSetTimeout(r, ms)),
      listen: async (server, ...args) => {
        (server as nodeNet.Server).listen(...(args.length ? args : [0, '127.0.0.2']) as [number, string]);
        await eventsOnce(server as nodeNet.Server, 'listening');
        const port = ((server as nodeNet.Server).address() as nodeNet.AddressInfo).port;
        norm.port(port, `PORT${norm.ports.size + 1}`);
        return port;
      },
    };
  } else {
    const net = new Network({ seed: 5 });
    const rt = new Runtime(net);
    const client = rt.addHost(new Host({ name: 'client', addresses: ['10.0.0.1'], clock: net.clock, seed: 1 }));
    const server = rt.addHost(new Host({ name: 'server', addresses: ['10.0.0.2'], clock: net.clock, seed: 2 }));
    net.link('client', 'server', { latencyUs: 50 });
    dispose = () => rt.dispose();
    // The runtime moves virtual time while the program waits (at most 10 virtual minutes).
    drive = (p) => rt.wait(p, 600_000_000);
    settle = () => rt.runFor(50_000);
    norm.addrs.set('10.0.0.2', 'SERVER');
    norm.addrs.set('10.0.0.1', 'CLIENT');
    const cnet = bindNet(client, rt);
    const snet = bindNet(server, rt);
    env = {
      ...common,
      net: cnet,
      serverNet: snet,
      serverHost: '10.0.0.2',
      http: bindHttp(cnet),
      serverHttp: bindHttp(snet),
      http2: bindHttp2(cnet),
      serverHttp2: bindHttp2(snet),
      undiciAgent: (opts) => undiciDispatcher(cnet, opts),
      undiciPool: (origin, opts) => new UndiciPool(origin, { ...opts, connect: undiciConnect(cnet) as never }),
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)), // faked by the runtime: virtual
      listen: async (srv, ...args) => {
        const s = srv as ReturnType<ReturnType<typeof bindNet>['createServer']>;
        s.listen(...(args.length ? args : [0, '10.0.0.2']));
        await once(s, 'listening');
        const port = (s.address() as nodeNet.AddressInfo).port;
        norm.port(port, `PORT${norm.ports.size + 1}`);
        return port;
      },
    };
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      drive(p.run(env)).then(() => settle()),
      new Promise((_, rej) => { timer = realSetTimeout(() => rej(new Error('timed out after 10 s of real time')), 10_000); }),
    ]);
  } catch (e) {
    log('runner', 'program failed:', e);
  } finally {
    if (timer) realClearTimeout(timer);
    dispose();
  }
  return logs;
}

function compare(a: Map<string, string[]>, b: Map<string, string[]>): string[] {
  const out: string[] = [];
  for (const actor of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(actor) ?? [], y = b.get(actor) ?? [];
    const n = Math.max(x.length, y.length);
    for (let i = 0; i < n; i++) {
      if (x[i] !== y[i]) {
        out.push(`  ${actor} #${i + 1}: node   ${x[i] ?? '(nothing)'}`, `  ${' '.repeat(actor.length)}      linger ${y[i] ?? '(nothing)'}`);
        break;
      }
    }
  }
  return out;
}

const argv = process.argv.slice(2);
const verbose = argv.includes('--verbose');
const filter = argv.find((a) => !a.startsWith('--'));
const programs = await load(join(import.meta.dirname, '..', 'contract', 'programs'), filter);
let same = 0;
const differ: string[] = [];
for (const p of programs) {
  const n = await runSide(p, 'node');
  const l = await runSide(p, 'linger');
  const d = compare(n, l);
  if (d.length === 0) {
    same++;
    console.log(`same    ${p.name}`);
  } else {
    differ.push(p.name);
    console.log(`DIFFER  ${p.name}  (${p.title})`);
    for (const line of d) console.log(line);
  }
  if (verbose) {
    for (const [actor, lines] of n) console.log(`    node   ${actor}: ${lines.join(' | ')}`);
    for (const [actor, lines] of l) console.log(`    linger ${actor}: ${lines.join(' | ')}`);
  }
}
console.log(`contract: ${programs.length} programs, ${same} same, ${differ.length} differ`);
process.exit(differ.length ? 1 : 0);
