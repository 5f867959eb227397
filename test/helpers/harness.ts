// A host under test with a scripted remote peer: segments are injected as IP packets and
// everything the host sends is captured and decoded. Time is a virtual clock moved by hand.

import { VirtualClock } from '../../src/time/clock.ts';
import { Host } from '../../src/host/host.ts';
import type { HostConfig } from '../../src/host/config.ts';
import type { TraceEvent } from '../../src/host/trace.ts';
import type { Socket } from '../../src/host/socket.ts';
import { decodePacket, encodePacket, makeIpRepr } from '../../src/wire/packet.ts';
import { ACK, FIN, PSH, RST, SYN, type TcpOption, type TcpRepr } from '../../src/wire/types.ts';
import { linuxDataOptions, linuxSynOptions } from '../../src/wire/tcp.ts';

export { ACK, FIN, PSH, RST, SYN };

export const LOCAL = '10.0.0.1';
export const REMOTE = '10.0.0.2';

export interface Out {
  t: number;
  tcp: TcpRepr;
  flags: string;
}

export function flagStr(f: number): string {
  let s = '';
  if (f & SYN) s += 'S';
  if (f & FIN) s += 'F';
  if (f & RST) s += 'R';
  if (f & PSH) s += 'P';
  if (f & ACK) s += '.';
  return s || 'none';
}

export class Harness {
  readonly clock = new VirtualClock(1_000_000);
  readonly host: Host;
  readonly events: TraceEvent[] = [];
  private outQ: Out[] = [];
  /** The remote peer's sequence state, kept by the test. */
  rSeq = 1_000_000; // remote ISN + consumed
  rIsn = 1_000_000;
  remotePort = 40000;
  localPort = 80;
  tsVal = 5000;

  constructor(config: Partial<HostConfig> = {}, opts: { local?: string; remote?: string } = {}) {
    this.local = opts.local ?? LOCAL;
    this.remote = opts.remote ?? REMOTE;
    this.host = new Host({ name: 'dut', addresses: [this.local], clock: this.clock, seed: 7, config, trace: (e) => this.events.push(e), tracePackets: false });
    this.host.setEmit((p) => {
      const r = decodePacket(p);
      if (!r.ok) throw new Error(`host emitted an undecodable packet: ${r.error.detail}`);
      this.outQ.push({ t: this.clock.now(), tcp: r.value.tcp, flags: flagStr(r.value.tcp.flags) });
    });
  }
  readonly local: string;
  readonly remote: string;

  /** Sends a segment from the remote peer. */
  inject(seg: Partial<TcpRepr> & { flags: number }): void {
    const full: TcpRepr = {
      srcPort: this.remotePort, dstPort: this.localPort, seq: this.rSeq, ack: 0, window: 64240, urgent: 0,
      options: [], payload: new Uint8Array(0), ...seg,
    };
    this.host.deliver(this.clock.now(), encodePacket(makeIpRepr(this.remote, this.local), full));
  }

  injectRaw(bytes: Uint8Array): void {
    this.host.deliver(this.clock.now(), bytes);
  }

  /** Moves virtual time forward by `us`, running timers on the way in order. */
  advance(us: number): void {
    const end = this.clock.now() + us;
    for (;;) {
      const d = this.host.nextDeadline();
      if (d > end) break;
      if (d > this.clock.now()) this.clock.set(d);
      this.host.advance(this.clock.now());
    }
    this.clock.set(end);
    this.host.advance(end);
  }

  /** Segments emitted since the last call. */
  take(): Out[] {
    const q = this.outQ;
    this.outQ = [];
    return q;
  }

  /** Exactly one segment must have been emitted; returns it. */
  one(): Out {
    const q = this.take();
    if (q.length !== 1) throw new Error(`expected one segment, got ${q.length}: ${q.map((o) => `${o.flags} seq=${o.tcp.seq} ack=${o.tcp.ack} len=${o.tcp.payload.length}`).join('; ')}`);
    return q[0]!;
  }

  none(): void {
    const q = this.take();
    if (q.length) throw new Error(`expected no segment, got ${q.map((o) => `${o.flags} seq=${o.tcp.seq} ack=${o.tcp.ack} len=${o.tcp.payload.length}`).join('; ')}`);
  }

  ts(ecr: number): TcpOption[] {
    return linuxDataOptions({ timestamp: { val: this.tsVal++, ecr } });
  }

  synOptions(): TcpOption[] {
    return linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: this.tsVal++, ecr: 0 }, wscale: 7 });
  }

  counter(name: string): number {
    return this.host.counters.snapshot()[name] ?? NaN;
  }

  states(): string[] {
    return this.events.filter((e) => e.kind === 'state').map((e) => (e as { to: string }).to);
  }
}

/** The value of the last timestamp option a segment carried. */
export function tsOf(o: Out): { val: number; ecr: number } | undefined {
  for (const x of o.tcp.options) if (x.kind === 'timestamp') return { val: x.val, ecr: x.ecr };
  return undefined;
}

export interface Est {
  h: Harness;
  sock: Socket; // the local socket (accepted or connected)
  listener?: Socket;
  /** Our (local) next sequence number as seen by the peer = the ack the peer sends. */
  lSeq: number;
  iss: number;
  /** The last timestamp val the host sent (for ecr). */
  lastTs: number;
}

/**
 * A passive-open connection in ESTABLISHED: the host listens on :80, the remote peer does the
 * handshake with Linux's SYN options (mss 1460, sackOK, TS, wscale 7).
 */
export function establishedServer(config: Partial<HostConfig> = {}): Est {
  const h = new Harness(config);
  const l = h.host.socket();
  l.bind('0.0.0.0', 80);
  l.listen(16);
  h.inject({ flags: SYN, seq: h.rIsn, options: h.synOptions(), window: 64240 });
  const synack = h.one();
  h.rSeq = h.rIsn + 1;
  const iss = synack.tcp.seq;
  const ts = tsOf(synack)!.val;
  h.inject({ flags: ACK, seq: h.rSeq, ack: iss + 1, window: 502, options: h.ts(ts) });
  h.none();
  const sock = l.accept();
  if (!sock) throw new Error('accept() returned nothing after the handshake');
  return { h, sock, listener: l, lSeq: iss + 1, iss, lastTs: ts };
}

/** An active-open connection in ESTABLISHED: the host connects to the remote :80. */
export function establishedClient(config: Partial<HostConfig> = {}): Est {
  const h = new Harness(config);
  h.remotePort = 80;
  const sock = h.host.socket();
  sock.connect(h.remote, 80);
  const syn = h.one();
  h.localPort = syn.tcp.srcPort;
  const iss = syn.tcp.seq;
  h.inject({ flags: SYN | ACK, seq: h.rIsn, ack: iss + 1, options: linuxSynOptions({ mss: 1460, sackPermitted: true, timestamp: { val: h.tsVal++, ecr: tsOf(syn)!.val }, wscale: 7 }), window: 65160 });
  h.rSeq = h.rIsn + 1;
  const ack = h.one();
  return { h, sock, lSeq: iss + 1, iss, lastTs: tsOf(ack)!.val };
}
