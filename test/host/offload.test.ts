// TCP checksum offload (HostOptions.checksumOffload), as on Linux's lo: the checksum field leaves
// holding only the folded pseudo-header sum (CHECKSUM_PARTIAL) and arriving TCP checksums are
// trusted; a host without offload drops such a packet as a checksum error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network } from '../../src/sim/network.ts';
import { Host } from '../../src/host/host.ts';
import { fold, pseudoHeaderSum4, verifyChecksum } from '../../src/wire/checksum.ts';

function pair(offloadServer: boolean) {
  const net = new Network({ seed: 3 });
  const packets: Array<{ from: string; bytes: Uint8Array }> = [];
  net.onPacket = (p) => { if (p.fate === 'delivered') packets.push({ from: p.from, bytes: p.packet }); };
  const client = new Host({ name: 'client', addresses: ['10.0.0.1'], clock: net.clock, seed: 1, checksumOffload: true });
  const server = new Host({ name: 'server', addresses: ['10.0.0.2'], clock: net.clock, seed: 2, checksumOffload: offloadServer });
  net.addNode(client);
  net.addNode(server);
  net.link('client', 'server', { latencyUs: 100 });
  const l = server.socket();
  l.bind('0.0.0.0', 80);
  l.listen(8);
  let got = '';
  l.on('connection', () => {
    const s = l.accept()!;
    s.on('readable', () => {
      for (let d = s.recv(); d && d.length; d = s.recv()) got += new TextDecoder().decode(d);
    });
  });
  const c = client.socket();
  c.on('connect', () => c.send(new TextEncoder().encode('hello')));
  c.connect('10.0.0.2', 80);
  net.run(2_000_000);
  return { client, server, c, packets, got: () => got };
}

test('offload on both ends: the field holds the pseudo-header sum only, and the data arrives', () => {
  const { packets, got } = pair(true);
  assert.equal(got(), 'hello');
  const syn = packets.find((p) => p.from === 'client')!.bytes;
  const tcpLen = syn.length - 20;
  const field = (syn[20 + 16]! << 8) | syn[20 + 17]!;
  const ph = fold(pseudoHeaderSum4(syn.subarray(12, 16), syn.subarray(16, 20), 6, tcpLen));
  assert.equal(field, ph, 'CHECKSUM_PARTIAL: ~tcp_v4_check(len, saddr, daddr, 0)');
  assert.equal(verifyChecksum(syn, 20, syn.length, pseudoHeaderSum4(syn.subarray(12, 16), syn.subarray(16, 20), 6, tcpLen)), false);
  // The IPv4 header checksum is still computed (ip_send_check does not depend on offload).
  assert.equal(verifyChecksum(syn, 0, 20), true);
});

test('a receiver without offload drops partial-checksum segments as InCsumErrors', () => {
  const { server, c, got } = pair(false);
  assert.equal(got(), '');
  assert.equal(c.state, 'SYN_SENT', 'the SYN never got through');
  // In 2 s: the SYN at 0 and its retransmission at 1 s (the next is due at 3 s), each counted.
  assert.equal(server.counters.get('InCsumErrors'), 2);
  assert.equal(server.counters.get('InErrs'), 2);
});
