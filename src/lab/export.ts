// A lab run for other programs: the JSON that `linger lab run --json` prints (test/golden pins it)
// and the pcap of the packets for Wireshark. Browser-safe.

import type { LabEvent } from './scenario.ts';
import type { SocketRow } from '../host/host.ts';
import { PcapWriter } from '../wire/pcap.ts';
import type { LabRun } from './runner.ts';

export type JsonEvent = Record<string, unknown> & { t_ms: number; host: string; kind: string };

/** One trace event as JSON: virtual time in ms, no packet bytes. */
export function eventJson(e: LabEvent): JsonEvent {
  const { t, packet: _p, ...rest } = e as LabEvent & { packet?: Uint8Array };
  return { t_ms: t / 1000, ...rest } as JsonEvent;
}

export interface LabJson {
  scenario: string;
  seed: number;
  params: Record<string, number>;
  events: JsonEvent[];
  counters: Record<string, Record<string, number>>;
  sockets: Record<string, SocketRow[]>;
}

export function toJson(run: LabRun): LabJson {
  const counters: LabJson['counters'] = {};
  const sockets: LabJson['sockets'] = {};
  for (const h of run.hosts) {
    counters[h.name] = h.counters.snapshot(true);
    sockets[h.name] = h.sockets();
  }
  return { scenario: run.scenario.id, seed: run.seed, params: run.params, events: run.events.map(eventJson), counters, sockets };
}

/** The packets each host sent, as a pcap (LINKTYPE_RAW) for Wireshark; times are virtual. */
export function toPcap(run: LabRun): Uint8Array {
  const w = new PcapWriter();
  for (const e of run.events) if (e.kind === 'segment' && e.dir === 'out' && e.packet) w.add(Math.round(e.t), e.packet);
  return w.bytes();
}
