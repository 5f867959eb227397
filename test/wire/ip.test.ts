import { test } from 'node:test';
import assert from 'node:assert/strict';
import { internetChecksum, verifyChecksum } from '../../src/wire/checksum.ts';
import { decodeIpv4, encodeIpv4, encodeIpv4HeaderInto, IPV4_HEADER_LEN } from '../../src/wire/ipv4.ts';
import { decodeIpv6, encodeIpv6, encodeIpv6HeaderInto, IPV6_HEADER_LEN } from '../../src/wire/ipv6.ts';
import type { IpRepr } from '../../src/wire/types.ts';
import { assertError, assertOk, hex, kernelPacket } from './helpers.ts';

function fixIpv4Checksum(b: Uint8Array): Uint8Array {
  const ihl = (b[0]! & 15) * 4;
  b[10] = 0;
  b[11] = 0;
  const c = internetChecksum(b, 0, Math.min(ihl, b.length));
  b[10] = c >> 8;
  b[11] = c & 0xff;
  return b;
}

test('IPv4: decodes a kernel SYN header field by field', () => {
  const syn = kernelPacket('ipv4-connection', 1).bytes;
  const d = assertOk(decodeIpv4(syn));
  assert.deepEqual(d.ip, {
    version: 4, src: '127.0.0.1', dst: '127.0.0.1', protocol: 6, ttl: 64, id: 0x185d, dontFragment: true, tos: 0,
  });
  assert.equal(d.headerLength, 20);
  assert.equal(d.payload.length, 40);
  assert.equal(d.payload.buffer, syn.buffer, 'payload is a view');
  assert.equal(d.payload.byteOffset, syn.byteOffset + 20);
  assert.deepEqual([...d.srcBytes], [127, 0, 0, 1]);
});

test('IPv4: encodes the header Linux writes (0x45, DF, TTL 64, id as given), byte for byte', () => {
  for (const [file, n] of [['ipv4-connection', 1], ['ipv4-connection', 2], ['ipv4-rst', 8], ['ipv4-syn-options', 36]] as const) {
    const pkt = kernelPacket(file, n).bytes;
    const d = assertOk(decodeIpv4(pkt));
    const re = encodeIpv4(d.ip, d.payload);
    assert.equal(hex(re), hex(pkt), `${file} #${n}`);
  }
  const buf = new Uint8Array(24).fill(0xee);
  const ip: IpRepr = { version: 4, src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, ttl: 64, id: 0x1234 };
  assert.equal(encodeIpv4HeaderInto(ip, 100, buf, 2), 20);
  assert.equal(hex(buf), 'eeee' + '45000078123440004006' + hex(buf.subarray(12, 14)) + '0a0000010a000002' + 'eeee');
  assert.ok(verifyChecksum(buf, 2, 22));
  assert.equal(hex(encodeIpv4({ ...ip, dontFragment: false, tos: 0x02, ttl: 1 }, new Uint8Array(0)).subarray(0, 10)), '45020014123400000106');
  assert.throws(() => encodeIpv4({ ...ip, src: '::1' }, new Uint8Array(0)), RangeError);
  assert.throws(() => encodeIpv4(ip, new Uint8Array(65516)), RangeError);
  assert.throws(() => encodeIpv4HeaderInto(ip, 0, new Uint8Array(19)), RangeError);
});

test('IPv4: header checksum of a known header (Wikipedia example)', () => {
  const ip: IpRepr = { version: 4, src: '192.168.0.1', dst: '192.168.0.199', protocol: 17, ttl: 64, id: 0 };
  const b = encodeIpv4(ip, new Uint8Array(0x73 - 20));
  assert.equal(hex(b.subarray(0, 20)), '4500007300004000' + '4011b861c0a80001c0a800c7');
});

test('IPv4: every truncation of a real packet is "truncated", never a throw', () => {
  const pkt = kernelPacket('ipv4-connection', 4).bytes; // 66 bytes: 20 IP + 32 TCP + 14 data
  assert.equal(pkt.length, 66);
  for (let len = 0; len < pkt.length; len++) {
    const r = decodeIpv4(pkt.slice(0, len));
    const e = assertError(r, 'ipv4', 'truncated', `length ${len}`);
    assert.match(e.detail, len < 20 ? /needs 20/ : /total length 66 > /);
  }
  assert.equal(assertOk(decodeIpv4(pkt)).payload.length, 46);
});

test('IPv4: bytes past Total Length (link padding) are not payload', () => {
  const pkt = kernelPacket('ipv4-connection', 3).bytes;
  const padded = new Uint8Array(pkt.length + 6);
  padded.set(pkt);
  const d = assertOk(decodeIpv4(padded));
  assert.equal(d.payload.length, pkt.length - 20);
});

test('IPv4: bad version, IHL, total length, checksum, fragments', () => {
  const base = kernelPacket('ipv4-connection', 1).bytes;
  const m = (f: (b: Uint8Array) => void, fix = true) => {
    const b = base.slice();
    f(b);
    return fix ? fixIpv4Checksum(b) : b;
  };
  for (const v of [0, 5, 6, 15]) assertError(decodeIpv4(m((b) => (b[0] = (v << 4) | 5))), 'ipv4', 'bad-version', `v${v}`);
  for (const ihl of [0, 1, 4]) assertError(decodeIpv4(m((b) => (b[0] = 0x40 | ihl))), 'ipv4', 'bad-header-length', `IHL ${ihl}`);
  // IHL 15 = 60 bytes fits in this 60-byte packet, but then Total Length 60 leaves no payload: fine for IP.
  const ihl15 = assertOk(decodeIpv4(m((b) => (b[0] = 0x4f))));
  assert.equal(ihl15.headerLength, 60);
  assert.equal(ihl15.payload.length, 0);
  assertError(decodeIpv4(m((b) => (b[0] = 0x4f)).subarray(0, 56)), 'ipv4', 'truncated', 'IHL beyond the buffer');
  assertError(decodeIpv4(m((b) => (b[3] = 61))), 'ipv4', 'truncated', 'total length larger than the buffer');
  assertError(decodeIpv4(m((b) => { b[2] = 0xff; b[3] = 0xff; })), 'ipv4', 'truncated');
  for (const tl of [0, 1, 19]) {
    assertError(decodeIpv4(m((b) => { b[2] = 0; b[3] = tl; })), 'ipv4', 'bad-total-length', `total length ${tl}`);
  }
  assertError(decodeIpv4(m((b) => { b[0] = 0x46; b[2] = 0; b[3] = 22; })), 'ipv4', 'bad-total-length', 'IHL 6, total 22');
  assertError(decodeIpv4(m((b) => (b[8] = 63), false)), 'ipv4', 'bad-checksum');
  assert.equal(assertOk(decodeIpv4(m((b) => (b[8] = 63), false), false)).ip.ttl, 63, 'checksum check can be skipped');
  assertError(decodeIpv4(m((b) => (b[6] |= 0x20))), 'ipv4', 'fragmented', 'MF');
  assertError(decodeIpv4(m((b) => (b[7] = 1))), 'ipv4', 'fragmented', 'offset 8');
  assertError(decodeIpv4(m((b) => { b[6] = 0x1f; b[7] = 0xff; })), 'ipv4', 'fragmented');
  const noDf = assertOk(decodeIpv4(m((b) => (b[6] = 0))));
  assert.equal(noDf.ip.dontFragment, false);
});

test('IPv6: decodes a kernel SYN header field by field and re-encodes it byte for byte', () => {
  const syn = kernelPacket('ipv6-connection', 1).bytes;
  const d = assertOk(decodeIpv6(syn));
  assert.deepEqual(d.ip, { version: 6, src: '::1', dst: '::1', protocol: 6, ttl: 64, tos: 0, flowLabel: 0x44a1f });
  assert.equal(d.payload.length, 40);
  assert.equal(d.payload.byteOffset, syn.byteOffset + 40);
  assert.equal(hex(encodeIpv6(d.ip, d.payload)), hex(syn));
  assert.equal(assertOk(decodeIpv6(kernelPacket('ipv6-connection', 2).bytes)).ip.flowLabel, 0x420b4);
});

test('IPv6: traffic class and flow label land in the right bits', () => {
  const ip: IpRepr = { version: 6, src: 'fd00::1', dst: 'fd00::2', protocol: 6, ttl: 255, tos: 0xab, flowLabel: 0xcdef1 };
  const b = encodeIpv6(ip, new Uint8Array(3));
  assert.equal(hex(b.subarray(0, 8)), '6abcdef1000306ff');
  assert.deepEqual(assertOk(decodeIpv6(b)).ip, ip);
  const buf = new Uint8Array(42);
  assert.equal(encodeIpv6HeaderInto(ip, 2, buf, 1), IPV6_HEADER_LEN);
  assert.equal(buf[0], 0);
  assert.equal(buf[1], 0x6a);
  assert.throws(() => encodeIpv6({ ...ip, dst: '10.0.0.1' }, new Uint8Array(0)), RangeError);
  assert.throws(() => encodeIpv6(ip, new Uint8Array(65536)), RangeError);
  assert.equal(IPV4_HEADER_LEN, 20);
});

test('IPv6: truncations, bad version, fragment header, other next headers', () => {
  const pkt = kernelPacket('ipv6-connection', 4).bytes; // 40 + 32 + 14
  assert.equal(pkt.length, 86);
  for (let len = 0; len < pkt.length; len++) {
    const e = assertError(decodeIpv6(pkt.slice(0, len)), 'ipv6', 'truncated', `length ${len}`);
    assert.match(e.detail, len < 40 ? /needs 40/ : /payload length 46 > /);
  }
  const m = (f: (b: Uint8Array) => void) => {
    const b = pkt.slice();
    f(b);
    return b;
  };
  for (const v of [0, 4, 7, 15]) assertError(decodeIpv6(m((b) => (b[0] = (v << 4) | (b[0]! & 15)))), 'ipv6', 'bad-version');
  assertError(decodeIpv6(m((b) => (b[5] = 47))), 'ipv6', 'truncated', 'payload length larger than the buffer');
  assertError(decodeIpv6(m((b) => (b[6] = 44))), 'ipv6', 'fragmented');
  // Other extension headers are not walked: they come back as the protocol for the caller to refuse.
  assert.equal(assertOk(decodeIpv6(m((b) => (b[6] = 0)))).ip.protocol, 0);
  const short = assertOk(decodeIpv6(m((b) => (b[5] = 20))));
  assert.equal(short.payload.length, 20, 'bytes after Payload Length are not payload');
  assert.equal(hex(short.payload), hex(pkt.subarray(40, 60)));
});
