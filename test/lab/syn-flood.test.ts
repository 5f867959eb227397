// The syn-flood scenario (topic F): spoofed SYNs that never answer against a listener, with and
// without SYN cookies, while legitimate clients connect one after another. Small runs (a few
// thousand SYNs) keep it fast; the counts follow from Linux's rules exactly: the SYN queue
// keeps backlog + 1 requests (inet_csk_reqsk_queue_is_full: qlen > backlog, observed on 6.18),
// every later SYN gets a cookie (tcp_syncookies=1) or is dropped (0).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../src/lab/runner.ts';
import { toJson, type LabJson } from '../../src/lab/export.ts';

const SMALL = { syns: '3000', flood_s: '2', clients: '10', backlog: '16' };
const run = async (set: Record<string, string>): Promise<LabJson> => toJson(await runScenario('syn-flood', { seed: 1, set: { ...SMALL, ...set } }));
const cnt = (t: LabJson, host: string, name: string): number => t.counters[host]?.[name] ?? 0;
const established = (t: LabJson) => t.events.filter((e) => e.kind === 'state' && e.host === 'client' && e['to'] === 'ESTABLISHED').length;
const notes = (t: LabJson) => t.events.filter((e) => e.kind === 'call' && e['call'] === 'note').map((e) => String(e['args']));

test('syn-flood, syncookies=1: every legitimate client connects from a cookie; the SYN queue holds backlog + 1 requests; nothing of the flood is traced', async () => {
  const t = await run({});
  assert.equal(established(t), 10);
  assert.equal(t.events.filter((e) => e.kind === 'error').length, 0);
  // 17 requests (backlog 16 + 1), then a cookie for each of the other 2983 spoofed SYNs and for each client.
  assert.equal(cnt(t, 'server', 'TcpExtSyncookiesSent'), 3000 - 17 + 10);
  assert.equal(cnt(t, 'server', 'TcpExtTCPReqQFullDoCookies'), 3000 - 17 + 10);
  assert.equal(cnt(t, 'server', 'TcpExtSyncookiesRecv'), 10);
  assert.equal(cnt(t, 'server', 'TcpExtSyncookiesFailed'), 0);
  assert.equal(cnt(t, 'server', 'TcpPassiveOpens'), 10);
  assert.equal(cnt(t, 'server', 'TcpExtListenDrops'), 0);
  assert.equal(cnt(t, 'server', 'TcpExtTCPReqQFullDrop'), 0);
  // The one-time kernel log line of tcp_syn_flood_action.
  assert.deepEqual(t.events.filter((e) => e.kind === 'drop').map((e) => e['reason']), ['TCP: Possible SYN flooding on port 0.0.0.0:80. Sending cookies.  Check SNMP counters.']);
  // No attacker segment in the trace: the server's segments are the 10 clients' only.
  const seg = t.events.filter((e) => e.kind === 'segment');
  assert.ok(seg.every((e) => !String(e['src']).startsWith('198.51.100.') && !String(e['dst']).startsWith('198.51.100.')));
  assert.equal(seg.filter((e) => e.host === 'server' && e['dir'] === 'out' && e['flags'] === 'S.').length, 10);
  // At 1 s: 1515 sent, the burst of that instant (15) still on the 1 ms link: 1500 - 17 + 6 clients
  // = 1489 cookies; 17 requests x 320 bytes (request_sock_TCP) = 5.3 KiB.
  assert.equal(notes(t)[0], 'SYN queue 17/16, sockets 0, kernel memory 5.3 KiB; spoofed SYNs so far 1515, cookies sent 1489, received 6, ListenDrops 0');
  assert.ok(notes(t).every((n) => n.startsWith('SYN queue 17/16')), 'the queue stays at its limit for the whole run');
});

test('syn-flood, syncookies=0: the full SYN queue drops every later SYN, the clients\' too (ListenDrops = TCPReqQFullDrop); no client connects', async () => {
  const t = await run({ syncookies: '0' });
  assert.equal(established(t), 0);
  assert.equal(cnt(t, 'server', 'TcpExtSyncookiesSent'), 0);
  // Every segment the server took was a SYN; all but the 17 requests were dropped.
  const inSegs = cnt(t, 'server', 'TcpInSegs');
  assert.equal(cnt(t, 'server', 'TcpExtListenDrops'), inSegs - 17);
  assert.equal(cnt(t, 'server', 'TcpExtTCPReqQFullDrop'), inSegs - 17);
  // The clients retransmit their SYNs (1, 3, 7 s ... after each first one).
  assert.ok(cnt(t, 'client', 'TcpExtTCPSynRetrans') >= 10 * 3);
  assert.deepEqual(t.events.filter((e) => e.kind === 'drop').map((e) => e['reason']), ['TCP: Possible SYN flooding on port 0.0.0.0:80. Dropping request.  Check SNMP counters.']);
});

test('syn-flood, syncookies=2: cookies for every SYN, no request kept at all', async () => {
  const t = await run({ syncookies: '2' });
  assert.equal(established(t), 10);
  assert.equal(cnt(t, 'server', 'TcpExtSyncookiesSent'), 3010);
  assert.equal(cnt(t, 'server', 'TcpExtSyncookiesRecv'), 10);
  assert.equal(cnt(t, 'server', 'TcpRetransSegs'), 0, 'no request, so no SYN-ACK retransmission');
  assert.ok(notes(t).every((n) => n.startsWith('SYN queue 0/16, sockets 0, kernel memory 0.0 KiB')));
  assert.equal(t.events.filter((e) => e.kind === 'drop').length, 0, 'no "Possible SYN flooding" line with tcp_syncookies=2');
});

test('syn-flood over IPv6: cookies from the IPv6 MSS table, every client connects', async () => {
  const t = await run({ ipv6: '1' });
  assert.equal(established(t), 10);
  assert.equal(cnt(t, 'server', 'TcpExtSyncookiesRecv'), 10);
  assert.equal(cnt(t, 'server', 'TcpExtSyncookiesFailed'), 0);
});
