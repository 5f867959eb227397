// End to end: real sockets made by python3 in a network namespace of our own, and
// `linger inspect --json` run inside that namespace. Needs root (CI runs as root); otherwise every
// test here is skipped with the reason printed.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineReader, netnsUnavailable, sleep, withNetns } from './netns.ts';

const skip = netnsUnavailable() ?? false;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;

test('TIME_WAIT on both sides, CLOSE_WAIT with its process, orphaned FIN_WAIT2, counters, findings', { skip }, async () => {
  await withNetns('tw', async (ns) => {
    const py = await ns.scenario('tw_cw.py');
    const pid = py.info.pid;
    const r: J = ns.inspect([]);
    assert.equal(r.states.TIME_WAIT, 7);
    assert.equal(r.states.CLOSE_WAIT, 3);
    assert.equal(r.states.FIN_WAIT2, 3, 'the clients of the CLOSE_WAIT sockets wait for a FIN that never comes');
    assert.equal(r.states.LISTEN, 1);
    assert.equal(r.states.ESTABLISHED, 0);
    for (const name of ['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED', 'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING']) {
      assert.ok(name in r.states, `states names ${name}`);
    }

    const cw = r.sockets.filter((s: J) => s.state === 'CLOSE_WAIT');
    assert.equal(cw.length, 3);
    for (const s of cw) {
      assert.equal(s.pid, pid);
      assert.match(s.process, /python/);
      assert.equal(s.local, '127.0.0.1:9100');
      assert.match(s.remote, /^127\.0\.0\.1:\d+$/);
      assert.ok(s.inode > 0);
      assert.equal(s.timer.kind, 'off');
    }
    assert.deepEqual(cw.map((s: J) => s.rxQueue).sort(), [0, 1, 1], 'one was read to the end, two still hold the FIN');

    const tw = r.sockets.filter((s: J) => s.state === 'TIME_WAIT');
    for (const s of tw) {
      assert.equal(s.pid, null);
      assert.equal(s.owner, 'timewait');
      assert.equal(s.timer.kind, 'timewait');
      assert.equal(s.ageSource, 'timer');
      assert.ok(s.ageSec >= 0 && s.ageSec < 10, `TIME_WAIT age ${s.ageSec} s from its 60 s timer`);
    }
    assert.equal(r.timeWait.outgoing, 5);
    assert.equal(r.timeWait.incoming, 2);
    assert.equal(r.timeWait.destinations[0].remote, '127.0.0.1:9100');
    assert.equal(r.timeWait.destinations[0].count, 5);
    assert.deepEqual(r.timeWait.portRange, [32768, 60999]);

    const fw2 = r.sockets.filter((s: J) => s.state === 'FIN_WAIT2');
    for (const s of fw2) {
      assert.equal(s.owner, 'orphan');
      assert.equal(s.timer.kind, 'timewait', 'an orphaned FIN_WAIT2 is a timewait minisocket');
      assert.ok(s.timer.expiresSec <= 20 && s.ageSec >= 0 && s.ageSec < 10, 'tcp_fin_timeout 20 in this namespace');
    }
    assert.equal(r.orphans.finWait2Orphaned, 3);

    assert.equal(r.counters.TcpActiveOpens, 10);
    assert.equal(r.counters.TcpPassiveOpens, 10);
    assert.equal(r.counters.TcpExtTW, 10, 'TcpExtTW counts the 7 TIME_WAITs and the 3 FIN_WAIT2 minisockets');
    assert.equal(r.sockstat.tw, 10);
    assert.equal(r.sysctl.tcp_fin_timeout, 20);

    const f = r.findings.find((x: J) => x.id === 'close-wait');
    assert.ok(f, 'a CLOSE_WAIT finding');
    assert.match(f.title, new RegExp(`process ${pid} \\(python3?[\\d.]*\\)`));
    assert.match(f.evidence, /holds 3 CLOSE_WAIT sockets on its server port 127\.0\.0\.1:9100/);
    assert.match(f.evidence, /1 read to the end and not closed, 2 not read at all/);
    assert.match(f.fix, /close\(\)/);
    const o = r.findings.find((x: J) => x.id === 'fin-wait2-orphans');
    assert.match(o.evidence, /tcp_fin_timeout = 20 s/);
    assert.match(o.fix, /does not change TIME_WAIT/);
    for (const x of r.findings) {
      for (const k of ['severity', 'title', 'evidence', 'fix']) assert.equal(typeof x[k], 'string');
      assert.ok(['critical', 'warning', 'info'].includes(x.severity));
    }

    // The summary view: per state, the top remote addresses, local ports and processes.
    const s: J = ns.inspect(['summary']);
    assert.equal(s.summary.CLOSE_WAIT.count, 3);
    assert.deepEqual(s.summary.CLOSE_WAIT.topLocalPorts, [{ key: '9100', count: 3 }]);
    assert.match(s.summary.CLOSE_WAIT.topProcesses[0].key, new RegExp(`^python3?[\\d.]*\\[${pid}\\]$`));
    assert.deepEqual(s.summary.TIME_WAIT.topRemotes, [{ key: '127.0.0.1', count: 7 }]);

    // The text report names the process too.
    const text = ns.linger(['inspect']);
    assert.equal(text.status, 0);
    assert.match(text.stdout, /CLOSE_WAIT\s+3\s+127\.0\.0\.1 3/);
    assert.match(text.stdout, new RegExp(`process ${pid} .* does not close connections`));
  });
});

test('tcp_fin_timeout ends orphaned FIN_WAIT2, not CLOSE_WAIT nor a FIN_WAIT2 the process still holds', { skip }, async () => {
  await withNetns('fw', async (ns) => {
    const py = await ns.scenario('fin_wait2.py');
    const a: J = ns.inspect(['orphans', '--interval', '0']);
    assert.equal(a.orphans.finWait2Orphaned, 3);
    assert.equal(a.orphans.finWait2Held, 1);
    assert.equal(a.orphans.finTimeout, 2);
    assert.match(a.orphans.finWait2HeldBy[0].key, new RegExp(`\\[${py.info.pid}\\]`));
    assert.equal(a.states.CLOSE_WAIT, 4);
    const ids = a.findings.map((f: J) => f.id);
    assert.ok(ids.includes('fin-wait2-orphans') && ids.includes('fin-wait2-held'), ids.join());
    await sleep(3000);
    const b: J = ns.inspect(['orphans', '--interval', '0']);
    assert.equal(b.orphans.finWait2Orphaned, 0, 'gone after tcp_fin_timeout (2 s)');
    assert.equal(b.orphans.finWait2Held, 1, 'no timer while the process holds it');
    assert.equal(b.states.CLOSE_WAIT, 4, 'no timer ends CLOSE_WAIT');
  });
});

test('TIME_WAIT rate from two samples against a 100-port range, and the exhaustion it predicts', { skip }, async () => {
  await withNetns('rate', async (ns) => {
    const py = await ns.scenario('tw_rate.py');
    assert.deepEqual(py.info.first, { made: 40, error: null });
    // Watch mode with JSON lines: the burst comes after the first sample and before the second.
    const out = lineReader(ns.lingerAsync(['inspect', 'time-wait', '--watch', '2s', '--count', '2', '--json']));
    const first: J = JSON.parse(await out.next());
    assert.equal(first.timeWait.total, 40);
    assert.equal(first.timeWait.rateSource, 'timers (last 10 s)');
    assert.equal(first.timeWait.ratePerSec, 4, '40 made in the last 10 s');
    assert.deepEqual(await py.command('burst 30'), { made: 30, error: null });
    const r: J = JSON.parse(await out.next());
    assert.ok(r.intervalSec >= 1.9 && r.intervalSec < 3, `interval ${r.intervalSec}`);
    const t = r.timeWait;
    assert.equal(t.total, 70);
    assert.equal(t.portRangeSize, 100);
    assert.equal(t.capacityPerSec, 1.7);
    assert.equal(t.rateSource, 'two samples');
    const d = t.destinations[0];
    assert.equal(d.remote, '127.0.0.1:9200');
    assert.equal(d.count, 70);
    assert.equal(d.portsInUse, 70);
    assert.equal(d.usedPct, 70);
    const expected = 30 / r.intervalSec;
    assert.ok(Math.abs(d.ratePerSec - expected) < 0.05, `rate ${d.ratePerSec}/s, expected ${expected}`);
    assert.ok(d.ratePct > 700, `rate ${d.ratePct} % of capacity`);
    assert.ok(d.exhaustionSec !== null && d.exhaustionSec < 5, `exhaustion in ${d.exhaustionSec} s`);
    const f = r.findings.find((x: J) => x.id === 'time-wait-ports');
    assert.equal(f.severity, 'critical');
    assert.match(f.title, /TIME_WAIT to 127\.0\.0\.1:9200 is created at [\d.]+\/s, \d+(\.\d)? % of the port range capacity/);
    assert.match(f.fix, /keep-alive/);
    assert.match(f.fix, /tcp_tw_reuse=1 \(now 0\)/);
    assert.match(f.fix, /tcp_fin_timeout does not shorten TIME_WAIT/);
    assert.match(f.fix, /tcp_tw_recycle is no fix/);
    assert.doesNotMatch(JSON.stringify(r.findings), /tcp_tw_recycle\s*=\s*1|enable tcp_tw_recycle/);
    assert.equal(r.counters.TcpExtTW.delta, 30);

    // What the finding predicts: 30 ports left; the 31st connect() fails with EADDRNOTAVAIL.
    assert.deepEqual(await py.command('burst 40'), { made: 30, error: 'EADDRNOTAVAIL' });
  });
});

test('a full accept queue: listener, queued connections, SYN_SENT clients, overflow counters and deltas', { skip }, async () => {
  await withNetns('acc', async (ns) => {
    const py = await ns.scenario('accept_full.py');
    const pid = py.info.pid;
    const r: J = ns.inspect([]);
    const l = r.orphans.listeners.find((x: J) => x.local === '127.0.0.1:9300');
    assert.equal(l.acceptQueue, 2, 'backlog 1 holds 2 (sk_acceptq_is_full is ack_backlog > max)');
    assert.equal(l.pid, pid);
    const queued = r.sockets.filter((s: J) => s.owner === 'accept-queue');
    assert.equal(queued.length, 2);
    for (const s of queued) {
      assert.equal(s.state, 'ESTABLISHED');
      assert.equal(s.inode, 0);
      assert.equal(s.pid, pid, 'attributed to the process of the listener');
    }
    assert.equal(r.states.SYN_SENT, 3);
    assert.equal(r.states.ESTABLISHED, 4, '2 clients and 2 queued children');
    for (const s of r.sockets.filter((x: J) => x.state === 'SYN_SENT')) assert.ok(s.timer.retransmits >= 1 && s.timer.kind === 'retransmit');
    assert.ok(r.counters.TcpExtListenOverflows >= 3, `ListenOverflows ${r.counters.TcpExtListenOverflows}`);
    assert.ok(r.counters.TcpExtListenDrops >= 3);
    const f = r.findings.find((x: J) => x.id === 'listen-overflow');
    assert.match(f.title, new RegExp(`accept queue of 127\\.0\\.0\\.1:9300 \\(process ${pid} \\(python`));
    assert.match(f.fix, /somaxconn/);
    const s = r.findings.find((x: J) => x.id === 'syn-sent');
    assert.match(s.title, /3 connect\(\)s waiting on unanswered SYNs/);

    // Deltas between two samples: 2 more clients during the interval are 2 more overflows.
    const out = lineReader(ns.lingerAsync(['inspect', 'orphans', '--watch', '1.5s', '--count', '2', '--json']));
    await out.next();
    await py.command('connect 2');
    const o: J = JSON.parse(await out.next());
    const lo = o.counters.find((c: J) => c.name === 'TcpExtListenOverflows');
    assert.ok(lo.delta >= 2, `ListenOverflows delta ${lo.delta}`);
    assert.ok(lo.perSec > 0);
    const f2 = o.findings.find((x: J) => x.id === 'listen-overflow');
    assert.match(f2.evidence, /in the last 1\.\d s/);
  });
});
