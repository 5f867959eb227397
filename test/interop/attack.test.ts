// Interop, attacks: real attack tools on the kernel's side against linger over TUN, each next to
// the same attack on a kernel server (the reference). A SYN flood from spoofed sources (hping3,
// bounded in count) against `linger tun http`'s node:http server while curl keeps requesting;
// blind in-window RSTs (scapy) sprayed into a live download, which must survive.
// Needs root, /dev/net/tun, hping3 and python3-scapy (scripts/install-debian-deps.sh).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { bindHttp } from '../../src/net/http.ts';
import { httpServer } from '../../src/link/apps.ts';
import { interopUnavailable, KernelEnv, LingerEnv, nstat, sleep, delta } from './lib.ts';

const SCAPY = '/usr/bin/python3'; // Debian's python3, where python3-scapy is
const BLIND_RST = new URL('./py/blind_rst.py', import.meta.url).pathname;
const NODE_SERVER = new URL('./node-server.ts', import.meta.url).pathname;

const tools = (): string | null => {
  if (spawnSync('hping3', ['--version']).error) return 'SKIPPED: the attack interop tests need hping3 (scripts/install-debian-deps.sh installs it)';
  if (spawnSync(SCAPY, ['-c', 'import scapy']).status !== 0) return 'SKIPPED: the attack interop tests need python3-scapy (scripts/install-debian-deps.sh installs it)';
  return null;
};
const skip = interopUnavailable() ?? tools() ?? false;
if (typeof skip === 'string' && !interopUnavailable()) process.stderr.write(`\n*** ${skip} ***\n\n`);

/** A command in a namespace, asynchronous (linger answers from this very process). */
function inNs(ns: string, argv: string[], timeoutMs: number): Promise<{ out: string; code: number }> {
  return new Promise((resolve) => {
    const p = spawn('ip', ['netns', 'exec', ns, ...argv]);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('exit', (code) => {
      clearTimeout(t);
      resolve({ out, code: code ?? -1 });
    });
  });
}

/** curl every 200 ms until `until` resolves: the HTTP status of each request ('000' for none). */
async function curlLoop(ns: string, url: string, until: Promise<unknown>): Promise<string[]> {
  let done = false;
  void until.then(() => (done = true));
  const codes: string[] = [];
  while (!done) {
    const r = await inNs(ns, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '8', url], 10_000);
    codes.push(r.out.trim() || '000');
    await sleep(200);
  }
  return codes;
}

/** hping3: `count` SYNs to addr:80 from random spoofed sources, 5,000 a second (bounded: count and 60 s). */
const synFlood = (ns: string, addr: string, count: number) =>
  inNs(ns, ['hping3', '-q', '-S', '-p', '80', '--rand-source', '-i', 'u200', '-c', String(count), addr], 60_000);

const FLOOD = 20_000;

/** The reference server (node-server.ts on the kernel) says "ready" on its stdout (20 s at most). */
function serverReady(srv: ReturnType<typeof spawn>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('reference node server did not start')), 20_000);
    srv.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) { clearTimeout(t); resolve(); } });
  });
}

test('SYN flood (hping3, 20,000 spoofed SYNs) against linger tun http: cookies answer it, every curl request succeeds, memory stays bounded', { skip }, async () => {
  const env = await LingerEnv.up('attack-synflood-linger');
  try {
    httpServer(bindHttp(env.st.net), 80);
    await sleep(200);
    const rss0 = process.memoryUsage().rss;
    let peak = rss0;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
    const flood = synFlood(env.ns, env.peerAddr, FLOOD);
    const codes = await curlLoop(env.ns, `http://${env.peerAddr}/`, flood);
    clearInterval(sampler);
    const c = env.st.host.counters;
    const grewMb = (peak - rss0) / 2 ** 20;
    console.log(`# interop syn-flood (linger): ${codes.length} curl requests during the flood: ${codes.join(' ')}; SyncookiesSent ${c.get('SyncookiesSent')}, SyncookiesRecv ${c.get('SyncookiesRecv')}, ListenDrops ${c.get('ListenDrops')}; rss ${(rss0 / 2 ** 20).toFixed(0)} MB, peak +${grewMb.toFixed(1)} MB`);
    assert.ok(codes.length >= 5, `only ${codes.length} requests ran during the flood`);
    assert.deepEqual(codes.filter((x) => x !== '200'), [], 'every request during the flood succeeds');
    assert.ok(c.get('SyncookiesSent') > 0, 'the full SYN queue answered with cookies');
    assert.ok(c.get('SyncookiesRecv') > 0, 'curl connected with a cookie');
    // 20,000 half-open requests kept as full connections would cost far more: cookies keep none.
    assert.ok(grewMb < 150, `linger's resident memory grew by ${grewMb.toFixed(1)} MB under the flood`);
  } finally {
    await env.close();
  }
});

test('the same SYN flood against a kernel server (the reference): cookies, every curl request succeeds', { skip }, async () => {
  const env = await KernelEnv.up('attack-synflood-kernel');
  const srv = spawn('ip', ['netns', 'exec', env.peerNs, process.execPath, '--import', 'tsx', NODE_SERVER]);
  try {
    await serverReady(srv);
    // A route back to the spoofed sources, as linger has (its default route is the TUN device):
    // without one the kernel cannot send a SYN-ACK, drops the SYN (ListenDrops) before the SYN
    // queue, and never needs a cookie.
    spawnSync('ip', ['-n', env.peerNs, 'route', 'add', 'default', 'via', env.kernelAddr]);
    const before = nstat(env.peerNs);
    const flood = synFlood(env.ns, env.peerAddr, FLOOD);
    const codes = await curlLoop(env.ns, `http://${env.peerAddr}/`, flood);
    const d = delta(before, nstat(env.peerNs));
    console.log(`# interop syn-flood (kernel): ${codes.length} curl requests: ${codes.join(' ')}; SyncookiesSent ${d['TcpExtSyncookiesSent'] ?? 0}, SyncookiesRecv ${d['TcpExtSyncookiesRecv'] ?? 0}, ListenDrops ${d['TcpExtListenDrops'] ?? 0}`);
    assert.deepEqual(codes.filter((x) => x !== '200'), []);
    assert.ok((d['TcpExtSyncookiesSent'] ?? 0) > 0);
    assert.ok((d['TcpExtSyncookiesRecv'] ?? 0) > 0);
  } finally {
    srv.kill('SIGTERM');
    await env.close();
  }
});

/** A 20 MB download at 4 MB/s while blind_rst.py sprays 200 in-window RSTs at the server's side. */
async function blindRsts(ns: string, dev: string, server: string): Promise<{ curl: { out: string; code: number }; inj: { out: string; code: number } }> {
  const dl = inNs(ns, ['curl', '-s', '-o', '/dev/null', '-w', '%{http_code} %{size_download}', '--limit-rate', '4M', '--max-time', '30', `http://${server}/bytes/20000000`], 40_000);
  await sleep(1000);
  const inj = await inNs(ns, [SCAPY, BLIND_RST, '--dev', dev, '--server', server, '--count', '200', '--step', '97'], 30_000);
  return { curl: await dl, inj };
}

test('blind in-window RSTs (scapy) into a live download from linger: challenge ACKs, the download completes', { skip }, async () => {
  const env = await LingerEnv.up('attack-blindrst-linger');
  try {
    httpServer(bindHttp(env.st.net), 80);
    await sleep(200);
    const { curl, inj } = await blindRsts(env.ns, 'linger', env.peerAddr);
    const c = env.st.host.counters;
    console.log(`# interop blind-rst (linger): curl ${curl.out}; injector ${inj.out.trim()}; TCPChallengeACK ${c.get('TCPChallengeACK')}, TCPACKSkippedChallenge ${c.get('TCPACKSkippedChallenge')}, EstabResets ${c.get('EstabResets')}`);
    assert.equal(inj.code, 0, inj.out);
    assert.match(inj.out, /"sent": 200/);
    assert.equal(curl.code, 0, curl.out);
    assert.equal(curl.out.trim(), '200 20000000');
    assert.ok(c.get('TCPChallengeACK') > 0, 'in-window RSTs are answered with challenge ACKs');
    // Each in-window RST gets a challenge ACK or is skipped by the per-socket limit (one per
    // tcp_invalid_ratelimit, 500 ms): seen 1 + 199 on linger and on the kernel alike.
    assert.equal(c.get('TCPChallengeACK') + c.get('TCPACKSkippedChallenge'), 200);
    assert.equal(c.get('EstabResets'), 0, 'no guessed RST reset the connection');
  } finally {
    await env.close();
  }
});

/**
 * From `tcpdump -nS` lines on the server's side of a download: the RSTs that arrived, and how
 * many of them fell inside the window the server offered last before the first one (RCV.NXT is
 * its last ACK number, the window its last "win" shifted by the scale of its SYN-ACK).
 */
function rstsAgainstWindow(text: string): { left: number; inWindow: number } {
  let wscale = 0, ack = -1, win = -1, left = 0, inWindow = 0;
  for (const line of text.split('\n')) {
    const fromServer = / 10\.78\.0\.2\.80 > /.test(line);
    if (fromServer && line.includes('Flags [S.]')) wscale = Number(/wscale (\d+)/.exec(line)?.[1] ?? 0);
    if (line.includes('Flags [R]')) {
      left++;
      const seq = Number(/seq (\d+)/.exec(line)?.[1] ?? -1);
      if (ack >= 0 && seq >= 0 && ((seq - ack) >>> 0) <= (win << wscale)) inWindow++;
      continue;
    }
    if (fromServer && left === 0) {
      const a = /ack (\d+)/.exec(line);
      const w = /win (\d+)/.exec(line);
      if (a && w) {
        ack = Number(a[1]);
        win = Number(w[1]);
      }
    }
  }
  return { left, inWindow };
}

test('the same blind RSTs against a kernel server (the reference): challenge ACKs, the download completes', { skip }, async () => {
  const env = await KernelEnv.up('attack-blindrst-kernel');
  const srv = spawn('ip', ['netns', 'exec', env.peerNs, process.execPath, '--import', 'tsx', NODE_SERVER]);
  try {
    await serverReady(srv);
    // Seen on 2026-12-07, on this tree and on the one before issue 17 alike (no linger code runs
    // here), in one run of three and in three of three inside the full suite: the kernel counted
    // none of the 200 RSTs (no challenge ACK, none skipped, no reset). In some of those runs no
    // RST had left the injector's interface (tcpdump -U on va saw none); in one all 200 arrived,
    // inside the window the server had offered, and still nothing was counted: not understood
    // yet. Such a download is tried again (up to five); the one the kernel counted is held to
    // the exact figures: every RST arrived, and those inside the offered window are each
    // answered or skipped.
    let curl = { out: '', code: -1 }, inj = { out: '', code: -1 };
    let d: Record<string, number> = {};
    let left = 0;
    let inWindow = 0;
    for (let attempt = 1; attempt <= 5; attempt++) {
      const pcap = `/tmp/linger-blindrst-${process.pid}.pcap`;
      // On the server's side: the RSTs that arrive and the window the server offers them.
      const cap = spawn('ip', ['netns', 'exec', env.peerNs, 'tcpdump', '-U', '-ni', 'vb', '-w', pcap, 'tcp port 80'], { stdio: 'ignore' });
      await sleep(300);
      const before = nstat(env.peerNs);
      ({ curl, inj } = await blindRsts(env.ns, 'va', env.peerAddr));
      d = delta(before, nstat(env.peerNs));
      await sleep(300);
      cap.kill('SIGTERM');
      await new Promise((r) => cap.once('exit', r));
      ({ left, inWindow } = rstsAgainstWindow(spawnSync('tcpdump', ['-nSr', pcap], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout));
      rmSync(pcap, { force: true });
      const counted = (d['TcpExtTCPChallengeACK'] ?? 0) + (d['TcpExtTCPACKSkippedChallenge'] ?? 0) + (d['TcpEstabResets'] ?? 0);
      if (counted > 0 || inj.code !== 0 || curl.code !== 0) break;
      console.log(`# interop blind-rst (kernel): attempt ${attempt}: ${left} RSTs reached the server, ${inWindow} in its window, and it counted none of them (injector ${inj.out.trim()}), again`);
    }
    console.log(`# interop blind-rst (kernel): curl ${curl.out}; injector ${inj.out.trim()}; ${left} RSTs arrived, ${inWindow} in the offered window; TCPChallengeACK ${d['TcpExtTCPChallengeACK'] ?? 0}, TCPACKSkippedChallenge ${d['TcpExtTCPACKSkippedChallenge'] ?? 0}, EstabResets ${d['TcpEstabResets'] ?? 0}`);
    assert.equal(inj.code, 0, inj.out);
    assert.equal(curl.code, 0, curl.out);
    assert.equal(curl.out.trim(), '200 20000000');
    assert.equal(left, 200, 'every RST reached the server');
    assert.ok((d['TcpExtTCPChallengeACK'] ?? 0) > 0);
    // tcp_sequence: an RST beyond RCV.NXT + the window the server last offered is dropped
    // unseen; each one inside gets a challenge ACK or is skipped by the per-socket limit. The
    // window varies run to run (seen 6,2 KB and over 19,4 KB), so it is read off the wire.
    assert.equal((d['TcpExtTCPChallengeACK'] ?? 0) + (d['TcpExtTCPACKSkippedChallenge'] ?? 0), inWindow);
    assert.equal(d['TcpEstabResets'] ?? 0, 0);
  } finally {
    srv.kill('SIGTERM');
    await env.close();
  }
});
