// Topic C: why TIME_WAIT exists, what it costs, and its cousins FIN_WAIT2 and CLOSE_WAIT.

import { decodePacket } from '../../wire/packet.ts';
import { ACK, FIN } from '../../wire/types.ts';
import type { Socket } from '../../host/socket.ts';
import { latencyParam, ms, sec, text, type Scenario } from '../scenario.ts';
import { attempt, reader, serve } from './apps.ts';

export const timeWaitLastAckLost: Scenario = {
  id: 'time-wait-last-ack-lost',
  title: 'Why TIME_WAIT: the last ACK is lost and the retransmitted FIN is answered from TIME_WAIT',
  topic: 'C',
  explain:
    'The client closes first; the server answers with its FIN; the client\'s final ACK is lost. The server, in LAST_ACK, retransmits its FIN after its RTO. ' +
    'Because the client kept the 4-tuple in TIME_WAIT, it re-ACKs the FIN (and restarts its 60 s) and the server closes cleanly. ' +
    'With --set time_wait_ms=0 (TIME_WAIT skipped) the retransmitted FIN meets no socket: the client\'s kernel answers with RST and the server\'s application gets ECONNRESET.',
  question: 'What is TIME_WAIT for, if the connection is already closed?',
  params: [latencyParam, { name: 'time_wait_ms', description: 'the client\'s TIME_WAIT length (Linux: 60000, fixed)', default: 60000, min: 0, max: 600000 }],
  config: (p) => ({ client: { lb_time_wait_timeout_ms: p['time_wait_ms']! } }),
  notice: ['the client\'s last ACK is dropped (x)', 'default: the server\'s retransmitted FIN is ACKed from TIME_WAIT; the server ends CLOSED without error', 'time_wait_ms=0: the FIN gets R; the server sees ECONNRESET'],
  setup(ctx) {
    const { net, server, client, serverAddr } = ctx;
    // The server shuts down its side on EOF and closes a while later, so it still owns the socket in LAST_ACK.
    serve(server, 80, (s) => reader(s, { onEof: () => { s.shutdown('SHUT_WR'); net.after(sec(5), () => s.close()); }, onError: () => undefined }));
    let clientFinSeen = false;
    let dropped = false;
    net.addFilter((p) => {
      if (p.from !== 'client' || dropped) return 'pass';
      const d = decodePacket(p.packet);
      if (!d.ok) return 'pass';
      const f = d.value.tcp.flags;
      if (f & FIN) clientFinSeen = true;
      else if (clientFinSeen && f === ACK && d.value.tcp.payload.length === 0 && d.value.tcp.ack !== 0 && net.now > ms(20)) {
        dropped = true;
        return null; // the last ACK of the close is lost
      }
      return 'pass';
    });
    const c = client.socket();
    c.on('connect', () => net.after(ms(10), () => c.close()));
    net.at(ms(1), () => c.connect(serverAddr, 80));
  },
  duration: (p) => sec(Math.max(p['time_wait_ms']! / 1000, 10) + 10),
};

export const oldDuplicateNoTimeWait: Scenario = {
  id: 'old-duplicate-no-time-wait',
  title: 'Without TIME_WAIT, an old duplicate segment corrupts a new connection on the same 4-tuple',
  topic: 'C',
  explain:
    'The client sends "AAAA" on a first connection; one copy of that segment is delayed in the network. The connection closes and, with TIME_WAIT skipped, the client at once opens a new connection on the same 4-tuple. ' +
    'To show the danger both hosts here use predictable initial sequence numbers, as old stacks did (Linux\'s RFC 6528 ISNs make this unlikely, and TIME_WAIT makes it impossible): ' +
    'the old segment lands inside the new connection\'s window and the server\'s application reads "AAAA" as if the new client had sent it. ' +
    'With --set time_wait_ms=60000 the 4-tuple stays in TIME_WAIT, connect() cannot reuse it (EADDRNOTAVAIL), and the old segment is answered with a RST by the server, which the client\'s TIME_WAIT entry ignores. ' +
    'With --set timestamps=1 (the Linux default) PAWS (RFC 7323) rejects the old copy by its older timestamp even without TIME_WAIT.',
  question: 'What goes wrong if a 4-tuple is reused before old segments have died out?',
  params: [
    latencyParam,
    { name: 'time_wait_ms', description: 'the client\'s TIME_WAIT length (Linux: 60000)', default: 0, min: 0, max: 600000 },
    { name: 'delay_ms', description: 'how long the old copy wanders', default: 400, min: 50, max: 60000 },
    { name: 'timestamps', description: 'net.ipv4.tcp_timestamps on both hosts (1: PAWS rejects the old copy)', default: 0, min: 0, max: 1 },
  ],
  config: (p) => ({
    client: { lb_time_wait_timeout_ms: p['time_wait_ms']!, ip_local_port_range: [40000, 40000], tcp_timestamps: p['timestamps'] as 0 | 1 },
    server: { tcp_timestamps: p['timestamps'] as 0 | 1 },
  }),
  // The same ISNs every time on both sides, as a naive stack would pick them.
  hostOptions: () => ({ client: { isn: () => 1_000_000 }, server: { isn: () => 7_000_000 } }),
  notice: [
    'the delayed copy of the first connection\'s data arrives during the second connection',
    'defaults: the server reads the old AAAA on the second connection; the real BBBB, at the same sequence numbers, is D-SACKed as a duplicate and never delivered',
    'time_wait_ms=60000: the second connect() fails with EADDRNOTAVAIL; timestamps=1: PAWS reject; nothing is corrupted',
  ],
  setup(ctx) {
    const { net, server, client, serverAddr, p } = ctx;
    serve(server, 80, (s) => reader(s, {
      onData: (d) => ctx.note(server, `the server application reads "${new TextDecoder().decode(d)}" on ${s.connectionLabel ?? '?'}`),
      onEof: () => s.close(),
    }));
    let held: Uint8Array | null = null;
    net.addFilter((pk) => {
      if (pk.from !== 'client' || held) return 'pass';
      const d = decodePacket(pk.packet);
      if (d.ok && d.value.tcp.payload.length === 4) {
        held = pk.packet.slice();
        net.after(ms(p['delay_ms']!), () => { ctx.note(client, 'the old duplicate of "AAAA" finally arrives'); server.deliver(held!); });
      }
      return 'pass';
    });
    const first = client.socket();
    first.on('connect', () => { first.send(text('AAAA')); net.after(ms(50), () => first.close()); });
    reader(first, { onEof: () => undefined });
    net.at(ms(1), () => first.connect(serverAddr, 80));
    net.at(ms(200), () => {
      const second: Socket = client.socket();
      second.on('connect', () => net.after(ms(300), () => { second.send(text('BBBB')); second.close(); }));
      reader(second, {});
      attempt(() => second.connect(serverAddr, 80));
    });
  },
  duration: () => sec(2),
};

export const timeWaitPileup: Scenario = {
  id: 'time-wait-pileup',
  title: 'TIME_WAIT pile-up from short connections, and tcp_max_tw_buckets',
  topic: 'C',
  explain:
    'A client makes short connections at a steady rate and closes each first, so every connection leaves a TIME_WAIT entry on the client for 60 s: at 20 connections per second about 1,200 sit there. ' +
    'Each entry is small (Linux keeps a minisock, not a full socket) but holds its 4-tuple. Above tcp_max_tw_buckets (--set max_tw_buckets=500) Linux keeps no TIME_WAIT at all for new closes and counts TCPTimeWaitOverflow. ' +
    'tcp_fin_timeout does not shorten TIME_WAIT: it governs orphaned FIN_WAIT2.',
  question: 'How many TIME_WAIT sockets does a given connection rate produce, and what do the limits do?',
  params: [latencyParam, { name: 'rate', description: 'connections per second', default: 20, min: 1, max: 1000 }, { name: 'seconds', description: 'how long', default: 90, min: 1, max: 600 }, { name: 'max_tw_buckets', description: 'net.ipv4.tcp_max_tw_buckets', default: 262144, min: 0, max: 1048576 }],
  config: (p) => ({ client: { tcp_max_tw_buckets: p['max_tw_buckets']! } }),
  notice: ['stats samples (S) of the client: TIME_WAIT grows to rate x 60 and stays there', 'max_tw_buckets below that: TcpExtTCPTimeWaitOverflow counts the closes without TIME_WAIT'],
  setup(ctx) {
    const { net, server, client, serverAddr, p } = ctx;
    serve(server, 80, (s) => reader(s, { onData: () => s.send(text('ok')), onEof: () => s.close() }));
    const every = Math.round(1_000_000 / p['rate']!);
    for (let i = 0; i < p['seconds']! * p['rate']!; i++) {
      net.at(ms(1) + i * every, () => {
        const c = client.socket();
        c.on('connect', () => c.send(text('hi')));
        reader(c, { onData: () => c.close() });
        attempt(() => c.connect(serverAddr, 80));
      });
    }
    for (let t = 1; t <= p['seconds']! + 65; t += 5) net.at(sec(t), () => ctx.stats(client));
  },
  duration: (p) => sec(p['seconds']! + 66),
};

export const finWait2Orphan: Scenario = {
  id: 'fin-wait2-orphan',
  title: 'Orphaned FIN_WAIT2 and tcp_fin_timeout; the peer left in CLOSE_WAIT',
  topic: 'C',
  explain:
    'The client closes; the server acknowledges the FIN but never closes its side (an application bug), so the server sits in CLOSE_WAIT. ' +
    'The client\'s socket, closed by its application, is an orphan in FIN_WAIT2: Linux keeps it for tcp_fin_timeout (60 s, here --set fin_timeout; above 60 s its two-stage timer gives 2 x (tcp_fin_timeout - 60) s) and then drops it silently (ss shows it with a timewait timer). ' +
    'A FIN_WAIT2 whose application only called shutdown(SHUT_WR) has no such timer (--set shutdown_only=1): it waits for the peer forever.',
  question: 'What does tcp_fin_timeout really control?',
  params: [latencyParam, { name: 'fin_timeout', description: 'net.ipv4.tcp_fin_timeout (s)', default: 60, min: 1, max: 3600 }, { name: 'shutdown_only', description: '1: the client only shuts down its side instead of closing', default: 0, min: 0, max: 1 }],
  config: (p) => ({ client: { tcp_fin_timeout: p['fin_timeout']! } }),
  notice: ['client: FIN_WAIT1 -> FIN_WAIT2, then FIN_WAIT2 -> CLOSED after fin_timeout, nothing on the wire', 'server: CLOSE_WAIT to the end', 'shutdown_only=1: the client stays in FIN_WAIT2'],
  setup(ctx) {
    const { net, server, client, serverAddr, p } = ctx;
    serve(server, 80, () => undefined); // accepts and never closes
    const c = client.socket();
    c.on('connect', () => net.after(ms(100), () => (p['shutdown_only'] === 1 ? c.shutdown('SHUT_WR') : c.close())));
    net.at(ms(1), () => c.connect(serverAddr, 80));
    for (const t of [1, 30, p['fin_timeout']! + 5]) net.at(sec(t), () => { ctx.stats(client); ctx.stats(server); });
  },
  duration: (p) => sec(p['fin_timeout']! + 10),
};

export const connectionStatistics: Scenario = {
  id: 'connection-statistics',
  title: 'Connection statistics: sockets per state and per remote address over time',
  topic: 'C',
  explain:
    'A server serves three kinds of clients from three addresses: 10.0.0.1 makes short connections and closes first, 10.0.0.11 keeps long-lived connections, and 10.0.0.12 closes but the server\'s application never closes its side. ' +
    'Every 10 s the scenario counts the server\'s sockets per state and per remote address, as the classic "TCP connection statistics" script does with netstat or ss: ' +
    'the CLOSE_WAIT pile-up points straight at the clients from 10.0.0.12, and at a server bug.',
  question: 'How do you find who causes a TIME_WAIT or CLOSE_WAIT pile-up?',
  params: [latencyParam],
  extraClientAddresses: ['10.0.0.11', '10.0.0.12'],
  notice: ['S samples of the server: ESTABLISHED from 10.0.0.11, CLOSE_WAIT growing from 10.0.0.12', 'no TIME_WAIT on the server: the short clients close first and hold them'],
  setup(ctx) {
    const { net, server, client, serverAddr } = ctx;
    const leaky = new Set<string>();
    serve(server, 80, (s) => {
      const remote = s.conn?.remoteAddr ?? '';
      reader(s, { onData: () => s.send(text('ok')), onEof: () => { if (!leaky.has(remote)) s.close(); } });
    });
    leaky.add('10.0.0.12');
    const open = (from: string, t: number, closeAfter: number | null) => net.at(t, () => {
      const c = client.socket();
      c.bind(from, 0);
      c.on('connect', () => c.send(text('hi')));
      reader(c, { onData: () => { if (closeAfter !== null) net.after(closeAfter, () => c.close()); } });
      c.connect(serverAddr, 80);
    });
    for (let i = 0; i < 60; i++) open('10.0.0.1', sec(i), ms(10));
    for (let i = 0; i < 5; i++) open('10.0.0.11', sec(i), null);
    for (let i = 0; i < 20; i++) open('10.0.0.12', sec(i * 3), ms(50));
    for (let t = 10; t <= 120; t += 10) net.at(sec(t), () => ctx.stats(server));
  },
  duration: () => sec(121),
};
