// Topic F: slowloris, Node's own node:http server against clients that send their request
// headers one byte at a time. node:http's connection checker (headersTimeout, checked every
// connectionsCheckingInterval) runs on the virtual clock (src/net/http.ts, ConnectionChecker).

import { bindHttp } from '../../net/http.ts';
import type { NetSocket } from '../../net/socket.ts';
import { latencyParam, ms, sec, type Scenario } from '../scenario.ts';
import { connOf, nodeExt } from './env.ts';
import { request } from './http.ts';

const BODY = 'hello from the server\n';

/** What a slow client trickles: a request whose headers never end. */
const SLOW_HEADERS = 'GET / HTTP/1.1\r\nHost: server\r\nUser-Agent: slowloris\r\n' + 'X-Padding: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(40);

export const slowloris: Scenario = {
  id: 'slowloris',
  title: 'Slowloris: clients that send headers one byte at a time, and node:http\'s headersTimeout (408)',
  topic: 'F',
  node: true,
  explain:
    'A slowloris attacker opens many connections to a web server and sends each request\'s headers one byte at a time, never finishing them, to hold every connection slot the server has. ' +
    'Here 50 such clients trickle a byte every second into Node\'s own node:http server, while a legitimate client sends an ordinary request every 2 s. ' +
    'node:http bounds the time to receive a request\'s headers: every connectionsCheckingInterval (1 s here, 30 s by default) it expires connections whose request began more than headersTimeout (10 s here, 60 s by default) ago without complete headers, ' +
    'answers each with `HTTP/1.1 408 Request Timeout` and closes it (its FIN follows the 408). The legitimate requests are served throughout. ' +
    'TCP sees nothing wrong: every slow connection is ESTABLISHED and acknowledged; only the application can tell a slow client from a slow network.',
  question: 'How does a server defend against clients that send their request as slowly as they can?',
  params: [
    latencyParam,
    { name: 'clients', description: 'slow clients', default: 50, min: 1, max: 2000 },
    { name: 'byte_interval_ms', description: 'a slow client sends one byte every this many ms', default: 1000, min: 1, max: 600_000 },
    { name: 'headers_timeout_ms', description: 'server headersTimeout (0: none; Node\'s default 60000)', default: 10_000, min: 0, max: 600_000 },
    { name: 'checking_interval_ms', description: 'server connectionsCheckingInterval (Node\'s default 30000)', default: 1000, min: 1, max: 600_000 },
    { name: 'legit_interval_ms', description: 'a legitimate request every this many ms', default: 2000, min: 100, max: 600_000 },
  ],
  notice: [
    'the slow clients\' connections are ESTABLISHED at once; each sends 1-byte segments a second apart, the server ACKs them (delayed ACK)',
    'about 10 to 11 s after its first byte each slow connection gets "HTTP/1.1 408 Request Timeout" and a FIN from the server (http events: status 408)',
    'the legitimate GETs every 2 s get 200 throughout, on connections of their own',
    'headers_timeout_ms=0: the slow clients hold their connections until the end of the run',
  ],
  async setup(ctx) {
    const { p } = ctx;
    const { serverNet, clientNet } = nodeExt(ctx);
    const hs = bindHttp(serverNet).createServer(
      { headersTimeout: p['headers_timeout_ms']!, requestTimeout: 0, connectionsCheckingInterval: p['checking_interval_ms']! },
      (req, res) => {
        ctx.http({ host: 'server', phase: 'request', method: req.method ?? '', path: req.url ?? '', connection: connOf(req.socket) });
        res.setHeader('Content-Length', Buffer.byteLength(BODY));
        res.end(BODY);
      },
    );
    hs.listen(80);
    const end = slowlorisEnd(p);
    // The slow clients, 100 ms apart.
    for (let i = 0; i < p['clients']!; i++) {
      ctx.net.at(ms(10) + i * ms(100), () => {
        const s: NetSocket = clientNet.connect(80, 'server');
        let sent = 0;
        let reply = '';
        let timer: { cancel(): void } | null = null;
        const trickle = () => {
          if (s.destroyed || !s.writable || sent >= SLOW_HEADERS.length || ctx.net.now >= end) return;
          s.write(SLOW_HEADERS[sent++]!);
          timer = ctx.timer(ms(p['byte_interval_ms']!), trickle);
        };
        s.once('connect', () => {
          ctx.http({ host: 'client', phase: 'request', method: 'GET', path: `/slow${i + 1}`, connection: connOf(s), detail: 'headers one byte at a time' });
          trickle();
        });
        s.on('data', (d: Buffer) => (reply += d.toString('latin1')));
        s.on('end', () => {
          timer?.cancel();
          const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(reply)?.[1] ?? 0);
          ctx.http({ host: 'client', phase: 'response', method: 'GET', path: `/slow${i + 1}`, status, connection: connOf(s), detail: `after ${sent} header bytes` });
          s.end();
        });
        s.on('error', () => timer?.cancel());
      });
    }
    // The legitimate client: a new connection per request (agent: false), every legit_interval_ms.
    const every = ms(p['legit_interval_ms']!);
    for (let t = ms(500), k = 1; t < end; t += every, k++) {
      const path = `/legit${k}`;
      ctx.net.at(t, () => void request(ctx, false, path));
    }
  },
  duration: (p) => slowlorisEnd(p) + sec(2),
};

/** The slow clients stop trickling here: 20 s (or twice headersTimeout) after the last one started. */
function slowlorisEnd(p: Record<string, number>): number {
  return ms(10) + p['clients']! * ms(100) + Math.max(sec(20), 2 * ms(p['headers_timeout_ms']!));
}
