// Topics C and E: many short connections (TIME_WAIT and the port range), and the CLOSE_WAIT leak.

import type { Socket } from '../../host/socket.ts';
import { SocketError } from '../../base/errno.ts';
import { latencyParam, ms, sec, type Scenario } from '../scenario.ts';
import { httpGet, httpOk, reader, serve } from './apps.ts';

const REQUEST = httpGet('server');
const RESPONSE = httpOk('ok');

export const shortConnectionsPortExhaustion: Scenario = {
  id: 'short-connections-port-exhaustion',
  title: 'Short connections faster than (port range)/60 s: EADDRNOTAVAIL, unless tcp_tw_reuse or the server closes first',
  topic: 'C',
  explain:
    'A client opens a new connection for every request to one server:port and closes it first, so each leaves a TIME_WAIT on the client that pins its ephemeral port for 60 s. ' +
    'Above (ports in ip_local_port_range) / 60 s connections per second the range runs out and connect() fails with EADDRNOTAVAIL ("cannot assign requested address"). ' +
    'With tcp_tw_reuse=1 (and timestamps) connect() takes over TIME_WAIT ports older than 1 s; if the server closes first, the TIME_WAITs sit on the server and the client\'s ports free up at once.',
  question: 'When does a client run out of ephemeral ports, and what really helps?',
  params: [
    latencyParam,
    { name: 'ports', description: 'size of the client\'s ip_local_port_range', default: 200, min: 2, max: 28232 },
    { name: 'rate', description: 'new connections per second', default: 10, min: 1, max: 10000 },
    { name: 'seconds', description: 'how long the client keeps going', default: 40, min: 1, max: 3600 },
    { name: 'tw_reuse', description: 'net.ipv4.tcp_tw_reuse on the client (0, 1, or 2 = loopback only)', default: 0, min: 0, max: 2 },
    { name: 'server_closes_first', description: '1: the server closes after its response (TIME_WAIT moves to the server)', default: 0, min: 0, max: 1 },
  ],
  config: (p) => ({ client: { ip_local_port_range: [40000, 40000 + p['ports']! - 1], tcp_tw_reuse: p['tw_reuse'] as 0 | 1 | 2 } }),
  notice: [
    'defaults: EADDRNOTAVAIL once about ports connections were made within 60 s (200 ports at 10/s: after about 20 s)',
    'tw_reuse=1: no error, TcpExtTWRecycled counts the reuses',
    'server_closes_first=1: no error, TIME_WAIT on the server',
  ],
  setup({ net, client, server, p, serverAddr }) {
    const serverFirst = p['server_closes_first'] === 1;
    serve(server, 80, (s) => {
      reader(s, {
        onData: () => {
          s.send(RESPONSE);
          if (serverFirst) s.close();
        },
        onEof: () => { if (!s.closed) s.close(); },
      });
    });
    const every = Math.round(1_000_000 / p['rate']!);
    const n = Math.floor(p['seconds']! * p['rate']!);
    for (let i = 0; i < n; i++) {
      net.at(ms(1) + i * every, () => {
        const c: Socket = client.socket();
        c.on('connect', () => c.send(REQUEST));
        reader(c, { onData: () => { if (!serverFirst) c.close(); }, onEof: () => { if (!c.closed) c.close(); } });
        try {
          c.connect(serverAddr, 80);
        } catch (e) {
          if (!(e instanceof SocketError)) throw e; // EADDRNOTAVAIL is traced as an error event
          c.close();
        }
      });
    }
  },
  duration: (p) => sec(p['seconds']! + 5),
};

export const closeWaitLeak: Scenario = {
  id: 'close-wait-leak',
  title: 'CLOSE_WAIT leak: an application that never closes',
  topic: 'C',
  explain:
    'Clients make a request and close their connection. The server application answers but never calls close() on its sockets (a classic bug, for example a response body never consumed). ' +
    'Each connection stays in CLOSE_WAIT on the server, holding its socket and buffers: no kernel timer ends CLOSE_WAIT, only close() or the process exiting. ' +
    'The clients\' side sits in FIN_WAIT2 until tcp_fin_timeout (60 s) removes it.',
  question: 'Where do CLOSE_WAIT sockets come from, and what removes them?',
  params: [latencyParam, { name: 'connections', description: 'client connections', default: 20, min: 1, max: 10000 }],
  notice: ['the server\'s sockets end in CLOSE_WAIT and stay there', 'the clients\' orphaned FIN_WAIT2 entries die after 60 s'],
  setup({ net, client, server, p, serverAddr }) {
    serve(server, 80, (s) => {
      reader(s, { onData: () => s.send(RESPONSE) }); // ...and never close(): the leak
    });
    for (let i = 0; i < p['connections']!; i++) {
      net.at(ms(1) + i * 100_000, () => {
        const c = client.socket();
        c.on('connect', () => c.send(REQUEST));
        reader(c, { onData: () => c.close() });
        c.connect(serverAddr, 80);
      });
    }
  },
  duration: (p) => sec(p['connections']! / 10 + 120),
};
