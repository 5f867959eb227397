// Interop, the CLI: `linger tun up`, `tun echo`, `tun http` and `tun down` as a user runs them
// (a process of their own, a namespace of their own), with the kernel's programs in it: ping
// for up, nc for echo, curl for http; and down removes the namespace and stops the process.
// Needs root and /dev/net/tun; skipped with the reason otherwise.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { interopUnavailable, sleep } from './lib.ts';
import { nsExists } from '../../src/link/netns.ts';

const skip = interopUnavailable() ?? false;
const BIN = new URL('../../bin/linger.mjs', import.meta.url).pathname;

/** Starts `linger tun MODE --ns NS ...` and waits until the namespace has the kernel's address. */
async function start(mode: string, ns: string, extra: string[] = []): Promise<{ proc: ChildProcess; out: () => string }> {
  const proc = spawn(process.execPath, [BIN, 'tun', mode, '--ns', ns, ...extra]);
  let out = '';
  proc.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 100 && !out.includes('Ctrl-C (SIGINT)'); i++) {
    if (proc.exitCode !== null) throw new Error(`linger tun ${mode} exited: ${out}`);
    await sleep(100);
  }
  assert.match(out, /Ctrl-C \(SIGINT\)/, `linger tun ${mode} is serving`);
  return { proc, out: () => out };
}

function nsRun(ns: string, cmd: string, args: string[], input?: string) {
  return spawnSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8', input, timeout: 15_000 });
}

/** `linger tun down`: it must stop the serving process and delete the namespace. */
async function down(ns: string, proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => (proc.exitCode !== null ? r(null) : proc.on('exit', r)));
  const r = spawnSync(process.execPath, [BIN, 'tun', 'down', '--ns', ns], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  await Promise.race([exited, sleep(5000)]);
  assert.notEqual(proc.exitCode ?? proc.signalCode, null, 'the linger process stopped');
  assert.equal(nsExists(ns), false, 'the namespace is gone');
}

/** `linger tun MODE` in a namespace of its own for the length of fn, then `linger tun down`. */
async function withTun(mode: string, tag: string, fn: (ns: string, out: () => string) => void, extra: string[] = []): Promise<void> {
  const ns = `lgcli${process.pid % 10000}${tag}`;
  const { proc, out } = await start(mode, ns, extra);
  try {
    fn(ns, out);
  } finally {
    await down(ns, proc);
  }
}

test('linger tun up: the kernel in the namespace reaches linger over IPv4 and IPv6 (refused: RST), and down removes it all', { skip, timeout: 60_000 }, () => withTun('up', 'u', (ns, out) => {
  assert.match(nsRun(ns, 'ip', ['link', 'show', 'dev', 'linger']).stdout, /mtu 9000/);
  assert.match(nsRun(ns, 'ip', ['-4', 'addr', 'show', 'dev', 'linger']).stdout, /inet 10\.77\.0\.1\/24/);
  assert.match(nsRun(ns, 'ip', ['-6', 'addr', 'show', 'dev', 'linger']).stdout, /inet6 fd00:77::1\/64/);
  // nothing listens on linger: each connect is refused at once by linger's RST (a timeout
  // would mean nothing answered)
  for (const addr of ['10.77.0.2', 'fd00:77::2']) {
    const nc = nsRun(ns, 'nc', ['-vz', '-w', '3', addr, '80']);
    assert.notEqual(nc.status, 0);
    assert.match(nc.stderr, /refused/, `${addr}: ${nc.stderr}\n${out()}`);
  }
}, ['--mtu', '9000']));

test('linger tun echo: nc in the namespace gets its bytes back on port 7', { skip, timeout: 60_000 }, () => withTun('echo', 'e', (ns, out) => {
  assert.match(out(), /device linger \(MTU 1500, offloads: TSO\/GSO and checksums both ways\)/);
  // -N: shutdown(SHUT_WR) at EOF on stdin; linger echoes, then closes when it reads EOF
  const r = nsRun(ns, 'nc', ['-N', '-w', '5', '10.77.0.2', '7'], 'hello over TUN\n'.repeat(1000));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hello over TUN\n'.repeat(1000));
}));

test('linger tun echo --no-offload: the plain device says so and echoes the same bytes', { skip, timeout: 60_000 }, () => withTun('echo', 'p', (ns, out) => {
  assert.match(out(), /device linger \(MTU 1500, plain packets\)/);
  const r = nsRun(ns, 'nc', ['-N', '-w', '5', '10.77.0.2', '7'], 'hello over TUN\n'.repeat(1000));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hello over TUN\n'.repeat(1000));
}, ['--no-offload']));

test('linger tun http: curl gets HTTP/1.1 keep-alive on port 80 and h2c on 8080', { skip, timeout: 60_000 }, () => withTun('http', 'h', (ns) => {
  const r = nsRun(ns, 'curl', ['-sS', '-v', '--max-time', '5', 'http://10.77.0.2/a', 'http://10.77.0.2/b']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((r.stderr.match(/< HTTP\/1.1 200/g) ?? []).length, 2, r.stderr);
  assert.match(r.stderr, /Re-?using existing connection/i);
  const h2 = nsRun(ns, 'curl', ['-sS', '-v', '--max-time', '5', '--http2-prior-knowledge', 'http://10.77.0.2:8080/']);
  assert.equal(h2.status, 0, h2.stderr);
  assert.match(h2.stderr, /< HTTP\/2 200/);
  // curl closed first: its side holds TIME_WAIT in the namespace
  const ss = nsRun(ns, 'ss', ['-tanH', 'state', 'time-wait']);
  assert.match(ss.stdout, /10\.77\.0\.1:\d+\s+10\.77\.0\.2:80/);
}));

test('linger tun: bad arguments get a message and a non-zero exit, and touch nothing', { skip }, () => {
  const ns = `lgcli${process.pid % 10000}b`;
  for (const [args, msg] of [[['up', '--mtu', '70000'], /--mtu takes 1280..65535/], [['up', '--ns', 'bad name!'], /bad namespace name/], [['echo', '--port', 'x', '--ns', ns], /--port takes 1..65535/]] as const) {
    const r = spawnSync(process.execPath, [BIN, 'tun', ...args], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  assert.equal(nsExists(ns), false, 'a bad --port made no namespace');
});

const linger = (args: string[]) => spawnSync(process.execPath, [BIN, 'tun', ...args], { encoding: 'utf8', timeout: 20_000 });

test('linger tun ss/nstat read the running process; serving stays quiet; the stop summarises per state; an HTTP/2 preface on port 80 gets the hint', { skip, timeout: 60_000 }, async () => {
  const ns = `lgcli${process.pid % 10000}s`;
  const t0 = Date.now();
  const { proc, out } = await start('http', ns);
  // a kernel-side client holding one connection open (it prints its local port)
  const held = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', 'import socket,sys,time\nc=socket.create_connection(("10.77.0.2",80))\nprint(c.getsockname()[1],flush=True)\ntime.sleep(30)']);
  try {
    let port = '';
    held.stdout.on('data', (d: Buffer) => (port += d.toString()));
    for (let i = 0; i < 50 && !port.includes('\n'); i++) await sleep(100);
    port = port.trim();
    assert.match(port, /^\d{5}$/);
    // ss's layout (iproute2 6.1 to a pipe): columns as wide as their widest cell, the
    // addresses right-aligned, a `::` listener (IPv4 too) as `*:80`
    assert.equal(linger(['ss', '--ns', ns, '-tln']).stdout, [
      'State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess',
      'LISTEN 0      511                *:80              *:*          ',
      'LISTEN 0      511                *:8080            *:*          ',
      ''].join('\n'));
    assert.equal(linger(['ss', '--ns', ns]).stdout, [
      'State Recv-Q Send-Q Local Address:Port Peer Address:Port Process',
      `ESTAB 0      0          10.77.0.2:80      10.77.0.1:${port}       `,
      ''].join('\n'));
    assert.equal(linger(['nstat', '--ns', ns, '-n']).stdout, '', '-n: history only');
    const n = 50;
    const curl = nsRun(ns, 'curl', ['-sS', '--max-time', '10', ...Array.from({ length: n }, (_, i) => `http://10.77.0.2/r${i}`)]);
    assert.equal(curl.status, 0, curl.stderr);
    // nstat: the change since -n: one connection accepted (curl's; keep-alive for all 50)
    // (-z: the zeros too; in /proc/net/snmp's order, as nstat)
    const ns1 = linger(['nstat', '--ns', ns, '-z', 'TcpPassiveOpens', 'TcpActiveOpens']);
    assert.equal(ns1.stdout, '#kernel\nTcpActiveOpens                  0                  0.0\nTcpPassiveOpens                 1                  0.0\n', ns1.stderr);
    assert.equal(linger(['nstat', '--ns', ns, '-a', 'TcpPassiveOpens']).stdout, '#kernel\nTcpPassiveOpens                 2                  0.0\n');
    // HTTP/2 with prior knowledge on the HTTP/1.x port: an HTTP/2 answer curl shows
    const h2 = nsRun(ns, 'curl', ['-sS', '-v', '--max-time', '5', '--http2-prior-knowledge', 'http://10.77.0.2/']);
    assert.equal(h2.status, 0, h2.stderr);
    assert.match(h2.stderr, /< HTTP\/2 505/);
    assert.equal(h2.stdout, 'linger tun http: port 80 speaks HTTP/1.x (node:http); HTTP/2 with prior knowledge (h2c) is on port 8080 (--h2-port)\n');
    await sleep(200);
    const all = linger(['ss', '--ns', ns, '-tano']).stdout;
    assert.match(all, /^TIME-WAIT 0 {6}0 {10}10\.77\.0\.2:80 {6}10\.77\.0\.1:\d{5} +timer:\(timewait,\d+sec,0\)\s*$/m, all);
    await down(ns, proc);
    const lines = out().trimEnd().split('\n');
    // 3 lines at the start, at most one summary per 5 s, 6 at the stop: no line per request
    assert.ok(lines.length <= 9 + Math.ceil((Date.now() - t0) / 5000), out());
    assert.match(out(), /^requests served: 50$/m);
    assert.match(out(), /^sockets linger at the end: ESTAB 1, TIME-WAIT 1, LISTEN 2$/m, out());
  } finally {
    held.kill('SIGKILL');
    if (nsExists(ns)) spawnSync('ip', ['netns', 'del', ns]);
  }
});

test('linger tun ss/nstat with no linger process for the namespace: a message and exit 2; tun http --help lists the paths', { skip }, () => {
  const ns = `lgcli${process.pid % 10000}n`;
  for (const cmd of ['ss', 'nstat']) {
    const r = linger([cmd, '--ns', ns]);
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, `linger: no linger process serves namespace ${ns}; start one with linger tun up|http|echo --ns ${ns}\n`);
  }
  const help = linger(['http', '--help']).stdout;
  assert.match(help, /^ {2}\/bytes\/N {8}N bytes \(N up to 2\^30\) of "a"/m);
  assert.match(help, /^ {2}any other path {2}one text line/m);
  assert.match(help, /HTTP\/2 on the HTTP\/1\.x port/);
});
