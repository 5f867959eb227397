// Topic D: what keepalive is for: middleboxes that forget idle flows, and dead applications.

import { decodePacket } from '../../wire/packet.ts';
import { ACK, RST, SYN } from '../../wire/types.ts';
import type { Socket } from '../../host/socket.ts';
import { latencyParam, ms, sec, text, type Scenario } from '../scenario.ts';
import { attempt, reader, serve } from './apps.ts';

export const natIdleTimeout: Scenario = {
  id: 'nat-idle-timeout',
  title: 'A NAT or firewall forgets idle connections: keepalive below its timeout keeps them alive',
  topic: 'D',
  explain:
    'Between client and server sits a stateful middlebox (a NAT or firewall) that drops its entry for a flow idle longer than nat_idle_s (5 min here; many are shorter) and then silently drops that flow\'s packets. ' +
    'The client sends a request, stays idle for 10 minutes and sends another: the middlebox no longer knows the flow, the request and every retransmission vanish, and the client only learns after tcp_retries2 (about 15 minutes) with ETIMEDOUT. ' +
    'With --set keepalive_s=120 (TCP_KEEPIDLE and TCP_KEEPINTVL below the middlebox\'s timeout) the probes keep the entry fresh and the second request succeeds.',
  question: 'Why do idle connections through NATs die silently, and how does keepalive help?',
  params: [
    latencyParam,
    { name: 'nat_idle_s', description: 'the middlebox forgets flows idle this long', default: 300, min: 1, max: 86400 },
    { name: 'idle_s', description: 'how long the client stays idle between requests', default: 600, min: 1, max: 86400 },
    { name: 'keepalive_s', description: 'client TCP keepalive idle and interval (0 = off)', default: 0, min: 0, max: 32767 },
  ],
  notice: [
    'x dropped (filtered): the second request and its retransmissions after the middlebox forgot the flow',
    'keepalive_s=0: ETIMEDOUT about 15 minutes later; keepalive_s=120: probes every 120 s, the second request is answered',
  ],
  setup(ctx) {
    const { net, server, client, serverAddr, p } = ctx;
    const flows = new Map<string, number>();
    const idleUs = sec(p['nat_idle_s']!);
    net.addFilter((pk) => {
      const d = decodePacket(pk.packet);
      if (!d.ok) return 'pass';
      const { ip, tcp } = d.value;
      const a = `${ip.src}:${tcp.srcPort}`;
      const b = `${ip.dst}:${tcp.dstPort}`;
      const key = a < b ? `${a}|${b}` : `${b}|${a}`;
      const seen = flows.get(key);
      const fresh = seen !== undefined && net.now - seen <= idleUs;
      if (tcp.flags & SYN && !(tcp.flags & ACK)) {
        flows.set(key, net.now); // a new flow
        return 'pass';
      }
      if (!fresh) {
        flows.delete(key);
        return tcp.flags & RST ? 'pass' : null; // an unknown flow: dropped
      }
      flows.set(key, net.now);
      return 'pass';
    });
    serve(server, 80, (s) => reader(s, { onData: () => s.send(text('pong')), onError: () => undefined }));
    const c: Socket = client.socket();
    if (p['keepalive_s']! > 0) {
      c.setsockopt('SO_KEEPALIVE', true);
      c.setsockopt('TCP_KEEPIDLE', p['keepalive_s']!);
      c.setsockopt('TCP_KEEPINTVL', p['keepalive_s']!);
    }
    reader(c, { onData: (d) => ctx.note(client, `the client gets "${new TextDecoder().decode(d)}"`) });
    c.on('connect', () => c.send(text('ping')));
    net.at(ms(1), () => c.connect(serverAddr, 80));
    net.at(sec(p['idle_s']!), () => attempt(() => c.send(text('ping again'))));
  },
  duration: (p) => sec(p['idle_s']! + 1000),
};

export const heartbeatVsKeepalive: Scenario = {
  id: 'heartbeat-vs-keepalive',
  title: 'Application heartbeat vs TCP keepalive: a hung server process',
  topic: 'D',
  explain:
    'The server process hangs at 30 s (a deadlock): it stops reading and answering, but its kernel is fine. ' +
    'The client uses both TCP keepalive (probes after 60 s idle, every 10 s) and an application heartbeat (a ping every 10 s that needs a pong within 5 s, three misses and the connection is declared dead). ' +
    'The kernel keeps answering keepalive probes, so TCP says the peer is alive forever; only the heartbeat notices that the application is gone, after about 30 s, and closes. ' +
    'Keepalive proves the peer\'s kernel and the path; a heartbeat proves the application.',
  question: 'Why do protocols add their own heartbeats when TCP has keepalive?',
  params: [latencyParam, { name: 'hang_at_s', description: 'when the server process hangs', default: 30, min: 1, max: 3600 }],
  notice: [
    'connection 1: after the hang its pings are ACKed by the server\'s kernel but never answered; after three missed pongs the client closes',
    'connection 2: keepalive probes every 60 s are answered by the server\'s kernel; it stays ESTABLISHED',
  ],
  setup(ctx) {
    const { net, server, client, serverAddr, p } = ctx;
    let hung = false;
    net.at(sec(p['hang_at_s']!), () => {
      hung = true;
      ctx.note(server, 'the server process hangs (deadlock): its kernel still runs');
    });
    serve(server, 80, (s) => {
      s.on('readable', () => {
        if (hung) return; // a hung process reads nothing
        let d: Uint8Array | null;
        while ((d = s.recv()) && d.length) s.send(text('pong'));
      });
    });
    // Connection 1 relies on an application heartbeat.
    const c = client.socket();
    let misses = 0;
    let waiting = false;
    reader(c, { onData: () => { waiting = false; misses = 0; } });
    const beat = () => {
      if (c.closed) return;
      if (waiting && ++misses >= 3) {
        ctx.note(client, 'heartbeat: 3 pongs missed, the server application is dead: closing');
        c.close();
        return;
      }
      waiting = true;
      c.send(text('ping'));
      net.after(sec(10), beat);
    };
    c.on('connect', () => beat());
    net.at(ms(1), () => c.connect(serverAddr, 80));
    // Connection 2 relies on TCP keepalive alone (60 s idle, then every 10 s).
    const k = client.socket();
    k.setsockopt('SO_KEEPALIVE', true);
    k.setsockopt('TCP_KEEPIDLE', 60);
    k.setsockopt('TCP_KEEPINTVL', 10);
    reader(k, {});
    net.at(ms(2), () => k.connect(serverAddr, 80));
  },
  duration: (p) => sec(p['hang_at_s']! + 200),
};

export const longVsShortConnections: Scenario = {
  id: 'long-vs-short-connections',
  title: 'Long vs short connections: the cost of 200 requests',
  topic: 'E',
  explain:
    'The same 200 request/response exchanges, first over one long-lived connection, then over 200 short ones (one per request, the client closing first). ' +
    'Short connections pay a handshake (one round trip) and a close for every request, send about five times the segments, and leave 200 TIME_WAIT entries for 60 s; ' +
    'the long connection pays once but holds its resources (socket, buffers, a slot in every middlebox) while idle.',
  question: 'What does keeping connections alive save, and what does it cost?',
  params: [latencyParam, { name: 'requests', description: 'requests in each phase', default: 200, min: 1, max: 100000 }],
  notice: ['the notes at the end of each phase: segments sent, handshakes, TIME_WAITs, time taken'],
  setup(ctx) {
    const { net, server, client, serverAddr, p } = ctx;
    const n = p['requests']!;
    serve(server, 80, (s) => reader(s, { onData: () => s.send(text('pong')), onEof: () => s.close() }));
    const segs = () => client.counters.get('OutSegs') + server.counters.get('OutSegs');
    const tw = () => client.sockets().filter((r) => r.state === 'TIME_WAIT').length;
    const phase1 = () => {
      const t0 = net.now;
      const s0 = segs();
      let i = 0;
      const c = client.socket();
      reader(c, {
        onData: () => {
          if (++i < n) c.send(text('ping'));
          else {
            ctx.note(client, `long connection: ${n} requests, ${segs() - s0} segments, 1 handshake, ${((net.now - t0) / 1000).toFixed(0)} ms`);
            c.close();
            net.after(ms(100), phase2);
          }
        },
      });
      c.on('connect', () => c.send(text('ping')));
      c.connect(serverAddr, 80);
    };
    const phase2 = () => {
      const t0 = net.now;
      const s0 = segs();
      const tw0 = tw();
      let i = 0;
      const one = () => {
        const c = client.socket();
        reader(c, {
          onData: () => {
            c.close();
            if (++i < n) one();
            else {
              const took = net.now - t0;
              // Counted once the last close has finished.
              net.after(ms(100), () => ctx.note(client, `short connections: ${n} requests, ${segs() - s0} segments, ${n} handshakes, ${tw() - tw0} new TIME_WAITs, ${(took / 1000).toFixed(0)} ms`));
            }
          },
        });
        c.on('connect', () => c.send(text('ping')));
        c.connect(serverAddr, 80);
      };
      one();
    };
    net.at(ms(1), phase1);
  },
  duration: (p) => ms(p['requests']! * 50 + 500) + sec(61),
};
