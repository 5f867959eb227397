// Samples of every host's socket table (as `ss -tano` shows it) and counters during a lab run, and
// the self-contained run the web page draws (trace, samples, final counters and sockets).
// Browser-safe: it is fed through runScenario's `observe` hook.

import type { Host } from '../host/host.ts';
import { toJson, type LabJson } from './export.ts';
import type { LabRun } from './runner.ts';
import type { ParamSpec, Topic } from './scenario.ts';
import { ssRow, type SsRow } from './ss.ts';

export interface Sample {
  /** Virtual µs: the table as it was after everything at this instant happened. */
  t: number;
  sockets: Record<string, SsRow[]>;
  /** Rows left out of each host's table (more than the cap). */
  cut: Record<string, number>;
  counters: Record<string, Record<string, number>>;
}

export class Recorder {
  readonly samples: Sample[] = [];
  private stride = 1;
  private instants = 0;
  private lastT = -1;
  private recordThis = false;

  constructor(private readonly opts: { maxSamples?: number; maxRows?: number } = {}) {}

  /** For runScenario's `observe`: may be called several times per instant; the last call wins. */
  observe = (now: number, hosts: Host[]): void => {
    if (now !== this.lastT) {
      this.lastT = now;
      this.recordThis = this.instants % this.stride === 0;
      this.instants++;
      if (this.recordThis) this.samples.push(this.take(now, hosts));
      this.thin();
      return;
    }
    if (this.recordThis && this.samples.length && this.samples[this.samples.length - 1]!.t === now) {
      this.samples[this.samples.length - 1] = this.take(now, hosts);
    }
  };

  /** The final tables, as a last sample at the end of the run. */
  finish(run: LabRun): Sample[] {
    const end = run.net.now;
    if (!this.samples.length || this.samples[this.samples.length - 1]!.t !== end) this.samples.push(this.take(end, run.hosts));
    return this.samples;
  }

  private take(t: number, hosts: Host[]): Sample {
    const max = this.opts.maxRows ?? 80;
    const s: Sample = { t, sockets: {}, cut: {}, counters: {} };
    for (const h of hosts) {
      const rows = h.sockets();
      s.sockets[h.name] = rows.slice(0, max).map(ssRow);
      if (rows.length > max) s.cut[h.name] = rows.length - max;
      s.counters[h.name] = h.counters.snapshot(true);
    }
    return s;
  }

  /** Keeps at most maxSamples: past it, every other sample goes and the stride doubles. */
  private thin(): void {
    const max = this.opts.maxSamples ?? 1500;
    if (this.samples.length <= max) return;
    const kept = this.samples.filter((_, i) => i % 2 === 0);
    this.samples.length = 0;
    this.samples.push(...kept);
    this.stride *= 2;
  }
}

/** What the catalogue says of a scenario, without its code (for the page and `lab list --json`). */
export interface ScenarioMeta {
  id: string;
  title: string;
  topic: Topic;
  explain: string;
  question: string;
  notice: string[];
  params: ParamSpec[];
  node: boolean;
  topology: 'pair' | 'proxy';
}

/** A run as the web page draws it. */
export interface WebRun extends LabJson {
  title: string;
  endUs: number;
  hosts: Array<{ name: string; addresses: string[] }>;
  samples: Sample[];
}

export function toWebRun(run: LabRun, samples: Sample[]): WebRun {
  return {
    ...toJson(run),
    title: run.scenario.title,
    endUs: run.net.now,
    hosts: run.hosts.map((h) => ({ name: h.name, addresses: [...h.addresses] })),
    samples,
  };
}
