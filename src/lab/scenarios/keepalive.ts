// Topic D: TCP keepalive with Linux's defaults (7200 s idle, 75 s interval, 9 probes).

import type { ScenarioContext, Scenario, ParamSpec } from '../scenario.ts';
import { latencyParam, sec, text } from '../scenario.ts';
import { reader, serve } from './apps.ts';

const kaParams: ParamSpec[] = [
  latencyParam,
  { name: 'keepidle', description: 'TCP_KEEPIDLE, seconds idle before the first probe (tcp_keepalive_time)', default: 7200, min: 1, max: 32767 },
  { name: 'keepintvl', description: 'TCP_KEEPINTVL, seconds between probes (tcp_keepalive_intvl)', default: 75, min: 1, max: 32767 },
  { name: 'keepcnt', description: 'TCP_KEEPCNT, unanswered probes before the connection is dead (tcp_keepalive_probes)', default: 9, min: 1, max: 127 },
];

/** A client with SO_KEEPALIVE talks to the server once, then both stay silent. */
function idleConnection(ctx: ScenarioContext): void {
  const { net, client, server, p, serverAddr } = ctx;
  serve(server, 80, (s) => {
    reader(s, { onData: () => s.send(text('pong')), onEof: () => s.close() });
  });
  const c = client.socket();
  c.setsockopt('SO_KEEPALIVE', true);
  if (p['keepidle'] !== 7200) c.setsockopt('TCP_KEEPIDLE', p['keepidle']!);
  if (p['keepintvl'] !== 75) c.setsockopt('TCP_KEEPINTVL', p['keepintvl']!);
  if (p['keepcnt'] !== 9) c.setsockopt('TCP_KEEPCNT', p['keepcnt']!);
  c.on('connect', () => c.send(text('ping')));
  reader(c, {});
  net.at(0, () => c.connect(serverAddr, 80));
}

const deadline = (p: Record<string, number>, extraProbes = 0) =>
  sec(p['keepidle']! + (p['keepcnt']! + 1 + extraProbes) * p['keepintvl']! + 60);

export const keepaliveDeadPeer: Scenario = {
  id: 'keepalive-dead-peer',
  title: 'Keepalive finds a dead peer: 9 unanswered probes, RST, ETIMEDOUT',
  topic: 'D',
  explain:
    'The client enables SO_KEEPALIVE on a connection that then goes idle; one second later the server vanishes from the network (power cut, cable pulled) without a word. ' +
    'After tcp_keepalive_time (7200 s) of silence the client sends a probe (an ACK with SEQ = SND.UNA - 1 and no data), then one every 75 s. ' +
    'When the 9th probe has gone unanswered for 75 s, Linux sends a RST and reports ETIMEDOUT to the application.',
  question: 'How long does Linux take to notice that an idle peer is gone?',
  params: kaParams,
  notice: [
    'client: the first probe at 7200 s after the last segment received, then every 75 s: exactly 9 probes',
    'client: R. and error ETIMEDOUT 75 s after the 9th probe (7875 s after the last segment); TcpExtTCPKeepAlive = 9, TcpExtTCPAbortOnTimeout = 1',
  ],
  setup(ctx) {
    idleConnection(ctx);
    ctx.net.partition('client', 'server', sec(1), Number.MAX_SAFE_INTEGER);
    ctx.net.at(sec(1), () => ctx.note(ctx.server, 'the server disappears from the network (no FIN, no RST)'));
  },
  duration: (p) => deadline(p),
};

export const keepaliveAlivePeer: Scenario = {
  id: 'keepalive-alive-peer',
  title: 'Keepalive with a live peer: each probe is ACKed and the connection stays',
  topic: 'D',
  explain:
    'The same idle connection, but the server is alive. Its kernel answers each probe, which sits just below its receive window, with a duplicate ACK. ' +
    'Any ACK resets the client\'s probe count, and the next probe waits another full idle period. The applications see nothing.',
  question: 'What does a keepalive probe cost when the peer is fine?',
  params: [...kaParams, { name: 'hours', description: 'how long to watch', default: 5, min: 1, max: 1000 }],
  notice: ['client: a probe every 7200 s, each answered by one server ACK; the connection stays ESTABLISHED'],
  setup(ctx) {
    idleConnection(ctx);
  },
  duration: (p) => sec(p['hours']! * 3600),
};

export const keepaliveRebootedPeer: Scenario = {
  id: 'keepalive-rebooted-peer',
  title: 'Keepalive meets a rebooted peer: the probe is answered with RST',
  topic: 'D',
  explain:
    'The server host reboots while the connection is idle and loses all TCP state without sending anything. ' +
    'The client\'s first keepalive probe reaches a kernel that knows no such connection, which answers with RST (its sequence number is the probe\'s ACK, which is exactly the client\'s RCV.NXT). ' +
    'The client accepts the reset and reports ECONNRESET.',
  question: 'How does a half-open connection get cleaned up after the peer restarts?',
  params: kaParams,
  notice: ['server: all state lost at 1000 s; client: one probe at 7200 s, the server answers R, the client sees ECONNRESET'],
  setup(ctx) {
    idleConnection(ctx);
    ctx.net.at(sec(1000), () => ctx.server.crash());
  },
  duration: (p) => deadline(p),
};
