// Packets the network gives back to the pool (wire/packet.ts) once delivered: a transfer runs
// exactly as with no packet reused, whatever the link does (loss, duplicates, reordering) and
// however long the receiver leaves data queued (its receive queue holds views of the packets).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network, type LinkParams } from '../../src/sim/network.ts';
import { Host } from '../../src/host/host.ts';

interface Run {
  got: Uint8Array;
  at: number;
  counters: string;
}

/** 1 MB client -> server; the server reads `chunk` bytes every `everyUs`. */
function run(link: LinkParams, everyUs: number, chunk: number, recycle: boolean): Run {
  const net = new Network({ seed: 9 });
  if (!recycle) net.onPacket = () => {}; // an observer: no packet is reused
  const client = new Host({ name: 'client', addresses: ['10.0.0.1'], clock: net.clock, seed: 1, checksumOffload: true });
  const server = new Host({ name: 'server', addresses: ['10.0.0.2'], clock: net.clock, seed: 2, checksumOffload: true });
  net.addNode(client);
  net.addNode(server);
  net.link('client', 'server', link);
  const data = Uint8Array.from({ length: 1_000_000 }, (_, i) => (i * 7 + (i >> 9)) & 0xff);
  const got = new Uint8Array(data.length);
  let at = 0;
  const l = server.socket();
  l.bind('0.0.0.0', 80);
  l.listen(4);
  l.on('connection', () => {
    const s = l.accept()!;
    const buf = new Uint8Array(chunk);
    const read = (): void => {
      const n = s.recvInto(buf);
      if (n > 0) {
        got.set(buf.subarray(0, n), at);
        at += n;
      }
      if (n !== 0) net.after(everyUs, read);
    };
    net.after(everyUs, read);
  });
  const c = client.socket();
  let sent = 0;
  const pump = (): void => {
    while (sent < data.length) {
      const n = c.send(data.subarray(sent, sent + 65536));
      if (n === 0) return;
      sent += n;
    }
  };
  c.on('connect', pump);
  c.on('writable', pump);
  c.connect('10.0.0.2', 80);
  net.run(30_000_000);
  assert.deepEqual(got.subarray(0, at), data.subarray(0, at));
  return { got: got.subarray(0, at), at, counters: JSON.stringify([client.counters.v, server.counters.v]) };
}

for (const [name, link] of [
  ['a clean link', { latencyUs: 100 }],
  ['loss, duplicates and reordering', { latencyUs: 300, loss: 0.02, duplicate: 0.03, reorder: 0.05, reorderDelayUs: 700 }],
] as const) {
  for (const [everyUs, chunk] of [[50, 1 << 20], [3000, 3000]] as const) {
    test(`recycled packets change nothing: ${name}, the reader takes ${chunk} bytes every ${everyUs} µs`, () => {
      const a = run(link, everyUs, chunk, true);
      const b = run(link, everyUs, chunk, false);
      assert.equal(a.at, 1_000_000, 'everything arrived');
      assert.deepEqual(a, b);
    });
  }
}
