import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  DEFAULT_SNAPLEN,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_RAW,
  PcapWriter,
  readPcap,
} from '../../src/wire/pcap.ts';
import { assertError, assertOk, FIXTURES, fromHex, hex, kernelPacket } from './helpers.ts';

test('writer: the global header is libpcap 2.4, microseconds, snaplen 262144, LINKTYPE_RAW', () => {
  const w = new PcapWriter();
  assert.equal(w.count, 0);
  const b = w.bytes();
  assert.equal(hex(b), 'd4c3b2a1' + '0200' + '0400' + '00000000' + '00000000' + '00000400' + '65000000');
  assert.equal(DEFAULT_SNAPLEN, 262144);
  assert.deepEqual(assertOk(readPcap(b)), []);
});

test('writer: record headers hold seconds, microseconds, caplen, origlen', () => {
  const w = new PcapWriter();
  w.add(1_700_000_000_123_456, fromHex('45aabb'));
  assert.equal(w.count, 1);
  const b = w.bytes();
  assert.equal(b.length, 24 + 16 + 3);
  const dv = new DataView(b.buffer);
  assert.equal(dv.getUint32(24, true), 1_700_000_000);
  assert.equal(dv.getUint32(28, true), 123_456);
  assert.equal(dv.getUint32(32, true), 3);
  assert.equal(dv.getUint32(36, true), 3);
  assert.equal(hex(b.subarray(40)), '45aabb');
  assert.throws(() => w.add(-1, new Uint8Array(1)), RangeError);
  assert.throws(() => w.add(1.5, new Uint8Array(1)), RangeError);
});

test('writer: take() streams the file in pieces that concatenate to the whole, then bytes() refuses', () => {
  const whole = new PcapWriter();
  const streamed = new PcapWriter();
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) {
    const p = new Uint8Array([0x45, i, i]);
    whole.add(i, p);
    streamed.add(i, p);
    if (i % 2 === 1) parts.push(streamed.take());
  }
  parts.push(streamed.take());
  parts.push(streamed.take()); // nothing new: empty, and no second header
  assert.deepEqual(parts.map((p) => p.length), [24 + 2 * 19, 2 * 19, 19, 0]);
  assert.equal(hex(Buffer.concat(parts)), hex(whole.bytes()));
  assert.equal(streamed.count, 5);
  assert.throws(() => streamed.bytes(), /after take\(\)/);
});

test('write then read: timestamps, data, link type and lengths survive; snaplen cuts', () => {
  const w = new PcapWriter({ snaplen: 100 });
  const pkts = [kernelPacket('ipv4-connection', 1).bytes, kernelPacket('ipv6-connection', 4).bytes, new Uint8Array(150).fill(0x45)];
  pkts.forEach((p, i) => w.add(1000 * i + 999_999, p));
  const r = assertOk(readPcap(w.bytes()));
  assert.equal(r.length, 3);
  r.forEach((rec, i) => {
    assert.equal(rec.tsUs, 1000 * i + 999_999);
    assert.equal(rec.linktype, LINKTYPE_RAW);
    assert.equal(rec.origLen, pkts[i]!.length);
    assert.equal(hex(rec.data), hex(pkts[i]!.subarray(0, 100)));
  });
  assert.deepEqual(r.map((x) => x.etherType), [ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_IPV4]);
  assert.equal(r[2]!.data.length, 100);
  // The writer copies: changing the input afterwards does not change the file.
  const w2 = new PcapWriter();
  const p = new Uint8Array([0x45, 1]);
  w2.add(0, p);
  p[1] = 2;
  assert.equal(assertOk(readPcap(w2.bytes()))[0]!.data[1], 1);
});

/** A big-endian pcap with the given magic and link type holding these frames. */
function bigEndianPcap(magic: number, linktype: number, frames: Array<[number, number, Uint8Array]>): Uint8Array {
  const size = 24 + frames.reduce((n, [, , f]) => n + 16 + f.length, 0);
  const b = new Uint8Array(size);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, magic);
  dv.setUint16(4, 2);
  dv.setUint16(6, 4);
  dv.setUint32(16, 65535);
  dv.setUint32(20, linktype);
  let o = 24;
  for (const [sec, frac, f] of frames) {
    dv.setUint32(o, sec);
    dv.setUint32(o + 4, frac);
    dv.setUint32(o + 8, f.length);
    dv.setUint32(o + 12, f.length + 4);
    b.set(f, o + 16);
    o += 16 + f.length;
  }
  return b;
}

test('reads big-endian files and nanosecond magic', () => {
  const ip = fromHex('4500');
  const us = assertOk(readPcap(bigEndianPcap(0xa1b2c3d4, LINKTYPE_RAW, [[2, 500_000, ip]])));
  assert.equal(us[0]!.tsUs, 2_500_000);
  assert.equal(us[0]!.origLen, 6);
  assert.equal(hex(us[0]!.data), '4500');
  const ns = assertOk(readPcap(bigEndianPcap(0xa1b23c4d, LINKTYPE_RAW, [[3, 123_456_789, ip]])));
  assert.equal(ns[0]!.tsUs, 3_123_456);
  // Little-endian nanosecond: flip the header of a written file.
  const w = new PcapWriter();
  w.add(0, ip);
  const le = w.bytes();
  new DataView(le.buffer).setUint32(0, 0xa1b23c4d, true);
  new DataView(le.buffer).setUint32(28, 999_999_999, true);
  assert.equal(assertOk(readPcap(le))[0]!.tsUs, 999_999);
});

test('strips Ethernet (with 802.1Q tags), Linux SLL and SLL2 headers; raw IPv4 link type', () => {
  const ip = fromHex('60000000');
  const eth = fromHex('020000000001020000000002' + '86dd');
  const vlan = fromHex('020000000001020000000002' + '8100' + '0064' + '88a8' + '0001' + '0800');
  const sll = fromHex('0000' + '0304' + '0006' + '000000000000' + '0000' + '86dd');
  const sll2 = fromHex('0800' + '0000' + '00000001' + '0304' + '00' + '06' + '0000000000000000');
  const cat = (a: Uint8Array, b: Uint8Array) => new Uint8Array([...a, ...b]);
  const e = assertOk(readPcap(bigEndianPcap(0xa1b2c3d4, LINKTYPE_ETHERNET, [[1, 0, cat(eth, ip)], [1, 1, cat(vlan, ip)]])));
  assert.deepEqual(e.map((r) => [hex(r.data), r.etherType, r.linktype]), [['60000000', 0x86dd, 1], ['60000000', 0x0800, 1]]);
  const s = assertOk(readPcap(bigEndianPcap(0xa1b2c3d4, LINKTYPE_LINUX_SLL, [[1, 0, cat(sll, ip)]])));
  assert.deepEqual([hex(s[0]!.data), s[0]!.etherType, s[0]!.linktype], ['60000000', 0x86dd, 113]);
  const s2 = assertOk(readPcap(bigEndianPcap(0xa1b2c3d4, LINKTYPE_LINUX_SLL2, [[1, 0, cat(sll2, ip)]])));
  assert.deepEqual([hex(s2[0]!.data), s2[0]!.etherType, s2[0]!.linktype], ['60000000', 0x0800, 276]);
  const v4 = assertOk(readPcap(bigEndianPcap(0xa1b2c3d4, LINKTYPE_IPV4, [[1, 0, fromHex('4500')]])));
  assert.equal(v4[0]!.etherType, 0x0800);
  // Frames too short for their link header.
  assertError(readPcap(bigEndianPcap(0xa1b2c3d4, LINKTYPE_ETHERNET, [[1, 0, eth.subarray(0, 13)]])), 'pcap', 'truncated');
  assertError(readPcap(bigEndianPcap(0xa1b2c3d4, LINKTYPE_ETHERNET, [[1, 0, vlan.subarray(0, 17)]])), 'pcap', 'truncated');
  assertError(readPcap(bigEndianPcap(0xa1b2c3d4, LINKTYPE_LINUX_SLL, [[1, 0, sll.subarray(0, 15)]])), 'pcap', 'truncated');
  assertError(readPcap(bigEndianPcap(0xa1b2c3d4, LINKTYPE_LINUX_SLL2, [[1, 0, sll2.subarray(0, 19)]])), 'pcap', 'truncated');
});

test('reads tcpdump\'s loopback capture: Ethernet link type, 14-byte header stripped', () => {
  const file = new Uint8Array(readFileSync(new URL('ipv4-connection.pcap', FIXTURES)));
  const r = assertOk(readPcap(file));
  assert.equal(r.length, 11);
  assert.ok(r.every((x) => x.linktype === LINKTYPE_ETHERNET && x.etherType === ETHERTYPE_IPV4));
  assert.equal(r[0]!.data.length, 60);
  assert.equal(r[0]!.origLen, 74);
  assert.equal(r[0]!.data.byteOffset - file.byteOffset, 24 + 16 + 14);
  assert.equal(r[0]!.tsUs, 0x6b0235da * 1e6 + 0x078cdc);
  assert.ok(r.every((x, i) => i === 0 || x.tsUs >= r[i - 1]!.tsUs));
  const v6 = assertOk(readPcap(new Uint8Array(readFileSync(new URL('ipv6-connection.pcap', FIXTURES)))));
  assert.ok(v6.every((x) => x.etherType === ETHERTYPE_IPV6 && x.data[0]! >> 4 === 6));
});

test('errors: bad magic, short header, cut records, unsupported link type; never a throw', () => {
  const w = new PcapWriter();
  w.add(5, fromHex('450000'));
  w.add(6, fromHex('4500'));
  const good = w.bytes();
  assertError(readPcap(fromHex('0a0d0d0a' + '00'.repeat(24))), 'pcap', 'bad-magic', 'pcapng');
  assertError(readPcap(new Uint8Array(24)), 'pcap', 'bad-magic');
  for (let len = 0; len < 24; len++) assertError(readPcap(good.subarray(0, len)), 'pcap', 'truncated', `length ${len}`);
  for (let len = 25; len < good.length; len++) {
    if (len === 24 + 16 + 3) continue; // a whole first record
    assertError(readPcap(good.subarray(0, len)), 'pcap', 'truncated', `length ${len}`);
  }
  assert.equal(assertOk(readPcap(good.subarray(0, 24 + 16 + 3))).length, 1);
  const other = good.slice();
  other[20] = 105; // 802.11
  const e = assertError(readPcap(other), 'pcap', 'unsupported-protocol');
  assert.match(e.detail, /105/);
});
