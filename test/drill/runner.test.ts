// The interpreter on linger: passing scripts, and failures reported clearly enough to act on
// (line, expected against actual, the differences, the trace leading there).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runDrill, type DrillResult } from '../../src/drill/runner.ts';
import { formatResult, summarize, toJson, toTap } from '../../src/drill/report.ts';
import { nodePython } from '../../src/drill/files.ts';
import { planShell } from '../../src/drill/shell.ts';

const python = nodePython();
const run = (src: string, flags: Array<[string, string | undefined]> = []): DrillResult => runDrill(src, 'x.pkt', { flags, ...(python ? { python } : {}) });
const ok = (src: string, flags: Array<[string, string | undefined]> = []): DrillResult => {
  const r = run(src, flags);
  assert.equal(r.status, 'ok', formatResult(r));
  return r;
};
const fails = (src: string): DrillResult => {
  const r = run(src);
  assert.equal(r.status, 'FAIL', formatResult(r));
  return r;
};

const SERVER = `
0     socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0    bind(3, ..., ...) = 0
+0    listen(3, 1) = 0
+0    < S 0:0(0) win 65535 <mss 1460,sackOK,nop,nop,nop,wscale 7>
+0    > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>
+.01  < . 1:1(0) ack 1 win 514
+0    accept(3, ..., ...) = 4
`;

test('a passing script: ok, every event counted, virtual time reported', () => {
  const r = ok(SERVER + '+0 write(4, ..., 10) = 10\n+0 > P. 1:11(10) ack 1\n+1 < . 1:1(0) ack 11 win 514\n');
  assert.equal(r.events, 10);
  assert.equal(r.virtualUs, 1_010_000);
  assert.ok(r.trace.some((t) => t.mark === '*' && t.text.startsWith('SYN_RECV -> ESTABLISHED')), 'state changes are traced');
});

test('a wrong outbound packet fails with the line, expected against actual, the differing fields and the trace', () => {
  const src = SERVER + '+0 write(4, ..., 10) = 10\n+0 > P. 1:12(11) ack 1\n';
  const r = fails(src);
  const f = r.failure!;
  assert.equal(f.line, 10);
  assert.equal(f.message, 'outbound packet only partly sent: 10 of 11 bytes by 0.014 s');
  const wrong = fails(SERVER + '+0 write(4, ..., 10) = 10\n+0 > F. 1:11(10) ack 2 win 100\n');
  assert.equal(wrong.failure!.message, 'outbound packet does not match the script');
  assert.equal(wrong.failure!.expected, '0.010 > F. 1:11(10) ack 2 win 100');
  assert.equal(wrong.failure!.actual, '0.010 > P. 1:11(10) ack 1 win 502');
  assert.deepEqual(wrong.failure!.diff, ['flags P. != F.', 'ack 1 != 2', 'win 502 != 100']);
  const text = formatResult(wrong);
  assert.match(text, /^FAIL {8}x\.pkt:10:1: outbound packet does not match the script/);
  assert.match(text, / {4}10 \| \+0 > F\. 1:11\(10\) ack 2 win 100/);
  assert.match(text, /expected {2}0\.010 > F\. 1:11\(10\) ack 2 win 100\n {4}actual {4}0\.010 > P\. 1:11\(10\) ack 1 win 502/);
  assert.match(text, /trace \((all|last 14 of \d+) lines/);
  assert.match(text, /0\.010 {2}\$ write\(4, \.\.\., 10\) = 10 {3}\[line 9\]/);
});

test('timing: early and late packets fail with the tolerance; ranges and * pass', () => {
  const early = fails(SERVER + '+.1 < P. 1:11(10) ack 1 win 514\n+.01 > . 1:1(0) ack 11\n');
  assert.match(early.failure!.message, /^timing error: expected the outbound packet at 0\.120 s \(tolerance 0\.004 s\), but it was sent at 0\.110 s \(early by 0\.010 s\)$/);
  const missing = fails(SERVER + '+1 > . 1:1(0) ack 1\n');
  assert.equal(missing.failure!.message, 'expected an outbound packet at 1.010 s, but the host sent nothing by 1.135 s');
  assert.match(missing.failure!.actual!, /^nothing/);
  ok(SERVER + '+.1 < F. 1:1(0) ack 1 win 514\n+0~+0.01 > . 1:1(0) ack 2\n');
  ok(SERVER + '+.1 < F. 1:1(0) ack 1 win 514\n* > . 1:1(0) ack 2\n');
  // The tolerance grows with the gap (12.5 %): 1 s late on 10 s passes, 2 s does not.
  ok(SERVER + '+0 setsockopt(4, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0\n+0 setsockopt(4, SOL_TCP, TCP_KEEPIDLE, [10], 4) = 0\n+9 > . 0:0(0) ack 1\n');
  fails(SERVER + '+0 setsockopt(4, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0\n+0 setsockopt(4, SOL_TCP, TCP_KEEPIDLE, [10], 4) = 0\n+8 > . 0:0(0) ack 1\n');
  fails('--tolerance_percent=0\n' + SERVER + '+0 setsockopt(4, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0\n+0 setsockopt(4, SOL_TCP, TCP_KEEPIDLE, [10], 4) = 0\n+9 > . 0:0(0) ack 1\n');
});

test('an unexpected packet fails the next outbound line (every live packet is matched in order)', () => {
  const r = fails(SERVER + '+.1 < P. 1:11(10) ack 1 win 514\n+.1 write(4, ..., 5) = 5\n+0 > P. 1:6(5) ack 11\n');
  assert.match(r.failure!.message, /timing error/);
  assert.match(r.failure!.actual!, /> \. 1:1\(0\) ack 11/);
});

test('system calls: return values, errno, blocking calls and their timing', () => {
  const r = fails(SERVER + '+0 read(4, ..., 10) = 10\n');
  assert.match(r.failure!.message, /^read\(\) blocked, but the script expects it to return at once/);
  const e = fails(SERVER + '+0 write(4, ..., 10) = -1 EAGAIN\n');
  assert.equal(e.failure!.message, 'write() returned 10, the script expects -1 EAGAIN');
  const n = fails(SERVER + '+.1 < R. 1:1(0) ack 1 win 0\n+0 read(4, ..., 10) = -1 EPIPE\n');
  assert.equal(n.failure!.message, 'read() failed with ECONNRESET, the script expects EPIPE');
  assert.equal(n.failure!.actual, 'read(...) = -1 ECONNRESET (104)');
  ok(SERVER + '+0...0.3 read(4, ..., 100) = 10\n+.3 < P. 1:11(10) ack 1 win 514\n+0 > . 1:1(0) ack 11\n');
  const late = fails(SERVER + '+0...0.1 read(4, ..., 100) = 10\n+.3 < P. 1:11(10) ack 1 win 514\n');
  assert.match(late.failure!.message, /^timing error: expected the blocking read\(\) to return at 0\.110 s/);
  assert.match(late.failure!.actual!, /returned 10 at 0\.310 s/);
  // Script fd numbers map to live ones: the script may call the socket 7.
  ok('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 7\n+0 close(7) = 0\n+0 close(7) = -1 EBADF\n');
});

test('sequence numbers are mapped to the script ISN; inbound TS ecr to the live TS val', () => {
  const r = ok(`
0    socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0   bind(3, ..., ...) = 0
+0   listen(3, 1) = 0
+0   < S 1000:1000(0) win 64240 <mss 1460,sackOK,TS val 7 ecr 0,nop,wscale 7>
+0   > S. 5000:5000(0) ack 1001 <mss 1460,sackOK,TS val 70 ecr 7,nop,wscale 7>
+.01 < . 1001:1001(0) ack 5001 win 502 <nop,nop,TS val 8 ecr 70>
+0   accept(3, ..., ...) = 4
+0   write(4, ..., 10) = 10
+0   > P. 5001:5011(10) ack 1001 <nop,nop,TS val 80 ecr 8>
+.01 < . 1001:1001(0) ack 5011 win 502 <nop,nop,TS val 9 ecr 80>
+1   write(4, ..., 5) = 5
+0   > P. 5011:5016(5) ack 1001 <nop,nop,TS val 1090 ecr 9>
+0   %{ assert 9000 <= tcpi_rtt <= 11000, tcpi_rtt }%
`);
  // Had the ack not been mapped to the live ISN, the host would have answered a challenge ACK
  // (or retransmitted at 0.212 s) before the write; had the ecr not been mapped to the live
  // TS val, the RTT measured from it would not be 10 ms.
  assert.ok(r.trace.some((t) => t.mark === '>' && / 5011:5016\(5\) ack 1001 /.test(t.text)));
});

test('the one-expected-many-live rule, and --strict_segments', () => {
  ok(SERVER + '+0 write(4, ..., 3000) = 3000\n+0 > P. 1:3001(3000) ack 1\n');
  const strict = run(SERVER + '+0 write(4, ..., 3000) = 3000\n+0 > P. 1:3001(3000) ack 1\n', [['strict_segments', undefined]]);
  assert.equal(strict.status, 'FAIL');
  assert.deepEqual(strict.failure!.diff, ['length 1460 != 3000 (--strict_segments: one live segment per expected segment)']);
});

test('python blocks see TCP_INFO at the event; a failed assert fails the script at its line', { skip: python ? false : 'python3 is not installed' }, () => {
  ok(SERVER + '+0 %{ assert tcpi_state == TCP_ESTABLISHED and tcpi_snd_mss == 1460 }%\n');
  const r = fails(SERVER + '+0 %{\nassert tcpi_state == TCP_CLOSE_WAIT, tcpi_state\n}%\n');
  assert.equal(r.failure!.line, 10);
  assert.equal(r.failure!.message, 'python block failed: AssertionError: 1');
  assert.ok(r.failure!.detail!.some((d) => d.startsWith('TCP_INFO snapshot at line 9: tcpi_state=1')));
});

test('TCP_CONGESTION takes and returns a name: cubic by default, reno accepted, others ENOENT; a short optlen truncates', () => {
  const open = '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n';
  ok(open + '+0 getsockopt(3, SOL_TCP, TCP_CONGESTION, "cubic", [16]) = 0\n+0 setsockopt(3, SOL_TCP, TCP_CONGESTION, "bbr", 3) = -1 ENOENT\n'
    + '+0 setsockopt(3, SOL_TCP, TCP_CONGESTION, "reno", 4) = 0\n+0 getsockopt(3, SOL_TCP, TCP_CONGESTION, "ren", [3]) = 0\n');
  const r = fails(open + '+0 getsockopt(3, SOL_TCP, TCP_CONGESTION, "reno", [16]) = 0\n');
  assert.equal(r.failure!.message, 'getsockopt() value "cubic" != "reno"');
  assert.equal(fails(open + '+0 setsockopt(3, SOL_TCP, TCP_CONGESTION, "renovate", 5) = 0\n').failure!.message, 'setsockopt() failed with ENOENT, the script expects 0');
});

test('sysctls from shell commands reach the host config; other commands and features are UNSUPPORTED', () => {
  ok('`sysctl -q net.ipv4.tcp_syn_retries=1 net.ipv4.tcp_syn_linear_timeouts=0`\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0...3 connect(3, ..., ...) = -1 ETIMEDOUT\n+0 > S 0:0(0) <...>\n+1 > S 0:0(0) <...>\n');
  ok('0 `echo 2 > /proc/sys/net/ipv4/tcp_syn_retries`\n');
  ok('`sysctl -q net.ipv4.tcp_early_retrans=0 net.ipv4.tcp_ecn=0 net.ipv4.tcp_fastopen=0`\n0 close(3) = -1 EBADF\n');
  // Settings that change nothing on linger's link (NOOP_SYSCTLS): accepted without a warning.
  const noop = ok('`sysctl -q net.ipv4.tcp_fastopen=0x70403 net.ipv4.tcp_tso_win_divisor=3 net.ipv4.tcp_pacing_ss_ratio=200 net.ipv4.tcp_ecn_option=1`\n0 close(3) = -1 EBADF\n');
  assert.deepEqual(noop.warnings, []);
  // tcp_syncookies and tcp_reordering are modelled: no warning.
  assert.deepEqual(ok('`sysctl -q net.ipv4.tcp_syncookies=2`\n0 close(3) = -1 EBADF\n').warnings, []);
  assert.deepEqual(ok('`sysctl -q net.ipv4.tcp_reordering=10`\n0 close(3) = -1 EBADF\n').warnings, []);
  const cases: Array<[string, RegExp]> = [
    ['`./defaults.sh`\n0 close(3) = -1 EBADF\n', /line 1: cannot read the shell script \.\/defaults\.sh \(no script folder\)/],
    ['`tc qdisc add dev tun0 root netem delay 10ms`\n', /line 1: shell command "tc qdisc add dev tun0 root netem delay 10ms" is not one the runner knows/],
    ['`sysctl -q net.ipv4.tcp_early_retrans=9`\n', /sysctl net\.ipv4\.tcp_early_retrans=9: not a value Linux accepts/],
    ['0 `sysctl -q net.ipv4.tcp_min_tso_segs=2`\n', /line 1: sysctl net\.ipv4\.tcp_min_tso_segs is not modelled by linger/],
    ['0 `sysctl -q net.ipv4.tcp_ecn=1`\n', /line 1: sysctl net\.ipv4\.tcp_ecn=1: only 0 is supported \(linger never negotiates ECN\)/],
    ['0 < [ect0] S 0:0(0) win 1\n', /ECN codepoint \[ect0\]/],
    ['0 > udp (1472)\n', /UDP packets/],
    ['0 < S 0:0(0) win 1 <FO 0123abcd>\n', /TCP Fast Open/],
    ['0 setsockopt(3, SOL_TCP, TCP_FASTOPEN, [1], 4) = 0\n', /symbol TCP_FASTOPEN/],
    ['0 sendfile(4, 5, ..., 10) = 10\n', /system call sendfile\(\)/],
    ['0 send(4, ..., 1, MSG_OOB) = 1\n', /MSG_OOB/],
  ];
  for (const [src, re] of cases) {
    const r = run(src);
    assert.equal(r.status, 'UNSUPPORTED', src);
    assert.ok(r.unsupported!.some((u) => re.test(u)), `${src}: ${r.unsupported!.join('; ')}`);
  }
});

test('a suite\'s init script is read from the script\'s folder and each line planned; the loss-recovery sysctls apply', () => {
  const files: Record<string, string> = {
    '../common/defaults.sh': [
      '#!/bin/bash',
      '# the suite\'s settings',
      'ip tcp_metrics flush all > /dev/null 2>&1',
      'sysctl -q net.ipv4.tcp_rmem="4096 540000 $((15*1024*1024))"',
      'sysctl -q net.ipv4.tcp_syn_retries=5 net.ipv4.tcp_early_retrans=4',
      'sysctl -q net.ipv4.tcp_notsent_lowat=4294967295 > /dev/null 2>&1',
      'tc qdisc add dev tun0 root pfifo',
      'ethtool -K tun0 tso off gso off',
    ].join('\n'),
    './bad.sh': 'sysctl -q net.ipv4.tcp_fin_timeout=5\nmodprobe tcp_bbr\n',
  };
  const readFile = (p: string): string | undefined => files[p];
  const r = runDrill('`../common/defaults.sh`\n0 close(3) = -1 EBADF\n', 'x.pkt', { readFile });
  assert.equal(r.status, 'ok', formatResult(r));
  assert.deepEqual(r.warnings, []);
  // tcp_early_retrans and tcp_notsent_lowat are real settings: applied and traced.
  assert.match(r.trace[0]!.text, /^`sysctl net\.ipv4\.tcp_rmem=4096 540000 15728640; sysctl net\.ipv4\.tcp_syn_retries=5; sysctl net\.ipv4\.tcp_early_retrans=4; sysctl net\.ipv4\.tcp_notsent_lowat=4294967295`$/);
  const bad = runDrill('`./bad.sh`\n0 close(3) = -1 EBADF\n', 'x.pkt', { readFile });
  assert.equal(bad.status, 'UNSUPPORTED');
  assert.deepEqual(bad.unsupported, ['line 1: ./bad.sh: shell command "modprobe tcp_bbr" is not one the runner knows (only sysctl writes, set_sysctls.py, ip tcp_metrics flush, ip route ... mtu/advmss, tc qdisc and ethtool -K are)']);
  const arith = runDrill('`sysctl -q net.ipv4.tcp_fin_timeout=$((2*(3+4)/5))`\n0 close(3) = -1 EBADF\n', 'x.pkt', {});
  assert.match(arith.trace[0]!.text, /tcp_fin_timeout=2`$/, 'integer arithmetic as the shell does it');
  assert.equal(runDrill('`sysctl -q net.ipv4.tcp_fin_timeout=$((1/0))`\n', 'x.pkt', {}).status, 'UNSUPPORTED');
});

test('--ip_version=ipv6 and ipv4-mapped-ipv6 use packetdrill\'s addresses; bad options fail clearly', () => {
  ok('--ip_version=ipv6\n0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 connect(3, ..., ...) = -1 EINPROGRESS\n+0 > S 0:0(0) <mss 1440,sackOK,TS val 1 ecr 0,nop,wscale 7>\n'.replace('connect', 'fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n+0 connect'));
  const r = run('--ip_version=ipv5\n0 close(3) = -1 EBADF\n');
  assert.equal(r.status, 'FAIL');
  assert.equal(r.failure!.message, '--ip_version takes ipv4, ipv6 or ipv4-mapped-ipv6, got "ipv5"');
  const w = ok('--frobnicate=1\n0 close(3) = -1 EBADF\n');
  assert.deepEqual(w.warnings, ['line 1: unknown option --frobnicate ignored']);
});

test('syntax errors are FAIL results with line and column', () => {
  const r = run('0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:0(0) <mss 1460,>\n');
  assert.equal(r.status, 'FAIL');
  assert.deepEqual([r.failure!.line, r.failure!.col], [2, 25]);
  assert.match(r.failure!.message, /^syntax error: expected a TCP option/);
});

test('JSON and TAP reports', () => {
  const rs = [ok(SERVER), fails(SERVER + '+0 > . 1:1(0) ack 1\n'), run('0 > udp (1)\n')];
  const s = summarize(rs, 12);
  assert.deepEqual([s.scripts, s.ok, s.fail, s.unsupported], [3, 1, 1, 1]);
  const j = toJson(rs, s) as { scripts: Array<{ status: string; failure?: { line: number; source: string }; unsupported?: string[] }> };
  assert.deepEqual(j.scripts.map((x) => x.status), ['ok', 'FAIL', 'UNSUPPORTED']);
  assert.deepEqual([j.scripts[1]!.failure!.line, j.scripts[1]!.failure!.source], [9, '+0 > . 1:1(0) ack 1']);
  const tap = toTap(rs, s).split('\n');
  assert.deepEqual(tap.slice(0, 3), ['TAP version 13', '1..3', 'ok 1 - x.pkt']);
  assert.ok(tap.includes('not ok 2 - x.pkt'));
  assert.ok(tap.includes('not ok 3 - x.pkt # UNSUPPORTED'));
});

test('-D NAME=VALUE: a word NAME stands for the tokens of VALUE, $NAME in a shell command for its text', () => {
  const src = '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = FD\n+0 listen(FD, BACKLOG) = 0\n+0 `sysctl -q net.ipv4.tcp_fin_timeout=${FIN}`\n';
  const without = runDrill(src, 'x.pkt', {});
  assert.equal(without.status, 'UNSUPPORTED');
  const r = runDrill(src, 'x.pkt', { defines: new Map([['FD', '3'], ['BACKLOG', '5'], ['FIN', '7']]) });
  assert.equal(r.status, 'ok', JSON.stringify(r.failure ?? r.unsupported));
  assert.deepEqual(r.trace.filter((t) => t.mark === '$' || t.mark === '#').map((t) => t.text), [
    'socket(..., SOCK_STREAM, IPPROTO_TCP) = 3', 'listen(FD, BACKLOG) = 0', '`sysctl net.ipv4.tcp_fin_timeout=7`',
  ]);
});

test('a Linux suite\'s set_sysctls.py and ip route ... mtu/advmss lines are planned as what they set', () => {
  const p = planShell('../common/set_sysctls.py /proc/sys/net/ipv4/tcp_fin_timeout=7 /proc/sys/net/core/somaxconn=8\nip route change 192.0.2.0/24 dev tun0 mtu lock 1000 advmss 900');
  assert.deepEqual(p, {
    ok: true, writes: [{ name: 'net.ipv4.tcp_fin_timeout', value: '7' }, { name: 'net.core.somaxconn', value: '8' }], routes: [{ mtu: 1000, advmss: 900 }], warnings: [],
  });
  assert.deepEqual(planShell('set_sysctls.py net.ipv4.tcp_sack=1'), { ok: false, reason: '"set_sysctls.py net.ipv4.tcp_sack=1": set_sysctls.py takes /proc/sys/NAME=VALUE arguments, not "net.ipv4.tcp_sack=1"' });
  assert.equal(planShell('ip route change 192.0.2.0/24 dev tun0 initcwnd 20').ok, false, 'a metric the runner does not model');
});
