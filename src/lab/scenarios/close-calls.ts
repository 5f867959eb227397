// Topic B: the close calls in depth, and what each side sees: close() vs shutdown(), a socket with
// two owners, close() behind a zero window, SO_LINGER {1, N}, closing a listener, the errors after
// the peer has gone, and a killed process whose kernel closes for it.

import type { Socket } from '../../host/socket.ts';
import { SocketError } from '../../base/errno.ts';
import { latencyParam, ms, sec, text, type Scenario, type ScenarioContext } from '../scenario.ts';
import { attempt, reader, serve, writeBytes } from './apps.ts';

const REQ = text('request\n');

function connectAt(ctx: ScenarioContext, t: number, port = 80, onConnect?: (s: Socket) => void): Socket {
  const s = ctx.client.socket();
  if (onConnect) s.on('connect', () => onConnect(s));
  ctx.net.at(t, () => s.connect(ctx.serverAddr, port));
  return s;
}

export const closeVsShutdown: Scenario = {
  id: 'close-vs-shutdown',
  title: 'close() vs shutdown(SHUT_WR): one stops receiving, the other only stops sending',
  topic: 'B',
  explain:
    'Two clients send a request and are done sending. The first calls close(): it can no longer receive, so when the response arrives its kernel answers with RST and the server\'s next write fails. ' +
    'The second calls shutdown(SHUT_WR): its FIN tells the server there is no more input, but it still reads the whole response before closing. ' +
    'close() drops the socket; shutdown() only ends one direction.',
  question: 'Why do clients that close() too early make servers see "connection reset by peer"?',
  params: [latencyParam, { name: 'response_delay_ms', description: 'how long the server takes to answer', default: 100, min: 1, max: 100000 }],
  notice: [
    'client 1: FIN, then R in answer to the response data (from the FIN_WAIT2 entry; TCPAbortOnData only when the data meets the socket still in FIN_WAIT1, --set response_delay_ms=1); the server\'s next write: EPIPE',
    'client 2: FIN, then it reads the response and EOF; no reset',
  ],
  setup(ctx) {
    const { net, server, p } = ctx;
    serve(server, 80, (s) => {
      reader(s, {
        onData: () => net.after(ms(p['response_delay_ms']!), () => {
          attempt(() => s.send(text('response part 1\n')));
          net.after(ms(50), () => {
            attempt(() => s.send(text('response part 2\n')));
            if (!s.closed) s.close();
          });
        }),
        onError: () => { if (!s.closed) s.close(); },
      });
    });
    connectAt(ctx, ms(1), 80, (s) => {
      s.send(REQ);
      s.close();
    });
    const b = connectAt(ctx, ms(1000), 80, (s) => {
      s.send(REQ);
      s.shutdown('SHUT_WR');
    });
    reader(b, { onEof: () => b.close() });
  },
  duration: () => sec(65),
};

export const sharedSocket: Scenario = {
  id: 'shared-socket',
  title: 'A socket shared by two owners: close() by one does nothing on the wire, shutdown() does',
  topic: 'B',
  explain:
    'After fork() or dup() two descriptors refer to one socket. close() drops one reference: the connection closes only when the last owner closes, so the first close() sends nothing. ' +
    'shutdown() acts on the socket itself whatever the number of owners: SHUT_WR sends the FIN at once.',
  question: 'Why does closing a socket in the parent after fork() not close the connection?',
  params: [latencyParam],
  notice: ['connection 1: the first close() sends nothing; the FIN leaves only at the second', 'connection 2: shutdown(SHUT_WR) by one owner sends the FIN while the other still holds the socket'],
  setup(ctx) {
    const { net, server } = ctx;
    serve(server, 80, (s) => reader(s, { onEof: () => s.close() }));
    const a = connectAt(ctx, ms(1));
    net.at(ms(100), () => a.dup()); // fork(): two owners
    net.at(ms(200), () => a.close()); // the parent closes its copy: nothing happens
    net.at(ms(300), () => a.send(text('the child still uses it\n')));
    net.at(ms(400), () => a.close()); // the last owner: FIN
    const b = connectAt(ctx, ms(1000));
    net.at(ms(1100), () => b.dup());
    net.at(ms(1200), () => b.shutdown('SHUT_WR')); // one owner shuts down: FIN at once
    net.at(ms(1300), () => { b.close(); b.close(); });
  },
  duration: () => sec(65),
};

export const closeBehindZeroWindow: Scenario = {
  id: 'close-behind-zero-window',
  title: 'close() with unsent data behind a zero window: FIN_WAIT1 at once, the FIN waits',
  topic: 'B',
  explain:
    'The server writes 200 kB to a client that is not reading; the client\'s receive buffer fills and it advertises a zero window. The server then calls close(). ' +
    'Linux moves to FIN_WAIT1 at once, although neither the rest of the data nor the FIN can be sent: it probes the window (ACK with SEQ = SND.UNA - 1) with backoff. ' +
    'When the client starts reading, the window opens, the data flows and the FIN follows the last byte.',
  question: 'What happens to a close() when the peer stops reading?',
  params: [latencyParam, { name: 'read_after_ms', description: 'when the client starts reading', default: 10000, min: 1, max: 600000 }],
  config: () => ({ client: { tcp_rmem: [4096, 32768, 6291456] } }),
  notice: ['server: FIN_WAIT1 at close(), long before its FIN', 'client: win 0; server: window probes with growing intervals', 'every byte arrives, then the FIN'],
  setup(ctx) {
    const { net, server, p } = ctx;
    serve(server, 80, (s) => writeBytes(s, 200_000, () => s.close()));
    const c = connectAt(ctx, ms(1));
    net.at(ms(p['read_after_ms']!), () => reader(c, { onEof: () => c.close() }).pump());
  },
  duration: (p) => ms(p['read_after_ms']!) + sec(70),
};

export const lingerN: Scenario = {
  id: 'linger-n',
  title: 'SO_LINGER {1, N}: close() waits for the data to be acknowledged, or N seconds',
  topic: 'B',
  explain:
    'With SO_LINGER set to {on, N}, close() blocks until everything sent has been acknowledged (the socket has left FIN_WAIT1) or N seconds have passed. ' +
    'Here the client writes 100 kB and closes; close() returns when the last byte and the FIN are acknowledged. ' +
    'With --set unreachable=1 the peer vanishes first: close() returns after N seconds and the orphaned socket goes on retransmitting the unacknowledged data at its head, the FIN still queued behind it.',
  question: 'How does SO_LINGER with a timeout change close()?',
  params: [latencyParam, { name: 'seconds', description: 'l_linger', default: 5, min: 1, max: 3600 }, { name: 'unreachable', description: '1: the server vanishes just before the close', default: 0, min: 0, max: 1 }],
  notice: ['the call event "close = 0, returns: ..." marks when close() returns', 'unreachable=1: it returns after exactly N s'],
  setup(ctx) {
    const { net, server, p } = ctx;
    serve(server, 80, (s) => reader(s, { onEof: () => s.close() }));
    connectAt(ctx, ms(1), 80, (s) => {
      s.setsockopt('SO_LINGER', { on: true, seconds: p['seconds']! });
      writeBytes(s, 100_000, () => {
        if (p['unreachable'] === 1) net.partition('client', 'server', net.now, Number.MAX_SAFE_INTEGER);
        s.close();
      });
    });
  },
  duration: (p) => sec(p['seconds']! + 70),
};

export const listenerClosePending: Scenario = {
  id: 'listener-close-pending',
  title: 'Closing a listener with connections not yet accepted: RST to each, half-open ones dropped',
  topic: 'B',
  explain:
    'A server listens but is slow to accept(). Three clients complete their handshakes and wait in the accept queue; a fourth client\'s last ACK is lost, so it is still half-open (SYN_RECV) on the server. ' +
    'The server then closes its listening socket. Linux resets every completed connection nobody accepted and drops the half-open one silently; ' +
    'that client, which thinks it is connected, learns only when it sends (RST from a port with no socket).',
  question: 'What happens to queued connections when a server stops listening?',
  params: [latencyParam],
  notice: ['server: R. to three clients at the listener close; nothing to the fourth', 'clients 1-3: ECONNRESET; client 4: RST when it sends'],
  setup(ctx) {
    const { net, server, client } = ctx;
    const l = server.socket();
    l.bind('0.0.0.0', 80);
    l.listen(8); // never accepts
    // Drop the fourth client's final ACK of the handshake (sent from port 50003, see below).
    net.addFilter((pk) => (pk.from === 'client' && pk.packet[20] === 0xc3 && pk.packet[21] === 0x53 && (pk.packet[33]! & 0x12) === 0x10 && net.now < ms(400) ? null : 'pass'));
    const socks: Socket[] = [];
    for (let i = 0; i < 4; i++) {
      const s = client.socket();
      s.bind(ctx.clientAddr, 50000 + i);
      reader(s, {});
      socks.push(s);
      net.at(ms(1 + i * 10), () => s.connect(ctx.serverAddr, 80));
    }
    net.at(ms(500), () => l.close());
    net.at(ms(800), () => socks[3]!.send(text('anyone there?\n')));
  },
  duration: () => sec(2),
};

export const abnormalClose: Scenario = {
  id: 'abnormal-close',
  title: 'The abnormal-close study: write after the peer closed (RST back), then read, then write (EPIPE)',
  topic: 'B',
  explain:
    'The server closes its socket while the client still has it open; the client then writes, reads and writes again. ' +
    'After the server\'s FIN, the client\'s write still succeeds locally, but the data reaches a socket that no longer exists and the server\'s kernel answers with RST. ' +
    'Linux then reports the reset as EPIPE (not ECONNRESET: end-of-stream came first), reads return any data still buffered and then 0, and the next write fails with EPIPE ("Broken pipe"). ' +
    'With --set peer_reset=1 the server closes with the client\'s request unread, so it sends RST instead of FIN: the error is ECONNRESET ("Connection reset by peer"), reported once, to whichever call comes first.',
  question: 'What errors does an application see after the peer has gone, and in which order?',
  params: [
    latencyParam,
    { name: 'with_data', description: '1: the client has not read the server\'s greeting when it reads', default: 1, min: 0, max: 1 },
    { name: 'peer_reset', description: '1: the server closes with unread data (RST instead of FIN)', default: 0, min: 0, max: 1 },
  ],
  notice: [
    'peer_reset=0: FIN; the client\'s write draws R from the server; read() = the buffered greeting (with_data=1), then 0; write() = EPIPE',
    'peer_reset=1: R at the server\'s close; the first call after it gets ECONNRESET; write() = EPIPE after that',
  ],
  setup(ctx) {
    const { net, server, p } = ctx;
    serve(server, 80, (s) => {
      s.send(text('welcome\n'));
      net.after(ms(100), () => s.close()); // never reads: with peer_reset the request stays unread
    });
    const c = connectAt(ctx, ms(1), 80, (s) => { if (p['peer_reset'] === 1) s.send(REQ); });
    if (p['with_data'] === 0) c.once('readable', () => attempt(() => c.recv()));
    net.at(ms(300), () => attempt(() => c.send(text('are you there?\n'))));
    net.at(ms(400), () => {
      for (let i = 0; i < 3; i++) {
        let d: Uint8Array | null = null;
        try {
          d = c.recv();
        } catch (e) {
          if (!(e instanceof SocketError)) throw e;
          break;
        }
        if (!d || d.length === 0) break;
      }
    });
    net.at(ms(500), () => attempt(() => c.send(text('again\n'))));
  },
  duration: () => sec(65),
};

export const peerProcessKilled: Scenario = {
  id: 'peer-process-killed',
  title: 'The peer process is killed: its kernel closes every socket for it (FIN, or RST with unread data)',
  topic: 'B',
  explain:
    'A server process holds two connections: one idle, one on which the client has sent bytes the process never read. The process is killed (kill -9). ' +
    'Its kernel closes all its descriptors as close() would: the idle connection gets a FIN (the client reads end-of-stream) and the one with unread data gets a RST (the client gets ECONNRESET). ' +
    'A crash of the process is not a crash of the host: the peer always hears about it.',
  question: 'What does a client see when the server process dies?',
  params: [latencyParam],
  notice: ['server: F. on the idle connection, R. on the other, at the same instant', 'client: EOF on the first, ECONNRESET on the second'],
  setup(ctx) {
    const { net, server } = ctx;
    const held: Socket[] = [];
    serve(server, 80, (s) => held.push(s)); // accepts, never reads
    const idle = connectAt(ctx, ms(1));
    const busy = connectAt(ctx, ms(2), 80, (s) => s.send(REQ));
    reader(idle, { onEof: () => idle.close() });
    reader(busy, {});
    net.at(ms(1000), () => {
      ctx.note(server, 'the server process is killed: its kernel closes its sockets');
      for (const s of held) if (!s.closed) s.close();
    });
  },
  duration: () => sec(65),
};
