// Runs an engine-only scenario off the page's main thread: the same runner the CLI uses, with the
// socket tables and counters sampled at each instant, and the pcap built from the trace's packets.

import { runScenario } from '../../src/lab/runner.ts';
import { toPcap } from '../../src/lab/export.ts';
import { Recorder, toWebRun, type WebRun } from '../../src/lab/record.ts';

export interface RunRequest {
  n: number;
  id: string;
  seed: number;
  set: Record<string, string>;
}

export type RunReply =
  | { n: number; ok: true; run: WebRun; pcap: Uint8Array; ms: number }
  | { n: number; ok: false; error: string };

self.onmessage = async (ev: MessageEvent<RunRequest>) => {
  const { n, id, seed, set } = ev.data;
  const t0 = performance.now();
  try {
    const rec = new Recorder();
    const run = await runScenario(id, { seed, set, observe: rec.observe });
    const reply: RunReply = { n, ok: true, run: toWebRun(run, rec.finish(run)), pcap: toPcap(run), ms: Math.round(performance.now() - t0) };
    (self as unknown as Worker).postMessage(reply, [reply.pcap.buffer]);
  } catch (e) {
    const reply: RunReply = { n, ok: false, error: e instanceof Error ? e.message : String(e) };
    (self as unknown as Worker).postMessage(reply);
  }
};
