// The kernel reference of `lossy-goodput`: the same bytes between two kernel TCP stacks in
// network namespaces of their own, over a link with the same loss and RTT. The sender uses CUBIC,
// set per socket (TCP_CONGESTION), whatever the machine's default. The link is a veth pair with
// netem (delay rtt/2 each way, loss on the sender's egress only). Where the kernel has no
// sch_netem, the same link is emulated by a relay in a third namespace (AF_PACKET, one frame at a
// time: delay rtt/2 each way, loss on frames from the sender). Needs root; skipped otherwise.
// Namespaces are deleted afterwards, also on failure. Bounded: 10 minutes, then a clear error.

import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { nsAdd, nsDel, nsExec, run } from '../link/netns.ts';

const SCRIPT = new URL('./lossy-kernel.py', import.meta.url).pathname;
const LIMIT_S = 600;
const NS = { a: 'lglossa', b: 'lglossb', m: 'lglossm' };
const ADDR = { a: '10.79.0.1', b: '10.79.0.2' };
const PORT = '5004';

export type KernelLossy =
  | { ok: true; mbit: number; link: 'netem' | 'relay'; cc: string; retrans: number | null; segs: number | null; secs: number; detail: string }
  | { ok: false; skipped: string };

interface Line { event: string; [k: string]: unknown }

/** A python3 lossy-kernel.py command in a namespace, its JSON lines delivered as they come. */
function py(ns: string, args: string[], onLine?: (l: Line) => void): { proc: ChildProcess; done: Promise<Line[]> } {
  const proc = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', SCRIPT, ...args], { env: { ...process.env, LOSSY_ALARM: String(LIMIT_S + 30) } });
  const lines: Line[] = [];
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    if (!l.startsWith('{')) return;
    const j = JSON.parse(l) as Line;
    lines.push(j);
    onLine?.(j);
  });
  const done = new Promise<Line[]>((resolve, reject) => {
    proc.on('error', reject);
    proc.on('exit', (code, sig) => (code === 0 ? resolve(lines) : reject(new Error(`lossy-kernel.py ${args[0]} in ${ns} exited ${code ?? sig}: ${err.trim().slice(-400)}`))));
  });
  return { proc, done };
}

const ethtoolOff = (ns: string, dev: string, feats: string[]) => nsExec(ns, 'ethtool', ['-K', dev, ...feats.flatMap((f) => [f, 'off'])]);

function upWithAddr(ns: string, dev: string, addr: string | null): void {
  run('ip', ['-n', ns, 'link', 'set', 'dev', dev, 'up']); // 'dev': iproute2 reads a bare "ma" as "master"
  if (addr) run('ip', ['-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev]);
}

/**
 * Two namespaces joined by veth, netem on both ends. false when the kernel has no netem (the
 * veth pair is removed again). TCP hands the qdisc GSO packets (TCP builds them whatever the
 * device offers) and netem's loss drops a GSO packet whole: tcp_min_tso_segs=1 in the sender's
 * namespace keeps them to one segment at the rates seen here (TSO autosizing: 1 ms of the pacing
 * rate), so the loss falls per segment.
 */
function netemLink(oneWayMs: number, loss: number): boolean {
  run('ip', ['-n', NS.a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', NS.b]);
  const r = run('tc', ['-n', NS.a, 'qdisc', 'add', 'dev', 'va', 'root', 'netem', 'delay', `${oneWayMs}ms`, 'loss', `${loss * 100}%`, 'limit', '100000'], { ok: true });
  if (r.code !== 0) {
    if (!/unknown|No such file|not supported/i.test(r.err)) throw new Error(`tc netem: ${r.err.trim()}`);
    run('ip', ['-n', NS.a, 'link', 'del', 'va']);
    return false;
  }
  run('tc', ['-n', NS.b, 'qdisc', 'add', 'dev', 'vb', 'root', 'netem', 'delay', `${oneWayMs}ms`, 'limit', '100000']);
  nsExec(NS.a, 'sysctl', ['-q', '-w', 'net.ipv4.tcp_min_tso_segs=1']);
  ethtoolOff(NS.a, 'va', ['tso', 'gso']);
  upWithAddr(NS.a, 'va', ADDR.a);
  upWithAddr(NS.b, 'vb', ADDR.b);
  return true;
}

/** a --va/ma-- m --mb/vb-- b, the middle namespace without addresses: its relay forwards frames. */
function relayLink(): void {
  nsAdd(NS.m);
  run('ip', ['-n', NS.a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'ma', 'netns', NS.m]);
  run('ip', ['-n', NS.b, 'link', 'add', 'vb', 'type', 'veth', 'peer', 'name', 'mb', 'netns', NS.m]);
  // Frames of at most one MTU and finished checksums on every hop: no TSO/GSO on the ends (the
  // relay drops one segment at a time), no GRO in the middle, checksums computed by the sender
  // (a frame copied through AF_PACKET leaves the partial checksum unfinished).
  for (const [ns, dev] of [[NS.a, 'va'], [NS.b, 'vb']] as const) ethtoolOff(ns, dev, ['tso', 'gso', 'tx']);
  for (const dev of ['ma', 'mb']) ethtoolOff(NS.m, dev, ['tso', 'gso', 'gro', 'tx']);
  for (const dev of ['ma', 'mb']) {
    nsExec(NS.m, 'sysctl', ['-q', '-w', `net.ipv6.conf.${dev}.disable_ipv6=1`], { ok: true });
    upWithAddr(NS.m, dev, null);
  }
  upWithAddr(NS.a, 'va', ADDR.a);
  upWithAddr(NS.b, 'vb', ADDR.b);
}

/** total bytes a -> b over loss and rttMs; the sink's last byte minus the sender's connect. */
export async function kernelLossy(total: number, rttMs: number, loss: number): Promise<KernelLossy> {
  if (process.getuid?.() !== 0) return { ok: false, skipped: 'needs root (network namespaces)' };
  const probe = run('python3', ['-c', 'import socket'], { ok: true });
  if (probe.code !== 0) return { ok: false, skipped: 'needs python3' };
  const procs: ChildProcess[] = [];
  let timer: NodeJS.Timeout | undefined;
  try {
    for (const ns of Object.values(NS)) nsDel(ns);
    nsAdd(NS.a);
    nsAdd(NS.b);
    let link: 'netem' | 'relay' = 'netem';
    let relay: ReturnType<typeof py> | null = null;
    if (!netemLink(rttMs / 2, loss)) {
      link = 'relay';
      relayLink();
      let ready!: () => void;
      const isReady = new Promise<void>((r) => (ready = r));
      relay = py(NS.m, ['relay', 'ma', 'mb', String(rttMs / 2), String(loss), '7'], (l) => l.event === 'ready' && ready());
      procs.push(relay.proc);
      await Promise.race([isReady, relay.done]);
    }
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`lossy kernel reference: no result after ${LIMIT_S} s (${total} bytes, ${link} link); aborted`)), LIMIT_S * 1000);
    });
    // A failure of any helper ends the run at once (the sink is killed), with that helper's error.
    let failed: Error | null = null;
    const fail = (e: unknown) => {
      failed ??= e instanceof Error ? e : new Error(String(e));
      sink.proc.kill('SIGKILL');
    };
    const sender: { done?: Promise<Line[]> } = {};
    const sink = py(NS.b, ['sink', ADDR.b, PORT], (l) => {
      if (l.event !== 'ready') return;
      const p = py(NS.a, ['send', ADDR.b, PORT, String(total), 'cubic']);
      procs.push(p.proc);
      p.done.catch(fail);
      sender.done = p.done;
    });
    procs.push(sink.proc);
    relay?.done.catch(fail);
    let sinkLines: Line[];
    try {
      sinkLines = await Promise.race([sink.done, timeout]);
    } catch (e) {
      throw failed ?? e;
    }
    const sendLines = await Promise.race([sender.done ?? Promise.reject(new Error('lossy kernel reference: the sender never started')), timeout]);
    const eof = sinkLines.find((l) => l.event === 'eof');
    const connected = sendLines.find((l) => l.event === 'connected');
    const done = sendLines.find((l) => l.event === 'done');
    if (!eof || !connected || !done) throw new Error('lossy kernel reference: missing result lines');
    if (eof.bytes !== total) throw new Error(`lossy kernel reference: ${String(eof.bytes)} of ${total} bytes arrived`);
    if (done.cc !== 'cubic') throw new Error(`lossy kernel reference: the sender ran ${String(done.cc)}, not cubic`);
    const secs = (eof.last as number) - (connected.at as number);
    let detail = `netem delay ${rttMs / 2} ms each way, loss ${loss * 100} % on the sender's egress`;
    if (relay) {
      relay.proc.kill('SIGTERM');
      const r = (await Promise.race([relay.done, timeout])).find((l) => l.event === 'relay');
      detail = `sch_netem absent: delay ${rttMs / 2} ms each way and ${loss * 100} % loss on the sender's frames by a user-space relay in a third namespace` +
        (r ? ` (${String(r.lost)} of ${String(r.from_a)} frames lost, ${String(r.drops)} dropped by the relay's sockets)` : '');
    }
    return {
      ok: true, mbit: (total * 8) / secs / 1e6, link, cc: done.cc, secs,
      retrans: (done.retrans as number | null) ?? null, segs: (done.segs as number | null) ?? null, detail,
    };
  } finally {
    clearTimeout(timer);
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of Object.values(NS)) nsDel(ns);
  }
}
