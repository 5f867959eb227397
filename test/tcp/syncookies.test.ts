// SYN cookies and the SYN queue (Linux tcp_conn_request, tcp_syn_flood_action, cookie_v4_check;
// src/tcp/syncookies.ts). The counts are those observed on 6.18 with python3 raw SYNs from
// spoofed sources in a namespace (nstat deltas of /proc/net/netstat), 2025-12-06:
//   syncookies=1, listen(3), 6 SYNs: 4 requests; SyncookiesSent 2, TCPReqQFullDoCookies 2, no ListenDrops
//   syncookies=0, listen(3), 6 SYNs: 4 requests; ListenDrops 2, TCPReqQFullDrop 2
//   syncookies=2, listen(3), 3 SYNs: no request; SyncookiesSent 3, TCPReqQFullDoCookies 3
//   syncookies=0, listen(20), tcp_max_syn_backlog 8, 12 SYNs: 7 requests; ListenDrops 5, no TCPReqQFullDrop
//   syncookies=1, SYN without TS: the cookie SYN-ACK carries only the MSS option.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HostConfig } from '../../src/base/config.ts';
import { defaultConfig } from '../../src/base/config.ts';
import { cookieCheck, cookieInitSequence, cookieInitTimestamp, cookieTimestampDecode, MSSTAB_V4, MSSTAB_V6 } from '../../src/tcp/syncookies.ts';
import { ACK, Harness, SYN, tsOf } from '../helpers/harness.ts';
import { linuxSynOptions } from '../../src/wire/tcp.ts';

/** A listener with `backlog` and `n` SYNs from ports 40000.. (TS, SACK, wscale 7 offered). */
function flood(backlog: number, n: number, config: Partial<HostConfig> = {}): { h: Harness; synacks: number; requests: number } {
  const h = new Harness(config);
  const l = h.host.socket();
  l.bind('0.0.0.0', 80);
  l.listen(backlog);
  let synacks = 0;
  for (let i = 0; i < n; i++) {
    h.remotePort = 40000 + i;
    h.inject({ flags: SYN, seq: 1000 * i, options: h.synOptions() });
    synacks += h.take().length;
  }
  const requests = h.host.sockets().filter((r) => r.state === 'SYN_RECV').length;
  return { h, synacks, requests };
}

test('tcp_syncookies=1: listen(3) keeps 4 requests (qlen > backlog is full), then cookies: SyncookiesSent, TCPReqQFullDoCookies, no drop', () => {
  const { h, synacks, requests } = flood(3, 6);
  assert.equal(requests, 4);
  assert.equal(synacks, 6);
  assert.equal(h.counter('TcpExtSyncookiesSent'), 2);
  assert.equal(h.counter('TcpExtTCPReqQFullDoCookies'), 2);
  assert.equal(h.counter('TcpExtListenDrops'), 0);
  assert.equal(h.counter('TcpExtTCPReqQFullDrop'), 0);
  // A cookie keeps nothing: only the 4 requests retransmit their SYN-ACK at 1 s.
  h.advance(1_100_000);
  assert.equal(h.take().length, 4);
});

test('tcp_syncookies=0: listen(3) keeps 4 requests, the other SYNs are dropped: ListenDrops and TCPReqQFullDrop', () => {
  const { h, synacks, requests } = flood(3, 6, { tcp_syncookies: 0 });
  assert.deepEqual([requests, synacks], [4, 4]);
  assert.equal(h.counter('TcpExtListenDrops'), 2);
  assert.equal(h.counter('TcpExtTCPReqQFullDrop'), 2);
  assert.equal(h.counter('TcpExtSyncookiesSent'), 0);
  assert.equal(h.events.filter((e) => e.kind === 'drop' && /Possible SYN flooding/.test(e.reason)).length, 1, 'logged once');
});

test('tcp_syncookies=2: every SYN gets a cookie, no request is kept', () => {
  const { h, synacks, requests } = flood(3, 3, { tcp_syncookies: 2 });
  assert.deepEqual([requests, synacks], [0, 3]);
  assert.equal(h.counter('TcpExtSyncookiesSent'), 3);
  assert.equal(h.counter('TcpExtTCPReqQFullDoCookies'), 3);
  assert.equal(h.events.filter((e) => e.kind === 'drop').length, 0, 'no "Possible SYN flooding" line with 2');
});

test('tcp_syncookies=0: the last quarter of tcp_max_syn_backlog is kept for proven peers: 8 -> 7 requests, ListenDrops only', () => {
  const { h, requests } = flood(20, 12, { tcp_syncookies: 0, tcp_max_syn_backlog: 8 });
  assert.equal(requests, 7);
  assert.equal(h.counter('TcpExtListenDrops'), 5);
  assert.equal(h.counter('TcpExtTCPReqQFullDrop'), 0);
});

test('a cookie SYN-ACK without timestamps offers only the MSS; with timestamps, what a request would', () => {
  const h = new Harness({ tcp_syncookies: 2 });
  const l = h.host.socket();
  l.bind('0.0.0.0', 80);
  l.listen(1);
  h.inject({ flags: SYN, seq: 1000, options: linuxSynOptions({ mss: 1460, sackPermitted: true, wscale: 7 }) });
  assert.deepEqual(h.one().tcp.options, [{ kind: 'mss', value: 1460 }]);
  h.remotePort++;
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  assert.deepEqual(h.one().tcp.options.map((o) => o.kind), ['mss', 'sackPermitted', 'timestamp', 'nop', 'wscale']);
});

test('cookie ACK: valid -> the child (SyncookiesRecv, PassiveOpens, accept()); a wrong number -> RST, SyncookiesFailed; too old -> RST', () => {
  const h = new Harness({ tcp_syncookies: 2 });
  const l = h.host.socket();
  l.bind('0.0.0.0', 80);
  l.listen(1);
  h.inject({ flags: SYN, seq: 1000, options: h.synOptions() });
  const sa = h.one();
  const ts = tsOf(sa)!.val;
  h.inject({ flags: ACK, seq: 1001, ack: (sa.tcp.seq + 2) >>> 0, options: h.ts(ts) });
  const rst = h.one();
  assert.deepEqual([rst.flags, rst.tcp.seq], ['R', (sa.tcp.seq + 2) >>> 0]);
  assert.equal(h.counter('TcpExtSyncookiesFailed'), 1);
  h.inject({ flags: ACK, seq: 1001, ack: (sa.tcp.seq + 1) >>> 0, options: h.ts(ts) });
  h.none();
  assert.equal(h.counter('TcpExtSyncookiesRecv'), 1);
  assert.equal(h.counter('TcpPassiveOpens'), 1);
  const c = l.accept();
  assert.ok(c);
  assert.equal(c.state, 'ESTABLISHED');
  // The same cookie two counts (2 to 3 minutes) later is too old: MAX_SYNCOOKIE_AGE.
  h.remotePort++;
  h.inject({ flags: SYN, seq: 5000, options: h.synOptions() });
  const sa2 = h.one();
  h.advance(150_000_000);
  // Another SYN now: an overflow within 2 min again, so the old ACK is checked (and fails).
  const old = h.remotePort;
  h.remotePort++;
  h.inject({ flags: SYN, seq: 9000, options: h.synOptions() });
  h.one();
  h.remotePort = old;
  h.inject({ flags: ACK, seq: 5001, ack: (sa2.tcp.seq + 1) >>> 0, options: h.ts(tsOf(sa2)!.val) });
  assert.equal(h.one().flags, 'R');
  assert.equal(h.counter('TcpExtSyncookiesFailed'), 2);
});

test('tcp_syncookies=1 with no overflow within 2 min: an ACK is not checked as a cookie (no SyncookiesFailed), just reset', () => {
  const h = new Harness();
  const l = h.host.socket();
  l.bind('0.0.0.0', 80);
  l.listen(1);
  h.inject({ flags: ACK, seq: 1001, ack: 12345 });
  assert.equal(h.one().flags, 'R');
  assert.equal(h.counter('TcpExtSyncookiesFailed'), 0);
});

test('cookie layout: the count in the top 8 bits, the MSS index rounds down in the table, valid for the next count only', () => {
  const t = { saddr: '10.0.0.9', daddr: '10.0.0.2', sport: 40000, dport: 80 };
  const k = cookieInitSequence(7, t, false, 1000, 1000, 0);
  assert.equal(k.mss, 536);
  assert.equal(cookieInitSequence(7, t, false, 1000, 65495, 0).mss, 1460);
  assert.equal(cookieInitSequence(7, t, false, 1000, 1439, 0).mss, 1300);
  assert.equal(cookieInitSequence(7, t, true, 1000, 1440, 0).mss, 1440);
  assert.deepEqual([MSSTAB_V4, MSSTAB_V6], [[536, 1300, 1440, 1460], [1220, 1420, 1440, 8940]]);
  // The count moves every 60 s: one step apart the top 8 bits differ by 1 (the rest is H1 + seq + H2).
  const a = cookieInitSequence(7, t, false, 0, 1460, 0).isn;
  const b = cookieInitSequence(7, t, false, 0, 1460, 60_000_000).isn;
  assert.notEqual(a, b);
  assert.equal(cookieCheck(7, t, false, k.isn, 1000, 59_999_999), 536);
  assert.equal(cookieCheck(7, t, false, k.isn, 1000, 119_999_999), 536, 'count + 1: still valid');
  assert.equal(cookieCheck(7, t, false, k.isn, 1000, 120_000_000), 0, 'count + 2: too old');
  assert.equal(cookieCheck(7, t, false, k.isn, 1001, 0), 0, 'another peer ISN');
  assert.equal(cookieCheck(8, t, false, k.isn, 1000, 0), 0, 'another host key');
  assert.equal(cookieCheck(7, { ...t, sport: 40001 }, false, k.isn, 1000, 0), 0, 'another port');
});

test('cookie timestamp: wscale in the low 4 bits (0xf: none), SACK bit 4, ECN bit 5; never ahead of the clock', () => {
  const ts = cookieInitTimestamp(100_000, { wscaleOk: true, sndWscale: 7, sackOk: true, ecnOk: false });
  assert.equal(ts & 63, 7 | 16);
  assert.ok(ts <= 100_000 && ts > 100_000 - 64);
  const cfg = defaultConfig();
  assert.deepEqual(cookieTimestampDecode(cfg, true, ts), { wscaleOk: true, sndWscale: 7, sackOk: true, ecnOk: false });
  assert.deepEqual(cookieTimestampDecode(cfg, true, cookieInitTimestamp(100_000, { wscaleOk: false, sndWscale: 0, sackOk: false, ecnOk: false })), { wscaleOk: false, sndWscale: 0, sackOk: false, ecnOk: false });
  assert.deepEqual(cookieTimestampDecode(cfg, false, 0), { wscaleOk: false, sndWscale: 0, sackOk: false, ecnOk: false });
  assert.equal(cookieTimestampDecode({ ...cfg, tcp_sack: 0 }, true, ts), null, 'SACK asked, now off');
  assert.equal(cookieTimestampDecode({ ...cfg, tcp_window_scaling: 0 }, true, ts), null, 'wscale asked, now off');
  assert.equal(cookieTimestampDecode({ ...cfg, tcp_timestamps: 0 }, true, ts), null, 'timestamps now off');
});
