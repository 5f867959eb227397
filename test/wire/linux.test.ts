// The reference packets captured from the Linux kernel (test/fixtures/linux/README.md).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../../src/wire/addr.ts';
import { fold, pseudoHeaderSum } from '../../src/wire/checksum.ts';
import { decodePacket, encodePacket, formatPacketLine } from '../../src/wire/packet.ts';
import { findOption, linuxDataOptions, linuxSynOptions } from '../../src/wire/tcp.ts';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, type TcpOption } from '../../src/wire/types.ts';
import { allKernelPackets, assertError, assertOk, CAPTURES, hex, type KernelPacket, kernelPacket, loadCapture } from './helpers.ts';

/** Packets whose TCP checksum the kernel (or capture.py) computed in full; all others are partial. */
const FULL_CHECKSUM = new Set(['ipv4-connection#11', 'ipv4-rst#8', 'ipv4-sack#6', 'ipv4-sack#8', 'ipv4-sack#10']);
/** Segments capture.py injected through a raw socket: not the kernel's output. */
const INJECTED = new Set(['ipv4-sack#6', 'ipv4-sack#8', 'ipv4-sack#10']);
const id = (k: KernelPacket) => `${k.file}#${k.number}`;

function tcpOffset(k: KernelPacket): number {
  return k.decoded.ip.version === 4 ? 20 : 40;
}

test('every capture holds the packets its README describes', () => {
  const counts = Object.fromEntries(CAPTURES.map((f) => [f, loadCapture(f).length]));
  assert.deepEqual(counts, {
    'ipv4-connection': 11, 'ipv4-rst': 8, 'ipv4-sack': 12, 'ipv4-syn-options': 38, 'ipv6-connection': 11,
  });
});

test('checksums: the full ones verify; the rest hold exactly the pseudo-header sum (CHECKSUM_PARTIAL)', () => {
  for (const k of allKernelPackets()) {
    const full = decodePacket(k.bytes, true);
    if (FULL_CHECKSUM.has(id(k))) {
      assertOk(full, id(k));
      continue;
    }
    // The IP header checksum is always full; only TCP's fails.
    assertError(full, 'tcp', 'bad-checksum', id(k));
    const seg = k.bytes.subarray(tcpOffset(k));
    const src = assertOk(parseIp(k.decoded.ip.src));
    const dst = assertOk(parseIp(k.decoded.ip.dst));
    const captured = (seg[16]! << 8) | seg[17]!;
    assert.equal(captured, fold(pseudoHeaderSum(src, dst, 6, seg.length)), `${id(k)}: partial checksum`);
  }
  // The 127.0.0.1 SYN (40 bytes of TCP): 0xfe30, the IPv6 ::1 SYN: 0x0030.
  assert.equal(hex(kernelPacket('ipv4-connection', 1).bytes.subarray(36, 38)), 'fe30');
  assert.equal(hex(kernelPacket('ipv6-connection', 1).bytes.subarray(56, 58)), '0030');
});

test('decode -> encode reproduces every kernel packet byte for byte (the TCP checksum completed where partial)', () => {
  let full = 0;
  for (const k of allKernelPackets()) {
    const out = encodePacket(k.decoded.ip, k.decoded.tcp);
    assert.equal(out.length, k.bytes.length, id(k));
    const c = tcpOffset(k) + 16;
    if (FULL_CHECKSUM.has(id(k))) {
      assert.equal(hex(out), hex(k.bytes), id(k));
      full++;
    } else {
      assert.equal(hex(out.subarray(0, c)), hex(k.bytes.subarray(0, c)), id(k));
      assert.equal(hex(out.subarray(c + 2)), hex(k.bytes.subarray(c + 2)), id(k));
    }
    // Ours is a full checksum, and the packet decodes back to the same thing.
    assert.deepEqual(assertOk(decodePacket(out, true), id(k)), k.decoded, id(k));
  }
  assert.equal(full, FULL_CHECKSUM.size);
});

test('formatPacketLine prints every kernel packet exactly as tcpdump -nn -S -t did', () => {
  for (const k of allKernelPackets()) assert.equal(formatPacketLine(k.decoded.ip, k.decoded.tcp), k.tcpdump, id(k));
});

test('IPv4 handshake, data and close: exact fields', () => {
  const [syn, synAck, ack, data, dataAck, reply, , fin, , fin2, last] = loadCapture('ipv4-connection').map((k) => k.decoded);
  assert.deepEqual(syn!.ip, { version: 4, src: '127.0.0.1', dst: '127.0.0.1', protocol: 6, ttl: 64, id: 0x185d, dontFragment: true, tos: 0 });
  assert.deepEqual({ ...syn!.tcp, payload: syn!.tcp.payload.length }, {
    srcPort: 40000, dstPort: 7777, seq: 125170401, ack: 0, flags: SYN, window: 64240, urgent: 0,
    options: [
      { kind: 'mss', value: 1460 },
      { kind: 'sackPermitted' },
      { kind: 'timestamp', val: 2478330390, ecr: 0 },
      { kind: 'nop' },
      { kind: 'wscale', shift: 10 },
    ],
    payload: 0,
  });
  assert.equal(synAck!.ip.id, 0, 'Linux sends SYN-ACKs with IP ID 0');
  assert.deepEqual([synAck!.tcp.srcPort, synAck!.tcp.seq, synAck!.tcp.ack, synAck!.tcp.flags, synAck!.tcp.window], [7777, 833490671, 125170402, SYN | ACK, 65160]);
  assert.deepEqual(synAck!.tcp.options, [
    { kind: 'mss', value: 1460 },
    { kind: 'sackPermitted' },
    { kind: 'timestamp', val: 1323705158, ecr: 2478330390 },
    { kind: 'nop' },
    { kind: 'wscale', shift: 10 },
  ]);
  assert.deepEqual([ack!.tcp.seq, ack!.tcp.ack, ack!.tcp.flags, ack!.tcp.window, ack!.ip.id], [125170402, 833490672, ACK, 63, 0x185e]);
  assert.deepEqual(ack!.tcp.options, [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamp', val: 2478330390, ecr: 1323705158 }]);
  assert.equal(data!.tcp.flags, PSH | ACK);
  assert.equal(data!.tcp.seq, 125170402);
  assert.equal(new TextDecoder().decode(data!.tcp.payload), 'hello, linger\n');
  assert.deepEqual(data!.tcp.options, [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamp', val: 2478330441, ecr: 1323705158 }]);
  assert.equal(dataAck!.tcp.ack, 125170416);
  assert.equal(new TextDecoder().decode(reply!.tcp.payload), 'hi\n');
  assert.deepEqual([fin!.tcp.flags, fin!.tcp.seq, fin!.tcp.ack, fin!.tcp.payload.length], [FIN | ACK, 125170416, 833490675, 0]);
  assert.deepEqual([fin2!.tcp.flags, fin2!.tcp.seq, fin2!.tcp.ack], [FIN | ACK, 833490675, 125170417]);
  // The last ACK comes from TIME_WAIT: IP ID 0, full checksum.
  assert.deepEqual([last!.tcp.flags, last!.tcp.seq, last!.tcp.ack, last!.ip.id], [ACK, 125170417, 833490676, 0]);
});

test('RSTs: SO_LINGER {1,0} abort and a SYN to a closed port', () => {
  const abort = kernelPacket('ipv4-rst', 6).decoded.tcp;
  assert.deepEqual([abort.flags, abort.seq, abort.ack, abort.window], [RST | ACK, 1074193355, 4024167548, 63]);
  assert.deepEqual(abort.options, [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'timestamp', val: 3979001075, ecr: 2711561314 }]);
  const refused = kernelPacket('ipv4-rst', 8).decoded;
  assert.deepEqual({ ...refused.tcp, payload: refused.tcp.payload.length }, {
    srcPort: 7778, dstPort: 40002, seq: 0, ack: 100564876, flags: RST | ACK, window: 0, urgent: 0, options: [], payload: 0,
  });
  assert.equal(refused.ip.id, 0);
});

test('SACK and D-SACK blocks from the kernel, in its order, matching linuxDataOptions', () => {
  const blocks = [7, 9, 11].map((n) => findOption(kernelPacket('ipv4-sack', n).decoded.tcp.options, 'sack')?.blocks);
  assert.deepEqual(blocks, [
    [[2597817301, 2597817401]],
    [[2597817501, 2597817601], [2597817301, 2597817401]],
    // RFC 2883: the duplicate range first, then the SACK blocks.
    [[2597817191, 2597817201], [2597817501, 2597817601], [2597817301, 2597817401]],
  ]);
  for (const n of [7, 9, 11]) {
    const t = kernelPacket('ipv4-sack', n).decoded.tcp;
    assert.equal(t.ack, 2597817201, 'the cumulative ACK does not move');
    assert.deepEqual(t.options.map((o) => o.kind), ['nop', 'nop', 'timestamp', 'nop', 'nop', 'sack']);
  }
});

test('the SYN option layout for each (sack, timestamps, wscale) sysctl equals linuxSynOptions', () => {
  const pk = loadCapture('ipv4-syn-options');
  const combos = [[1, 1, 1], [1, 1, 0], [1, 0, 1], [1, 0, 0], [0, 1, 1], [0, 1, 0], [0, 0, 1], [0, 0, 0]];
  combos.forEach(([sack, ts, ws], i) => {
    for (const k of [pk[4 * i]!, pk[4 * i + 1]!]) {
      const t = k.decoded.tcp;
      assert.ok(t.flags & SYN, id(k));
      const stamp = findOption(t.options, 'timestamp');
      const expected = linuxSynOptions({
        mss: 1460,
        sackPermitted: sack === 1,
        timestamp: ts ? { val: stamp!.val, ecr: stamp!.ecr } : undefined,
        wscale: ws ? 10 : undefined,
      });
      assert.deepEqual(t.options, expected, `${id(k)} sack=${sack} ts=${ts} ws=${ws}`);
    }
  });
});

test('every segment the kernel sent after a SYN has the linuxDataOptions layout', () => {
  let n = 0;
  for (const k of allKernelPackets()) {
    const t = k.decoded.tcp;
    if (t.flags & SYN || INJECTED.has(id(k))) continue;
    const ts = findOption(t.options, 'timestamp');
    const sack = findOption(t.options, 'sack');
    const expected: TcpOption[] = linuxDataOptions({
      timestamp: ts && { val: ts.val, ecr: ts.ecr },
      sack: sack?.blocks,
    });
    assert.deepEqual(t.options, expected, id(k));
    n++;
  }
  assert.equal(n, 80 - 27 - 3); // 80 packets, 27 with SYN, 3 injected
});

test('ECN: SYN with ECE|CWR, SYN-ACK with ECE, data with ECT(0)', () => {
  const syn = kernelPacket('ipv4-syn-options', 33).decoded;
  const synAck = kernelPacket('ipv4-syn-options', 34).decoded;
  const data = kernelPacket('ipv4-syn-options', 36).decoded;
  assert.equal(syn.tcp.flags, SYN | ECE | CWR);
  assert.equal(synAck.tcp.flags, SYN | ACK | ECE);
  assert.equal(data.ip.tos, 0x02);
  assert.equal(new TextDecoder().decode(data.tcp.payload), 'ecn');
  assert.equal(syn.ip.tos, 0, 'no ECT on a SYN (RFC 3168 6.1.1)');
});

test('IPv6: handshake fields, flow labels, hop limit', () => {
  const syn = kernelPacket('ipv6-connection', 1).decoded;
  assert.deepEqual(syn.ip, { version: 6, src: '::1', dst: '::1', protocol: 6, ttl: 64, tos: 0, flowLabel: 0x44a1f });
  assert.deepEqual([syn.tcp.seq, syn.tcp.flags, syn.tcp.window], [3523934039, SYN, 64800]);
  assert.deepEqual(syn.tcp.options, linuxSynOptions({ mss: 1440, sackPermitted: true, timestamp: { val: 3765520120, ecr: 0 }, wscale: 10 }));
  const labels = loadCapture('ipv6-connection').map((k) => `${k.decoded.tcp.srcPort}:${k.decoded.ip.flowLabel!.toString(16)}`);
  assert.deepEqual(new Set(labels), new Set(['40000:44a1f', '7777:420b4']), 'one flow label per direction');
});
