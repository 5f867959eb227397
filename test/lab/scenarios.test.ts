// The first lab scenarios: each run's JSON trace must show the behaviour the scenario states,
// the CLI must print the same JSON, and the pcap must open in tshark with no malformed packet.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runScenario } from '../../src/lab/runner.ts';
import { toJson, toPcap, type JsonEvent, type LabJson } from '../../src/lab/export.ts';
import { SCENARIOS } from '../../src/lab/scenarios/index.ts';

const run = async (id: string, set: Record<string, string> = {}): Promise<LabJson> => toJson(await runScenario(id, { seed: 1, set }));
const segs = (t: LabJson, f: Record<string, unknown>) => t.events.filter((e) => e.kind === 'segment' && Object.entries(f).every(([k, v]) => e[k] === v));
const states = (t: LabJson, f: Record<string, unknown>) => t.events.filter((e) => e.kind === 'state' && Object.entries(f).every(([k, v]) => e[k] === v));
const errors = (t: LabJson, f: Record<string, unknown>) => t.events.filter((e) => e.kind === 'error' && Object.entries(f).every(([k, v]) => e[k] === v));
const path = (t: LabJson, host: string) => states(t, { host }).filter((e) => e['socket'] !== '0.0.0.0:80').map((e) => e['to']);
const flagsOut = (t: LabJson, host: string) => segs(t, { host, dir: 'out' }).map((e) => e['flags']);
const num = (e: JsonEvent | undefined, k: string): number => {
  assert.ok(e, `event missing (wanted ${k})`);
  return e[k] as number;
};

test('handshake-close: three-way handshake, four-way close, client TIME_WAIT for exactly 60 s', async () => {
  const t = await run('handshake-close');
  assert.deepEqual(path(t, 'client'), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED']);
  assert.deepEqual(path(t, 'server'), ['SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  // client: SYN, ACK, request, quick ACK of the response, FIN, last ACK.
  // server: SYN-ACK, quick ACK of the request, response, delayed ACK of the FIN, FIN.
  // The first data segments are ACKed at once (Linux quickack mode, tcp_incr_quickack).
  assert.deepEqual(flagsOut(t, 'client'), ['S', '.', 'P.', '.', 'F.', '.']);
  assert.deepEqual(flagsOut(t, 'server'), ['S.', '.', 'P.', '.', 'F.']);
  const [syn] = segs(t, { host: 'client', dir: 'out', flags: 'S' });
  const [synack] = segs(t, { host: 'server', dir: 'out', flags: 'S.' });
  // Linux's SYN: window 64240, options mss, sackOK, TS, nop, wscale 7 (tcp_options_write order).
  assert.equal(syn!['win'], 64240);
  assert.match(syn!['options'] as string, /^mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale 7$/);
  assert.equal(num(synack, 'ack'), (num(syn, 'seq') + 1) >>> 0);
  // The SYN-ACK's window is a multiple of the MSS less the timestamp option: 45 x 1448
  // (observed: docs/linux-observations.md, question 1).
  assert.equal(synack!['win'], 65160);
  const third = segs(t, { host: 'client', dir: 'out', flags: '.' })[0]!;
  assert.equal(third['win'], 502, 'third ACK: 64256 >> 7, as Linux advertises after the handshake');
  assert.equal(num(third, 'ack'), (num(synack, 'seq') + 1) >>> 0);
  // The server ACKs the FIN after the 40 ms delayed-ACK timer (pingpong mode), then closes 100 ms after EOF.
  const cfin = segs(t, { host: 'client', dir: 'out', flags: 'F.' })[0]!;
  const sack = segs(t, { host: 'server', dir: 'out', flags: '.' }).find((e) => (e['t_ms'] as number) > (cfin['t_ms'] as number))!;
  assert.equal(sack['t_ms'] as number, (cfin['t_ms'] as number) + 5 + 40);
  assert.equal(num(sack, 'ack'), (num(cfin, 'seq') + 1) >>> 0);
  const tw = states(t, { host: 'client', to: 'TIME_WAIT' })[0]!;
  const closed = states(t, { host: 'client', from: 'TIME_WAIT', to: 'CLOSED' })[0]!;
  assert.equal((closed['t_ms'] as number) - (tw['t_ms'] as number), 60000);
  assert.equal(t.counters['client']!['TcpExtTW'], 1);
  assert.equal(t.counters['client']!['TcpActiveOpens'], 1);
  assert.equal(t.counters['server']!['TcpPassiveOpens'], 1);
  assert.equal(t.counters['server']!['TcpExtDelayedACKs'], 1);
});

test('close-unsent-data: close() with 1 MB queued enters FIN_WAIT1 at once and loses nothing', async () => {
  const t = await run('close-unsent-data');
  const close = t.events.find((e) => e.kind === 'call' && e.host === 'server' && e['call'] === 'close')!;
  const fw1 = states(t, { host: 'server', to: 'FIN_WAIT1' })[0]!;
  assert.equal(fw1['t_ms'], close['t_ms'], 'FIN_WAIT1 at the close() call');
  const [synack] = segs(t, { host: 'server', dir: 'out', flags: 'S.' });
  const data = segs(t, { host: 'server', dir: 'out' }).filter((e) => (e['len'] as number) > 0);
  const bytes = data.reduce((n, e) => n + (e['len'] as number), 0);
  assert.equal(bytes, 1_000_000, 'every byte sent once (no retransmission on a clean link)');
  const fins = segs(t, { host: 'server', dir: 'out' }).filter((e) => (e['flags'] as string).includes('F'));
  assert.equal(fins.length, 1);
  const fin = fins[0]!;
  assert.equal((num(fin, 'seq') + num(fin, 'len')) >>> 0, (num(synack, 'seq') + 1 + 1_000_000) >>> 0, 'the FIN comes right after the last byte');
  assert.ok((fin['t_ms'] as number) > (close['t_ms'] as number) + 1000, 'the FIN leaves long after close()');
  const reads = t.events.filter((e) => e.kind === 'call' && e.host === 'client' && e['call'] === 'read');
  const got = reads.reduce((n, e) => n + (/^\d+$/.test(e['result'] as string) ? Number(e['result']) : 0), 0);
  assert.equal(got, 1_000_000);
  assert.equal(reads[reads.length - 1]!['result'], '0 (EOF)');
  assert.equal(segs(t, {}).filter((e) => (e['flags'] as string).includes('R')).length, 0);
});

test('close-unread-data: RST instead of FIN, ECONNRESET at the client', async () => {
  const t = await run('close-unread-data');
  const rst = segs(t, { host: 'server', dir: 'out', flags: 'R.' });
  assert.equal(rst.length, 1);
  assert.equal(segs(t, { host: 'server', dir: 'out' }).filter((e) => (e['flags'] as string).includes('F')).length, 0, 'no FIN');
  const resp = segs(t, { host: 'server', dir: 'out', flags: 'P.' })[0]!;
  assert.equal(num(rst[0], 'seq'), (num(resp, 'seq') + num(resp, 'len')) >>> 0, 'RST at SND.NXT');
  assert.deepEqual(path(t, 'server'), ['SYN_RECV', 'ESTABLISHED', 'CLOSED']);
  assert.equal(t.counters['server']!['TcpExtTCPAbortOnClose'], 1);
  assert.equal(errors(t, { host: 'client', code: 'ECONNRESET' }).length, 1);
  const reads = t.events.filter((e) => e.kind === 'call' && e.host === 'client' && e['call'] === 'read').map((e) => e['result']);
  assert.deepEqual(reads, ['43', 'ECONNRESET'], 'the response is read first, then the reset');
});

test('linger-zero: RST at close(), no TIME_WAIT on either side', async () => {
  const t = await run('linger-zero');
  assert.equal(segs(t, { host: 'client', dir: 'out', flags: 'R.' }).length, 1);
  assert.equal(states(t, { to: 'TIME_WAIT' }).length, 0);
  assert.deepEqual(path(t, 'client'), ['SYN_SENT', 'ESTABLISHED', 'CLOSED']);
  assert.equal(t.counters['client']!['TcpExtTCPAbortOnData'], 1);
  assert.equal(errors(t, { host: 'server', code: 'ECONNRESET' }).length, 1);
  assert.equal(t.sockets['client']!.length, 0);
});

test('half-close: the server keeps sending after the client shut its write side', async () => {
  const t = await run('half-close');
  assert.deepEqual(path(t, 'client'), ['SYN_SENT', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSED']);
  assert.deepEqual(path(t, 'server'), ['SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  const fw2 = states(t, { host: 'client', to: 'FIN_WAIT2' })[0]!;
  const after = segs(t, { host: 'server', dir: 'out', flags: 'P.' }).filter((e) => (e['t_ms'] as number) > (fw2['t_ms'] as number));
  assert.equal(after.length, 3, 'three pieces of output after the client FIN');
  const reads = t.events.filter((e) => e.kind === 'call' && e.host === 'client' && e['call'] === 'read').map((e) => e['result']);
  assert.deepEqual(reads, ['14', '14', '14', '0 (EOF)']);
});

test('simultaneous-close: both sides pass CLOSING and both hold TIME_WAIT', async () => {
  const t = await run('simultaneous-close');
  for (const h of ['client', 'server']) {
    assert.deepEqual(path(t, h).slice(-4), ['FIN_WAIT1', 'CLOSING', 'TIME_WAIT', 'CLOSED']);
  }
  assert.equal(states(t, { to: 'CLOSING' }).length, 2);
});

test('keepalive-dead-peer: 9 probes 75 s apart after 7200 s, then RST and ETIMEDOUT', async () => {
  const t = await run('keepalive-dead-peer');
  const probes = segs(t, { host: 'client', dir: 'out', note: 'keepalive probe' });
  assert.equal(probes.length, 9);
  const lastRx = segs(t, { host: 'client', dir: 'in' }).filter((e) => (e['t_ms'] as number) < 7_200_000).pop()!;
  assert.equal((probes[0]!['t_ms'] as number) - (lastRx['t_ms'] as number), 7_200_000);
  for (let i = 1; i < 9; i++) assert.equal((probes[i]!['t_ms'] as number) - (probes[i - 1]!['t_ms'] as number), 75_000);
  for (const p of probes) {
    assert.equal(p['flags'], '.');
    assert.equal(p['len'], 0);
    assert.equal(num(p, 'seq'), (num(lastRx, 'ack') - 1) >>> 0, 'probe SEQ = SND.UNA - 1');
  }
  const err = errors(t, { host: 'client', code: 'ETIMEDOUT' });
  assert.equal(err.length, 1);
  assert.equal((err[0]!['t_ms'] as number) - (probes[8]!['t_ms'] as number), 75_000);
  const rst = segs(t, { host: 'client', dir: 'out', flags: 'R.' });
  assert.equal(rst.length, 1);
  assert.equal(rst[0]!['t_ms'], err[0]!['t_ms']);
  assert.equal(t.counters['client']!['TcpExtTCPKeepAlive'], 9);
  assert.equal(t.counters['client']!['TcpExtTCPAbortOnTimeout'], 1);
});

test('keepalive-alive-peer: each probe is ACKed, the connection stays', async () => {
  const t = await run('keepalive-alive-peer');
  const probes = segs(t, { host: 'client', dir: 'out', note: 'keepalive probe' });
  assert.equal(probes.length, 2, 'at 2 h and 4 h in a 5 h watch');
  for (const p of probes) {
    const answer = segs(t, { host: 'server', dir: 'out' }).find((e) => e['t_ms'] === (p['t_ms'] as number) + 5)!;
    assert.equal(answer['flags'], '.');
    assert.equal(num(answer, 'ack'), (num(p, 'seq') + 1) >>> 0, 'the peer ACKs with its RCV.NXT');
  }
  assert.equal((probes[1]!['t_ms'] as number) - (probes[0]!['t_ms'] as number), 7_200_010, 'next probe 7200 s after the answer arrived');
  assert.equal(errors(t, {}).length, 0);
  assert.equal(t.sockets['client']![0]!.state, 'ESTABLISHED');
});

test('keepalive-rebooted-peer: the probe meets a RST, the client sees ECONNRESET', async () => {
  const t = await run('keepalive-rebooted-peer');
  const probe = segs(t, { host: 'client', dir: 'out', note: 'keepalive probe' });
  assert.equal(probe.length, 1);
  const rst = segs(t, { host: 'server', dir: 'out', flags: 'R' });
  assert.equal(rst.length, 1);
  assert.equal(num(rst[0], 'seq'), num(probe[0], 'ack'), 'RST seq = the probe\'s ACK (RFC 9293 §3.10.7.1)');
  assert.equal(errors(t, { host: 'client', code: 'ECONNRESET' }).length, 1);
  // The crash took the server's ESTABLISHED socket: the CurrEstab gauge is back to 0 (found by
  // the soak's invariant TcpCurrEstab = sockets in ESTABLISHED or CLOSE_WAIT; it stayed at 1).
  assert.equal(t.counters['server']!['TcpCurrEstab'] ?? 0, 0);
});

test('the CLI prints the same JSON and rejects bad arguments with exit 2', async () => {
  const r = spawnSync(process.execPath, ['bin/linger.mjs', 'lab', 'run', 'linger-zero', '--json', '--seed', '1'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as LabJson;
  assert.deepEqual(j, JSON.parse(JSON.stringify(await run('linger-zero'))));
  for (const e of j.events) {
    assert.equal(typeof e.t_ms, 'number');
    assert.ok(['segment', 'state', 'timer', 'call', 'error', 'drop'].includes(e.kind), e.kind);
  }
  const bad = spawnSync(process.execPath, ['bin/linger.mjs', 'lab', 'run', 'no-such-scenario'], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /unknown scenario "no-such-scenario"/);
  const badSet = spawnSync(process.execPath, ['bin/linger.mjs', 'lab', 'run', 'handshake-close', '--set', 'latency_ms=-3'], { encoding: 'utf8' });
  assert.equal(badSet.status, 2);
  assert.match(badSet.stderr, /outside 0\.\.1000/);
  // --max-lines was taken as Number(): "abc" and "-5" printed a cut timeline with exit 0.
  for (const v of ['abc', '-5', '0']) {
    const r = spawnSync(process.execPath, ['bin/linger.mjs', 'lab', 'run', 'handshake-close', '--max-lines', v], { encoding: 'utf8' });
    assert.equal(r.status, 2, v);
    assert.equal(r.stderr, `linger: --max-lines takes a positive integer, got "${v}"\n`);
  }
});

test('every scenario\'s pcap opens in tshark with no malformed packet', async () => {
  const probe = spawnSync('tshark', ['--version'], { encoding: 'utf8' });
  assert.equal(probe.error, undefined, 'tshark is missing: run `bash scripts/install-debian-deps.sh` as root (npm test does it)');
  const dir = mkdtempSync(join(tmpdir(), 'linger-pcap-'));
  try {
    for (const s of SCENARIOS) {
      const r = await runScenario(s.id, { seed: 1 });
      const file = join(dir, `${s.id}.pcap`);
      writeFileSync(file, toPcap(r));
      const sent = r.events.filter((e) => e.kind === 'segment' && e.dir === 'out').length;
      const all = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'tcp.srcport'], { encoding: 'utf8', maxBuffer: 1 << 26 });
      assert.equal(all.status, 0, all.stderr);
      assert.equal(all.stdout.trim().split('\n').length, sent, `${s.id}: every packet decoded as TCP`);
      const bad = spawnSync('tshark', ['-r', file, '-Y', '_ws.malformed || tcp.checksum.status == 0 || ip.checksum.status == 0', '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE'], { encoding: 'utf8', maxBuffer: 1 << 26 });
      assert.equal(bad.status, 0, bad.stderr);
      assert.equal(bad.stdout.trim(), '', `${s.id}: malformed or bad-checksum packets:\n${bad.stdout}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('proxy-idle-timeout: a proxy idle timeout longer than the backend keep-alive fails requests; shorter, none fail', async () => {
  const t = await run('proxy-idle-timeout');
  const fails = t.events.filter((e) => e.kind === 'http' && e['phase'] === 'error');
  assert.equal(fails.length, 3, 'every reuse after 4.99 s meets the backend\'s close');
  // The backend sends the first FIN (its keep-alive ends first); the proxy passes it on.
  const fins = segs(t, { dir: 'out' }).filter((e) => (e['flags'] as string).includes('F'));
  assert.equal(fins[0]!['host'], 'server');
  assert.equal(fins[1]!['host'], 'proxy');
  assert.equal(t.counters['server']!['TcpExtTCPAbortOnData'], 3, 'the late requests were reset by the backend');
  const u = await run('proxy-idle-timeout', { proxy_idle_ms: '3000' });
  assert.equal(u.events.filter((e) => e.kind === 'http' && e['phase'] === 'error').length, 0);
  assert.equal(u.events.filter((e) => e.kind === 'http' && e['phase'] === 'response').length, 6);
  // The proxy ends idle connections first, with resets to both sides, before the backend's 5 s.
  assert.equal(segs(u, { host: 'server', dir: 'out' }).filter((e) => (e['flags'] as string).includes('F')).length, 0);
  assert.equal(segs(u, { host: 'proxy', dir: 'out', flags: 'R.' }).length, 12);
  // The proxy's profile: TIME_WAIT for 2 s instead of 60 s.
  assert.equal(t.sockets['proxy']!.filter((s) => s.state === 'TIME_WAIT').length, 0);
});
