// Topic A: opening a connection, and the ways it fails to open.

import type { Socket } from '../../host/socket.ts';
import { latencyParam, ms, sec, text, type Scenario } from '../scenario.ts';
import { reader } from './apps.ts';

export const simultaneousOpen: Scenario = {
  id: 'simultaneous-open',
  title: 'Simultaneous open: two SYNs cross, both sides pass SYN_RECV',
  topic: 'A',
  explain:
    'Both hosts bind a known port and connect() to each other at the same moment, so the two SYNs cross on the wire. ' +
    'Each side receives a SYN while in SYN_SENT, answers with a SYN-ACK carrying its own initial sequence number and moves to SYN_RECV; ' +
    'each SYN-ACK then completes the other side\'s open. One connection results, with no listener anywhere (RFC 9293 §3.5, figure 8).',
  question: 'Can a TCP connection open without a listening side?',
  params: [latencyParam],
  notice: ['both: CLOSED -> SYN_SENT -> SYN_RECV -> ESTABLISHED', 'four segments carry SYN: two SYNs and two SYN-ACKs'],
  setup({ net, client, server, clientAddr, serverAddr }) {
    const a = client.socket();
    const b = server.socket();
    a.bind(clientAddr, 5000);
    b.bind(serverAddr, 6000);
    reader(a, {});
    reader(b, {});
    net.at(ms(1), () => {
      a.connect(serverAddr, 6000);
      b.connect(clientAddr, 5000);
    });
    net.at(ms(500), () => {
      a.send(text('hello from the client'));
      b.send(text('hello from the server'));
    });
  },
  duration: () => ms(1000),
};

export const connectRefused: Scenario = {
  id: 'connect-refused',
  title: 'connect() to a closed port: RST, ECONNREFUSED',
  topic: 'A',
  explain:
    'The client connects to a port where nothing listens. The server\'s kernel answers the SYN with a reset: RST|ACK with sequence number 0 ' +
    'and an acknowledgment of the SYN (RFC 9293 §3.10.7.1). The client\'s connect() fails with ECONNREFUSED ("Connection refused") and counts AttemptFails.',
  question: 'What does "connection refused" look like on the wire?',
  params: [latencyParam, { name: 'port', description: 'the closed port', default: 81, min: 1, max: 65535 }],
  notice: ['server: R. seq 0, ack = SYN + 1', 'client: ECONNREFUSED one round trip after the SYN; TcpAttemptFails 1, server TcpOutRsts 1'],
  setup({ net, client, serverAddr, p }) {
    const c = client.socket();
    reader(c, {});
    net.at(ms(1), () => c.connect(serverAddr, p['port']!));
  },
  duration: () => ms(100),
};

export const synToDeadHost: Scenario = {
  id: 'syn-to-dead-host',
  title: 'SYN to a dead host: SYN retries, then ETIMEDOUT',
  topic: 'A',
  explain:
    'The client connects to an address where the host is down: nothing ever answers. Linux retransmits the SYN: on 6.x first tcp_syn_linear_timeouts (4) times after 1 s each, then with doubling timeouts, ' +
    'tcp_syn_retries (6) more times, and gives up with ETIMEDOUT about 131 s after the first SYN (127 s with --set linear_timeouts=0, the classic 1+2+4+...+64 s).',
  question: 'How long does connect() take to fail when nobody answers?',
  params: [
    latencyParam,
    { name: 'syn_retries', description: 'net.ipv4.tcp_syn_retries', default: 6, min: 1, max: 127 },
    { name: 'linear_timeouts', description: 'net.ipv4.tcp_syn_linear_timeouts (Linux 6.x)', default: 4, min: 0, max: 16 },
  ],
  config: (p) => ({ client: { tcp_syn_retries: p['syn_retries']!, tcp_syn_linear_timeouts: p['linear_timeouts']! } }),
  notice: ['SYNs at 0, 1, 2, 3, 4, 5, 7, 11, 19, 35, 67 s', 'ETIMEDOUT at 131 s; TcpExtTCPSynRetrans 10'],
  setup({ net, client, serverAddr }) {
    net.partition('client', 'server', 0, Number.MAX_SAFE_INTEGER);
    const c: Socket = client.socket();
    reader(c, {});
    net.at(0, () => c.connect(serverAddr, 80));
  },
  duration: () => sec(200),
};
