// What the golden files pin: each lab scenario's `linger lab run <id> --json` output and pcap, and
// each drill corpus script's result, event count, virtual time and trace. Used by golden.test.ts
// and by scripts/golden-write.ts (run only when a behaviour change is intended).

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { CATALOGUE, runScenario } from '../../src/lab/runner.ts';
import { nodeEnv } from '../../src/lab/node/index.ts';
import { toJson, toPcap } from '../../src/lab/export.ts';
import { expandPaths, runFiles } from '../../src/drill/files.ts';

export const LAB_FILE = 'test/golden/lab.sha256';
export const PCAP_FILE = 'test/golden/lab-pcap.sha256';
export const DRILL_FILE = 'test/golden/drill.txt';

const sha256 = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** `sha256sum`-style lines, one per scenario in `linger lab list` order, seed 1, default parameters. */
export async function labLines(): Promise<{ json: string[]; pcap: string[] }> {
  const json: string[] = [];
  const pcap: string[] = [];
  for (const s of CATALOGUE) {
    const run = await runScenario(s.id, { seed: 1, set: {}, env: nodeEnv() });
    // Exactly the bytes the CLI prints: JSON.stringify(toJson(run)) and a newline.
    json.push(`${sha256(JSON.stringify(toJson(run)) + '\n')}  ${s.id}`);
    pcap.push(`${sha256(NODE_RUN.has(s.id) ? maskPayload(toPcap(run)) : toPcap(run))}  ${s.id}`);
  }
  return { json, pcap };
}

/**
 * The payload of the scenarios that run Node's own node:http/node:http2 is Node's, and it carries
 * the Date header of node:http's utcDate() cache, which is refreshed on a real-time timer: its
 * value depends on how fast the machine ran. For those scenarios the TCP payload bytes and the TCP
 * checksum are zeroed before hashing; every header, length and timestamp stays pinned. The
 * engine-only scenarios' pcaps are pinned byte for byte.
 */
function maskPayload(pcap: Uint8Array): Uint8Array {
  const b = pcap.slice();
  const dv = new DataView(b.buffer);
  for (let off = 24; off + 16 <= b.length; ) {
    const len = dv.getUint32(off + 8, true);
    const pkt = off + 16;
    const tcp = (b[pkt]! >> 4) === 4 ? pkt + (b[pkt]! & 0x0f) * 4 : pkt + 40;
    b[tcp + 16] = 0;
    b[tcp + 17] = 0;
    b.fill(0, tcp + (b[tcp + 12]! >> 4) * 4, pkt + len);
    off = pkt + len;
  }
  return b;
}

/** One line per corpus script: status, events, virtual µs, sha256 of its whole trace, path. */
export function drillLines(): string[] {
  const { files } = expandPaths(['test/drill']);
  return runFiles(files).map((r) => `${r.status} ${r.events} ${r.virtualUs} ${sha256(JSON.stringify(r.trace))}  ${r.file}`);
}

const NODE_RUN = new Set(CATALOGUE.filter((s) => s.node).map((s) => s.id));

export const readLines = (f: string): string[] => readFileSync(f, 'utf8').split('\n').filter(Boolean);
