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

test('linger tun echo: nc in the namespace gets its bytes back on port 7', { skip, timeout: 60_000 }, () => withTun('echo', 'e', (ns) => {
  // -N: shutdown(SHUT_WR) at EOF on stdin; linger echoes, then closes when it reads EOF
  const r = nsRun(ns, 'nc', ['-N', '-w', '5', '10.77.0.2', '7'], 'hello over TUN\n'.repeat(1000));
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hello over TUN\n'.repeat(1000));
}));

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
