// The reusable segments of a host's data path (wire/segment.ts): decodePacketInto fills one
// RxSegment packet after packet with what decodePacket gives, and a TxSegment encodes to the
// bytes of the equivalent plain TcpRepr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket, decodePacketInto, encodePacket, encodePacketSlab, makeIpRepr } from '../../src/wire/packet.ts';
import { RxSegment, scratchIpRepr, TxSegment, payloadLength } from '../../src/wire/segment.ts';
import { linuxDataOptions, linuxSynOptions } from '../../src/wire/tcp.ts';
import { ACK, PSH, SYN, type IpRepr, type TcpRepr } from '../../src/wire/types.ts';

const ip4 = makeIpRepr('10.0.0.1', '10.0.0.2', { id: 7 });
const ip6 = makeIpRepr('fd00::1', 'fd00::2', { flowLabel: 3 });
const seg = (over: Partial<TcpRepr>): TcpRepr => ({
  srcPort: 40000, dstPort: 80, seq: 0xfffffff0, ack: 0x80000001, flags: ACK, window: 502, urgent: 0, options: [], payload: new Uint8Array(0), ...over,
});
const data = Uint8Array.from({ length: 300 }, (_, i) => i & 0xff);

const cases: Array<[string, IpRepr, TcpRepr]> = [
  ['data with NOP NOP TS (the fast path)', ip4, seg({ flags: ACK | PSH, options: linuxDataOptions({ timestamp: { val: 0xdeadbeef, ecr: 5 } }), payload: data })],
  ['pure ACK without options (the fast path)', ip4, seg({})],
  ['SYN with every option (the general path)', ip4, seg({ flags: SYN, options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: 1, ecr: 0 }, wscale: 15 }) })],
  ['ACK with SACK blocks (the general path)', ip4, seg({ options: linuxDataOptions({ timestamp: { val: 9, ecr: 8 }, sack: [[100, 200], [300, 400]] }) })],
  ['IPv6 data (the general path)', ip6, seg({ options: linuxDataOptions({ timestamp: { val: 2, ecr: 3 } }), payload: data.subarray(0, 17) })],
];

test('decodePacketInto: one RxSegment reused gives decodePacket\'s segment for each packet, options as fields', () => {
  const rx = new RxSegment();
  const ip = scratchIpRepr();
  // Twice round, so each packet finds the segment filled by a different one before it.
  for (const [name, i, t] of [...cases, ...cases]) {
    const bytes = encodePacket(i, t);
    const want = decodePacket(bytes);
    assert.ok(want.ok);
    assert.equal(decodePacketInto(bytes, ip, rx), null, name);
    for (const k of ['version', 'src', 'dst', 'protocol', 'ttl', 'id', 'dontFragment', 'tos', 'flowLabel'] as const) assert.equal(ip[k], want.value.ip[k], `${name}: ip.${k}`);
    const w = want.value.tcp;
    for (const k of ['srcPort', 'dstPort', 'seq', 'ack', 'flags', 'window', 'urgent'] as const) assert.equal(rx[k], w[k], `${name}: ${k}`);
    assert.deepEqual(rx.options, w.options, `${name}: options`);
    assert.deepEqual([...rx.payload], [...w.payload], `${name}: payload`);
    assert.equal(payloadLength(rx), w.payload.length);
    const ts = w.options.find((o) => o.kind === 'timestamp');
    assert.equal(rx.hasTs, ts !== undefined, `${name}: hasTs`);
    if (ts?.kind === 'timestamp') assert.deepEqual([rx.tsVal, rx.tsEcr], [ts.val, ts.ecr]);
    const mss = w.options.find((o) => o.kind === 'mss');
    assert.equal(rx.mss, mss?.kind === 'mss' ? mss.value : 0, `${name}: mss`);
    const ws = w.options.find((o) => o.kind === 'wscale');
    assert.equal(rx.wscale, ws?.kind === 'wscale' ? ws.shift : -1, `${name}: wscale (as sent, 15 not capped here)`);
    assert.equal(rx.sackOk, w.options.some((o) => o.kind === 'sackPermitted'), `${name}: sackOk`);
    const sack = w.options.find((o) => o.kind === 'sack');
    assert.deepEqual(rx.sack, sack?.kind === 'sack' ? sack.blocks : null, `${name}: sack`);
  }
});

test('decodePacketInto: errors are decodePacket\'s, and the fast path leaves the packet as a range, no view', () => {
  const rx = new RxSegment();
  const ip = scratchIpRepr();
  const good = encodePacket(ip4, cases[0]![2]);
  const bad = good.slice();
  bad[30] ^= 1; // a TCP checksum error
  const want = decodePacket(bad);
  assert.ok(!want.ok);
  assert.deepEqual(decodePacketInto(bad, ip, rx), want.error);
  assert.equal(decodePacketInto(bad, ip, rx, true, false), null, 'checksum offload: not verified');
  assert.equal(decodePacketInto(good, ip, rx), null);
  assert.equal(rx.payloadBytes, good);
  assert.deepEqual([rx.payloadStart, rx.payloadLength], [52, 300]);
  const short = Uint8Array.of(0x45, 0, 0);
  const e = decodePacket(short);
  assert.ok(!e.ok);
  assert.deepEqual(decodePacketInto(short, ip, rx), e.error);
  assert.equal(e.error.kind, 'truncated');
});

test('encodePacketSlab: a TxSegment encodes to the bytes of the same plain segment', () => {
  const tx = new TxSegment();
  for (const [name, i, t] of cases) {
    for (const partial of [false, true]) {
      Object.assign(tx, { srcPort: t.srcPort, dstPort: t.dstPort, seq: t.seq, ack: t.ack, flags: t.flags, window: t.window, urgent: t.urgent });
      const ts = t.options.length === 3 && t.options[2]!.kind === 'timestamp' ? t.options[2] : undefined;
      if (t.options.length === 0) tx.setTimestamp(false, 0, 0);
      else if (ts?.kind === 'timestamp') tx.setTimestamp(true, ts.val, ts.ecr);
      else tx.options = t.options;
      tx.setPayload(t.payload, 0, t.payload.length);
      assert.deepEqual(encodePacketSlab(i, tx, partial), encodePacket(i, t, partial), `${name}${partial ? ', partial checksum' : ''}`);
      assert.deepEqual(tx.options, t.options, `${name}: the options as a list`);
    }
  }
  // A payload given as a range of larger bytes.
  tx.setTimestamp(true, 1, 2);
  tx.setPayload(data, 10, 20);
  const plain = seg({ seq: tx.seq, ack: tx.ack, flags: tx.flags, window: tx.window, srcPort: tx.srcPort, dstPort: tx.dstPort, options: linuxDataOptions({ timestamp: { val: 1, ecr: 2 } }), payload: data.subarray(10, 30) });
  assert.deepEqual(encodePacketSlab(ip4, tx), encodePacket(ip4, plain));
});
