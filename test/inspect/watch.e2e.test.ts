// End to end, continued: watch mode (CLOSE_WAIT ages by inode, the live view, Ctrl-C), keepalive
// against an idle timeout, and the Prometheus exporter, all inside network namespaces of our own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { finished, netnsUnavailable, sleep, withNetns } from './netns.ts';

const skip = netnsUnavailable() ?? false;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type J = any;

test('watch mode tracks CLOSE_WAIT ages by inode, one JSON line per sample', { skip }, async () => {
  await withNetns('age', async (ns) => {
    const py = await ns.scenario('tw_cw.py');
    const r = ns.linger(['inspect', 'close-wait', '--watch', '0.5s', '--count', '4', '--json']);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 4);
    assert.equal(lines[0].closeWait.groups[0].oldestAgeSec, null, 'unknown at the first sample');
    const last = lines[3];
    const g = last.closeWait.groups[0];
    assert.equal(g.pid, py.info.pid);
    assert.equal(g.count, 3);
    assert.ok(g.oldestAgeSec >= 1.4 && g.oldestAgeSec < 10, `oldest CLOSE_WAIT watched for ${g.oldestAgeSec} s`);
    assert.deepEqual(g.inodes, last.sockets.map((s: J) => s.inode).sort((a: number, b: number) => a - b));
    for (const s of last.sockets) assert.equal(s.ageSource, 'watched');
    const f = last.findings.find((x: J) => x.id === 'close-wait');
    assert.match(f.evidence, /the oldest at least 1\.\d s \(watched\)/);
  });
});

test('the live view: chart, per-state lines, top offenders, findings; Ctrl-C exits cleanly', { skip }, async () => {
  await withNetns('view', async (ns) => {
    const py = await ns.scenario('tw_cw.py');
    const r = ns.linger(['inspect', '--watch', '0.3s', '--count', '3', '--idle-timeout', '350s']);
    assert.equal(r.status, 0, r.stderr);
    const frames = r.stdout.split(/\n-{20,}\n?/).filter((x) => x.trim());
    assert.equal(frames.length, 3);
    const last = frames[2]!;
    assert.match(last, /^linger inspect --watch 0\.3 s .* sample 3 at /);
    assert.match(last, /TIME_WAIT over the last 0\.6 s \(3 samples\):/);
    assert.match(last, /CLOSE_WAIT over the last/);
    assert.match(last, /TIME_WAIT\s+[▁-█]{3}\s+7\s+max 7/);
    assert.match(last, new RegExp(`CLOSE_WAIT {2}python3?[\\d.]*\\[${py.info.pid}\\]: 3 on 127\\.0\\.0\\.1:9100 from 127\\.0\\.0\\.1, oldest >= (0\\.[6-9]|\\d+(\\.\\d)?) s`));
    assert.match(last, /TIME_WAIT {3}127\.0\.0\.1 -> 127\.0\.0\.1:9100: 5/);
    assert.match(last, /Findings \(\d+\):/);
    assert.ok(!last.includes('\x1b['), 'no escape sequences when stdout is not a terminal');

    // Without --count it runs until SIGINT, then exits 0 at once.
    const p = ns.lingerAsync(['inspect', '--watch', '0.2s']);
    const done = finished(p, 15_000);
    let seen = '';
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no frame: ${seen}`)), 10_000);
      p.stdout.on('data', (d: Buffer) => {
        seen += d.toString();
        if (/sample 2 at/.test(seen)) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    const t0 = Date.now();
    p.kill('SIGINT');
    const res = await done;
    assert.equal(res.code, 0, `exit code after SIGINT (signal ${res.signal}): ${res.stderr}`);
    assert.ok(Date.now() - t0 < 3000, 'exits promptly');
  });
});

test('keepalive against a 350 s idle timeout: too late, missing, unanswered probes; IPv6 and IPv4-mapped', { skip }, async (t) => {
  await withNetns('ka', async (ns) => {
    const py = await ns.scenario('keepalive.py');
    const pid = py.info.pid;
    const r: J = ns.inspect(['keepalive', '--idle-timeout', '350s']);
    const k = r.keepalive;
    assert.equal(k.idleTimeoutSec, 350);
    assert.deepEqual(k.settings, { time: 7200, intvl: 75, probes: 9 });
    const probing = py.info.probing === true;
    if (!probing) t.diagnostic(`nft unavailable in the namespace (${py.info.why}): the unanswered-probe case is not checked`);
    assert.equal(k.withTimer, probing ? 4 : 3);
    assert.equal(k.tooLate.count, 2, 'TCP_KEEPIDLE 600 and the 7200 s default');
    assert.deepEqual(k.tooLate.examples.map((x: J) => Number(/:(\d+)$/.exec(x.local)![1])).sort(), [py.info.a, py.info.c].sort());
    assert.equal(k.without.count, probing ? 6 : 5, 'd and the server side of every connection');
    const byPort = (port: number) => r.sockets.find((s: J) => s.localPort === port);
    assert.equal(byPort(py.info.a as number).local, `[::1]:${py.info.a}`);
    assert.equal(byPort(py.info.a as number).family, 'ipv6');
    const expA = byPort(py.info.a as number).timer.expiresSec;
    assert.ok(expA > 590 && expA <= 600, `TCP_KEEPIDLE 600 -> next probe in ${expA} s`);
    const expB = byPort(py.info.b as number).timer.expiresSec;
    assert.ok(expB > 50 && expB <= 60);
    assert.equal(byPort(py.info.d as number).timer.kind, 'off');
    const mapped = r.sockets.filter((s: J) => s.state === 'ESTABLISHED' && s.localPort === 9500 && s.v4mapped);
    assert.equal(mapped.length, 3, 'server side of the IPv4 clients on a dual-stack listener');
    for (const s of mapped) {
      assert.equal(s.family, 'ipv6');
      assert.equal(s.local, '127.0.0.1:9500');
      assert.equal(s.pid, pid);
    }
    const ids = r.findings.map((f: J) => f.id).sort();
    assert.deepEqual(ids, (probing ? ['keepalive-missing', 'keepalive-probing', 'keepalive-settings', 'keepalive-too-late'] : ['keepalive-missing', 'keepalive-settings', 'keepalive-too-late']));
    const late = r.findings.find((f: J) => f.id === 'keepalive-too-late');
    assert.match(late.title, /^2 keepalive sockets will send their next probe after the 5 min 50 s idle timeout/);
    assert.match(late.evidence, new RegExp(`python3?[\\d.]*\\[${pid}\\] \\(2\\)`));
    assert.match(late.fix, /TCP_KEEPIDLE/);
    if (probing) {
      const pr = k.probing[0];
      assert.equal(k.probing.length, 1);
      assert.match(pr.remote, /:9501$/);
      assert.ok(pr.probes >= 1, `${pr.probes} unanswered probes`);
    }
    // A longer idle timeout: only the socket on the 7200 s default is too late.
    const r2: J = ns.inspect(['keepalive', '--idle-timeout', '10m']);
    assert.equal(r2.keepalive.tooLate.count, 1);
    assert.match(r2.findings.find((f: J) => f.id === 'keepalive-settings').title, /longer than the 10 min idle timeout/);
  });
});

test('--prometheus serves the numbers in Prometheus text format (prom-client), scraped inside the namespace', { skip }, async () => {
  await withNetns('prom', async (ns) => {
    const py = await ns.scenario('tw_cw.py');
    const p = ns.lingerAsync(['inspect', '--prometheus', '9464']);
    const done = finished(p, 20_000);
    // Wait for the server, scraping from inside the namespace (its loopback) with python3.
    const scrape = `import urllib.request,time
for i in range(150):
    try:
        print(urllib.request.urlopen('http://127.0.0.1:9464/metrics', timeout=2).read().decode()); break
    except OSError:
        time.sleep(0.1)`;
    const r = ns.exec(['python3', '-c', scrape]);
    assert.equal(r.status, 0, r.stderr);
    const body = r.stdout;
    assert.match(body, /# TYPE linger_tcp_sockets gauge/);
    assert.match(body, /linger_tcp_sockets\{state="CLOSE_WAIT"\} 3/);
    assert.match(body, /linger_tcp_sockets\{state="TIME_WAIT"\} 7/);
    assert.match(body, new RegExp(`linger_close_wait_sockets\\{pid="${py.info.pid}",process="python3?[\\d.]*",service="127.0.0.1:9100"\\} 3`));
    assert.match(body, /# TYPE linger_nstat_total counter/);
    assert.match(body, /linger_nstat_total\{name="TcpExtTW"\} 10/);
    assert.match(body, /linger_sysctl\{name="tcp_fin_timeout"\} 20/);
    assert.match(body, /linger_sockstat\{field="tw"\} 10/);
    assert.match(body, /linger_findings\{severity="info"\} \d/);
    p.kill('SIGINT');
    const res = await done;
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /Prometheus metrics at http:\/\/127\.0\.0\.1:9464\/metrics/);
    await sleep(0);
  });
});
