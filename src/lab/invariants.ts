// What every lab run must show whatever its seed (npm run soak runs each scenario under many
// seeds): the facts that hold for any scenario, in one place. A scenario's own story (its
// `notice` list, the facts test/lab asserts for seed 1) may depend on the seed; these may not.

import type { TraceEvent } from '../base/trace.ts';
import type { LabRun } from './runner.ts';

/** Transitions Linux makes (tcp_set_state callers); any state may also go to CLOSED (tcp_done, an abort). */
const NEXT: Record<string, readonly string[]> = {
  CLOSED: ['SYN_SENT', 'LISTEN', 'SYN_RECV'],
  LISTEN: [],
  SYN_SENT: ['ESTABLISHED', 'SYN_RECV'], // SYN_RECV: simultaneous open (tcp_rcv_synsent_state_process)
  SYN_RECV: ['ESTABLISHED', 'FIN_WAIT1'],
  ESTABLISHED: ['FIN_WAIT1', 'CLOSE_WAIT'],
  FIN_WAIT1: ['FIN_WAIT2', 'CLOSING', 'TIME_WAIT'],
  FIN_WAIT2: ['TIME_WAIT'],
  CLOSING: ['TIME_WAIT'],
  CLOSE_WAIT: ['LAST_ACK'],
  LAST_ACK: [],
  TIME_WAIT: [],
};

/** States that must have a timer running: without one the socket would never leave them. */
const NEEDS_TIMER = new Set(['SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'CLOSING', 'LAST_ACK', 'TIME_WAIT']);

/** The violations of the invariants in one run (empty when it is sound). */
export function runViolations(run: LabRun): string[] {
  const out: string[] = [];
  const say = (s: string) => { if (out.length < 20) out.push(s); };
  let lastT = -Infinity;
  const stateOf = new Map<string, string>(); // host|socket -> state
  const wrote = new Map<string, number>(); // host|socket -> bytes written
  const read = new Map<string, number>();
  for (const e of run.events) {
    if (e.t < lastT) say(`event at ${e.t} µs after one at ${lastT} µs`);
    lastT = e.t;
    if (e.kind === 'state') stateEvent(e, stateOf, say);
    else if (e.kind === 'call') {
      const key = `${e.host}|${e.socket}`;
      const n = /^\d+$/.test(e.result ?? '') ? Number(e.result) : 0;
      if (e.call === 'write') wrote.set(key, (wrote.get(key) ?? 0) + n);
      else if (e.call === 'read') read.set(key, (read.get(key) ?? 0) + n);
    }
  }
  // No byte read that the peer's application did not write (a connection's two ends are
  // labelled local>remote and remote>local). Bytes may be missing (a reset), never extra.
  for (const [key, n] of read) {
    const [host, sock] = key.split('|') as [string, string];
    const [l, r] = sock.split('>');
    if (!r) continue;
    let peerWrote: number | undefined;
    for (const [k, w] of wrote) if (k.endsWith(`|${r}>${l}`) && !k.startsWith(`${host}|`)) peerWrote = (peerWrote ?? 0) + w;
    if (peerWrote !== undefined && n > peerWrote) say(`${host} ${sock} read ${n} bytes, the peer wrote ${peerWrote}`);
  }
  for (const h of run.hosts) {
    const rows = h.sockets();
    const k = h.counters.snapshot();
    // TCP_MIB_CURRESTAB counts sockets in ESTABLISHED or CLOSE_WAIT (tcp_set_state).
    const estab = rows.filter((r) => r.state === 'ESTABLISHED' || r.state === 'CLOSE_WAIT').length;
    if (k['TcpCurrEstab'] !== estab) say(`${h.name}: TcpCurrEstab ${k['TcpCurrEstab']} but ${estab} sockets ESTABLISHED or CLOSE_WAIT`);
    for (const r of rows) {
      if (NEEDS_TIMER.has(r.state) && !r.timer) say(`${h.name} ${r.local}>${r.remote} left in ${r.state} with no timer`);
      if (r.state === 'FIN_WAIT2' && r.orphan && !r.timer) say(`${h.name} ${r.local}>${r.remote} orphan FIN_WAIT2 with no timer`);
      if ((r.state === 'ESTABLISHED' || r.state === 'CLOSE_WAIT') && r.sendQ > 0 && !r.timer) say(`${h.name} ${r.local}>${r.remote} ${r.state} with ${r.sendQ} bytes unacknowledged and no timer`);
    }
    for (const [name, v] of Object.entries(k)) if (!Number.isFinite(v) || v < 0) say(`${h.name}: counter ${name} = ${v}`);
  }
  return out;
}

function stateEvent(e: Extract<TraceEvent, { kind: 'state' }>, stateOf: Map<string, string>, say: (s: string) => void): void {
  const key = `${e.host}|${e.socket}`;
  const prev = stateOf.get(key);
  if (prev !== undefined && prev !== e.from && !(prev === 'CLOSED')) say(`${key}: ${e.from} -> ${e.to} but it was ${prev}`);
  if (e.to !== 'CLOSED' && !(NEXT[e.from] ?? []).includes(e.to)) say(`${key}: no such transition ${e.from} -> ${e.to}`);
  stateOf.set(key, e.to);
}

/**
 * Scenarios whose lifecycle depends on the seed by design: the client's reuse of a pooled
 * connection races the server's keep-alive timeout, and the seeded timing decides who wins.
 */
export const SEED_DEPENDENT: ReadonlySet<string> = new Set(['http11-keepalive-race', 'http11-keepalive-race-fixed']);

/**
 * The run's lifecycle: per host, the states its connections went through, in order (listeners
 * left out). The seed moves ISNs, ports and link randomness; for most scenarios it must not
 * change this.
 */
export function lifecycle(run: LabRun): string {
  return run.hosts.map((h) => `${h.name}: ${run.events.filter((e) => e.kind === 'state' && e.host === h.name && e.from !== 'LISTEN' && e.to !== 'LISTEN').map((e) => (e as { to: string }).to).join(',')}`).join(' | ');
}
