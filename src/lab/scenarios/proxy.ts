// Topic D/E: a load balancer's TCP profile in the path, and the idle-timeout ordering rule.

import type { Socket } from '../../host/socket.ts';
import { L4Proxy, type ProxyEvent, type TcpProfile } from '../../proxy/l4.ts';
import { latencyParam, ms, sec, type Scenario, type ScenarioContext } from '../scenario.ts';
import { attempt, httpGet, httpOk, recvOrError } from './apps.ts';

const REQUEST = httpGet('backend');
const RESPONSE = httpOk('ok');

/**
 * The backend on the server host, port 80: answers each request, closes on end-of-stream or an
 * error, and closes a connection idle for idleUs (Infinity: never).
 */
function backend(ctx: ScenarioContext, idleUs: number): void {
  const bl = ctx.server.socket();
  bl.bind('0.0.0.0', 80);
  bl.listen(128);
  bl.on('connection', () => {
    for (let s = bl.accept(); s; s = bl.accept()) {
      const conn = s;
      const closeIt = () => { if (!conn.closed) conn.close(); };
      let idle = idleUs === Infinity ? null : ctx.timer(idleUs, closeIt);
      conn.on('error', closeIt);
      conn.on('readable', () => {
        for (;;) {
          const d = recvOrError(conn);
          if (d === null || typeof d === 'string') return;
          idle?.cancel();
          if (d.length === 0) return closeIt();
          conn.send(RESPONSE);
          if (idle) idle = ctx.timer(idleUs, closeIt);
        }
      });
    }
  });
}

/** The L4 proxy on the proxy host: its port 80 to the backend's, under a load balancer TCP profile. */
function lbProxy(ctx: ScenarioContext, profile: Partial<TcpProfile>, onEvent: (ev: ProxyEvent) => void): void {
  new L4Proxy(ctx.proxy!, {
    listen: { addr: '0.0.0.0', port: 80 },
    upstream: { addr: ctx.serverAddr, port: 80 },
    profile,
    scheduler: { setTimer: ctx.timer },
    onEvent,
  });
}

/**
 * proxy-idle-timeout's client: `requests` requests gap_ms apart on one pooled connection through
 * the proxy, reconnecting only when it knows the old one is gone.
 */
function pooledClient(ctx: ScenarioContext): void {
  const { client, p } = ctx;
  let sock: Socket | null = null;
  let usable = false;
  let n = 0;
  const open = (): Socket => {
    const s = client.socket();
    usable = false;
    s.on('connect', () => (usable = true));
    s.on('error', () => { if (sock === s) usable = false; });
    s.connect(ctx.proxyAddr!, 80);
    return s;
  };
  // The answer to a request: a response, an EOF (the peer closed) or an error (an HTTP proxy's 502).
  const awaitAnswer = (s: Socket, path: string, reused: boolean) => {
    const onData = () => {
      const d = recvOrError(s);
      if (typeof d === 'string') {
        ctx.http({ host: 'client', phase: 'error', method: 'GET', path, error: d, detail: 'the 502 of an HTTP proxy', connection: s.connectionLabel, reusedSocket: reused });
        s.off('readable', onData);
        s.off('error', onData);
        usable = false;
        ctx.timer(ms(p['gap_ms']!), send);
        return;
      }
      if (d === null) return;
      s.off('readable', onData);
      s.off('error', onData);
      if (d.length === 0) {
        usable = false; // the peer closed: a careful pool would now discard it
        ctx.http({ host: 'client', phase: 'error', method: 'GET', path, error: 'EOF', detail: 'closed before a response', connection: s.connectionLabel, reusedSocket: reused });
        ctx.timer(ms(p['gap_ms']!), send);
        return;
      }
      ctx.http({ host: 'client', phase: 'response', method: 'GET', path, status: 200, connection: s.connectionLabel, reusedSocket: reused });
      ctx.timer(ms(p['gap_ms']!), send);
    };
    s.on('readable', onData);
    s.on('error', onData);
  };
  const send = () => {
    if (n >= p['requests']!) return;
    const i = ++n;
    const path = `/${i}`;
    if (!sock || !usable) {
      if (sock && !sock.closed) sock.close();
      sock = open();
    }
    const s = sock;
    const reused = usable;
    const go = () => {
      ctx.http({ host: 'client', phase: 'request', method: 'GET', path, connection: s.connectionLabel, reusedSocket: reused });
      attempt(() => s.send(REQUEST));
    };
    if (usable) go();
    else s.once('connect', go);
    awaitAnswer(s, path, reused);
  };
  ctx.net.at(ms(1), send);
}

/**
 * lb-tcp-profile's client: one request, then idle for client_idle_s, then a second request on the
 * same connection if it is still there, else on a new one. It holds its connection and learns of
 * the profile's verdict only from the wire.
 */
function idleClient(ctx: ScenarioContext): void {
  const { net, client, p } = ctx;
  let outstanding = 0; // requests not answered yet
  const track = (d: number) => (outstanding += d);
  const request = (path: string, s: Socket) => {
    ctx.http({ host: 'client', phase: 'request', method: 'GET', path, connection: s.connectionLabel });
    track(1);
    s.send(REQUEST);
    const onData = () => {
      const d = recvOrError(s);
      if (typeof d === 'string') {
        ctx.http({ host: 'client', phase: 'error', method: 'GET', path, error: d, connection: s.connectionLabel });
        s.off('readable', onData);
        track(-1);
        return;
      }
      if (d === null || d.length === 0) return;
      s.off('readable', onData);
      track(-1);
      ctx.http({ host: 'client', phase: 'response', method: 'GET', path, status: 200, connection: s.connectionLabel });
    };
    s.on('readable', onData);
  };
  const first = client.socket();
  let firstDead = false;
  first.on('error', () => (firstDead = true));
  first.on('readable', () => {
    // With no request outstanding, only an EOF (the profile closed with FIN) or an error can
    // arrive: close our side too, as any client library would.
    if (outstanding || first.closed || firstDead) return;
    const d = recvOrError(first);
    if (typeof d === 'string') firstDead = true;
    else if (d && d.length === 0) { firstDead = true; first.close(); }
  });
  first.connect(ctx.proxyAddr!, 80);
  first.once('connect', () => request('/1', first));
  net.at(ms(1) + sec(p['client_idle_s']!), () => {
    if (!firstDead && !first.closed) return request('/2', first);
    if (!first.closed) first.close();
    const s = client.socket();
    s.connect(ctx.proxyAddr!, 80);
    s.once('connect', () => request('/2', s));
  });
}

export const proxyIdleTimeout: Scenario = {
  id: 'proxy-idle-timeout',
  title: 'A proxy\'s idle timeout vs the backend\'s keep-alive: who closes first, and the 502',
  topic: 'D',
  topology: 'proxy',
  explain:
    'A client keeps one connection through an L4 proxy (a load balancer TCP profile: idle timeout, Reset on Timeout) to a backend that closes connections idle for 5 s. ' +
    'When the proxy\'s idle timeout is longer than the backend\'s keep-alive (the F5 default of 300 s), the backend closes first: its FIN crosses the client\'s next request, ' +
    'the backend resets the late request, the proxy passes the reset on, and the request fails (an HTTP proxy would answer 502). ' +
    'With the proxy\'s idle timeout shorter (--set proxy_idle_ms=3000) the proxy ends idle connections first, with a reset to both sides; the client reconnects for its next request and nothing fails. ' +
    'Rule: on every hop the side that reuses a connection must time out before the side that accepts it.',
  question: 'Why does a load balancer in front of a keep-alive backend produce sporadic 502s, and which timeout must be shorter?',
  params: [
    latencyParam,
    { name: 'requests', description: 'requests the client makes', default: 6, min: 1, max: 10000 },
    { name: 'backend_keepalive_ms', description: 'the backend closes a connection idle this long', default: 5000, min: 10, max: 3_600_000 },
    { name: 'proxy_idle_ms', description: 'the proxy profile\'s idle timeout (F5 default 300 s)', default: 300_000, min: 10, max: 3_600_000 },
    { name: 'gap_ms', description: 'the client\'s pause between a response and its next request', default: 4990, min: 0, max: 3_600_000 },
  ],
  config: () => ({ proxy: { lb_time_wait_timeout_ms: 2000 } }), // the profile's time-wait-timeout (F5: 2000 ms)
  notice: [
    'proxy idle 300 s: the backend sends the first FIN; the next request is reset; failures',
    'proxy idle 3 s: the proxy resets both sides first; the client reconnects; no failure',
    'the proxy\'s TIME_WAITs last 2 s (its profile), the others 60 s',
  ],
  setup(ctx) {
    const { proxy, p } = ctx;
    // The backend: answers requests, closes a connection after backend_keepalive_ms idle.
    backend(ctx, ms(p['backend_keepalive_ms']!));
    lbProxy(ctx, { idleTimeoutMs: p['proxy_idle_ms']!, idleAction: 'rst' }, (ev) => {
      if (ev.kind === 'idle-timeout') ctx.note(proxy!, `proxy: idle timeout, ${ev.action === 'rst' ? 'reset both sides' : 'FIN both sides'}`);
      if (ev.kind === 'reset') ctx.note(proxy!, `proxy: ${ev.code} from the ${ev.from}, reset passed on`);
    });
    pooledClient(ctx);
  },
  duration: (p) => sec((p['requests']! * (p['gap_ms']! + 100)) / 1000 + 70),
};

export const lbTcpProfile: Scenario = {
  id: 'lb-tcp-profile',
  title: 'A load balancer TCP profile: idle timeout, keep-alive interval and TIME_WAIT length',
  topic: 'D',
  topology: 'proxy',
  explain:
    'A client opens one connection through an L4 load balancer, makes a request and then stays idle longer than the profile allows. ' +
    'The profile sends TCP keepalive probes to both sides every keep-alive interval (they are answered, but they are not traffic: the idle timer keeps running), ' +
    'ends the connection when its idle timeout fires (with a reset to both sides when Reset on Timeout is on, with FIN otherwise), ' +
    'and keeps its own TIME_WAIT sockets only as long as its time-wait timeout (F5: 2 s), not Linux\'s fixed 60 s.',
  question: 'What do a load balancer profile\'s idle timeout, keep-alive interval and TIME_WAIT length do to an idle connection?',
  params: [
    latencyParam,
    { name: 'idle_timeout_s', description: 'the profile\'s idle timeout (F5 default 300 s)', default: 300, min: 1, max: 86_400 },
    { name: 'keepalive_interval_s', description: 'the profile\'s keep-alive interval (F5 default 1800 s; 0 = off)', default: 60, min: 0, max: 86_400 },
    { name: 'reset_on_timeout', description: '1: reset both sides at the idle timeout (F5 default); 0: close with FIN', default: 1, min: 0, max: 1 },
    { name: 'time_wait_ms', description: 'the profile\'s TIME_WAIT length (F5 time-wait-timeout 2000 ms)', default: 2000, min: 0, max: 600_000 },
    { name: 'client_idle_s', description: 'how long the client stays idle before its next request', default: 400, min: 1, max: 86_400 },
  ],
  config: (p) => ({ proxy: { lb_time_wait_timeout_ms: p['time_wait_ms']! } }),
  notice: [
    'keepalive probes to both sides every keep-alive interval, each ACKed',
    'at the idle timeout: RST to the client and to the backend (or FIN with reset_on_timeout=0)',
    'with FIN, the proxy\'s TIME_WAITs end after time_wait_ms, not 60 s',
    'the client\'s next request needs a new connection',
  ],
  setup(ctx) {
    const { proxy, p } = ctx;
    backend(ctx, Infinity);
    const profile: Partial<TcpProfile> = {
      idleTimeoutMs: p['idle_timeout_s']! * 1000,
      idleAction: p['reset_on_timeout'] ? 'rst' : 'fin',
      keepAliveIntervalMs: p['keepalive_interval_s']! * 1000,
    };
    lbProxy(ctx, profile, (ev) => {
      if (ev.kind === 'idle-timeout') ctx.note(proxy!, `profile: idle timeout, ${ev.action === 'rst' ? 'reset both sides' : 'FIN both sides'}`);
    });
    idleClient(ctx);
  },
  duration: (p) => sec(p['client_idle_s']! + 70),
};
