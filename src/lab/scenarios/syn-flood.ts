// Topic F: attacks and limits. A SYN flood from spoofed sources against a listener, with and
// without SYN cookies (tcp/syncookies.ts), while legitimate clients keep connecting.

import type { SimNode } from '../../sim/network.ts';
import type { Host } from '../../host/host.ts';
import type { TraceEvent } from '../../base/trace.ts';
import { encodePacket, makeIpRepr } from '../../wire/packet.ts';
import { SYN } from '../../wire/types.ts';
import { latencyParam, ms, sec, text, type LabEvent, type Scenario } from '../scenario.ts';
import { reader, serve } from './apps.ts';

/** Slab object sizes on Linux 6.18 (/proc/slabinfo objsize): what a request and a full socket cost there. */
const REQUEST_SOCK_BYTES = { v4: 320, v6: 320 };
const TCP_SOCK_BYTES = { v4: 2368, v6: 2496 };

/** The spoofed sources: 250 addresses of TEST-NET-2 (or an IPv6 documentation-like ULA prefix), every one behind the attacker's link. */
const ATTACK_ADDRS = 250;
const attackAddr = (v6: boolean, i: number): string => (v6 ? `fd00:66::${(i + 1).toString(16)}` : `198.51.100.${i + 1}`);
const isAttackAddr = (s: string | undefined): boolean => s !== undefined && (s.startsWith('198.51.100.') || s.startsWith('fd00:66::') || s.startsWith('[fd00:66::'));

/**
 * The flood's source: a node that owns the spoofed addresses, sends raw SYNs and swallows every
 * SYN-ACK (the spoofed hosts never answer). It is no Host: it keeps no state and traces nothing.
 */
class Flooder implements SimNode {
  readonly name = 'attacker';
  readonly addresses: string[];
  received = 0;
  private emit: ((packet: Uint8Array) => void) | null = null;
  constructor(private readonly v6: boolean) {
    this.addresses = Array.from({ length: ATTACK_ADDRS }, (_, i) => attackAddr(v6, i));
  }
  setEmit(emit: (packet: Uint8Array) => void): void {
    this.emit = emit;
  }
  deliver(): void {
    this.received++;
  }
  advance(): void {}
  nextDeadline(): number {
    return Infinity;
  }
  /** SYN number `n`: its own source address and port, never repeated within 100,000. */
  syn(n: number, dst: string, dport: number): void {
    const src = attackAddr(this.v6, n % ATTACK_ADDRS);
    const sport = 1024 + (Math.floor(n / ATTACK_ADDRS) % 64000);
    const seq = Math.imul(n + 1, 2654435761) >>> 0;
    this.emit?.(encodePacket(makeIpRepr(src, dst), {
      srcPort: sport, dstPort: dport, seq, ack: 0, flags: SYN, window: 64240, urgent: 0,
      options: [{ kind: 'mss', value: 1460 }], payload: new Uint8Array(0),
    }));
  }
}

/** Leaves the attacker's segments, requests and per-SYN drops out of the trace: only the legitimate traffic is traced one event at a time. */
function legitimate(e: LabEvent): boolean {
  const t = e as TraceEvent;
  if (t.kind === 'segment') return !isAttackAddr(t.src) && !isAttackAddr(t.dst);
  if (t.kind === 'drop') return !/^(SYN queue|accept queue)/.test(t.reason);
  if ('socket' in t && typeof t.socket === 'string') return !/198\.51\.100\.|fd00:66::/.test(t.socket);
  return true;
}

/** The server's SYN queue and what its sockets would cost in Linux's slabs. */
function serverMemory(server: Host, v6: boolean): { synq: number; sockets: number; bytes: number } {
  let synq = 0;
  let sockets = 0;
  for (const r of server.sockets()) {
    if (r.state === 'LISTEN') continue;
    if (r.state === 'SYN_RECV') synq++;
    else if (r.state !== 'TIME_WAIT') sockets++;
  }
  const fam = v6 ? 'v6' : 'v4';
  return { synq, sockets, bytes: synq * REQUEST_SOCK_BYTES[fam] + sockets * TCP_SOCK_BYTES[fam] };
}

export const synFlood: Scenario = {
  id: 'syn-flood',
  title: 'SYN flood: spoofed SYNs fill the SYN queue; SYN cookies keep the listener open to everyone else',
  topic: 'F',
  explain:
    'An attacker sends SYNs from spoofed addresses that never answer the SYN-ACK. Each one that the listener keeps is a half-open request in its SYN queue (SYN_RECV), retransmitting its SYN-ACK for about a minute; the queue holds the listen backlog. ' +
    'With tcp_syncookies=1 (Linux\'s default) a SYN that finds the queue full is answered with a SYN cookie: the SYN-ACK\'s sequence number encodes the request (MSS as an index into a table, the options in the timestamp) and nothing is kept, so legitimate clients connect as usual. ' +
    'With tcp_syncookies=0 the listener drops every SYN while the queue is full, and legitimate clients retransmit their SYNs into the same full queue.',
  question: 'What does a SYN flood fill, and how do SYN cookies keep a server reachable?',
  params: [
    latencyParam,
    { name: 'syncookies', description: 'net.ipv4.tcp_syncookies on the server: 0 never, 1 when the SYN queue is full, 2 always', default: 1, min: 0, max: 2 },
    { name: 'syns', description: 'spoofed SYNs sent', default: 100_000, min: 0, max: 1_000_000 },
    { name: 'flood_s', description: 'seconds the flood lasts', default: 10, min: 1, max: 60 },
    { name: 'clients', description: 'legitimate clients, one every 150 ms', default: 60, min: 1, max: 1000 },
    { name: 'backlog', description: 'the server\'s listen() backlog', default: 128, min: 1, max: 4096 },
  ],
  config: (p) => ({ server: { tcp_syncookies: p['syncookies'] as 0 | 1 | 2 } }),
  notice: [
    'the server\'s notes, once a second: the SYN queue stays at its limit (backlog + 1 requests) the whole flood',
    'syncookies=1: TcpExtTCPReqQFullDoCookies and TcpExtSyncookiesSent count the flood, TcpExtSyncookiesRecv the legitimate clients: every one connects, and each of their connections starts from a cookie (MSS 1460 from the table)',
    'syncookies=0: TcpExtTCPReqQFullDrop and TcpExtListenDrops count the dropped SYNs, legitimate clients among them: they retransmit their SYNs at 1, 3, 7 s... and stay in SYN_SENT',
    'memory: requests cost a request_sock (320 bytes on Linux), cookies nothing: 100,000 SYNs never cost more than the backlog\'s worth',
  ],
  keepEvent: legitimate,
  setup(ctx) {
    const { net, client, server, p, serverAddr } = ctx;
    const v6 = serverAddr.includes(':');
    const flooder = new Flooder(v6);
    net.addNode(flooder);
    net.link('attacker', 'server', { latencyUs: ms(1) });
    serve(server, 80, (s) => {
      reader(s, { onData: (d) => s.send(d), onEof: () => { if (!s.closed) s.close(); } });
    }, p['backlog']!);
    // The flood: bursts every 10 ms.
    const total = p['syns']!;
    const bursts = Math.max(1, Math.round((p['flood_s']! * 1000) / 10));
    let sent = 0;
    for (let b = 0; b < bursts; b++) {
      net.at(ms(10 * b), () => {
        const upTo = Math.round((total * (b + 1)) / bursts);
        for (; sent < upTo; sent++) flooder.syn(sent, serverAddr, 80);
      });
    }
    // Legitimate clients, one after another: connect, a line each way, close.
    const hello = text('hello\n');
    for (let i = 0; i < p['clients']!; i++) {
      net.at(ms(100 + 150 * i), () => {
        const c = client.socket();
        c.on('connect', () => c.send(hello));
        reader(c, { onData: () => c.close(), onEof: () => { if (!c.closed) c.close(); } });
        c.connect(serverAddr, 80);
      });
    }
    // Once a second: the SYN queue and the server's memory (Linux slab sizes).
    const end = synFlood.duration(p);
    for (let t = sec(1); t < end; t += sec(1)) {
      net.at(t, () => {
        const m = serverMemory(server, v6);
        const c = server.counters;
        ctx.note(server, `SYN queue ${m.synq}/${p['backlog']}, sockets ${m.sockets}, kernel memory ${(m.bytes / 1024).toFixed(1)} KiB; spoofed SYNs so far ${sent}, cookies sent ${c.get('SyncookiesSent')}, received ${c.get('SyncookiesRecv')}, ListenDrops ${c.get('ListenDrops')}`);
      });
    }
  },
  duration: (p) => sec(Math.max(20, p['flood_s']! + 10)),
};
