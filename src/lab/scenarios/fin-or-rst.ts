// Topics A and B: how a connection ends, with FIN or with RST. The orderly close (the four-way
// close and TIME_WAIT, both sides at once, half-close, data still queued) and the abortive one
// (unread data, SO_LINGER {1, 0}).

import { latencyParam, ms, sec, text, type Scenario } from '../scenario.ts';
import { httpGet, httpOk, reader, serve, writeBytes } from './apps.ts';

const REQUEST = httpGet('server');
const RESPONSE = httpOk('hello');

export const handshakeClose: Scenario = {
  id: 'handshake-close',
  title: 'Three-way handshake, one request, four-way close, TIME_WAIT',
  topic: 'A',
  explain:
    'The client opens a connection (SYN, SYN-ACK, ACK), sends a request and reads the response, then closes first. ' +
    'The server reads end-of-stream and closes a little later, so all four closing segments are visible. ' +
    'The client, the active closer, keeps the 4-tuple in TIME_WAIT for 60 s; the server passes CLOSE_WAIT and LAST_ACK.',
  question: 'Which side passes through which state, and how long does TIME_WAIT last on Linux?',
  params: [
    latencyParam,
    { name: 'server_close_delay_ms', description: 'how long the server application takes to close after reading EOF', default: 100, min: 0, max: 100000 },
  ],
  notice: [
    'client: SYN_SENT -> ESTABLISHED on the SYN-ACK; server: SYN_RECV -> ESTABLISHED on the final ACK',
    'the server ACKs the client FIN after the 40 ms delayed-ACK timeout (it is in pingpong mode), then sends its own FIN when the application closes',
    'client TIME_WAIT lasts exactly 60 s (TCP_TIMEWAIT_LEN), then CLOSED',
  ],
  setup({ net, client, server, p, serverAddr }) {
    serve(server, 80, (s) => {
      reader(s, {
        onData: () => s.send(RESPONSE),
        onEof: () => net.after(ms(p['server_close_delay_ms']!), () => s.close()),
      });
    });
    const c = client.socket();
    c.on('connect', () => c.send(REQUEST));
    reader(c, { onData: () => c.close() });
    net.at(0, () => c.connect(serverAddr, 80));
  },
  duration: () => sec(70),
};

export const closeUnsentData: Scenario = {
  id: 'close-unsent-data',
  title: 'close() with 1 MB still queued: nothing is lost, the FIN comes last',
  topic: 'B',
  explain:
    'The server writes 1 MB to a client that reads slowly, and calls close() as soon as its last write returns. ' +
    'close() does not discard queued data: the socket enters FIN_WAIT1 at once, keeps sending as the client\'s window opens ' +
    '(probing it while it is zero), and sets FIN after the last byte.',
  question: 'What happens to data still in the send buffer when the application closes?',
  params: [
    latencyParam,
    { name: 'bytes', description: 'bytes the server writes before closing', default: 1_000_000, min: 1, max: 100_000_000 },
    { name: 'read_chunk', description: 'bytes the client reads each time', default: 16384, min: 1, max: 1 << 20 },
    { name: 'read_every_ms', description: 'interval between the client\'s reads', default: 100, min: 1, max: 100000 },
    { name: 'sndbuf', description: 'server send buffer in bytes (tcp_wmem default); Linux autotuning grows it to 4 MB', default: 2_000_000, min: 4096, max: 4194304 },
  ],
  config: (p) => ({ server: { tcp_wmem: [4096, p['sndbuf']!, 4194304] } }),
  notice: [
    'server: ESTABLISHED -> FIN_WAIT1 at the close() call, long before the FIN is on the wire',
    'the client window falls to 0 and the server sends window probes (seq = SND.UNA - 1, no data)',
    'the FIN carries the sequence number after the last data byte; the client reads every byte before EOF',
  ],
  setup({ net, client, server, p, serverAddr }) {
    const total = p['bytes']!;
    serve(server, 80, (s) => {
      writeBytes(s, total, () => s.close());
    });
    const c = client.socket();
    let eof = false;
    // One read of read_chunk bytes every read_every_ms, until end of stream.
    const tick = () => {
      if (eof) return;
      if (c.recv(p['read_chunk']!)?.length === 0) {
        eof = true;
        c.close();
        return;
      }
      net.after(ms(p['read_every_ms']!), tick);
    };
    c.on('connect', () => net.after(ms(p['read_every_ms']!), tick));
    net.at(0, () => c.connect(serverAddr, 80));
  },
  duration: (p) => sec(Math.max(70, Math.ceil((p['bytes']! / p['read_chunk']!) * p['read_every_ms']! / 1000) + 70)),
};

export const closeUnreadData: Scenario = {
  id: 'close-unread-data',
  title: 'close() with unread received data sends RST, not FIN',
  topic: 'B',
  explain:
    'The client sends a request followed by more bytes the server never reads. The server answers and closes with those bytes ' +
    'still in its receive buffer. Linux (RFC 2525 §2.17) then aborts: it sends RST instead of FIN and counts TCPAbortOnClose. ' +
    'The client reads the response it already has, and its next read fails with ECONNRESET.',
  question: 'Why does a server that closes without reading everything reset the connection?',
  params: [latencyParam, { name: 'unread_bytes', description: 'bytes the server leaves unread', default: 100, min: 1, max: 60000 }],
  notice: [
    'server: the close() is followed by R. (seq = SND.NXT), and the server goes straight to CLOSED: no FIN_WAIT, no TIME_WAIT',
    'server counter TcpExtTCPAbortOnClose = 1',
    'client: error ECONNRESET when the RST arrives; the read after the response data returns ECONNRESET',
  ],
  setup({ net, client, server, p, serverAddr }) {
    serve(server, 80, (s) => {
      s.on('readable', () => {
        const d = s.recv(REQUEST.length); // reads the request only
        if (d && d.length) {
          s.send(RESPONSE);
          s.close();
        }
      });
    });
    const c = client.socket();
    c.on('connect', () => {
      const extra = new Uint8Array(p['unread_bytes']!).fill(0x78);
      const both = new Uint8Array(REQUEST.length + extra.length);
      both.set(REQUEST);
      both.set(extra, REQUEST.length);
      c.send(both);
    });
    reader(c, {});
    net.at(0, () => c.connect(serverAddr, 80));
  },
  duration: () => sec(5),
};

export const lingerZero: Scenario = {
  id: 'linger-zero',
  title: 'SO_LINGER {1, 0}: an abortive close with RST and no TIME_WAIT',
  topic: 'B',
  explain:
    'The client sets SO_LINGER with l_onoff=1 and l_linger=0, then closes after its request is answered. ' +
    'Linux discards anything queued, sends RST and frees the connection at once: there is no FIN exchange and no TIME_WAIT on either side. ' +
    'The server learns of it as ECONNRESET.',
  question: 'How do you close without leaving TIME_WAIT, and what does it cost the peer?',
  params: [latencyParam],
  notice: [
    'client: close() -> R. and CLOSED at once; TcpExtTCPAbortOnData = 1 (Linux counts the linger-0 abort there)',
    'server: ECONNRESET; no TIME_WAIT anywhere',
  ],
  setup({ net, client, server, serverAddr }) {
    serve(server, 80, (s) => {
      reader(s, { onData: () => s.send(RESPONSE), onEof: () => s.close(), onError: () => s.close() });
    });
    const c = client.socket();
    c.setsockopt('SO_LINGER', { on: true, seconds: 0 });
    c.on('connect', () => c.send(REQUEST));
    reader(c, { onData: () => c.close() });
    net.at(0, () => c.connect(serverAddr, 80));
  },
  duration: () => sec(5),
};

export const halfClose: Scenario = {
  id: 'half-close',
  title: 'Half-close: shutdown(SHUT_WR) and keep reading (the rsh example)',
  topic: 'B',
  explain:
    'The client sends its input and calls shutdown(SHUT_WR): its FIN tells the server there is no more input, but the connection stays open the other way. ' +
    'The server reads end-of-stream, keeps sending its output for a while, then closes. ' +
    'This is why closing takes four segments: each direction is closed on its own.',
  question: 'Can a side keep receiving after it has sent its FIN?',
  params: [latencyParam, { name: 'chunks', description: 'pieces of output the server sends after reading EOF', default: 3, min: 1, max: 1000 }],
  notice: [
    'client: FIN_WAIT1 -> FIN_WAIT2 at the shutdown, then data keeps arriving and being ACKed',
    'server: CLOSE_WAIT while it sends, LAST_ACK after its close()',
    'client: TIME_WAIT after the server FIN (it closed first)',
  ],
  setup({ net, client, server, p, serverAddr }) {
    serve(server, 80, (s) => {
      reader(s, {
        onEof: () => {
          const n = p['chunks']!;
          for (let i = 0; i < n; i++) net.after(ms(100 * (i + 1)), () => s.send(text(`output line ${i + 1}\n`)));
          net.after(ms(100 * (n + 1)), () => s.close());
        },
      });
    });
    const c = client.socket();
    c.on('connect', () => {
      c.send(text('input for the remote command\n'));
      c.shutdown('SHUT_WR');
    });
    reader(c, { onEof: () => c.close() });
    net.at(0, () => c.connect(serverAddr, 80));
  },
  duration: () => sec(70),
};

export const simultaneousClose: Scenario = {
  id: 'simultaneous-close',
  title: 'Simultaneous close: both sides pass CLOSING and both end in TIME_WAIT',
  topic: 'A',
  explain:
    'Both applications call close() at the same instant, so the two FINs cross on the wire. ' +
    'Each side receives the other\'s FIN while still in FIN_WAIT1 and moves to CLOSING; when its own FIN is acknowledged it enters TIME_WAIT. ' +
    'This is the rare case where both sides hold TIME_WAIT.',
  question: 'What happens when both ends close at once?',
  params: [latencyParam, { name: 'close_at_ms', description: 'when both applications close', default: 1000, min: 100, max: 100000 }],
  notice: ['both: ESTABLISHED -> FIN_WAIT1 -> CLOSING -> TIME_WAIT', 'both TIME_WAITs end 60 s later'],
  setup({ net, client, server, p, serverAddr }) {
    serve(server, 80, (s) => {
      reader(s, {});
      net.at(ms(p['close_at_ms']!), () => s.close());
    });
    const c = client.socket();
    reader(c, {});
    net.at(0, () => c.connect(serverAddr, 80));
    net.at(ms(p['close_at_ms']!), () => c.close());
  },
  duration: (p) => ms(p['close_at_ms']!) + sec(61),
};
