// Topic F: attacks and limits. The memory bounds (tcp/memory.ts) under attack: a flood of tiny
// out-of-order segments against a receiver (tcp_prune_queue, tcp_prune_ofo_queue); orphans
// over tcp_max_orphans (tcp_check_oom); crafted SACK blocks from a peer with a tiny MSS against a
// bulk sender (CVE-2019-11477/11478).

import type { Host } from '../../host/host.ts';
import type { Socket } from '../../host/socket.ts';
import type { TcpConn } from '../../tcp/conn.ts';
import type { TraceEvent } from '../../base/trace.ts';
import { rcvbuf, rmemAlloc } from '../../tcp/autotune.ts';
import type { SimNode } from '../../sim/network.ts';
import { decodePacket, encodePacket, makeIpRepr } from '../../wire/packet.ts';
import { ACK, FIN, SYN, type TcpOption, type TcpRepr } from '../../wire/types.ts';
import { latencyParam, ms, sec, type LabEvent, type Scenario, type ScenarioContext } from '../scenario.ts';
import { attacker, pattern, upload, window } from './attacks.ts';
import { serve } from './apps.ts';

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

/** How many of a host's connections are in each state (the listener left out). */
function states(h: Host): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of h.sockets()) if (r.state !== 'LISTEN') m.set(r.state, (m.get(r.state) ?? 0) + 1);
  return m;
}

export const orphanFlood: Scenario = {
  id: 'orphan-flood',
  title: 'Orphan flood: clients close with data the server never reads; past tcp_max_orphans they are reset',
  topic: 'F',
  explain:
    'Many clients connect to a server that accepts but never reads. Each writes more than the server\'s window can take and calls close(): the socket is orphaned (no process owns it any more) ' +
    'in FIN_WAIT1, its data and FIN still queued behind a zero window, and the kernel keeps probing the window on its own. ' +
    'Orphans cost memory nobody can free, so Linux bounds them: tcp_check_oom compares the orphan count with net.ipv4.tcp_max_orphans, at close() (tcp_close) and at each of an orphan\'s retransmission or probe timers (tcp_out_of_resources). ' +
    'Over it, the orphan is reset (RST on the wire, TCPAbortOnMemory) and the kernel logs "too many orphaned sockets". ' +
    'The count it compares is a copy refreshed every 100 ms (tcp_orphan_cache, since 5.15), so a burst of closes within 100 ms can overshoot the limit before the resets start.',
  question: 'What bounds the sockets a process leaves behind when it closes with unsent data?',
  params: [
    latencyParam,
    { name: 'clients', description: 'clients that connect, write and close, one every 10 ms', default: 48, min: 1, max: 1000 },
    { name: 'bytes', description: 'bytes each client offers to one send() before close() (the send buffer takes what it can)', default: 200_000, min: 1, max: 10_000_000 },
    { name: 'server_rcvbuf', description: 'the server listener\'s SO_RCVBUF (Linux doubles it)', default: 4096, min: 1024, max: 1_000_000 },
    { name: 'max_orphans', description: 'net.ipv4.tcp_max_orphans on the client host (Linux default: half the established hash, 131072 here)', default: 16, min: 0, max: 1_000_000 },
  ],
  config: (p) => ({ client: { tcp_max_orphans: p['max_orphans']! } }),
  notice: [
    'each client writes, the server\'s window fills and drops to 0; 300 ms after connecting the client closes: FIN_WAIT1, orphaned, its data still queued',
    'once the cached orphan count is over max_orphans, close() resets instead: an R. from the client, the note "too many orphaned sockets", TcpExtTCPAbortOnMemory',
    'the orphans kept probe the zero window; each probe checks the limit again (tcp_out_of_resources): with the defaults, 20 orphans (closed 400-590 ms) before the 600 ms refresh saw them, then the 8 oldest reset by their probes (828-898 ms) until the 900 ms refresh saw 12',
    'the kernel line is rate-limited (net_info_ratelimited: 10 per 5 s): 10 notes for 36 resets',
    'the client\'s notes, once a second: orphans now, as the limit sees them, and the sockets by state',
  ],
  setup(ctx) {
    const { net, client, server, p, serverAddr } = ctx;
    // Accepts, never reads; a small receive buffer (inherited by the accepted sockets) fills at once.
    serve(server, 80, () => undefined).setsockopt('SO_RCVBUF', p['server_rcvbuf']!);
    const data = pattern(p['bytes']!);
    for (let i = 0; i < p['clients']!; i++) {
      net.at(ms(100 + 10 * i), () => {
        const c = client.socket();
        c.on('connect', () => c.send(data)); // what the send buffer takes; the rest is never written
        c.connect(serverAddr, 80);
        ctx.timer(ms(300), () => c.close());
      });
    }
    const end = orphanFlood.duration(p);
    for (let t = sec(1); t < end; t += sec(1)) {
      net.at(t, () => {
        const o = client.orphans();
        const st = [...states(client)].map(([k, v]) => `${k} ${v}`).join(', ');
        ctx.note(client, `orphans ${o.count} (as tcp_max_orphans sees them: ${o.cached}, limit ${p['max_orphans']}); TCPAbortOnMemory ${client.counters.get('TCPAbortOnMemory')}; sockets: ${st || 'none'}`);
      });
    }
  },
  duration: (p) => ms(100 + 10 * p['clients']!) + sec(5),
};

/**
 * The abusive peer: a node with a TCP of its own making, no Host. It connects announcing MSS 1,
 * takes the data in order and acknowledges it four segments behind, each ACK carrying SACK blocks
 * over the middle of each of those four segments ([seq + 1, end - 1)): blocks that, on Linux, make
 * tcp_sacktag_walk split an skb at the block's edges (tcp_fragment). 50 ms without data, or a FIN,
 * and it acknowledges everything; it answers the FIN with its own.
 */
class SackAbuser implements SimNode {
  readonly name = 'attacker';
  readonly addresses: string[];
  private emit: (p: Uint8Array) => void = () => undefined;
  private iss = 0x5eed0000;
  private rcvNxt = 0;
  private lastSegs: Array<[number, number]> = [];
  private idle: { cancel(): void } | null = null;
  private finAt = -1;
  received = 0;
  constructor(private readonly ctx: ScenarioContext, private readonly addr: string, private readonly sport: number) {
    this.addresses = [addr];
  }
  setEmit(emit: (p: Uint8Array) => void): void {
    this.emit = emit;
  }
  advance(): void {}
  nextDeadline(): number {
    return Infinity;
  }
  private send(flags: number, seq: number, ack: number, options: TcpOption[]): void {
    this.emit(encodePacket(makeIpRepr(this.addr, this.ctx.serverAddr), { srcPort: this.sport, dstPort: 80, seq, ack, flags, window: 65535, urgent: 0, options, payload: new Uint8Array(0) }));
  }
  connect(mss: number): void {
    this.send(SYN, this.iss, 0, [{ kind: 'mss', value: mss }, { kind: 'sackPermitted' }]);
  }
  deliver(packet: Uint8Array): void {
    const d = decodePacket(packet);
    if (!d.ok) return;
    const t = d.value.tcp;
    if (t.flags & SYN) {
      this.rcvNxt = (t.seq + 1) >>> 0;
      this.send(ACK, this.iss + 1, this.rcvNxt, []);
      return;
    }
    const len = t.payload.length;
    if (len && t.seq === this.rcvNxt) {
      this.rcvNxt = (t.seq + len) >>> 0;
      this.received += len;
      this.lastSegs.push([t.seq, this.rcvNxt]);
      if (this.lastSegs.length > 4) this.lastSegs.shift();
    }
    if (t.flags & FIN && ((t.seq + len) >>> 0) === this.rcvNxt && this.finAt < 0) {
      this.rcvNxt = (this.rcvNxt + 1) >>> 0;
      this.finAt = this.rcvNxt;
      this.idle?.cancel();
      this.send(ACK | FIN, this.iss + 1, this.rcvNxt, []);
      return;
    }
    if (this.finAt >= 0 || !len) return;
    const segs = this.lastSegs;
    const blocks = segs.filter(([a, b]) => b - a > 2).map(([a, b]): [number, number] => [(a + 1) >>> 0, (b - 1) >>> 0]).reverse();
    // Up to four segments behind; the blocks newest first (RFC 2018 §4).
    this.send(ACK, this.iss + 1, segs[0]![0], blocks.length ? [{ kind: 'nop' }, { kind: 'nop' }, { kind: 'sack', blocks: blocks.slice(0, 4) }] : []);
    this.idle?.cancel();
    this.idle = this.ctx.timer(ms(50), () => {
      this.idle = null;
      if (this.finAt < 0) this.send(ACK, this.iss + 1, this.rcvNxt, []);
    });
  }
}

/** The segments of the first 300 ms (the handshake, slow start's first rounds) and those with SYN, FIN or RST: thousands of tiny ones otherwise. */
function firstSegments(e: LabEvent): boolean {
  const t = e as TraceEvent;
  return t.kind !== 'segment' || t.t < ms(300) || /[SFR]/.test(t.flags);
}

export const sackAbuse: Scenario = {
  id: 'sack-abuse',
  title: 'SACK abuse: a peer with a tiny MSS and crafted SACK blocks; the retransmission queue stays bounded',
  topic: 'F',
  explain:
    'A client announces MSS 1 and downloads from a server, acknowledging four segments behind and SACKing the middle of each of those segments. ' +
    'In 2019 this was an attack on Linux: with a tiny MSS an skb of the write queue holds many segments in many fragments; a SACK block ending inside an skb makes tcp_fragment split it, ' +
    'so crafted blocks could grow the retransmission queue far past the send buffer (CVE-2019-11478, excess resource use) or overflow an skb\'s 16-bit segment count (CVE-2019-11477, "SACK Panic"). ' +
    'The fixes: net.ipv4.tcp_min_snd_mss (default 48) floors the MSS the peer may impose, so the server sends 48-byte segments; tcp_fragment refuses to split a queue already far over sk_sndbuf (TCPWqueueTooBig); tcp_gso_segs is capped. ' +
    'linger sends one packet per queue entry and never splits an entry on a SACK (a partial block marks nothing), so here the queue is bounded by the send buffer alone; the notes show it once a second.',
  question: 'Can a peer\'s SACK blocks make a sender\'s retransmission queue grow without bound?',
  params: [
    latencyParam,
    { name: 'mss', description: 'the MSS the abusive client announces (the server floors it at tcp_min_snd_mss)', default: 1, min: 1, max: 1460 },
    { name: 'bandwidth_mbps', description: 'link bandwidth (Mbit/s), so that the transfer lasts', default: 1, min: 1, max: 10000 },
    { name: 'bytes', description: 'bytes the server sends', default: 200_000, min: 1000, max: 10_000_000 },
    { name: 'sndbuf', description: 'the server socket\'s SO_SNDBUF (Linux doubles it); 0 = tcp_wmem autotuning', default: 0, min: 0, max: 10_000_000 },
  ],
  notice: [
    'the server\'s SYN-ACK: its MSS is its own; the data segments carry 48 bytes each: tcp_min_snd_mss floored the client\'s MSS 1',
    'every ACK from the client lags four segments and carries SACK blocks inside those segments: none marks a segment (TcpExtTCPSACKDiscard does not count them either: they are valid blocks)',
    'the server\'s notes, once a second: the retransmission queue (segments, bytes in flight) is a part of the send queue, which never holds more than the send buffer (growing with tcp_wmem autotuning)',
    'the transfer completes: the last note says every byte arrived in order',
    'the trace keeps the segments of the first 300 ms and those with SYN or FIN: the counters count the rest',
  ],
  keepEvent: firstSegments,
  setup(ctx) {
    const { net, server, p, serverAddr } = ctx;
    const addr = serverAddr.includes(':') ? 'fd00::66' : '10.0.0.66';
    const peer = new SackAbuser(ctx, addr, 40000);
    net.addNode(peer);
    net.link('attacker', 'server', { latencyUs: Math.round(p['latency_ms']! * 1000), bandwidthBps: p['bandwidth_mbps']! * 1_000_000 });
    const data = pattern(p['bytes']!);
    let conn: TcpConn | null = null; // kept past close(): the orphan goes on sending
    const ls = serve(server, 80, (s) => {
      conn = s.conn;
      let sent = 0;
      const pump = () => {
        while (sent < data.length) {
          const k = s.send(data.subarray(sent));
          if (k === 0) return;
          sent += k;
        }
        s.off('writable', pump);
        s.close();
      };
      s.on('writable', pump);
      pump();
    });
    if (p['sndbuf']) ls.setsockopt('SO_SNDBUF', p['sndbuf']);
    net.at(ms(1), () => peer.connect(p['mss']!));
    let done = false;
    const end = sackAbuse.duration(p);
    for (let t = sec(1); t < end; t += sec(1)) {
      net.at(t, () => {
        const c = conn;
        if (!c || done) return;
        const q = c.loss ? c.loss.q.length : 0;
        ctx.note(server, `retransmission queue ${q} segments, ${(c.sndMax - c.sndUna) >>> 0} bytes in flight; send queue ${c.sndBuf.length} of ${c.sndBuf.limit} bytes; MSS ${c.mssCache}; client received ${peer.received}`);
      });
    }
    net.at(end - 1, () => {
      done = true;
      ctx.note(server, `the client received ${peer.received} bytes in order of ${data.length}`);
    });
  },
  duration: (p) => sec(3) + Math.ceil((p['bytes']! * 2.5 * 8) / p['bandwidth_mbps']!),
};
