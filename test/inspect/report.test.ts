// Collection on a captured procfs tree, analysis, diagnosis rules, the watch view and the
// Prometheus registry, without root and without a network: everything reads test/fixtures/proc.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { collect, type InspectSocket, type Snapshot } from '../../src/inspect/collect.ts';
import { AgeTracker, analyze, type Report } from '../../src/inspect/analyze.ts';
import { diagnose, duration } from '../../src/inspect/rules.ts';
import { Ring, renderFrame, sparkline } from '../../src/inspect/watch.ts';
import { buildRegistry, parseListen } from '../../src/inspect/prometheus.ts';
import { parseDuration, registerInspect } from '../../src/cli/inspect.ts';
import { Command, CommanderError } from 'commander';
import { Sampler, viewText } from '../../src/inspect/views.ts';

const NS = 'test/fixtures/proc/ns';
const PID = Number(readdirSync(NS).find((n) => /^\d+$/.test(n)));
let clock = 1_000_000;
const snap = (): Snapshot => collect({ root: NS, littleEndian: true, now: () => ({ wall: 1_790_000_000_000 + clock, mono: clock }) });
const report = (s: Snapshot, prev: Snapshot | null = null, idle: number | null = null): Report => {
  const r = analyze(s, prev, { idleTimeoutSec: idle });
  r.findings = diagnose(r);
  return r;
};

test('collect on a captured tree: owners, processes, ages from timers, sysctls', () => {
  const s = snap();
  assert.deepEqual(s.errors, []);
  assert.equal(s.sockets.length, 21);
  const by = (f: (x: InspectSocket) => boolean) => s.sockets.filter(f);
  for (const cw of by((x) => x.state === 'CLOSE_WAIT')) {
    assert.equal(cw.owner, 'process');
    assert.equal(cw.pid, PID);
    assert.equal(cw.process, 'python3');
  }
  assert.equal(by((x) => x.owner === 'accept-queue').length, 2);
  for (const q of by((x) => x.owner === 'accept-queue')) assert.equal(q.pid, PID, 'the listener\'s process');
  for (const tw of by((x) => x.state === 'TIME_WAIT')) {
    assert.equal(tw.owner, 'timewait');
    assert.equal(tw.ageSource, 'timer');
    assert.ok(tw.ageSec! >= 0 && tw.ageSec! < 1);
  }
  const fw2 = by((x) => x.state === 'FIN_WAIT2');
  assert.equal(fw2.filter((x) => x.owner === 'orphan').length, 2);
  assert.equal(fw2.filter((x) => x.owner === 'process').length, 1);
  assert.equal(s.sysctl.tcp_fin_timeout, 30);
  assert.deepEqual(s.sysctl.ip_local_port_range, [32768, 60999]);
  assert.equal(s.sysctl.tcp_max_orphans, null, 'not visible inside a network namespace');
  assert.equal(s.sysctl.tcp_tw_recycle, null, 'gone since Linux 4.12');
  assert.equal(s.counters['TcpExtListenOverflows'], 1);
  assert.equal(s.sockstat!.tw, 5);
  assert.ok(s.sockets.some((x) => x.v4mapped && x.local === '127.0.0.1:9101'));
});

test('a missing procfs is a note, not a crash', () => {
  const s = collect({ root: '/nonexistent-linger-proc' });
  assert.equal(s.sockets.length, 0);
  assert.ok(s.notes.some((n) => /net\/tcp is not readable/.test(n)));
  const r = report(s);
  assert.equal(r.states['ESTABLISHED'], 0);
});

test('analysis of the capture: states, summary, listeners, CLOSE_WAIT groups', () => {
  const r = report(snap());
  assert.deepEqual(
    Object.fromEntries(Object.entries(r.states).filter(([, v]) => v)),
    { ESTABLISHED: 8, SYN_SENT: 1, FIN_WAIT2: 3, TIME_WAIT: 3, CLOSE_WAIT: 3, LISTEN: 3 },
  );
  assert.equal(r.summary['CLOSE_WAIT']!.topProcesses[0]!.key, `python3[${PID}]`);
  assert.equal(r.timeWait.outgoing, 2);
  assert.equal(r.timeWait.incoming, 1);
  assert.equal(r.timeWait.rateSource, 'timers (last 10 s)');
  assert.equal(r.timeWait.ratePerSec, 0.3, '3 TIME_WAITs made in the last 10 s');
  assert.equal(r.orphans.listeners[0]!.local, '127.0.0.1:9102');
  assert.equal(r.orphans.listeners[0]!.acceptQueue, 2);
  const g = r.closeWait.groups[0]!;
  assert.deepEqual({ pid: g.pid, count: g.count, direction: g.direction, service: g.service, peer: g.peer, readToEnd: g.readToEnd, unread: g.unreadBytes },
    { pid: PID, count: 3, direction: 'incoming', service: '127.0.0.1:9100', peer: '127.0.0.1', readToEnd: 0, unread: 0 });
  assert.deepEqual(r.findings.map((f) => f.id), ['listen-overflow', 'close-wait', 'fin-wait2-orphans', 'fin-wait2-held']);
});

test('AgeTracker: ages by inode, forgets sockets that are gone, bounded', () => {
  const t = new AgeTracker(1000);
  clock = 0;
  const a = snap();
  t.update(a);
  assert.ok(a.sockets.filter((s) => s.state === 'CLOSE_WAIT').every((s) => s.ageSec === null));
  clock = 42_500;
  const b = snap();
  t.update(b);
  const cw = b.sockets.filter((s) => s.state === 'CLOSE_WAIT');
  assert.ok(cw.every((s) => s.ageSec === 42.5 && s.ageSource === 'watched'));
  const tw = b.sockets.filter((s) => s.state === 'TIME_WAIT');
  assert.ok(tw.every((s) => s.ageSource === 'timer'), 'timer ages are not overwritten');
  // A sample without one CLOSE_WAIT forgets it; if it shows up again it starts from zero.
  clock = 50_000;
  const c = snap();
  const gone = c.sockets.findIndex((s) => s.state === 'CLOSE_WAIT');
  const removed = c.sockets.splice(gone, 1)[0]!;
  const before = t.size;
  t.update(c);
  assert.equal(t.size, before - 1);
  clock = 60_000;
  const d = snap();
  t.update(d);
  assert.equal(d.sockets.find((s) => s.inode === removed.inode)!.ageSec, null);
  assert.equal(d.sockets.find((s) => s.state === 'CLOSE_WAIT' && s.inode !== removed.inode)!.ageSec, 60);
  const tiny = new AgeTracker(2);
  tiny.update(snap());
  assert.equal(tiny.size, 2);
  const r = report(d);
  assert.match(r.findings.find((f) => f.id === 'close-wait')!.evidence, /the oldest at least 1 min \(watched\)/);
  assert.equal(r.findings.find((f) => f.id === 'close-wait')!.severity, 'warning');
});

test('two samples: TIME_WAIT rate from new 4-tuples, counter deltas', () => {
  clock = 0;
  const a = snap();
  clock = 2000;
  const b = snap();
  // Pretend 10 new outgoing TIME_WAITs appeared between the samples.
  const base = b.sockets.find((s) => s.state === 'TIME_WAIT' && s.remotePort === 9100)!;
  for (let i = 0; i < 10; i++) b.sockets.push({ ...base, localPort: 50000 + i, local: `127.0.0.1:${50000 + i}`, ageSec: 1 });
  b.counters = { ...b.counters, TcpExtListenOverflows: b.counters['TcpExtListenOverflows']! + 6 };
  const r = report(b, a);
  assert.equal(r.intervalSec, 2);
  assert.equal(r.timeWait.rateSource, 'two samples');
  assert.equal(r.timeWait.ratePerSec, 5);
  assert.equal(r.timeWait.destinations[0]!.count, 12);
  assert.equal(r.timeWait.destinations[0]!.ratePerSec, 5);
  assert.equal(r.deltas!['TcpExtListenOverflows'], 6);
  const lo = r.resets.find((c) => c.name === 'TcpExtListenOverflows')!;
  assert.deepEqual([lo.delta, lo.perSec], [6, 3]);
  const f = r.findings.find((x) => x.id === 'listen-overflow')!;
  assert.match(f.evidence, /6 in the last 2 s \(7 in total\)/);
});

test('rules: port exhaustion, tw buckets, tcp_tw_recycle, orphans, keepalive; never recommend tcp_tw_recycle', () => {
  const s = snap();
  s.sysctl = { ...s.sysctl, ip_local_port_range: [40000, 40009], tcp_tw_reuse: 0, tcp_max_tw_buckets: 5, tcp_tw_recycle: 1, tcp_max_orphans: 4 };
  s.sockstat = { ...s.sockstat!, orphan: 4 };
  s.counters = { ...s.counters, TcpExtTCPTimeWaitOverflow: 3, TcpExtTCPAbortOnMemory: 2 };
  const base = s.sockets.find((x) => x.state === 'TIME_WAIT' && x.remotePort === 9100)!;
  for (let i = 0; i < 20; i++) s.sockets.push({ ...base, localPort: 40000 + i, local: `127.0.0.1:${40000 + i}`, ageSec: 5 });
  const r = report(s, null, 350);
  const ids = r.findings.map((f) => f.id);
  for (const id of ['time-wait-ports', 'time-wait-buckets', 'time-wait-overflow', 'tw-recycle', 'orphans-limit', 'resets', 'keepalive-settings', 'keepalive-too-late', 'keepalive-missing']) {
    assert.ok(ids.includes(id), `${id} in ${ids.join(', ')}`);
  }
  assert.equal(r.findings[0]!.severity, 'critical', 'sorted by severity');
  const ports = r.findings.find((f) => f.id === 'time-wait-ports')!;
  assert.equal(ports.severity, 'critical');
  assert.match(ports.evidence, /22 of 10 local ports in use|of 10 local ports/);
  assert.match(ports.fix, /tcp_tw_reuse=1 \(now 0\)/);
  const recycle = r.findings.find((f) => f.id === 'tw-recycle')!;
  assert.match(recycle.fix, /Set net\.ipv4\.tcp_tw_recycle=0/);
  const fixes = r.findings.map((f) => f.fix).join(' ');
  assert.doesNotMatch(fixes, /tcp_tw_recycle\s*=\s*1|enable tcp_tw_recycle|set tcp_tw_recycle to 1/i);
  // Every finding that names tcp_fin_timeout ties it to FIN_WAIT2 (or says it does not apply), and a
  // sentence naming it with TIME_WAIT says it does not shorten it.
  let sentences = 0;
  for (const f of r.findings) {
    const text = `${f.title}. ${f.evidence} ${f.fix}`;
    if (!text.includes('tcp_fin_timeout')) continue;
    assert.match(text, /FIN_WAIT2|does not apply/, text);
    for (const sentence of text.split(/(?<=[.;:])\s+/).filter((x) => x.includes('tcp_fin_timeout'))) {
      sentences++;
      if (/TIME_WAIT/.test(sentence)) assert.match(sentence, /does not (shorten|change) TIME_WAIT/, sentence);
    }
  }
  assert.ok(sentences >= 2);
  const tooLate = r.findings.find((f) => f.id === 'keepalive-too-late')!;
  assert.match(tooLate.title, /^1 keepalive socket will send/);
});

test('duration and argument parsing', () => {
  assert.equal(duration(599.54), '10 min');
  assert.equal(duration(75), '1 min 15 s');
  assert.equal(duration(4.25), '4.3 s');
  assert.equal(duration(2520), '42 min');
  assert.equal(duration(7200), '2 h');
  assert.equal(parseDuration('350s', 'x'), 350);
  assert.equal(parseDuration('350', 'x'), 350);
  assert.equal(parseDuration('500ms', 'x'), 0.5);
  assert.equal(parseDuration('5m', 'x'), 300);
  assert.equal(parseDuration('2h', 'x'), 7200);
  assert.throws(() => parseDuration('soon', '--watch'), /--watch takes a duration/);
  assert.deepEqual(parseListen('9464'), { host: '127.0.0.1', port: 9464 });
  assert.deepEqual(parseListen('0.0.0.0:9464'), { host: '0.0.0.0', port: 9464 });
  assert.deepEqual(parseListen('[::1]:9464'), { host: '::1', port: 9464 });
  assert.throws(() => parseListen('70000'), /1\.\.65535/);
});

test('watch view: bounded ring, sparklines, frame text', () => {
  const ring = new Ring<number>(5);
  for (let i = 0; i < 12; i++) ring.push(i);
  assert.deepEqual(ring.toArray(), [7, 8, 9, 10, 11]);
  assert.equal(ring.length, 5);
  assert.equal(sparkline([0, 1, 2, 4, 8]), '▁▂▃▅█');
  assert.equal(sparkline([0, 0]), '▁▁');
  const sampler = new Sampler(snap, { host: { hostname: 'h', kernel: '6.18', netns: null } });
  clock = 0;
  const r1 = sampler.sample();
  clock = 2000;
  const r2 = sampler.sample();
  const frame = renderFrame(r2, [r1, r2].map((r) => ({ t: 0, states: r.states })), { view: 'full', intervalSec: 2, sample: 2, color: false, width: 100 });
  assert.match(frame, /^linger inspect --watch 2 s {3}h \(Linux 6\.18\) {3}sample 2 at/);
  assert.match(frame, /TIME_WAIT over the last 2 s \(2 samples\):/);
  assert.match(frame, new RegExp(`CLOSE_WAIT {2}python3\\[${PID}\\]: 3 on 127\\.0\\.0\\.1:9100 from 127\\.0\\.0\\.1, oldest >= 2 s`));
  assert.match(frame, /LISTEN {6}127\.0\.0\.1:9102 python3\[\d+\]: 2 waiting for accept\(\)/);
  assert.match(frame, /info {5}listen queues overflowed earlier, not in the last 2 s/, 'no new overflow between the two samples');
  for (const line of frame.split('\n')) assert.ok(line.length <= 100, line);
  const colored = renderFrame(r2, [{ t: 0, states: r2.states }], { view: 'close-wait', intervalSec: 2, sample: 1, color: true, width: 200 });
  assert.ok(colored.includes('\x1b[33mTIME_WAIT'), 'coloured legend on a terminal');
  assert.match(colored, /CLOSE_WAIT: 3 \(the peer closed; the local process has not\)/, 'the view\'s own table under the live part');
  assert.match(viewText('time-wait', r2), /Outgoing connections \(this host closed first/);
});

test('Prometheus registry (no network): metric families and values', async () => {
  const r = report(snap());
  const reg = buildRegistry(() => r);
  const text = await reg.metrics();
  assert.match(text, /# HELP linger_tcp_sockets TCP sockets per state/);
  assert.match(text, /linger_tcp_sockets\{state="ESTABLISHED"\} 8/);
  assert.match(text, /linger_tcp_sockets\{state="CLOSING"\} 0/);
  assert.match(text, new RegExp(`linger_close_wait_sockets\\{pid="${PID}",process="python3",service="127.0.0.1:9100"\\} 3`));
  assert.match(text, /linger_listen_accept_queue\{listener="127.0.0.1:9102",process="python3"\} 2/);
  assert.match(text, /linger_nstat_total\{name="TcpExtListenOverflows"\} 1/);
  assert.match(text, /linger_nstat\{name="TcpMaxConn"\} -1/);
  assert.match(text, /linger_sysctl\{name="ip_local_port_range_low"\} 32768/);
  assert.match(text, /linger_findings\{severity="warning"\} 1/);
  const empty = await buildRegistry(() => null).metrics();
  assert.doesNotMatch(empty, /linger_tcp_sockets\{/);
});

const cli = (args: string[]) => spawnSync(process.execPath, ['bin/linger.mjs', ...args], { encoding: 'utf8', timeout: 30_000 });

/** `linger inspect ...` in this process, as main.ts runs it: a CommanderError means exit status 2. */
async function inspect(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const program = new Command().exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: (s) => (stdout += s) });
  registerInspect(program, { out: (s) => (stdout += s) });
  try {
    await program.parseAsync(['inspect', ...args], { from: 'user' });
    return { status: 0, stdout, stderr };
  } catch (e) {
    if (e instanceof CommanderError) return { status: e.exitCode === 0 ? 0 : 2, stdout, stderr };
    throw e;
  }
}

test('CLI on the captured tree: JSON shape of `linger inspect --json` and every subcommand', async () => {
  const r = cli(['inspect', '--proc', NS, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  for (const k of ['states', 'sockets', 'counters', 'findings']) assert.ok(k in j, k);
  assert.equal(j.states.CLOSE_WAIT, 3);
  const s = j.sockets.find((x: { state: string }) => x.state === 'CLOSE_WAIT');
  for (const k of ['state', 'local', 'remote', 'pid', 'process', 'timer']) assert.ok(k in s, k);
  assert.equal(j.counters.TcpActiveOpens, 11);
  for (const sub of ['summary', 'time-wait', 'close-wait', 'orphans', 'keepalive']) {
    const t = await inspect([sub, '--proc', NS, '--interval', '0']);
    assert.equal(t.status, 0, `${sub}: ${t.stderr}`);
    assert.match(t.stdout, /^linger inspect: /);
    const jj = await inspect([sub, '--proc', NS, '--interval', '0', '--json']);
    assert.equal(JSON.parse(jj.stdout).view, sub);
  }
  const two = await inspect(['time-wait', '--proc', NS, '--interval', '100ms', '--json']);
  assert.equal(JSON.parse(two.stdout).timeWait.rateSource, 'two samples');
  const w = await inspect(['close-wait', '--proc', NS, '--watch', '100ms', '--count', '3', '--json']);
  const lines = w.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 3);
  assert.ok(lines[2].closeWait.groups[0].oldestAgeSec >= 0.2);
});

test('CLI: bad arguments print a clear message and exit 2', async () => {
  const cases: [string[], RegExp][] = [
    [['--watch', 'soon'], /--watch takes a duration such as 350s/],
    [['--idle-timeout', 'long'], /--idle-timeout takes a duration/],
    [['--count', '3'], /--count goes with --watch/],
    [['--watch', '1s', '--count', '0'], /--count takes an integer 1\.\.1000000/],
    [['--prometheus', '99999'], /port must be 1\.\.65535/],
    [['--top', 'x'], /--top takes an integer/],
    [['--proc', '/nonexistent'], /cannot read \/nonexistent\/net\/tcp/],
    [['nonsense'], /too many arguments|unknown command/],
    [['keepalive', '--bogus'], /unknown option '--bogus'/],
  ];
  for (const [args, msg] of cases) {
    const r = await inspect(args);
    assert.equal(r.status, 2, `${args.join(' ')}: status ${r.status}, stderr ${r.stderr}`);
    assert.match(r.stderr, msg, args.join(' '));
  }
  // Through the real entry point: message on stderr, status 2.
  const real = cli(['inspect', '--idle-timeout', 'long']);
  assert.equal(real.status, 2);
  assert.match(real.stderr, /^linger: --idle-timeout takes a duration such as 350s, 500ms, 5m or 2h, got "long"/);
});
