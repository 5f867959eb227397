// The segment fuzzer (test/fuzz/segments.test.ts, npm run soak): random and mutated segments
// thrown at sockets in every state. Nothing may throw out of the receive path, the connection
// invariants hold after every segment, and the malformed ones are counted (InCsumErrors,
// InErrs, IpInHdrErrors) and change nothing else. Throws an AssertionError on a violation.

import assert from 'node:assert/strict';
import { Rng } from '../../src/sim/rng.ts';
import { TcpConn } from '../../src/tcp/conn.ts';
import { seqLe } from '../../src/tcp/seq.ts';
import { rcvbuf, skbTruesize } from '../../src/tcp/autotune.ts';
import { decodePacket, encodePacket, makeIpRepr } from '../../src/wire/packet.ts';
import type { TcpOption, TcpRepr } from '../../src/wire/types.ts';
import { ACK, FIN, Harness, RST, SYN, establishedClient, establishedServer, type Est } from '../helpers/harness.ts';

interface Target {
  state: string;
  h: Harness;
  /** sequence numbers near which segments are interesting */
  rcvNxt: number;
  sndUna: number;
}

function est(server: boolean): Est {
  return server ? establishedServer() : establishedClient();
}

function finOf(e: Est): number {
  const out = e.h.take();
  const fin = out.find((o) => o.tcp.flags & FIN);
  if (!fin) throw new Error('no FIN was sent');
  return fin.tcp.seq;
}

/** Builds a host with one socket in the named state. */
function build(state: string): Target {
  const mk = (e: Est): Target => ({ state, h: e.h, rcvNxt: e.h.rSeq, sndUna: e.lSeq });
  switch (state) {
    case 'LISTEN': {
      const h = new Harness();
      const l = h.host.socket();
      l.bind('0.0.0.0', 80);
      l.listen(4);
      return { state, h, rcvNxt: h.rSeq, sndUna: 0 };
    }
    case 'SYN_SENT': {
      const h = new Harness();
      h.remotePort = 80;
      const s = h.host.socket();
      s.connect(h.remote, 80);
      const syn = h.one();
      h.localPort = syn.tcp.srcPort;
      return { state, h, rcvNxt: h.rSeq, sndUna: syn.tcp.seq };
    }
    case 'SYN_RECV': {
      const h = new Harness();
      const l = h.host.socket();
      l.bind('0.0.0.0', 80);
      l.listen(4);
      h.inject({ flags: SYN, seq: h.rIsn, options: h.synOptions() });
      const sa = h.one();
      h.rSeq = h.rIsn + 1;
      return { state, h, rcvNxt: h.rSeq, sndUna: sa.tcp.seq };
    }
    case 'ESTABLISHED':
      return mk(est(true));
    case 'ESTABLISHED-client':
      return mk(est(false));
    case 'FIN_WAIT1': {
      const e = est(true);
      e.sock.send(new Uint8Array(3000));
      e.sock.close();
      return mk(e);
    }
    case 'FIN_WAIT2': {
      const e = est(true);
      e.sock.shutdown('SHUT_WR');
      const fin = finOf(e);
      e.h.inject({ flags: ACK, seq: e.h.rSeq, ack: fin + 1, options: e.h.ts(e.lastTs) });
      return { ...mk(e), sndUna: fin + 1 };
    }
    case 'FIN_WAIT2-orphan': {
      const e = est(true);
      e.sock.close();
      const fin = finOf(e);
      e.h.inject({ flags: ACK, seq: e.h.rSeq, ack: fin + 1, options: e.h.ts(e.lastTs) });
      return { ...mk(e), sndUna: fin + 1 };
    }
    case 'CLOSE_WAIT': {
      const e = est(true);
      e.h.inject({ flags: FIN | ACK, seq: e.h.rSeq, ack: e.lSeq, options: e.h.ts(e.lastTs) });
      e.h.rSeq++;
      return mk(e);
    }
    case 'LAST_ACK': {
      const e = est(true);
      e.h.inject({ flags: FIN | ACK, seq: e.h.rSeq, ack: e.lSeq, options: e.h.ts(e.lastTs) });
      e.h.rSeq++;
      e.sock.close();
      return mk(e);
    }
    case 'CLOSING': {
      const e = est(true);
      e.sock.close();
      e.h.take();
      e.h.inject({ flags: FIN | ACK, seq: e.h.rSeq, ack: e.lSeq, options: e.h.ts(e.lastTs) });
      e.h.rSeq++;
      return mk(e);
    }
    case 'TIME_WAIT': {
      const e = est(true);
      e.sock.close();
      const fin = finOf(e);
      e.h.inject({ flags: FIN | ACK, seq: e.h.rSeq, ack: fin + 1, options: e.h.ts(e.lastTs) });
      e.h.rSeq++;
      return { ...mk(e), sndUna: fin + 1 };
    }
  }
  throw new Error(`no fixture for ${state}`);
}

const STATES = ['LISTEN', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'ESTABLISHED-client', 'FIN_WAIT1', 'FIN_WAIT2', 'FIN_WAIT2-orphan', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSING', 'TIME_WAIT'];

function near(rng: Rng, base: number): number {
  switch (rng.int(0, 4)) {
    case 0: return base >>> 0;
    case 1: return (base + rng.int(-70000, 70000)) >>> 0;
    case 2: return (base + rng.int(-3, 3)) >>> 0;
    case 3: return (base ^ (1 << rng.int(0, 31))) >>> 0;
    default: return rng.next();
  }
}

function randomOptions(rng: Rng): TcpOption[] {
  const opts: TcpOption[] = [];
  const n = rng.int(0, 4);
  let size = 0;
  for (let i = 0; i < n; i++) {
    let o: TcpOption;
    switch (rng.int(0, 7)) {
      case 0: o = { kind: 'nop' }; break;
      case 1: o = { kind: 'mss', value: rng.int(0, 65535) }; break;
      case 2: o = { kind: 'wscale', shift: rng.int(0, 255) }; break;
      case 3: o = { kind: 'sackPermitted' }; break;
      case 4: o = { kind: 'timestamp', val: rng.next(), ecr: rng.next() }; break;
      case 5: o = { kind: 'sack', blocks: [[rng.next(), rng.next()]] }; break;
      case 6: o = { kind: 'unknown', type: rng.int(9, 254), data: new Uint8Array(rng.int(0, 6)) }; break;
      default: o = { kind: 'eol' };
    }
    const len = o.kind === 'nop' || o.kind === 'eol' ? 1 : o.kind === 'mss' ? 4 : o.kind === 'wscale' ? 3 : o.kind === 'sackPermitted' ? 2 : o.kind === 'timestamp' ? 10 : o.kind === 'sack' ? 10 : 2 + (o as { data: Uint8Array }).data.length;
    if (size + len > 40) break;
    size += len;
    opts.push(o);
  }
  return opts;
}

function randomSegment(rng: Rng, t: Target): TcpRepr {
  const flagsPool = [SYN, SYN | ACK, ACK, ACK | FIN, RST, RST | ACK, ACK | 0x08, 0, 0xff & rng.next(), FIN, SYN | FIN, SYN | RST];
  const len = rng.chance(0.5) ? 0 : rng.int(1, rng.chance(0.9) ? 1500 : 9000);
  const payload = new Uint8Array(len);
  for (let i = 0; i < len; i += 97) payload[i] = rng.int(0, 255);
  return {
    srcPort: rng.chance(0.9) ? t.h.remotePort : rng.int(0, 65535),
    dstPort: rng.chance(0.9) ? t.h.localPort : rng.int(0, 65535),
    seq: near(rng, t.rcvNxt),
    ack: near(rng, t.sndUna),
    flags: flagsPool[rng.int(0, flagsPool.length - 1)]!,
    window: rng.chance(0.2) ? 0 : rng.int(0, 65535),
    urgent: rng.chance(0.9) ? 0 : rng.int(0, 65535),
    options: rng.chance(0.5) ? randomOptions(rng) : t.h.ts(rng.next()),
    payload,
  };
}

/** A valid packet, then bytes flipped, the buffer cut or extended, or header fields broken. */
function mutate(rng: Rng, bytes: Uint8Array): Uint8Array {
  const b = bytes.slice();
  switch (rng.int(0, 5)) {
    case 0: { // flip bytes anywhere (checksums then fail, or the IP header does)
      const n = rng.int(1, 4);
      for (let i = 0; i < n; i++) b[rng.int(0, b.length - 1)]! ^= 1 << rng.int(0, 7);
      return b;
    }
    case 1: return b.subarray(0, rng.int(0, b.length - 1)); // truncated
    case 2: { const e = new Uint8Array(b.length + rng.int(1, 40)); e.set(b); return e; } // trailing junk
    case 3: { b[32] = (rng.int(0, 15) << 4) | (b[32]! & 0x0f); return b; } // TCP data offset (IPv4, 20-byte IP header)
    case 4: { b[0] = (rng.int(0, 15) << 4) | rng.int(0, 15); return b; } // version / IHL
    default: { const r = new Uint8Array(rng.int(0, 80)); for (let i = 0; i < r.length; i++) r[i] = rng.int(0, 255); return r; } // garbage
  }
}

function checkInvariants(t: Target, label: string): void {
  for (const e of t.h.host.demux.values()) {
    if (!(e instanceof TcpConn)) continue;
    assert.ok(seqLe(e.sndUna, e.sndNxt), `${label}: SND.UNA <= SND.NXT (${e.sndUna} ${e.sndNxt})`);
    assert.ok(seqLe(e.sndNxt, e.sndMax), `${label}: SND.NXT <= SND.MAX`);
    assert.ok(e.sndBuf.length <= e.sndBuf.limit, `${label}: send buffer within its limit`);
    assert.ok(e.rcvBuf.length <= e.rcvBuf.limit, `${label}: receive buffer within its limit`);
    // tcp_try_rmem_schedule: out-of-order data is queued only while its bytes fit under
    // sk_rcvbuf (tcp_can_ingest), so its memory passes the buffer by one skb at most.
    const ofoMem = e.ofo.reduce((a, s) => a + s.truesize, 0);
    assert.ok(ofoMem <= rcvbuf(e) + skbTruesize(65535), `${label}: out-of-order memory bounded (${ofoMem} of ${rcvbuf(e)})`);
    assert.ok(e.sndWnd >= 0 && e.rcvWnd >= 0, `${label}: windows non-negative`);
    assert.ok(Number.isFinite(e.rto) && e.rto > 0, `${label}: RTO is a positive number`);
  }
}

function assertCounters(t: Target, e: { csum: number; tcpErr: number; ipErr: number }, state: string): void {
  const k = t.h.host.counters.snapshot();
  assert.equal(k['TcpInCsumErrors'], e.csum, `${state}: InCsumErrors counts every bad checksum`);
  // InErrs also counts SYNs challenged in ESTABLISHED (Linux syn_inerr), so it is at least the decode errors.
  assert.ok(k['TcpInErrs']! >= e.tcpErr, `${state}: InErrs ${k['TcpInErrs']} >= ${e.tcpErr}`);
  assert.equal(k['IpInHdrErrors'], e.ipErr, `${state}: IpInHdrErrors counts every bad IP header`);
}


export interface FuzzStats { segments: number; decodable: number; answered: number }

/** Chunk N of the soak's segment fuzz draws from these seeds (one per socket state). */
export const chunkRngBase = (n: number): number => Math.imul(n, 0x9e3779b1) >>> 0;

/** `total` segments spread over every state; state i draws from new Rng(rngBase + i). */
export function fuzzSegments(total: number, rngBase: number): FuzzStats {
  let answered = 0;
  let decodable = 0;
  for (const [si, state] of STATES.entries()) {
    const rng = new Rng((rngBase + si) >>> 0);
    const per = Math.floor(total / STATES.length) + (si < total % STATES.length ? 1 : 0);
    let t = build(state);
    const expected = { csum: 0, tcpErr: 0, ipErr: 0 };
    for (let i = 0; i < per; i++) {
      // Rebuild now and then so that every state keeps being hit, not only CLOSED.
      if (i % 500 === 499) {
        assertCounters(t, expected, state);
        t = build(state);
        expected.csum = expected.tcpErr = expected.ipErr = 0;
      }
      const seg = randomSegment(rng, t);
      let bytes = encodePacket(makeIpRepr(t.h.remote, t.h.local), seg);
      if (rng.chance(0.4)) bytes = mutate(rng, bytes);
      const d = decodePacket(bytes);
      if (!d.ok) {
        if (d.error.layer === 'tcp') {
          expected.tcpErr++;
          if (d.error.kind === 'bad-checksum') expected.csum++;
        } else if (d.error.kind !== 'unsupported-protocol') expected.ipErr++;
      }
      try {
        t.h.injectRaw(bytes);
        if (rng.chance(0.05)) t.h.advance(rng.int(1, 5_000_000));
      } catch (e) {
        throw new Error(`${state}: segment ${i} threw ${(e as Error).stack}`);
      }
      answered += t.h.take().length;
      if (d.ok) decodable++;
      checkInvariants(t, `${state} #${i}`);
    }
    assertCounters(t, expected, state);
    // Whatever happened, time can still run to the end of every timer.
    t.h.advance(3_600_000_000);
    checkInvariants(t, `${state} after an hour`);
  }
  return { segments: total, decodable, answered };
}
