import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalIp,
  formatIp,
  formatIpv4,
  formatIpv6,
  ipVersion,
  parseIp,
  parseIpv4,
  parseIpv6,
} from '../../src/wire/addr.ts';
import { assertError, assertOk, fromHex, hex } from './helpers.ts';

test('IPv4 parses to bytes and formats back', () => {
  assert.deepEqual(assertOk(parseIpv4('10.0.0.1')), new Uint8Array([10, 0, 0, 1]));
  assert.deepEqual(assertOk(parseIpv4('255.255.255.255')), new Uint8Array([255, 255, 255, 255]));
  assert.deepEqual(assertOk(parseIpv4('0.0.0.0')), new Uint8Array(4));
  assert.equal(formatIpv4(new Uint8Array([192, 168, 1, 254])), '192.168.1.254');
  assert.equal(formatIpv4(new Uint8Array([9, 9, 127, 0, 0, 1]), 2), '127.0.0.1');
});

test('IPv4 rejects everything inet_pton rejects, with a typed error', () => {
  for (const s of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.04', '01.2.3.4', '1..2.3', '.1.2.3',
    '1.2.3.4.', '1.2.3.-4', ' 1.2.3.4', '1.2.3.4 ', '0x1.2.3.4', '1.2.3.4/8', '1e1.2.3.4', '١.2.3.4', '1.2.3.4444']) {
    const e = assertError(parseIpv4(s), 'ipv4', 'bad-address', JSON.stringify(s));
    assert.ok(e.detail.includes(JSON.stringify(s)));
  }
});

test('IPv6 parses every RFC 4291 text form', () => {
  const cases: Array<[string, string]> = [
    ['::', '00000000000000000000000000000000'],
    ['::1', '00000000000000000000000000000001'],
    ['1::', '00010000000000000000000000000000'],
    ['fd00::1', 'fd000000000000000000000000000001'],
    ['FD00:0:0:0:0:0:0:01', 'fd000000000000000000000000000001'],
    ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '20010db885a308d313198a2e03707348'],
    ['2001:DB8::8:800:200C:417A', '20010db80000000000080800200c417a'],
    ['1:2:3:4:5:6:7::', '00010002000300040005000600070000'],
    ['::2:3:4:5:6:7:8', '00000002000300040005000600070008'],
    ['::ffff:1.2.3.4', '00000000000000000000ffff01020304'],
    ['::1.2.3.4', '00000000000000000000000001020304'],
    ['64:ff9b::192.0.2.33', '0064ff9b0000000000000000c0000221'],
    ['1:2:3:4:5:6:1.2.3.4', '00010002000300040005000601020304'],
  ];
  for (const [text, bytes] of cases) assert.equal(hex(assertOk(parseIpv6(text), text)), bytes, text);
});

test('IPv6 rejects malformed text with a typed error', () => {
  for (const s of ['', ':', ':::', '1:::2', '1::2::3', ':1::', '1::2:', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8', '12345::', 'g::1', '::1%lo', 'fe80::1%eth0', '1:2:3:4:5:6:7:1.2.3.4',
    '::1.2.3', '::1.2.3.04', '::256.0.0.1', '1.2.3.4::', '::1.2.3.4:5', '[::1]', ' ::1', '::1 ', '1:2:3:4:5:6:7:8:']) {
    assertError(parseIpv6(s), 'ipv6', 'bad-address', JSON.stringify(s));
  }
});

test('IPv6 formats in RFC 5952 form', () => {
  const cases: Array<[string, string]> = [
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['fd000000000000000000000000000001', 'fd00::1'],
    ['20010db8000000000000000000000001', '2001:db8::1'],
    // 4.2.2: a single zero group is not compressed.
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    // 4.2.3: the longest run is compressed; on a tie, the first.
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    ['20010db8000000000001000000000001', '2001:db8::1:0:0:1'],
    // 4.1: no leading zeros; 4.3: lower case.
    ['20010DB800AB0CDE000F00000000000A'.toLowerCase(), '2001:db8:ab:cde:f::a'],
    ['00010002000300040005000600070008', '1:2:3:4:5:6:7:8'],
    ['00010000000000000000000000000000', '1::'],
    ['00000000000000000000000000010000', '::1:0'],
    // 5: IPv4-mapped in mixed notation; other embeddings stay hex.
    ['00000000000000000000ffff7f000001', '::ffff:127.0.0.1'],
    ['00000000000000000000000001020304', '::102:304'],
    ['0064ff9b0000000000000000c0000221', '64:ff9b::c000:221'],
  ];
  for (const [bytes, text] of cases) {
    assert.equal(formatIpv6(fromHex(bytes)), text, bytes);
    assert.equal(formatIp(fromHex(bytes)), text, bytes);
    assert.equal(hex(assertOk(parseIpv6(text))), bytes, text);
  }
  assert.equal(formatIpv6(fromHex('ff' + '00000000000000000000000000000001' + 'ff'), 1), '::1');
});

test('canonicalIp, parseIp and ipVersion', () => {
  assert.equal(assertOk(canonicalIp('FD00:0::01')), 'fd00::1');
  assert.equal(assertOk(canonicalIp('::FFFF:10.0.0.1')), '::ffff:10.0.0.1');
  assert.equal(assertOk(canonicalIp('0:0:0:0:0:ffff:a00:1')), '::ffff:10.0.0.1');
  assert.equal(assertOk(canonicalIp('10.0.0.1')), '10.0.0.1');
  assert.equal(assertOk(parseIp('10.0.0.1')).length, 4);
  assert.equal(assertOk(parseIp('::1')).length, 16);
  assertError(canonicalIp('10.0.0.256'), 'ipv4', 'bad-address');
  assertError(parseIp('fd00::1::'), 'ipv6', 'bad-address');
  assert.equal(ipVersion('10.0.0.1'), 4);
  assert.equal(ipVersion('::1'), 6);
  assert.equal(ipVersion('::ffff:1.2.3.4'), 6);
  for (const s of ['', 'localhost', '1.2.3', '::g', '10.0.0.1:80']) assert.equal(ipVersion(s), 0, s);
});

test('format(parse(x)) is a fixed point on random addresses', () => {
  let seed = 12345;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let n = 0; n < 2000; n++) {
    const b = new Uint8Array(16);
    // Many zero groups, to exercise the compression choice.
    for (let g = 0; g < 8; g++) {
      const v = next() % 3 === 0 ? next() & 0xffff : 0;
      b[2 * g] = v >> 8;
      b[2 * g + 1] = v & 0xff;
    }
    const text = formatIpv6(b);
    assert.equal(hex(assertOk(parseIpv6(text), text)), hex(b), text);
    assert.equal(text, text.toLowerCase());
    assert.ok(!/(^|:)0[0-9a-f]/.test(text), `leading zero in ${text}`);
    assert.ok(text.split('::').length <= 2, text);
  }
});
