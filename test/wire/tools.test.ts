// Checks our bytes with independent decoders: tshark and tcpdump (installed by
// scripts/install-debian-deps.sh; a missing tool fails these tests, it does not skip them).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodePacket, encodePacket, formatPacketLine, makeIpRepr } from '../../src/wire/packet.ts';
import { PcapWriter } from '../../src/wire/pcap.ts';
import { findOption, linuxDataOptions, linuxSynOptions } from '../../src/wire/tcp.ts';
import { ACK, CWR, ECE, FIN, PSH, RST, SYN, URG, type IpRepr, type TcpOption, type TcpRepr } from '../../src/wire/types.ts';
import { allKernelPackets, FIXTURES, runTool } from './helpers.ts';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'linger-wire-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function seg(over: Partial<TcpRepr>): TcpRepr {
  return { srcPort: 40000, dstPort: 7777, seq: 0, ack: 0, flags: ACK, window: 502, urgent: 0, options: [], payload: new Uint8Array(0), ...over };
}

/** Our own conversation: handshake, data, SACK, timestamps, FIN, RST, IPv6. */
function conversation(): Array<[IpRepr, TcpRepr]> {
  const c4 = makeIpRepr('10.0.0.1', '10.0.0.2', { id: 0x1000 });
  const s4 = makeIpRepr('10.0.0.2', '10.0.0.1');
  const c6 = makeIpRepr('fd00::1', 'fd00::2', { flowLabel: 0x12345 });
  const s6 = makeIpRepr('fd00::2', 'fd00::1', { flowLabel: 0xabcde });
  const back = { srcPort: 7777, dstPort: 40000 };
  const ts = (val: number, ecr: number) => ({ val, ecr });
  const data = new TextEncoder().encode('hello, linger\n');
  return [
    [c4, seg({ flags: SYN, seq: 1000, window: 64240, options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: ts(1, 0), wscale: 7 }) })],
    [s4, seg({ ...back, flags: SYN | ACK, seq: 5000, ack: 1001, window: 65160, options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: ts(2, 1), wscale: 7 }) })],
    [c4, seg({ seq: 1001, ack: 5001, options: linuxDataOptions({ timestamp: ts(3, 2) }) })],
    [c4, seg({ flags: PSH | ACK, seq: 1001, ack: 5001, payload: data, options: linuxDataOptions({ timestamp: ts(4, 2) }) })],
    [c4, seg({ flags: PSH | ACK, seq: 1115, ack: 5001, payload: data, options: linuxDataOptions({ timestamp: ts(5, 2) }) })],
    [s4, seg({ ...back, seq: 5001, ack: 1015, options: linuxDataOptions({ timestamp: ts(6, 5), sack: [[1115, 1129]] }) })],
    [s4, seg({ ...back, seq: 5001, ack: 1015, options: linuxDataOptions({ timestamp: ts(7, 5), sack: [[1001, 1015], [1115, 1129], [1200, 1300]] }) })],
    [c4, seg({ flags: FIN | ACK, seq: 1129, ack: 5001, options: linuxDataOptions({ timestamp: ts(8, 7) }) })],
    [s4, seg({ ...back, flags: FIN | ACK, seq: 5001, ack: 1130, options: linuxDataOptions({ timestamp: ts(9, 8) }) })],
    [c4, seg({ seq: 1130, ack: 5002, options: linuxDataOptions({ timestamp: ts(10, 9) }) })],
    [c4, seg({ srcPort: 40001, flags: SYN | ECE | CWR, seq: 7, window: 64240, options: linuxSynOptions({ mss: 536, sackPermitted: false, wscale: 14 }) })],
    [s4, seg({ ...back, dstPort: 40001, flags: RST | ACK, seq: 0, ack: 8, window: 0 })],
    [c4, seg({ srcPort: 40002, flags: URG | PSH | ACK, seq: 9, ack: 10, urgent: 1, payload: new Uint8Array([33]) })],
    [c6, seg({ flags: SYN, seq: 0xfffffff0, window: 64800, options: linuxSynOptions({ mss: 1440, sackPermitted: true, timestamp: ts(0xfffffffe, 0), wscale: 10 }) })],
    [s6, seg({ ...back, flags: SYN | ACK, seq: 77, ack: 0xfffffff1, window: 64260, options: linuxSynOptions({ mss: 1440, sackPermitted: true, timestamp: ts(3, 0xfffffffe), wscale: 10 }) })],
    [c6, seg({ flags: PSH | ACK, seq: 0xfffffff1, ack: 78, payload: new Uint8Array(40).fill(0x61), options: linuxDataOptions({ timestamp: ts(0xffffffff, 3) }) })],
    [s6, seg({ ...back, seq: 78, ack: 0x19, options: linuxDataOptions({ sack: [[0x100, 0x200], [0x300, 0x400], [0x500, 0x600], [0x700, 0x800]] }) })],
    [c6, seg({ flags: RST, seq: 0x19, window: 0 })],
  ];
}

function writePcap(name: string, packets: Uint8Array[]): string {
  const w = new PcapWriter();
  packets.forEach((p, i) => w.add(1_700_000_000_000_000 + i * 1000, p));
  const file = join(dir, name);
  writeFileSync(file, w.bytes());
  return file;
}

const TSHARK_FIELDS = [
  'frame.number', 'ip.version', 'tcp.flags', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'tcp.window_size_value',
  'tcp.checksum.status', 'ip.checksum.status', 'tcp.options.mss_val', 'tcp.options.wscale.shift',
  'tcp.options.timestamp.tsval', 'tcp.options.timestamp.tsecr', 'tcp.options.sack_le', 'tcp.options.sack_re',
  'tcp.urgent_pointer', '_ws.malformed', '_ws.expert.severity',
];
const PI_ERROR = 0x00800000;

function tshark(file: string): Array<Record<string, string>> {
  const out = runTool('tshark', [
    '-r', file, '-n',
    '-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE',
    '-o', 'tcp.relative_sequence_numbers:FALSE', '-o', 'tcp.analyze_sequence_numbers:FALSE',
    '-T', 'fields', '-E', 'separator=|', '-E', 'occurrence=a', '-E', 'aggregator=,',
    ...TSHARK_FIELDS.flatMap((f) => ['-e', f]),
  ]);
  return out.split('\n').filter((l) => l).map((l) => {
    const cols = l.split('|');
    return Object.fromEntries(TSHARK_FIELDS.map((f, i) => [f, cols[i] ?? '']));
  });
}

test('tshark decodes a pcap of our own packets: all TCP, checksums good, nothing malformed, fields as encoded', () => {
  const conv = conversation();
  const file = writePcap('ours.pcap', conv.map(([ip, t]) => encodePacket(ip, t)));
  const rows = tshark(file);
  assert.equal(rows.length, conv.length, 'every packet is listed');
  rows.forEach((row, i) => {
    const [ip, t] = conv[i]!;
    const at = `packet ${i + 1}`;
    assert.equal(row['_ws.malformed'], '', `${at} malformed`);
    const severities = row['_ws.expert.severity']!.split(',').filter((s) => s).map(Number);
    assert.ok(severities.every((s) => s < PI_ERROR), `${at} has an error-level expert item: ${severities}`);
    assert.notEqual(row['tcp.flags'], '', `${at} decoded as TCP`);
    assert.equal(Number(row['ip.version']), ip.version, at);
    assert.equal(Number(row['tcp.flags']), t.flags, at);
    assert.equal(Number(row['tcp.seq_raw']), t.seq, at);
    assert.equal(Number(row['tcp.ack_raw']), t.flags & ACK ? t.ack : 0, at);
    assert.equal(Number(row['tcp.len']), t.payload.length, at);
    assert.equal(Number(row['tcp.window_size_value']), t.window, at);
    assert.equal(row['tcp.checksum.status'], '1', `${at}: tshark says the TCP checksum is ${row['tcp.checksum.status']}`);
    assert.equal(row['ip.checksum.status'], ip.version === 4 ? '1' : '', at);
    assert.equal(row['tcp.urgent_pointer'], t.flags & URG ? String(t.urgent) : row['tcp.urgent_pointer'], at);
    const opt = <K extends TcpOption['kind']>(k: K) => findOption(t.options, k);
    assert.equal(row['tcp.options.mss_val'], opt('mss') ? String(opt('mss')!.value) : '', at);
    assert.equal(row['tcp.options.wscale.shift'], opt('wscale') ? String(opt('wscale')!.shift) : '', at);
    assert.equal(row['tcp.options.timestamp.tsval'], opt('timestamp') ? String(opt('timestamp')!.val) : '', at);
    assert.equal(row['tcp.options.timestamp.tsecr'], opt('timestamp') ? String(opt('timestamp')!.ecr) : '', at);
    const sack = opt('sack')?.blocks ?? [];
    assert.equal(row['tcp.options.sack_le'], sack.map((b) => b[0]).join(','), at);
    assert.equal(row['tcp.options.sack_re'], sack.map((b) => b[1]).join(','), at);
  });
  // tshark's malformed filter agrees: nothing.
  assert.equal(runTool('tshark', ['-r', file, '-n', '-Y', '_ws.malformed']).trim(), '');
  assert.equal(runTool('tshark', ['-r', file, '-n', '-Y', 'tcp']).trim().split('\n').length, conv.length);
});

test('tshark computes the same full checksums we complete for the kernel\'s partial ones', () => {
  const rows = runTool('tshark', [
    '-r', fileURLToPath(new URL('ipv4-connection.pcap', FIXTURES)), '-n', '-o', 'tcp.check_checksum:TRUE',
    '-T', 'fields', '-E', 'separator=|', '-e', 'frame.number', '-e', 'tcp.checksum.status', '-e', '_ws.expert.message',
  ]).split('\n').filter((l) => l);
  const kernel = allKernelPackets().filter((k) => k.file === 'ipv4-connection');
  assert.equal(rows.length, kernel.length);
  let partial = 0;
  rows.forEach((row, i) => {
    const [, status, messages] = row.split('|');
    const ours = encodePacket(kernel[i]!.decoded.ip, kernel[i]!.decoded.tcp);
    const sum = ((ours[36]! << 8) | ours[37]!).toString(16).padStart(4, '0');
    const m = /Bad checksum \[should be 0x([0-9a-f]{4})\]/.exec(messages ?? '');
    if (m) {
      partial++;
      assert.equal(status, '0', `packet ${i + 1}`);
      assert.equal(m[1], sum, `packet ${i + 1}: tshark says ${m[1]}, we compute ${sum}`);
    } else {
      assert.equal(status, '1', `packet ${i + 1}: tshark status`);
      assert.equal(decodePacket(kernel[i]!.bytes, true).ok, true, `packet ${i + 1}`);
    }
  });
  assert.equal(partial, 10);
});

test('tcpdump prints our own packets exactly as formatPacketLine does', () => {
  const c4 = makeIpRepr('192.0.2.1', '198.51.100.7');
  const c6 = makeIpRepr('2001:db8::1', '::ffff:10.1.2.3');
  const cases: Array<[IpRepr, TcpRepr]> = [
    ...conversation(),
    [c4, seg({ flags: 0, seq: 5, payload: new Uint8Array(3) })],
    [c4, seg({ flags: 0xff, seq: 5, ack: 6, urgent: 2, payload: new Uint8Array(4) })],
    [c4, seg({ flags: SYN, seq: 1, options: [{ kind: 'wscale', shift: 7 }] })],
    [c4, seg({ flags: SYN, seq: 1, options: [{ kind: 'mss', value: 1400 }, { kind: 'wscale', shift: 3 }] })],
    [c4, seg({ options: [{ kind: 'nop' }, { kind: 'eol' }, { kind: 'mss', value: 1 }] })],
    [c4, seg({ options: [{ kind: 'sackPermitted' }, { kind: 'eol' }] })],
    [c4, seg({ options: [{ kind: 'unknown', type: 99, data: new Uint8Array([0xde, 0xad]) }, { kind: 'nop' }, { kind: 'nop' }] })],
    [c4, seg({ options: [{ kind: 'unknown', type: 200, data: new Uint8Array(0) }, { kind: 'nop' }, { kind: 'nop' }] })],
    [c4, seg({ flags: PSH | ACK, seq: 0xffffffff, ack: 0x80000000, payload: new Uint8Array(2) })],
    [c6, seg({ flags: FIN | PSH | ACK, seq: 10, ack: 20, payload: new Uint8Array(1), options: linuxDataOptions({ timestamp: { val: 1, ecr: 2 } }) })],
  ];
  const file = writePcap('format.pcap', cases.map(([ip, t]) => encodePacket(ip, t)));
  const lines = runTool('tcpdump', ['-r', file, '-nn', '-S', '-t']).split('\n').filter((l) => l);
  assert.equal(lines.length, cases.length);
  cases.forEach(([ip, t], i) => assert.equal(formatPacketLine(ip, t), lines[i], `packet ${i + 1}`));
});
