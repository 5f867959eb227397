// Socket.recvInto, read(2) into the caller's buffer: the same bytes, end of stream, EAGAIN and
// errors as recv, and the same trace.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network } from '../../src/sim/network.ts';
import { Host } from '../../src/host/host.ts';
import type { TraceEvent } from '../../src/base/trace.ts';
import type { Socket } from '../../src/host/socket.ts';
import { SocketError } from '../../src/base/errno.ts';

function world(faults = true): { net: Network; client: Host; server: Host; events: TraceEvent[] } {
  const net = new Network({ seed: 5 });
  const events: TraceEvent[] = [];
  const client = new Host({ name: 'client', addresses: ['10.0.0.1'], clock: net.clock, seed: 1, trace: (e) => events.push(e), tracePackets: false });
  const server = new Host({ name: 'server', addresses: ['10.0.0.2'], clock: net.clock, seed: 2, trace: (e) => events.push(e), tracePackets: false });
  net.addNode(client);
  net.addNode(server);
  net.link('client', 'server', faults ? { latencyUs: 500, loss: 0.02, reorder: 0.02 } : { latencyUs: 500 });
  return { net, client, server, events };
}

const pattern = (n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + (i >> 8)) & 0xff);

/** The client writes `data` and closes; the server reads with `read` on each wake-up until EOF. */
function transfer(data: Uint8Array, read: (s: Socket) => 'again' | 'eof'): { events: TraceEvent[]; eof: boolean } {
  const w = world();
  const l = w.server.socket();
  l.bind('0.0.0.0', 80);
  l.listen(4);
  let eof = false;
  l.on('connection', () => {
    const s = l.accept()!;
    s.on('readable', () => {
      while (!eof) {
        const r = read(s);
        if (r === 'again') return;
        eof = true;
        s.close();
      }
    });
  });
  const c = w.client.socket();
  let sent = 0;
  const pump = (): void => {
    while (sent < data.length) {
      const n = c.send(data.subarray(sent));
      if (n === 0) return;
      sent += n;
    }
    c.close();
  };
  c.on('connect', pump);
  c.on('writable', pump);
  c.connect('10.0.0.2', 80);
  w.net.run(60_000_000);
  return { events: w.events, eof };
}

test('recvInto copies the stream exactly, at an offset, and returns 0 at end of stream', () => {
  const data = pattern(300_000);
  const got = new Uint8Array(data.length);
  let at = 0;
  const buf = new Uint8Array(5000);
  let reads = 0;
  const r = transfer(data, (s) => {
    const off = reads++ % 7; // bytes before the offset stay untouched
    buf[0] = 0xee;
    const n = s.recvInto(buf, off);
    if (off > 0) assert.equal(buf[0], 0xee);
    if (n < 0) return 'again';
    if (n === 0) return 'eof';
    assert.ok(n <= buf.length - off);
    got.set(buf.subarray(off, off + n), at);
    at += n;
    return 'again';
  });
  assert.ok(r.eof);
  assert.equal(at, data.length);
  assert.deepEqual(got, data);
});

test('recvInto traces the same reads as recv of the same size', () => {
  const data = pattern(100_000);
  const size = 3000;
  const buf = new Uint8Array(size);
  const a = transfer(data, (s) => {
    const n = s.recvInto(buf);
    return n < 0 ? 'again' : n === 0 ? 'eof' : 'again';
  });
  const b = transfer(data, (s) => {
    const d = s.recv(size);
    return d === null ? 'again' : d.length === 0 ? 'eof' : 'again';
  });
  const calls = (ev: TraceEvent[]): unknown[] => ev.filter((e) => e.kind === 'call' || e.kind === 'segment');
  assert.ok(a.eof && b.eof);
  assert.deepEqual(calls(a.events), calls(b.events));
});

test('recvInto: -1 while nothing waits, errors as recv, a bad offset is a RangeError', () => {
  const w = world(false);
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      if (e instanceof SocketError) return e.code;
      if (e instanceof RangeError) return 'RangeError';
      throw e;
    }
    return 'ok';
  };
  const buf = new Uint8Array(16);
  const unconnected = w.client.socket();
  assert.equal(code(() => unconnected.recvInto(buf)), code(() => unconnected.recv()));
  assert.equal(code(() => unconnected.recvInto(buf)), 'ENOTCONN');
  const s = w.client.socket();
  s.connect('10.0.0.2', 81); // nothing listens: RST
  assert.equal(s.recvInto(buf), -1, 'SYN_SENT: EAGAIN');
  w.net.run(100_000);
  assert.equal(code(() => s.recvInto(buf)), 'ECONNREFUSED');
  assert.equal(code(() => s.recvInto(buf, 17)), 'RangeError');
  assert.equal(code(() => s.recvInto(buf, -1)), 'RangeError');
});

test('recvInto with a count above the room: read(2) of count into a room sized to the bytes waiting (node:net), traced with the count; an overflow is a RangeError', () => {
  const w = world(false);
  const l = w.server.socket();
  l.bind('0.0.0.0', 80);
  l.listen(4);
  let s: Socket | null = null;
  l.on('connection', () => (s = l.accept()));
  const c = w.client.socket();
  c.on('connect', () => c.send(pattern(3000)));
  c.connect('10.0.0.2', 80);
  w.net.run(10_000_000);
  const srv = s as Socket | null;
  assert.ok(srv);
  assert.equal(srv.readable, 3000);
  assert.throws(() => srv.recvInto(new Uint8Array(2999), 0, 65536), RangeError);
  assert.equal(srv.readable, 3000, 'nothing was read');
  const buf = new Uint8Array(srv.readable);
  assert.equal(srv.recvInto(buf, 0, 65536), 3000);
  assert.deepEqual(buf, pattern(3000));
  const reads = w.events.filter((e) => e.kind === 'call' && e.call === 'read');
  assert.deepEqual(reads.map((e) => (e.kind === 'call' ? [e.args, e.result] : null)), [['65536', '3000']]);
  assert.equal(srv.recvInto(new Uint8Array(10), 0, 65536), -1, 'EAGAIN');
});
