// Seeded mutation tests: malformed input never throws out of a decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatIp, parseIp } from '../../src/wire/addr.ts';
import { internetChecksum, pseudoHeaderSum } from '../../src/wire/checksum.ts';
import { decodePacket, decodePacketGeneral, encodePacket } from '../../src/wire/packet.ts';
import { PcapWriter, readPcap } from '../../src/wire/pcap.ts';
import type { Result, WireErrorKind } from '../../src/wire/types.ts';
import { allKernelPackets, prng } from './helpers.ts';

type Rnd = () => number;
const int = (rnd: Rnd, n: number) => Math.floor(rnd() * n);

/** Recomputes the IPv4 header and TCP checksums as far as the (possibly broken) lengths allow. */
function fixChecksums(b: Uint8Array): void {
  if (b.length < 1) return;
  const v = b[0]! >> 4;
  let tcpStart: number;
  let tcpEnd: number;
  let src: Uint8Array;
  let dst: Uint8Array;
  if (v === 4) {
    const ihl = (b[0]! & 15) * 4;
    if (b.length < 20 || ihl < 20 || ihl > b.length) return;
    b[10] = 0;
    b[11] = 0;
    const c = internetChecksum(b, 0, ihl);
    b[10] = c >> 8;
    b[11] = c & 0xff;
    tcpStart = ihl;
    tcpEnd = Math.min(b.length, (b[2]! << 8) | b[3]!);
    src = b.subarray(12, 16);
    dst = b.subarray(16, 20);
  } else if (v === 6) {
    if (b.length < 40) return;
    tcpStart = 40;
    tcpEnd = Math.min(b.length, 40 + ((b[4]! << 8) | b[5]!));
    src = b.subarray(8, 24);
    dst = b.subarray(24, 40);
  } else {
    return;
  }
  if (tcpEnd - tcpStart < 18) return;
  b[tcpStart + 16] = 0;
  b[tcpStart + 17] = 0;
  const c = internetChecksum(b, tcpStart, tcpEnd, pseudoHeaderSum(src, dst, 6, tcpEnd - tcpStart));
  b[tcpStart + 16] = c >> 8;
  b[tcpStart + 17] = c & 0xff;
}

const OPTION_BYTES = [0, 1, 2, 3, 4, 5, 8, 10, 18, 26, 34, 40, 255];

function mutate(base: Uint8Array, rnd: Rnd): Uint8Array {
  let b = base.slice();
  const rounds = 1 + int(rnd, 3);
  for (let r = 0; r < rounds; r++) {
    const ipLen = b.length > 0 && b[0]! >> 4 === 6 ? 40 : 20;
    switch (int(rnd, 7)) {
      case 0: // flip bits
        for (let k = 1 + int(rnd, 3); k > 0 && b.length; k--) b[int(rnd, b.length)]! ^= 1 << int(rnd, 8);
        break;
      case 1: // random bytes
        for (let k = 1 + int(rnd, 4); k > 0 && b.length; k--) b[int(rnd, b.length)] = int(rnd, 256);
        break;
      case 2: // truncate
        b = b.slice(0, int(rnd, b.length + 1));
        break;
      case 3: { // append garbage
        const extra = new Uint8Array(1 + int(rnd, 40)).map(() => int(rnd, 256));
        b = new Uint8Array([...b, ...extra]);
        break;
      }
      case 4: // TCP options area: bytes an option parser cares about
        for (let k = 1 + int(rnd, 4); k > 0; k--) {
          const at = ipLen + 20 + int(rnd, 40);
          if (at < b.length) b[at] = OPTION_BYTES[int(rnd, OPTION_BYTES.length)]!;
        }
        break;
      case 5: { // a length-ish header field
        const fields = ipLen === 20 ? [0, 2, 3, 6, 7, 9, 32] : [0, 4, 5, 6, 52];
        const at = fields[int(rnd, fields.length)]!;
        if (at < b.length) b[at] = rnd() < 0.5 ? int(rnd, 256) : (b[at]! & 0xf0) | int(rnd, 16);
        break;
      }
      case 6: // TCP data offset nibble
        if (ipLen + 12 < b.length) b[ipLen + 12] = (int(rnd, 16) << 4) | (b[ipLen + 12]! & 15);
        break;
    }
  }
  if (rnd() < 0.6) fixChecksums(b);
  return b;
}

function decodeNoThrow<T>(f: () => Result<T>, what: string): Result<T> {
  try {
    return f();
  } catch (e) {
    assert.fail(`${what} threw: ${(e as Error).stack}`);
  }
}

test('10,000 seeded mutations of kernel packets: decodePacket never throws; what decodes re-encodes', () => {
  const rnd = prng(0x11e6e5);
  const corpus: Uint8Array[] = [];
  for (const k of allKernelPackets()) {
    corpus.push(k.bytes);
    corpus.push(encodePacket(k.decoded.ip, k.decoded.tcp)); // full TCP checksums
  }
  const seen = new Map<WireErrorKind | 'ok', number>();
  for (let i = 0; i < 10_000; i++) {
    const m = mutate(corpus[int(rnd, corpus.length)]!, rnd);
    for (const verify of [true, false]) {
      const r = decodeNoThrow(() => decodePacket(m, verify), `mutation ${i}`);
      // the receive fast path decodes exactly as the general path, errors included
      assert.deepEqual(r, decodePacketGeneral(m, verify), `mutation ${i}: fast path = general path`);
      if (verify) assert.deepEqual(decodePacket(m, true, false), decodePacketGeneral(m, true, false), `mutation ${i}, TCP checksum offloaded`);
      const key = r.ok ? 'ok' : r.error.kind;
      seen.set(key, (seen.get(key) ?? 0) + 1);
      if (!r.ok) {
        assert.ok(r.error.detail.length > 0);
        continue;
      }
      // Whatever decodes is a valid repr: encoding it works and decodes to the same thing.
      const again = decodePacket(encodePacket(r.value.ip, r.value.tcp), true);
      assert.ok(again.ok, `mutation ${i}: re-encoded packet does not decode`);
      assert.deepEqual(again.value, r.value, `mutation ${i}`);
    }
  }
  // The mutations reach every check (a fuzzer that only hits one error proves little).
  for (const kind of ['ok', 'truncated', 'bad-version', 'bad-header-length', 'bad-total-length', 'bad-checksum',
    'bad-data-offset', 'bad-option-length', 'fragmented', 'unsupported-protocol'] as const) {
    assert.ok((seen.get(kind) ?? 0) >= 20, `${kind} seen ${seen.get(kind) ?? 0} times: ${JSON.stringify([...seen])}`);
  }
});

test('2,000 seeded mutations of a pcap file: readPcap never throws', () => {
  const rnd = prng(0x9cab);
  const w = new PcapWriter();
  for (const k of allKernelPackets().slice(0, 12)) w.add(k.record.tsUs, k.bytes);
  const file = w.bytes();
  let ok = 0;
  for (let i = 0; i < 2000; i++) {
    let m = file.slice();
    if (rnd() < 0.3) m = m.slice(0, int(rnd, m.length + 1));
    for (let k = int(rnd, 6); k > 0; k--) m[int(rnd, Math.min(m.length, 80))] = int(rnd, 256);
    const r = decodeNoThrow(() => readPcap(m), `pcap mutation ${i}`);
    if (r.ok) ok++;
  }
  assert.ok(ok > 100 && ok < 1900, `${ok} of 2000 mutated files read`);
});

test('3,000 random address strings: parseIp never throws, accepted ones format to a fixed point', () => {
  const rnd = prng(0xadd7);
  const alphabet = '0123456789abcdefABCDEF:.:.:%';
  let ok = 0;
  for (let i = 0; i < 3000; i++) {
    let s = '';
    for (let n = int(rnd, 20); n > 0; n--) s += alphabet[int(rnd, alphabet.length)];
    if (rnd() < 0.3) s = `::${s}`;
    const r = decodeNoThrow(() => parseIp(s), JSON.stringify(s));
    if (!r.ok) continue;
    ok++;
    const text = formatIp(r.value);
    const again = parseIp(text);
    assert.ok(again.ok, text);
    assert.equal(formatIp(again.value), text);
  }
  assert.ok(ok > 30, `${ok} strings parsed`);
});
