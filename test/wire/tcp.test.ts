import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIpv4 } from '../../src/wire/addr.ts';
import { internetChecksum, pseudoHeaderSum4, verifyChecksum } from '../../src/wire/checksum.ts';
import {
  decodeTcp,
  encodeTcp,
  encodeTcpInto,
  findOption,
  linuxDataOptions,
  linuxSynOptions,
  optionLength,
  optionsLength,
  parseTcpOptions,
  rawOptionsLength,
  tcpHeaderLength,
  tcpSegmentLength,
  writeTcpOptions,
} from '../../src/wire/tcp.ts';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, type TcpOption, type TcpRepr } from '../../src/wire/types.ts';
import { assertError, assertOk, hex } from './helpers.ts';

const A = '10.0.0.1';
const B = '10.0.0.2';

/** A TCP segment from A:40000 to B:80 with these raw option bytes (zero-padded to 4n) and a valid checksum. */
function segment(options: number[], o: { doff?: number; payload?: number[]; flags?: number } = {}): Uint8Array {
  const hl = 20 + ((options.length + 3) & ~3);
  const payload = o.payload ?? [];
  const b = new Uint8Array(hl + payload.length);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, 40000);
  dv.setUint16(2, 80);
  dv.setUint32(4, 1000);
  dv.setUint32(8, 2000);
  b[12] = (o.doff ?? Math.ceil(hl / 4)) << 4;
  b[13] = o.flags ?? ACK;
  dv.setUint16(14, 512);
  b.set(options, 20);
  b.set(payload, hl);
  const c = internetChecksum(b, 0, b.length, pseudoHeaderSum4(assertOk(parseIpv4(A)), assertOk(parseIpv4(B)), 6, b.length));
  dv.setUint16(16, c);
  return b;
}

function repr(over: Partial<TcpRepr> = {}): TcpRepr {
  return { srcPort: 40000, dstPort: 80, seq: 1, ack: 0, flags: SYN, window: 64240, urgent: 0, options: [], payload: new Uint8Array(0), ...over };
}

test('decodes header fields, options in order, and a payload view', () => {
  const b = segment([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7], { flags: SYN | ECE | CWR, payload: [104, 105] });
  const t = assertOk(decodeTcp(b, A, B));
  assert.deepEqual({ ...t, payload: [...t.payload] }, {
    srcPort: 40000, dstPort: 80, seq: 1000, ack: 2000, flags: SYN | ECE | CWR, window: 512, urgent: 0,
    options: [
      { kind: 'mss', value: 1460 },
      { kind: 'sackPermitted' },
      { kind: 'timestamp', val: 1, ecr: 0 },
      { kind: 'nop' },
      { kind: 'wscale', shift: 7 },
    ],
    payload: [104, 105],
  });
  assert.equal(t.payload.buffer, b.buffer, 'payload is a view, not a copy');
  assert.equal(t.payload.byteOffset, 40);
  // Addresses as bytes work too.
  assert.ok(decodeTcp(b, assertOk(parseIpv4(A)), assertOk(parseIpv4(B))).ok);
});

test('32-bit fields decode unsigned', () => {
  const b = segment([]);
  b.set([0xff, 0xff, 0xff, 0xfe, 0x80, 0, 0, 0], 4);
  const t = assertOk(decodeTcp(b, A, B, false));
  assert.equal(t.seq, 0xfffffffe);
  assert.equal(t.ack, 0x80000000);
  const ts = assertOk(decodeTcp(segment([1, 1, 8, 10, 0xff, 0xff, 0xff, 0xff, 0x80, 0, 0, 1]), A, B));
  assert.deepEqual(ts.options[2], { kind: 'timestamp', val: 0xffffffff, ecr: 0x80000001 });
});

test('checksum: verified over the pseudo header, skippable, wrong addresses fail', () => {
  const b = segment([], { payload: [1, 2, 3] });
  assert.ok(decodeTcp(b, A, B).ok);
  assertError(decodeTcp(b, A, '10.0.0.3'), 'tcp', 'bad-checksum', 'other destination');
  assert.ok(decodeTcp(b, B, A).ok, 'swapped addresses give the same sum: addition commutes');
  const bad = b.slice();
  bad[22] ^= 0x40;
  assertError(decodeTcp(bad, A, B), 'tcp', 'bad-checksum');
  assert.equal(assertOk(decodeTcp(bad, A, B, false)).payload[2], 3 ^ 0x40);
  assertError(decodeTcp(b, 'nope', B), 'tcp', 'bad-address');
  assertError(decodeTcp(b, A, '::1'), 'tcp', 'bad-address');
});

test('every length below the header is truncated or a bad data offset, never a throw', () => {
  const b = segment([2, 4, 0x05, 0xb4, 1, 1, 4, 2, 1, 3, 3, 7]); // 32-byte header
  for (let len = 0; len < b.length; len++) {
    const cut = b.slice(0, len);
    assertError(decodeTcp(cut, A, B, false), 'tcp', len < 20 ? 'truncated' : 'bad-data-offset', `length ${len}`);
    assert.ok(!decodeTcp(cut, A, B, true).ok);
  }
});

test('data offset < 5 or beyond the segment is bad-data-offset', () => {
  for (let doff = 0; doff < 5; doff++) {
    assertError(decodeTcp(segment([], { doff }), A, B), 'tcp', 'bad-data-offset', `doff ${doff}`);
  }
  assertError(decodeTcp(segment([1, 1, 1, 1], { doff: 6 }).subarray(0, 23), A, B, false), 'tcp', 'bad-data-offset');
  assertError(decodeTcp(segment([], { doff: 15 }), A, B), 'tcp', 'bad-data-offset', 'doff 15 in 20 bytes');
  // doff 15 with 40 option bytes is the largest header.
  const big = assertOk(decodeTcp(segment(new Array(40).fill(1)), A, B));
  assert.equal(big.options.length, 40);
  // A data offset smaller than the bytes present makes the rest payload.
  const t = assertOk(decodeTcp(segment([1, 1, 1, 1], { doff: 5 }), A, B));
  assert.deepEqual(t.options, []);
  assert.deepEqual([...t.payload], [1, 1, 1, 1]);
});

test('option length 0 or 1, a missing length byte, or an overrun is bad-option-length', () => {
  const cases: Array<[string, number[]]> = [
    ['length 0', [2, 0, 0, 0]],
    ['length 1', [8, 1, 0, 0]],
    ['unknown kind, length 1', [99, 1, 1, 1]],
    ['no length byte', [1, 1, 1, 2]],
    ['mss overruns', [1, 1, 2, 4]],
    ['ts overruns', [1, 1, 8, 10, 0, 0, 0, 0]],
    ['sack overruns', [5, 10, 0, 0, 0, 0, 0, 0]],
    ['unknown overruns', [1, 99, 4, 0]],
    ['length 255', [30, 255, 0, 0]],
  ];
  for (const [name, opts] of cases) {
    const e = assertError(decodeTcp(segment(opts), A, B), 'tcp', 'bad-option-length', name);
    assert.ok(e.detail.length > 0);
    assertError(parseTcpOptions(new Uint8Array(opts)), 'tcp', 'bad-option-length', name);
  }
});

test('a known option with the wrong length is ignored as Linux does, and parsing goes on', () => {
  // MSS of length 3, then a window scale: the MSS is not read, the WS is.
  const t = assertOk(decodeTcp(segment([2, 3, 5, 3, 3, 7, 1, 1]), A, B));
  assert.equal(findOption(t.options, 'mss'), undefined);
  assert.deepEqual(findOption(t.options, 'wscale'), { kind: 'wscale', shift: 7 });
  assert.equal(t.options[0]!.kind, 'unknown');
  assert.deepEqual({ ...t.options[0]!, data: [...(t.options[0] as { data: Uint8Array }).data] }, { kind: 'unknown', type: 2, data: [5] });
  // Same for WS of 4, SACK-permitted of 3, timestamps of 6.
  const u = assertOk(parseTcpOptions(new Uint8Array([3, 4, 1, 2, 4, 3, 9, 8, 6, 0, 0, 0, 0])));
  assert.deepEqual(u.map((o) => (o.kind === 'unknown' ? `unknown ${o.type}/${o.data.length}` : o.kind)), ['unknown 3/2', 'unknown 4/1', 'unknown 8/4']);
});

test('SACK with a bad length is ignored (Linux), a good one gives blocks', () => {
  for (const opts of [[5, 2, 1, 1], [5, 6, 0, 0, 0, 1, 1, 1], [5, 12, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0], [5, 9, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1]]) {
    const t = assertOk(decodeTcp(segment(opts), A, B), JSON.stringify(opts));
    assert.equal(findOption(t.options, 'sack'), undefined, `length ${opts[1]}`);
    const u = findOption(t.options, 'unknown');
    assert.equal(u?.type, 5);
    assert.equal(u?.data.length, opts[1]! - 2);
  }
  const blocks: Array<[number, number]> = [[1, 2], [0xfffffff0, 0x10], [100, 200], [300, 400]];
  const bytes: number[] = [5, 34];
  for (const [l, r] of blocks) bytes.push(l >>> 24, (l >>> 16) & 255, (l >>> 8) & 255, l & 255, r >>> 24, (r >>> 16) & 255, (r >>> 8) & 255, r & 255);
  const t = assertOk(decodeTcp(segment([1, 1, ...bytes]), A, B));
  assert.deepEqual(findOption(t.options, 'sack'), { kind: 'sack', blocks });
});

test('EOL ends the list; the bytes after it are padding', () => {
  const t = assertOk(decodeTcp(segment([3, 3, 7, 0, 2, 4, 5, 0xb4]), A, B));
  assert.deepEqual(t.options, [{ kind: 'wscale', shift: 7 }, { kind: 'eol' }]);
  const e = assertOk(decodeTcp(segment([0, 0, 0, 0]), A, B));
  assert.deepEqual(e.options, [{ kind: 'eol' }]);
  // Even a malformed option after EOL is not looked at.
  assert.ok(decodeTcp(segment([1, 0, 2, 0]), A, B).ok);
});

test('unknown options are kept with their data and re-encoded as they were', () => {
  const b = segment([1, 1, 30, 6, 0xde, 0xad, 0xbe, 0xef, 254, 2, 1, 1]);
  const t = assertOk(decodeTcp(b, A, B));
  assert.deepEqual(t.options.map((o) => (o.kind === 'unknown' ? [o.type, hex(o.data)] : o.kind)), ['nop', 'nop', [30, 'deadbeef'], [254, ''], 'nop', 'nop']);
  assert.equal(hex(encodeTcp(t, A, B)), hex(b));
});

test('encode: header layout, checksum, option order, zero padding', () => {
  const r = repr({
    seq: 0xdeadbeef, ack: 0x01020304, flags: SYN | ACK, window: 0xabcd, urgent: 0x1234,
    options: [{ kind: 'mss', value: 1460 }, { kind: 'wscale', shift: 7 }],
    payload: new Uint8Array([9, 8, 7]),
  });
  const b = encodeTcp(r, A, B);
  assert.equal(b.length, 20 + 8 + 3);
  assert.equal(hex(b.subarray(0, 16)), '9c400050deadbeef0102030470' + '12abcd');
  assert.equal(hex(b.subarray(18)), '1234' + '020405b4030307' + '00' + '090807');
  assert.ok(verifyChecksum(b, 0, b.length, pseudoHeaderSum4(assertOk(parseIpv4(A)), assertOk(parseIpv4(B)), 6, b.length)));
  const d = assertOk(decodeTcp(b, A, B));
  // The zero pad byte reads back as an EOL.
  assert.deepEqual(d.options, [...r.options, { kind: 'eol' }]);
  assert.equal(hex(encodeTcp(d, A, B)), hex(b));
  // Field values are written modulo their width.
  const w = encodeTcp(repr({ seq: -1, ack: 2 ** 32 + 5 }), A, B);
  assert.equal(hex(w.subarray(4, 12)), 'ffffffff00000005');
});

test('encode into a buffer at an offset; errors are RangeErrors', () => {
  const r = repr({ options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: 7, ecr: 0 }, wscale: 7 }) });
  const buf = new Uint8Array(100).fill(0xaa);
  const n = encodeTcpInto(r, A, B, buf, 10);
  assert.equal(n, 40);
  assert.equal(n, tcpSegmentLength(r));
  assert.equal(buf[9], 0xaa);
  assert.equal(buf[50], 0xaa);
  assert.equal(hex(buf.subarray(10, 50)), hex(encodeTcp(r, A, B)));
  assert.throws(() => encodeTcpInto(r, A, B, new Uint8Array(39)), RangeError);
  assert.throws(() => encodeTcp(r, A, '::1'), RangeError);
  assert.throws(() => encodeTcp(repr({ options: new Array(41).fill({ kind: 'nop' }) }), A, B), RangeError);
  assert.throws(() => encodeTcp(repr({ options: [{ kind: 'sack', blocks: [] }] }), A, B), RangeError);
  assert.throws(() => encodeTcp(repr({ options: [{ kind: 'unknown', type: 1, data: new Uint8Array(0) }] }), A, B), RangeError);
  assert.equal(encodeTcp(repr({ options: new Array(40).fill({ kind: 'nop' }) }), A, B).length, 60);
});

test('IPv6 pseudo header is used for 16-byte addresses', () => {
  const r = repr({ flags: ACK | PSH, payload: new Uint8Array([1]) });
  const b = encodeTcp(r, 'fd00::1', 'fd00::2');
  assert.ok(decodeTcp(b, 'fd00::1', 'fd00::2').ok);
  assertError(decodeTcp(b, 'fd00::1', 'fd00::3'), 'tcp', 'bad-checksum');
  assertError(decodeTcp(b, A, B), 'tcp', 'bad-checksum');
});

test('option lengths', () => {
  const all: TcpOption[] = [
    { kind: 'eol' }, { kind: 'nop' }, { kind: 'mss', value: 1 }, { kind: 'wscale', shift: 1 }, { kind: 'sackPermitted' },
    { kind: 'sack', blocks: [[1, 2], [3, 4]] }, { kind: 'timestamp', val: 1, ecr: 2 }, { kind: 'unknown', type: 99, data: new Uint8Array(3) },
  ];
  assert.deepEqual(all.map(optionLength), [1, 1, 4, 3, 2, 18, 10, 5]);
  assert.equal(rawOptionsLength(all), 44);
  assert.equal(optionsLength([{ kind: 'mss', value: 1 }, { kind: 'wscale', shift: 1 }]), 8);
  assert.equal(optionsLength([]), 0);
  assert.equal(optionsLength([{ kind: 'nop' }]), 4);
  assert.equal(tcpHeaderLength(linuxDataOptions({ timestamp: { val: 1, ecr: 2 } })), 32);
  const buf = new Uint8Array(8).fill(0xff);
  assert.equal(writeTcpOptions([{ kind: 'wscale', shift: 14 }], buf, 1), 4);
  assert.equal(hex(buf), 'ff03030e00ffffff');
});

test('findOption returns the first option of a kind, typed', () => {
  const opts: TcpOption[] = [{ kind: 'nop' }, { kind: 'mss', value: 536 }, { kind: 'mss', value: 1460 }];
  const mss = findOption(opts, 'mss');
  assert.equal(mss?.value, 536);
  assert.equal(findOption(opts, 'timestamp'), undefined);
});

test('linuxSynOptions: the eight tcp_options_write layouts', () => {
  const ts = { val: 11, ecr: 22 };
  const k = (o: TcpOption[]) =>
    o.map((x) => (x.kind === 'mss' ? `mss ${x.value}` : x.kind === 'wscale' ? `ws ${x.shift}` : x.kind === 'timestamp' ? `ts ${x.val}/${x.ecr}` : x.kind)).join(',');
  assert.equal(k(linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: ts, wscale: 7 })), 'mss 1460,sackPermitted,ts 11/22,nop,ws 7');
  assert.equal(k(linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: ts })), 'mss 1460,sackPermitted,ts 11/22');
  assert.equal(k(linuxSynOptions({ mss: 1460, sackPermitted: true, wscale: 7 })), 'mss 1460,nop,nop,sackPermitted,nop,ws 7');
  assert.equal(k(linuxSynOptions({ mss: 1460, sackPermitted: true })), 'mss 1460,nop,nop,sackPermitted');
  assert.equal(k(linuxSynOptions({ mss: 1460, sackPermitted: false, timestamp: ts, wscale: 0 })), 'mss 1460,nop,nop,ts 11/22,nop,ws 0');
  assert.equal(k(linuxSynOptions({ mss: 1460, sackPermitted: false, timestamp: ts })), 'mss 1460,nop,nop,ts 11/22');
  assert.equal(k(linuxSynOptions({ mss: 536, sackPermitted: false, wscale: 14 })), 'mss 536,nop,ws 14');
  assert.equal(k(linuxSynOptions({ mss: 536, sackPermitted: false })), 'mss 536');
  for (const sack of [true, false]) for (const t of [ts, undefined]) for (const ws of [7, undefined]) {
    const o = linuxSynOptions({ mss: 1, sackPermitted: sack, timestamp: t, wscale: ws });
    assert.equal(rawOptionsLength(o) % 4, 0, 'Linux layouts need no padding');
  }
});

test('linuxDataOptions: NOP NOP TS, then NOP NOP SACK with as many blocks as fit', () => {
  const ts = { val: 5, ecr: 6 };
  const blocks: Array<[number, number]> = [[10, 20], [30, 40], [50, 60], [70, 80], [90, 100]];
  assert.deepEqual(linuxDataOptions({}), []);
  assert.deepEqual(linuxDataOptions({ timestamp: ts }), [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamp', val: 5, ecr: 6 }]);
  assert.deepEqual(linuxDataOptions({ timestamp: ts, sack: [] }), linuxDataOptions({ timestamp: ts }));
  const withTs = linuxDataOptions({ timestamp: ts, sack: blocks });
  assert.deepEqual(findOption(withTs, 'sack')?.blocks, blocks.slice(0, 3));
  assert.equal(rawOptionsLength(withTs), 40);
  assert.deepEqual(withTs.slice(3, 5), [{ kind: 'nop' }, { kind: 'nop' }]);
  const noTs = linuxDataOptions({ sack: blocks });
  assert.deepEqual(noTs, [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: blocks.slice(0, 4) }]);
  assert.equal(rawOptionsLength(noTs), 36);
  // The result does not alias the caller's blocks.
  const one: Array<[number, number]> = [[1, 2]];
  const o = linuxDataOptions({ sack: one });
  one[0]![0] = 99;
  assert.deepEqual(findOption(o, 'sack')?.blocks, [[1, 2]]);
});

test('flag constants are the header bits', () => {
  assert.deepEqual([FIN, SYN, RST, PSH, ACK, URG, ECE, CWR], [1, 2, 4, 8, 16, 32, 64, 128]);
  const b = encodeTcp(repr({ flags: FIN | PSH | URG }), A, B);
  assert.equal(b[13], 0x29);
});
