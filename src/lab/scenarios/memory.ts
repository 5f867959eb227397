// Topic F: attacks and limits. The memory bounds (tcp/memory.ts) under attack: a flood of tiny
// out-of-order segments against a receiver (tcp_prune_queue, tcp_prune_ofo_queue).

import type { Socket } from '../../host/socket.ts';
import type { TraceEvent } from '../../base/trace.ts';
import { rcvbuf, rmemAlloc } from '../../tcp/autotune.ts';
import { ACK, type TcpRepr } from '../../wire/types.ts';
import { latencyParam, ms, sec, type LabEvent, type Scenario } from '../scenario.ts';
import { attacker, pattern, upload, window } from './attacks.ts';

/**
 * The flood's own traffic left out of the trace: the forged 1-byte segments and the SACKed
 * duplicate ACKs each one draws; the legitimate data, the ACKs without SACK blocks, the states
 * and the notes stay.
 */
function notFlood(e: LabEvent): boolean {
  const t = e as TraceEvent;
  if (t.kind === 'segment') return t.len !== 1 && !t.options.includes('sack');
  if (t.kind === 'drop') return false;
  return true;
}

export const ofoFlood: Scenario = {
  id: 'ofo-flood',
  title: 'Out-of-order flood: tiny forged segments fill the receive queue; pruning keeps the memory bounded',
  topic: 'F',
  explain:
    'An attacker forging the client\'s address sprays 1-byte segments just above the server\'s RCV.NXT, inside its window, while the client uploads. ' +
    'Each is queued out of order and costs a whole buffer (832 bytes of sk_rmem_alloc for 1 byte of data on Linux 6.18). ' +
    'Once the memory charged would exceed sk_rcvbuf, Linux (tcp_try_rmem_schedule) calls tcp_prune_queue (PruneCalled): it collapses the queues, except ranges of single tiny segments (CVE-2018-5390: copying them cost more CPU than it saved), ' +
    'then tcp_prune_ofo_queue throws out-of-order data away from the highest sequence down (OfoPruned), and a segment that still does not fit is dropped (TCPOFODrop). ' +
    'In-order data always wins: pruning makes room for it, so the upload completes byte-exact and the receive memory never goes above sk_rcvbuf. ' +
    '(The lab\'s attacker sees the connection and forges the very bytes the client will send there: this is about memory; blind-data-injection is about forged bytes.)',
  question: 'Can a flood of tiny out-of-order segments make a receiver run out of memory?',
  params: [
    latencyParam,
    { name: 'bandwidth_mbps', description: 'link bandwidth (Mbit/s), so that the transfer lasts', default: 5, min: 1, max: 10000 },
    { name: 'bytes', description: 'bytes the client uploads', default: 2_000_000, min: 1000, max: 100_000_000 },
    { name: 'forged', description: 'forged 1-byte segments the attacker sends', default: 30_000, min: 0, max: 1_000_000 },
    { name: 'flood_s', description: 'seconds the flood lasts (bursts every millisecond)', default: 3, min: 1, max: 60 },
  ],
  notice: [
    'the server\'s notes, once a second: its receive memory (sk_rmem_alloc) stays under sk_rcvbuf, while the out-of-order queue fills and is pruned again and again',
    'TcpExtPruneCalled and TcpExtOfoPruned count the prunes, TcpExtTCPOFODrop the forged segments that found no room, TcpExtTCPOFOQueue those queued',
    'the upload completes: the server notes it read exactly the bytes the client wrote, at 5.9 s instead of 3.3 s without the flood (forged=0): each prune clamps the advertised window (tcp_clamp_window)',
    'the trace leaves out the forged segments and the SACKed duplicate ACKs they draw (thousands of each): only the counters show them',
  ],
  keepEvent: notFlood,
  link: (p) => ({ latencyUs: Math.round(p['latency_ms']! * 1000), bandwidthBps: p['bandwidth_mbps']! * 1_000_000 }),
  setup(ctx) {
    const { net, server, p } = ctx;
    const evil = attacker(ctx);
    let conn: Socket | null = null;
    upload(ctx, p['bytes']!, (s) => (conn = s));
    const total = p['forged']!;
    const bursts = p['flood_s']! * 1000;
    let sent = 0;
    let peak = 0; // sk_rmem_alloc's highest, sampled before each burst
    for (let b = 0; b < bursts; b++) {
      net.at(ms(100 + b), () => {
        if (conn?.conn) peak = Math.max(peak, rmemAlloc(conn.conn));
        const w = conn && window(conn);
        const upTo = Math.round((total * (b + 1)) / bursts);
        if (!w) {
          sent = upTo; // nothing to attack (yet, or any more)
          return;
        }
        for (; sent < upTo; sent++) {
          // Above RCV.NXT (never at it), inside the window; every other byte, so no two touch.
          const off = 2 + 2 * ((Math.imul(sent + 1, 2654435761) >>> 0) % Math.max(1, (w.wnd >> 1) - 1));
          const seq = (w.rcvNxt + off) >>> 0;
          // The byte the client itself will send there (the attacker knows the pattern): which copy
          // Linux keeps is no matter here (blind-data-injection is that); the memory is.
          const byte = pattern(((seq - conn!.conn!.irs - 1) >>> 0) % 26 + 1).subarray(-1);
          const tcp: TcpRepr = { srcPort: w.rport, dstPort: w.lport, seq, ack: w.sndNxt, flags: ACK, window: 502, urgent: 0, options: [], payload: byte };
          evil.send(tcp);
        }
      });
    }
    // Once a second: what the server's connection holds.
    const end = ofoFlood.duration(p);
    for (let t = sec(1); t < end; t += sec(1)) {
      net.at(t, () => {
        const c = conn?.conn;
        if (!c) return;
        const k = server.counters;
        ctx.note(server, `receive memory ${rmemAlloc(c)} (peak ${peak}) of sk_rcvbuf ${rcvbuf(c)} bytes, ${c.ofo.length} out-of-order ranges; forged so far ${sent}, PruneCalled ${k.get('PruneCalled')}, OfoPruned ${k.get('OfoPruned')}, TCPOFODrop ${k.get('TCPOFODrop')}`);
      });
    }
  },
  duration: (p) => ms(100) + Math.max(sec(p['flood_s']!), Math.ceil((p['bytes']! * 8 * 1.2) / p['bandwidth_mbps']!)) + ms(2000),
};
