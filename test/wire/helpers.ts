// Shared by the wire tests: the kernel captures, a seeded PRNG, external tools.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { readPcap, type PcapRecord } from '../../src/wire/pcap.ts';
import { decodePacket, type DecodedPacket } from '../../src/wire/packet.ts';
import type { Result, WireError } from '../../src/wire/types.ts';

export const FIXTURES = new URL('../fixtures/linux/', import.meta.url);

export const CAPTURES = [
  'ipv4-connection',
  'ipv4-rst',
  'ipv4-sack',
  'ipv4-syn-options',
  'ipv6-connection',
] as const;
export type CaptureName = (typeof CAPTURES)[number];

export interface KernelPacket {
  file: CaptureName;
  /** 1-based, as tcpdump and Wireshark number them. */
  number: number;
  record: PcapRecord;
  /** The IP packet as captured. */
  bytes: Uint8Array;
  /** Decoded without checksum verification (most loopback checksums are partial). */
  decoded: DecodedPacket;
  /** The line `tcpdump -r FILE -nn -S -t` printed for it. */
  tcpdump: string;
}

const cache = new Map<CaptureName, KernelPacket[]>();

export function loadCapture(file: CaptureName): KernelPacket[] {
  const hit = cache.get(file);
  if (hit) return hit;
  const r = readPcap(new Uint8Array(readFileSync(new URL(`${file}.pcap`, FIXTURES))));
  if (!r.ok) throw new Error(`${file}: ${r.error.detail}`);
  const lines = readFileSync(new URL(`${file}.tcpdump.txt`, FIXTURES), 'utf8').split('\n').filter((l) => l);
  assert.equal(lines.length, r.value.length, `${file}: tcpdump text and pcap disagree on the count`);
  const packets = r.value.map((record, i) => {
    const d = decodePacket(record.data, false);
    if (!d.ok) throw new Error(`${file} #${i + 1}: ${d.error.kind} ${d.error.detail}`);
    return { file, number: i + 1, record, bytes: record.data, decoded: d.value, tcpdump: lines[i]! };
  });
  cache.set(file, packets);
  return packets;
}

export function allKernelPackets(): KernelPacket[] {
  return CAPTURES.flatMap((f) => loadCapture(f));
}

/** packet n (1-based) of a capture. */
export function kernelPacket(file: CaptureName, n: number): KernelPacket {
  const p = loadCapture(file)[n - 1];
  if (!p) throw new Error(`${file} has no packet ${n}`);
  return p;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Asserts a failed Result with that layer and kind, and returns the error. */
export function assertError<T>(r: Result<T>, layer: WireError['layer'], kind: WireError['kind'], msg?: string): WireError {
  if (r.ok) assert.fail(`${msg ?? ''} expected ${layer}/${kind}, decoded fine`);
  assert.equal(`${r.error.layer}/${r.error.kind}`, `${layer}/${kind}`, `${msg ?? ''} (${r.error.detail})`);
  assert.equal(typeof r.error.detail, 'string');
  assert.ok(r.error.detail.length > 0);
  return r.error;
}

export function assertOk<T>(r: Result<T>, msg?: string): T {
  if (!r.ok) assert.fail(`${msg ?? ''} ${r.error.layer}/${r.error.kind}: ${r.error.detail}`);
  return r.value;
}

/**
 * Runs an external tool that CI installs (scripts/install-debian-deps.sh). A missing tool is a
 * test failure naming the install command, never a silent skip.
 */
export function runTool(tool: 'tshark' | 'tcpdump', args: string[]): string {
  const r = spawnSync(tool, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    assert.fail(`${tool} is not installed. Install it with: sudo bash scripts/install-debian-deps.sh (apt-get install ${tool})`);
  }
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `${tool} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

export function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}
