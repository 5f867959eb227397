// Parsers of /proc/net/tcp, tcp6, sockstat, snmp and netstat, on files captured from the kernel
// (test/fixtures/proc/ns, see its README) and on hand-made malformed and IPv6 lines.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { SS_NAMES, STATE_NAMES, type TcpState } from '../../src/tcp/states.ts';
import {
  decodeEndpoint, endpoint, formatIPv6, parseNstatFile, parseProcNetTcp, parseSockstat, USER_HZ,
} from '../../src/inspect/proc.ts';

const NS = 'test/fixtures/proc/ns';
const HAND = 'test/fixtures/proc/handmade';
const read = (p: string): string => readFileSync(p, 'utf8');

test('captured /proc/net/tcp: every line parses, fields decoded', () => {
  const { sockets, errors } = parseProcNetTcp(read(`${NS}/net/tcp`), { family: 'ipv4', littleEndian: true });
  assert.deepEqual(errors, []);
  assert.equal(sockets.length, 17);
  const byState = (st: string) => sockets.filter((s) => s.state === st);
  assert.equal(byState('LISTEN').length, 2);
  assert.equal(byState('TIME_WAIT').length, 3);
  assert.equal(byState('CLOSE_WAIT').length, 3);
  assert.equal(byState('FIN_WAIT2').length, 3);
  assert.equal(byState('SYN_SENT').length, 1);
  assert.equal(byState('ESTABLISHED').length, 5);
  const full = sockets.find((s) => s.state === 'LISTEN' && s.localPort === 9102)!;
  assert.equal(full.localAddr, '127.0.0.1');
  assert.equal(full.rxQueue, 2, 'a listener\'s rx_queue is its accept queue length');
  for (const tw of byState('TIME_WAIT')) {
    assert.equal(tw.inode, 0);
    assert.equal(tw.timer.kind, 'timewait');
    assert.ok(tw.timer.expiresSec > 59 && tw.timer.expiresSec <= 60, `TIME_WAIT timer ${tw.timer.expiresSec} s (USER_HZ ticks / ${USER_HZ})`);
  }
  const orphanFw2 = byState('FIN_WAIT2').filter((s) => s.inode === 0);
  assert.equal(orphanFw2.length, 2);
  for (const s of orphanFw2) assert.ok(s.timer.kind === 'timewait' && s.timer.expiresSec > 29 && s.timer.expiresSec <= 30, 'tcp_fin_timeout was 30');
  const synSent = byState('SYN_SENT')[0]!;
  assert.equal(synSent.timer.kind, 'retransmit');
  assert.equal(synSent.txQueue, 1);
  assert.equal(synSent.extra.rtoSec, 1, 'rto column: the initial 1 s RTO');
});

/** Reads ss -tanoeH: state, local, peer, inode (ss's own decoding of the same sockets via sock_diag). */
function parseSs(text: string): { state: string; local: string; remote: string; inode: number }[] {
  const toName = new Map(Object.entries(SS_NAMES).map(([n, s]) => [s, STATE_NAMES[Number(n) as TcpState]]));
  const unmap = (e: string) => e.replace(/^\[::ffff:([\d.]+)\]/, '$1');
  return text.split('\n').filter((l) => l.trim()).map((l) => {
    const f = l.trim().split(/\s+/);
    const ino = /ino:(\d+)/.exec(l);
    return { state: toName.get(f[0]!) ?? f[0]!, local: unmap(f[3]!), remote: unmap(f[4]!), inode: Number(ino?.[1] ?? -1) };
  });
}

test('captured tcp + tcp6 agree with ss on the same sockets at the same moment', () => {
  const v4 = parseProcNetTcp(read(`${NS}/net/tcp`), { family: 'ipv4', littleEndian: true });
  const v6 = parseProcNetTcp(read(`${NS}/net/tcp6`), { family: 'ipv6', littleEndian: true });
  const ours = [...v4.sockets, ...v6.sockets]
    .map((s) => {
      const wild = s.state === 'LISTEN';
      const remote = wild ? (s.family === 'ipv6' && !s.v4mapped ? '[::]:*' : '0.0.0.0:*') : endpoint(s.remoteAddr, s.remotePort);
      const local = wild && s.localAddr === '::' ? `*:${s.localPort}` : endpoint(s.localAddr, s.localPort);
      return `${s.state} ${local} ${remote === '[::]:*' ? '*:*' : remote} ${s.inode}`;
    })
    .sort();
  const theirs = parseSs(read(`${NS}/ss.txt`)).map((s) => `${s.state} ${s.local} ${s.remote} ${s.inode}`).sort();
  assert.deepEqual(ours, theirs);
});

test('captured tcp6: IPv6, IPv4-mapped and the keepalive timer', () => {
  const { sockets, errors } = parseProcNetTcp(read(`${NS}/net/tcp6`), { family: 'ipv6', littleEndian: true });
  assert.deepEqual(errors, []);
  assert.equal(sockets.length, 4);
  const mapped = sockets.filter((s) => s.v4mapped);
  assert.equal(mapped.length, 1);
  assert.equal(mapped[0]!.localAddr, '127.0.0.1', '::ffff:127.0.0.1 is shown as the IPv4 address it carries');
  const ka = sockets.find((s) => s.timer.kind === 'keepalive')!;
  assert.equal(ka.localAddr, '::1');
  assert.equal(ka.remotePort, 9101);
  assert.ok(ka.timer.expiresSec > 590 && ka.timer.expiresSec <= 600, 'TCP_KEEPIDLE 600');
  assert.equal(endpoint(ka.localAddr, ka.localPort), `[::1]:${ka.localPort}`);
  assert.equal(sockets.find((s) => s.state === 'LISTEN')!.localAddr, '::');
});

test('hand-made tcp: malformed lines are reported with their line and reason, the rest is read', () => {
  const { sockets, errors } = parseProcNetTcp(read(`${HAND}/tcp`), { family: 'ipv4', littleEndian: true, file: 'tcp' });
  assert.deepEqual(errors.map((e) => e.line), [4, 5, 6, 7, 9, 10, 12, 16]);
  assert.match(errors[0]!.reason, /columns/);
  assert.match(errors[1]!.reason, /not 8 hex digits/);
  assert.match(errors[2]!.reason, /unknown state 0x0F/);
  assert.match(errors[3]!.reason, /port "23"/);
  assert.match(errors[5]!.reason, /missing rx_queue/);
  assert.match(errors[6]!.reason, /uid "root"/);
  for (const e of errors) assert.equal(e.file, 'tcp');
  assert.equal(sockets.length, 6);
  const est = sockets.find((s) => s.inode === 4242)!;
  assert.equal(est.localAddr, '10.1.2.3');
  assert.equal(est.localPort, 40000);
  assert.equal(est.remoteAddr, '10.1.2.4');
  assert.equal(est.remotePort, 5432);
  assert.equal(est.txQueue, 16);
  assert.equal(est.rxQueue, 512);
  assert.equal(est.uid, 1000);
  assert.deepEqual(est.timer, { kind: 'keepalive', expiresSec: 0xea5f / 100, retransmits: 0, probes: 0 });
  const extra = sockets.find((s) => s.inode === 5555)!;
  assert.equal(extra.localAddr, '192.168.7.9', 'unknown trailing columns are ignored');
  const old = sockets.find((s) => s.inode === 7777)!;
  assert.equal(old.timer.expiresSec, 0, 'a negative delta printed unsigned by old kernels is a timer already due');
  assert.equal(old.timer.retransmits, 3);
  const req = sockets.find((s) => s.remotePort === 0xa000)!;
  assert.equal(req.state, 'SYN_RECV', 'TCP_NEW_SYN_RECV (12) is SYN_RECV');
  assert.equal(sockets.find((s) => s.inode === 9999)!.state, 'CLOSE_WAIT', 'a CRLF line end is tolerated');
});

test('hand-made tcp6: RFC 5952 text, link-local, IPv4-mapped, wrong-length address', () => {
  const { sockets, errors } = parseProcNetTcp(read(`${HAND}/tcp6`), { family: 'ipv6', littleEndian: true });
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.line, 7);
  assert.match(errors[0]!.reason, /not 32 hex digits/);
  const eps = sockets.map((s) => `${endpoint(s.localAddr, s.localPort)} ${endpoint(s.remoteAddr, s.remotePort)}`);
  assert.deepEqual(eps, [
    '[2001:db8::1]:443 [2001:db8:0:1::1]:54321',
    '[fe80::1]:22 [fe80::abcd:ef01:2345:6789]:57344',
    '10.1.2.3:80 10.9.8.7:57345',
    '[::]:80 [::]:0',
    '[1:0:0:1::1]:80 [2001:db8:1:2:3:4:5:6]:57346',
  ]);
  assert.equal(sockets[1]!.state, 'CLOSE_WAIT');
  assert.equal(sockets[2]!.v4mapped, true);
  assert.equal(sockets[2]!.state, 'TIME_WAIT');
  assert.equal(sockets[2]!.timer.expiresSec, 30);
  assert.equal(sockets[0]!.timer.probes, 2, 'the "timeout" column counts keepalive probes sent');
});

test('byte order: each 32-bit word in host order; a big-endian machine prints bytes as they are', () => {
  assert.deepEqual(decodeEndpoint('0100007F:0050', 'ipv4', true), { addr: '127.0.0.1', port: 80, v4mapped: false });
  assert.deepEqual(decodeEndpoint('7F000001:0050', 'ipv4', false), { addr: '127.0.0.1', port: 80, v4mapped: false });
  assert.equal(decodeEndpoint('20010DB8000000000000000000000001:01BB', 'ipv6', false).addr, '2001:db8::1');
  assert.equal(decodeEndpoint('B80D0120000000000000000001000000:01BB', 'ipv6', true).addr, '2001:db8::1');
  assert.throws(() => decodeEndpoint('0100007F', 'ipv4', true), /no ':'/);
  assert.equal(formatIPv6(new Array(16).fill(0)), '::');
  assert.equal(formatIPv6([0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1]), '2001:db8::1:0:0:1', 'the first of two equal zero runs');
  assert.equal(formatIPv6([0x20, 1, 0xd, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]), '2001:db8:0:1:1:1:1:1', 'one zero group is not shortened');
});

test('captured snmp and netstat: nstat names', () => {
  const snmp = parseNstatFile(read(`${NS}/net/snmp`), 'snmp');
  const netstat = parseNstatFile(read(`${NS}/net/netstat`), 'netstat');
  assert.deepEqual(snmp.errors, []);
  assert.deepEqual(netstat.errors, []);
  const c = { ...snmp.counters, ...netstat.counters };
  // The capture opened 11 connections from clients in the namespace: 8 to 9100/9101, 3 to 9102.
  assert.equal(c['TcpActiveOpens'], 11);
  assert.equal(c['TcpPassiveOpens'], 10, 'the third client of the full listener is still in SYN_SENT');
  // TcpExtTW counts timewait minisockets as they are made: the 3 TIME_WAITs and the 2 orphaned
  // FIN_WAIT2 connections, which Linux also keeps as minisockets (tcp_time_wait(sk, TCP_FIN_WAIT2, ...)).
  assert.equal(c['TcpExtTW'], 5);
  assert.ok(c['TcpExtListenOverflows']! >= 1);
  assert.ok(c['TcpExtListenDrops']! >= 1);
  assert.equal(c['TcpMaxConn'], -1);
  assert.ok('IpInReceives' in c && 'TcpExtTCPAbortOnClose' in c && 'IpExtInOctets' in c);
});

test('hand-made snmp: missing values, count mismatch, bad numbers', () => {
  const { counters, errors } = parseNstatFile(read(`${HAND}/snmp`), 'snmp');
  assert.equal(counters['TcpActiveOpens'], 10);
  assert.equal(counters['TcpCurrEstab'], 5);
  assert.equal(counters['UdpInDatagrams'], 7, 'the common prefix of a short value line is kept');
  assert.ok(!('UdpNoPorts' in counters));
  assert.ok(!('IcmpInMsgs' in counters));
  assert.deepEqual(errors.map((e) => e.reason), [
    '2 names but 1 values: the common prefix is kept',
    'header of TcpExtLike not followed by its values',
    'not a number',
    'value line without a header line',
  ]);
});

test('sockstat: captured and hand-made', () => {
  const cap = parseSockstat(read(`${NS}/net/sockstat`));
  assert.deepEqual(cap.errors, []);
  assert.equal(cap.tcp!.tw, 5, 'sockstat tw counts TIME_WAIT and orphaned FIN_WAIT2 minisockets: 3 + 2');
  assert.equal(cap.tcp!.orphan, 0, 'FIN_WAIT2 moved to a minisocket no longer counts as an orphan');
  const hand = parseSockstat(read(`${HAND}/sockstat`), 'sockstat');
  assert.deepEqual(hand.tcp, { inuse: 3, orphan: 1, tw: 5, alloc: 9, mem: 2 });
  assert.equal(hand.all['TCP']!['newfield'], 7);
  assert.deepEqual(hand.errors.map((e) => e.line), [3, 4]);
});

test('random garbage never throws', () => {
  let seed = 7;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const base = read(`${NS}/net/tcp`).split('\n');
  for (let i = 0; i < 2000; i++) {
    const line = base[1 + Math.floor(rnd() * (base.length - 2))]!.split('');
    for (let k = 0; k < 3; k++) line[Math.floor(rnd() * line.length)] = String.fromCharCode(32 + Math.floor(rnd() * 95));
    const text = `${base[0]}\n${line.join('')}\n`;
    for (const family of ['ipv4', 'ipv6'] as const) {
      const r = parseProcNetTcp(text, { family, littleEndian: true });
      assert.equal(r.sockets.length + r.errors.length, 1);
    }
    parseNstatFile(line.join(''), 'x');
    parseSockstat(line.join(''));
  }
});
