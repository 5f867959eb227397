import { test } from 'node:test';
import assert from 'node:assert/strict';
import { internetChecksum } from '../../src/wire/checksum.ts';
import {
  decodePacket,
  encodePacket,
  encodePacketInto,
  encodePacketPooled,
  encodePacketSlab,
  formatFlags,
  formatOptions,
  formatPacketLine,
  formatSegment,
  madeView,
  makeIpRepr,
  packetLength,
  rangeView,
  recyclePacket,
} from '../../src/wire/packet.ts';
import { linuxDataOptions, linuxSynOptions } from '../../src/wire/tcp.ts';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, type IpRepr, type TcpRepr } from '../../src/wire/types.ts';
import { assertError, assertOk, hex, kernelPacket } from './helpers.ts';

function tcp(over: Partial<TcpRepr> = {}): TcpRepr {
  return { srcPort: 40000, dstPort: 80, seq: 1, ack: 2, flags: ACK, window: 64240, urgent: 0, options: [], payload: new Uint8Array(0), ...over };
}

test('makeIpRepr fills in Linux defaults', () => {
  assert.deepEqual(makeIpRepr('10.0.0.1', '10.0.0.2'), {
    version: 4, src: '10.0.0.1', dst: '10.0.0.2', protocol: 6, ttl: 64, id: 0, dontFragment: true, tos: 0,
  });
  assert.deepEqual(makeIpRepr('fd00::1', 'fd00::2', { flowLabel: 5 }), {
    version: 6, src: 'fd00::1', dst: 'fd00::2', protocol: 6, ttl: 64, tos: 0, flowLabel: 5,
  });
  assert.throws(() => makeIpRepr('10.0.0.1', '::1'), RangeError);
  assert.throws(() => makeIpRepr('10.0.0', '10.0.0.1'), RangeError);
});

test('encodePacket reproduces a kernel packet from its decoded form (IPv4 and IPv6)', () => {
  // Packets captured with full checksums: byte-identical.
  for (const [file, n] of [['ipv4-connection', 11], ['ipv4-rst', 8]] as const) {
    const k = kernelPacket(file, n);
    const d = assertOk(decodePacket(k.bytes), `${file} #${n}`);
    assert.equal(hex(encodePacket(d.ip, d.tcp)), hex(k.bytes), `${file} #${n}`);
  }
  const v6 = kernelPacket('ipv6-connection', 4);
  const e = encodePacket(v6.decoded.ip, v6.decoded.tcp);
  assert.equal(hex(e.subarray(0, 56)), hex(v6.bytes.subarray(0, 56)));
  assert.equal(hex(e.subarray(58)), hex(v6.bytes.subarray(58)));
  assert.deepEqual(assertOk(decodePacket(e)), v6.decoded);
});

test('encodePacketInto writes at an offset and returns the length', () => {
  const ip = makeIpRepr('10.0.0.1', '10.0.0.2', { id: 7 });
  const t = tcp({ flags: SYN, options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: 1, ecr: 0 }, wscale: 7 }) });
  assert.equal(packetLength(ip, t), 60);
  const buf = new Uint8Array(70);
  assert.equal(encodePacketInto(ip, t, buf, 5), 60);
  assert.equal(hex(buf.subarray(5, 65)), hex(encodePacket(ip, t)));
  assert.deepEqual(assertOk(decodePacket(buf.subarray(5, 65))), { ip, tcp: { ...t, payload: new Uint8Array(0) } });
  assert.throws(() => encodePacketInto(ip, t, new Uint8Array(59)), RangeError);
  assert.throws(() => encodePacket({ ...ip, version: 6 }, t), RangeError);
  assert.throws(() => encodePacket({ ...ip, dst: 'fd00::1' }, t), RangeError);
});

test('decodePacket: dispatch on version, protocol check, errors from each layer', () => {
  const ip4 = makeIpRepr('192.0.2.1', '192.0.2.2');
  const p = encodePacket(ip4, tcp({ payload: new Uint8Array([1, 2, 3]) }));
  assert.equal(assertOk(decodePacket(p)).tcp.payload.length, 3);
  assertError(decodePacket(new Uint8Array(0)), 'ipv4', 'truncated');
  for (const v of [0, 1, 5, 7, 15]) {
    const b = p.slice();
    b[0] = (v << 4) | 5;
    assertError(decodePacket(b), 'ipv4', 'bad-version', `version ${v}`);
  }
  const udp = encodePacket({ ...ip4, protocol: 17 }, tcp());
  const e = assertError(decodePacket(udp), 'ipv4', 'unsupported-protocol');
  assert.match(e.detail, /17/);
  assertError(decodePacket(encodePacket(makeIpRepr('::1', '::2', { protocol: 58 }), tcp())), 'ipv6', 'unsupported-protocol');
  assertError(decodePacket(encodePacket(makeIpRepr('::1', '::2', { protocol: 0 }), tcp())), 'ipv6', 'unsupported-protocol', 'hop-by-hop');
  const badTcp = p.slice();
  badTcp[badTcp.length - 1] ^= 1;
  assertError(decodePacket(badTcp), 'tcp', 'bad-checksum');
  assert.ok(decodePacket(badTcp, false).ok);
  const badIp = p.slice();
  badIp[8] = 1;
  assertError(decodePacket(badIp), 'ipv4', 'bad-checksum');
  const badDoff = p.slice();
  badDoff[32] = 0x40;
  assertError(decodePacket(badDoff, false), 'tcp', 'bad-data-offset');
});

test('decodePacket at every truncation of real IPv4 and IPv6 packets', () => {
  for (const [file, n] of [['ipv4-connection', 1], ['ipv4-sack', 11], ['ipv6-connection', 4]] as const) {
    const k = kernelPacket(file, n);
    for (let len = 0; len < k.bytes.length; len++) {
      const r = decodePacket(k.bytes.slice(0, len), false);
      assertError(r, len === 0 || k.bytes[0]! >> 4 === 4 ? 'ipv4' : 'ipv6', 'truncated', `${file} #${n} length ${len}`);
    }
    assert.ok(decodePacket(k.bytes, false).ok);
  }
});

test('formatFlags: tcpdump letters in tcpdump order', () => {
  assert.equal(formatFlags(0), 'none');
  assert.equal(formatFlags(SYN), 'S');
  assert.equal(formatFlags(SYN | ACK), 'S.');
  assert.equal(formatFlags(FIN | ACK), 'F.');
  assert.equal(formatFlags(PSH | ACK), 'P.');
  assert.equal(formatFlags(RST | ACK), 'R.');
  assert.equal(formatFlags(SYN | ECE | CWR), 'SEW');
  assert.equal(formatFlags(SYN | ACK | ECE), 'S.E');
  assert.equal(formatFlags(0xff), 'FSRP.UEW');
  assert.equal(formatFlags(URG | ACK), '.U');
});

test('formatSegment: the example line and tcpdump rules for seq/ack/urg/options', () => {
  const ip = makeIpRepr('10.0.0.1', '10.0.0.2');
  const synAck = tcp({ flags: SYN | ACK, seq: 1, ack: 2, window: 64240, options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: 1, ecr: 0 }, wscale: 7 }) });
  assert.equal(formatSegment(ip, synAck), '10.0.0.1.40000 > 10.0.0.2.80: Flags [S.], seq 1, ack 2, win 64240, options [mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7], length 0');
  // A pure ACK has no seq; data shows seq a:b; SYN without ACK has no ack.
  assert.equal(formatSegment(ip, tcp({ seq: 5, ack: 9, window: 501 })), '10.0.0.1.40000 > 10.0.0.2.80: Flags [.], ack 9, win 501, length 0');
  assert.equal(formatSegment(ip, tcp({ flags: PSH | ACK, seq: 0xfffffffe, ack: 9, payload: new Uint8Array(5) })),
    '10.0.0.1.40000 > 10.0.0.2.80: Flags [P.], seq 4294967294:3, ack 9, win 64240, length 5');
  assert.equal(formatSegment(ip, tcp({ flags: SYN, seq: 7, ack: 99 })), '10.0.0.1.40000 > 10.0.0.2.80: Flags [S], seq 7, win 64240, length 0');
  assert.equal(formatSegment(ip, tcp({ flags: RST, seq: 7, window: 0 })), '10.0.0.1.40000 > 10.0.0.2.80: Flags [R], seq 7, win 0, length 0');
  assert.equal(formatSegment(ip, tcp({ flags: 0, seq: 7 })), '10.0.0.1.40000 > 10.0.0.2.80: Flags [none], win 64240, length 0');
  assert.equal(formatSegment(ip, tcp({ flags: URG | ACK, urgent: 3 })), '10.0.0.1.40000 > 10.0.0.2.80: Flags [.U], ack 2, win 64240, urg 3, length 0');
  const v6 = makeIpRepr('fd00::1', '::ffff:10.0.0.1');
  assert.equal(formatPacketLine(v6, tcp({ flags: FIN | ACK })), 'IP6 fd00::1.40000 > ::ffff:10.0.0.1.80: Flags [F.], seq 1, ack 2, win 64240, length 0');
  assert.equal(formatPacketLine(ip, tcp()), 'IP 10.0.0.1.40000 > 10.0.0.2.80: Flags [.], ack 2, win 64240, length 0');
});

test('formatOptions: SACK blocks, unknown kinds, EOL and padding as tcpdump reads them', () => {
  assert.equal(formatOptions(linuxDataOptions({ timestamp: { val: 3, ecr: 4 }, sack: [[10, 20], [30, 40]] })),
    'nop,nop,TS val 3 ecr 4,nop,nop,sack 2 {10:20}{30:40}');
  assert.equal(formatOptions([{ kind: 'unknown', type: 99, data: new Uint8Array([0xab, 0x01]) }]), 'unknown-99 0xab01');
  // 3 bytes of wscale + 1 pad byte: tcpdump prints the pad as eol.
  assert.equal(formatOptions([{ kind: 'wscale', shift: 7 }]), 'wscale 7,eol');
  assert.equal(formatOptions([{ kind: 'mss', value: 1 }]), 'mss 1');
  assert.equal(formatOptions([{ kind: 'nop' }, { kind: 'eol' }, { kind: 'mss', value: 1 }]), 'nop,eol');
  assert.equal(formatOptions([{ kind: 'sackPermitted' }, { kind: 'eol' }]), 'sackOK,eol');
});

test('formatSegment of kernel packets equals the line tcpdump printed (spot checks)', () => {
  const k = kernelPacket('ipv4-sack', 11);
  assert.equal(formatPacketLine(k.decoded.ip, k.decoded.tcp),
    'IP 127.0.0.1.7777 > 127.0.0.1.40003: Flags [.], ack 2597817201, win 64, options [nop,nop,TS val 1431449879 ecr 1865304675,nop,nop,sack 3 {2597817191:2597817201}{2597817501:2597817601}{2597817301:2597817401}], length 0');
  assert.equal(formatPacketLine(k.decoded.ip, k.decoded.tcp), k.tcpdump);
});

test('a whole conversation round-trips through encode and decode', () => {
  const c = makeIpRepr('10.0.0.1', '10.0.0.2', { id: 1 });
  const s: IpRepr = { ...c, src: c.dst, dst: c.src, id: 0 };
  const segs: Array<[IpRepr, TcpRepr]> = [
    [c, tcp({ flags: SYN, seq: 100, ack: 0, options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: 1, ecr: 0 }, wscale: 7 }) })],
    [s, tcp({ srcPort: 80, dstPort: 40000, flags: SYN | ACK, seq: 500, ack: 101, options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: 9, ecr: 1 }, wscale: 7 }) })],
    [c, tcp({ flags: PSH | ACK, seq: 101, ack: 501, payload: new TextEncoder().encode('GET / HTTP/1.0\r\n\r\n'), options: linuxDataOptions({ timestamp: { val: 2, ecr: 9 } }) })],
    [s, tcp({ srcPort: 80, dstPort: 40000, seq: 501, ack: 101, options: linuxDataOptions({ timestamp: { val: 10, ecr: 2 }, sack: [[119, 200]] }) })],
    [c, tcp({ flags: FIN | ACK, seq: 119, ack: 501 })],
    [s, tcp({ srcPort: 80, dstPort: 40000, flags: RST, seq: 501, ack: 0, window: 0 })],
  ];
  for (const [ip, t] of segs) {
    const b = encodePacket(ip, t);
    const d = assertOk(decodePacket(b));
    assert.deepEqual(d, { ip, tcp: { ...t, payload: new Uint8Array(t.payload) } });
    assert.equal(internetChecksum(b, 0, 20), 0, 'IPv4 header checksum verifies');
  }
});

test('encodePacketSlab (a host\'s output path) gives the bytes encodePacket gives, fast path or not', () => {
  let x = 12345;
  const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
  const ts = () => ({ kind: 'timestamp' as const, val: rnd(2 ** 31) * 2 + rnd(2), ecr: rnd(2 ** 31) });
  const optionSets = () => [
    [],
    linuxDataOptions({ timestamp: { val: rnd(1000), ecr: rnd(1000) } }), // shared NOPs: the fast path
    [{ kind: 'nop' as const }, { kind: 'nop' as const }, ts()], // NOPs of its own: the general path
    linuxDataOptions({ timestamp: { val: 1, ecr: 2 }, sack: [[5, 9]] }),
    linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: 3, ecr: 0 }, wscale: 7 }),
  ];
  const sizes = [0, 1, 7, 12, 13, 64, 200, 1448, 4000, 20000, 65000];
  let n = 0;
  for (const [src, dst] of [['10.0.0.1', '10.0.0.2'], ['192.168.255.254', '1.2.3.4'], ['fd00::1', 'fd00::2']] as const) {
    for (const options of optionSets()) {
      for (const size of sizes) {
        const payload = new Uint8Array(size).map(() => rnd(256));
        const ip = { ...makeIpRepr(src, dst), id: rnd(65536), tos: rnd(4) * 4 };
        const seg = tcp({ srcPort: rnd(65536), dstPort: rnd(65536), seq: rnd(2 ** 31) * 2, ack: rnd(2 ** 31), flags: rnd(256), window: rnd(65536), urgent: rnd(65536), options, payload });
        if (packetLength(ip, seg) > 65535) continue;
        for (const partial of [false, true]) {
          assert.equal(hex(encodePacketSlab(ip, seg, partial)), hex(encodePacket(ip, seg, partial)), `${src} ${JSON.stringify(options)} ${size} ${partial}`);
          n++;
        }
      }
    }
  }
  assert.ok(n > 250, `${n} packets compared`);
  // errors are the general encoder's
  assert.throws(() => encodePacketSlab(makeIpRepr('10.0.0.1', '10.0.0.2'), tcp({ options: [{ kind: 'sack', blocks: [] }] })), RangeError);
});

test('encodePacketPooled: a packet given back is written whole again, whatever it held', () => {
  let x = 777;
  const rnd = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) % n);
  const optionSets = [
    [],
    linuxDataOptions({ timestamp: { val: 5, ecr: 6 } }),
    linuxDataOptions({ timestamp: { val: 1, ecr: 2 }, sack: [[5, 9]] }),
    linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: 3, ecr: 0 }, wscale: 7 }),
  ];
  let reused = 0;
  for (let round = 0; round < 3; round++) {
    for (const [src, dst] of [['10.0.0.1', '10.0.0.2'], ['fd00::1', 'fd00::2']] as const) {
      for (const options of optionSets) {
        for (const size of [0, 1, 13, 1448, 20000]) {
          const ip = { ...makeIpRepr(src, dst), id: rnd(65536) };
          const seg = tcp({ seq: rnd(2 ** 31) * 2, ack: rnd(2 ** 31), flags: rnd(256), options, payload: new Uint8Array(size).map(() => rnd(256)) });
          for (const partial of [false, true]) {
            const p = encodePacketPooled(ip, seg, partial);
            assert.equal(hex(p), hex(encodePacket(ip, seg, partial)), `${src} ${JSON.stringify(options)} ${size} ${partial}`);
            if (round > 0 && madeView(p) !== null) reused++;
            rangeView(p, 1, p.length - 1); // remembered with the packet
            p.fill(0xa5); // what a previous user left in it
            recyclePacket(p);
          }
        }
      }
    }
  }
  assert.ok(reused > 0, 'packets came back from the pool');
  // A packet not of the pool is never taken into it.
  const own = new Uint8Array(52);
  recyclePacket(own);
  assert.notEqual(encodePacketPooled(makeIpRepr('10.0.0.1', '10.0.0.2'), tcp({ options: linuxDataOptions({ timestamp: { val: 5, ecr: 6 } }) })), own);
});

test('rangeView: the same view of a pooled packet for the same range, a new one otherwise', () => {
  const p = encodePacketPooled(makeIpRepr('10.0.0.1', '10.0.0.2'), tcp({ payload: new Uint8Array(100).fill(7) }));
  const v = rangeView(p, 40, 100);
  assert.equal(rangeView(p, 40, 100), v);
  assert.deepEqual(v, new Uint8Array(100).fill(7));
  assert.notEqual(rangeView(p, 41, 99), v);
  assert.equal(rangeView(p, 0, p.length), p);
  const plain = new Uint8Array(10);
  assert.notEqual(rangeView(plain, 2, 3), rangeView(plain, 2, 3), 'no memory kept for other arrays');
  assert.equal(madeView(plain), null);
});
