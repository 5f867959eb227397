// TSO/GSO between hosts with offloads (HostOptions.gso): TCP sends consecutive full segments as
// one packet, the simulator carries it whole where nothing acts per packet and cuts it into its
// segments everywhere else, and what reaches the wire then is byte for byte what a host
// without offloads sends.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Network, type LinkParams } from '../../src/sim/network.ts';
import { Host } from '../../src/host/host.ts';
import { decodePacket } from '../../src/wire/packet.ts';
import { gsoSegments } from '../../src/wire/gso.ts';

interface Run {
  got: Uint8Array;
  packets: Array<{ from: string; bytes: Uint8Array; t: number }>;
  client: Host;
  server: Host;
}

function transfer(opts: { gso: boolean; link: LinkParams; bytes: number; v6?: boolean; serverGso?: boolean }): Run {
  const net = new Network({ seed: 7 });
  const a4 = opts.v6 ? ['fd00::1'] : ['10.0.0.1'];
  const b4 = opts.v6 ? ['fd00::2'] : ['10.0.0.2'];
  const client = new Host({ name: 'client', addresses: a4, clock: net.clock, seed: 1, tracePackets: false, gso: opts.gso });
  const server = new Host({ name: 'server', addresses: b4, clock: net.clock, seed: 2, tracePackets: false, gso: opts.serverGso ?? opts.gso });
  net.addNode(client);
  net.addNode(server);
  net.link('client', 'server', opts.link);
  const packets: Run['packets'] = [];
  net.onPacket = (e) => {
    if (e.fate === 'delivered') packets.push({ from: e.from, bytes: e.packet.slice(), t: e.t });
  };
  const data = new Uint8Array(opts.bytes);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11)) & 0xff;
  const chunks: Uint8Array[] = [];
  const l = server.socket();
  l.bind(b4[0]!, 80);
  l.listen(8);
  l.on('connection', () => {
    const s = l.accept()!;
    s.on('readable', () => {
      for (let d = s.recv(1 << 20); d && d.length; d = s.recv(1 << 20)) chunks.push(d.slice());
    });
  });
  const c = client.socket();
  let sent = 0;
  const pump = (): void => {
    while (sent < data.length) {
      const n = c.send(data.subarray(sent, Math.min(data.length, sent + 100_000)));
      if (n === 0) return;
      sent += n;
    }
  };
  c.on('connect', pump);
  c.on('writable', pump);
  c.connect(b4[0]!, 80);
  const total = (): number => chunks.reduce((n, x) => n + x.length, 0);
  net.runWhile(() => total() < data.length, 600e6);
  const got = new Uint8Array(total());
  let o = 0;
  for (const x of chunks) {
    got.set(x, o);
    o += x.length;
  }
  assert.deepEqual(got, data, 'every byte arrives, in order');
  return { got, packets, client, server };
}

const sha = (ps: Run['packets']): string => {
  const h = createHash('sha256');
  for (const p of ps) h.update(`${p.t} ${p.from} `).update(p.bytes);
  return h.digest('hex');
};

test('over a link with bandwidth and loss, a GSO sender puts on the wire exactly what a sender without offloads does', () => {
  for (const v6 of [false, true]) {
    const link: LinkParams = { latencyUs: 2000, bandwidthBps: 200e6, loss: 0.01, queuePackets: 1000 };
    const plain = transfer({ gso: false, link, bytes: 3_000_000, v6 });
    const gso = transfer({ gso: true, link, bytes: 3_000_000, v6 });
    assert.equal(gso.packets.length, plain.packets.length);
    assert.equal(sha(gso.packets), sha(plain.packets), `v6=${v6}: the same packets at the same times`);
    assert.ok(gso.packets.every((p) => p.bytes.length <= 1500), 'no packet over the MTU on the wire');
    assert.equal(gso.client.counters.get('OutSegs'), plain.client.counters.get('OutSegs'));
    assert.ok(gso.client.counters.get('OutSegs') > 2000);
  }
});

test('between two GSO hosts over a link with only latency, TSO packets cross whole and are taken as one skb each', () => {
  const link: LinkParams = { latencyUs: 100, mtu: 1500 };
  const plain = transfer({ gso: false, link, bytes: 4_000_000 });
  const gso = transfer({ gso: true, link, bytes: 4_000_000 });
  const big = gso.packets.filter((p) => p.from === 'client' && p.bytes.length > 1500);
  assert.ok(big.length > 50, `${big.length} TSO packets crossed whole`);
  // Each cuts into MSS segments (1448 with timestamps) that continue one another.
  let segs = 0;
  for (const p of big) {
    const parts = gsoSegments(p.bytes, 1448)!;
    assert.ok(parts.length >= 2 && parts.length <= 45, `${parts.length} segments in one packet (at most 45 of 1448 in 65535)`);
    for (const s of parts) {
      const d = decodePacket(s);
      assert.ok(d.ok, 'a segment cut from a TSO packet decodes with good checksums');
    }
    segs += parts.length;
  }
  // tcp_skb_pcount: OutSegs counts every segment a TSO packet stands for, so the data segments
  // are as many as without offloads (4,000,000 / 1448 rounded up), only fewer packets.
  const dataPackets = (r: Run): number => r.packets.filter((p) => { const d = decodePacket(p.bytes); return p.from === 'client' && d.ok && d.value.tcp.payload.length > 0; }).length;
  assert.equal(dataPackets(plain), Math.ceil(4_000_000 / 1448));
  assert.ok(dataPackets(gso) < dataPackets(plain) / 4, `${dataPackets(gso)} packets carried ${Math.ceil(4_000_000 / 1448)} segments`);
  // Every data segment went either inside a TSO packet or alone, none twice (no loss here).
  assert.equal(segs + (dataPackets(gso) - big.length), Math.ceil(4_000_000 / 1448));
  assert.equal(gso.client.counters.get('OutSegs'), plain.client.counters.get('OutSegs'), 'OutSegs counts the segments of each TSO packet (tcp_skb_pcount)');
  assert.equal(gso.client.counters.get('RetransSegs'), 0);
  // The receiver ACKs each GRO skb (more than two full segments: __tcp_ack_snd_check), so
  // it sends fewer ACKs than one per two segments.
  const acks = (r: Run): number => r.packets.filter((p) => p.from === 'server').length;
  assert.ok(acks(gso) < acks(plain) / 4, `${acks(gso)} ACKs for TSO packets, ${acks(plain)} for single segments`);
  // InSegs counts a GRO packet once: TSO packets and the single segments GRO merged.
  assert.ok(gso.server.counters.get('InSegs') <= gso.packets.filter((p) => p.from === 'client').length);
});

test('a host without offloads gets the segments of a TSO packet one by one', () => {
  const r = transfer({ gso: true, serverGso: false, link: { latencyUs: 100 }, bytes: 1_000_000 });
  const fromClient = r.packets.filter((p) => p.from === 'client');
  assert.ok(fromClient.every((p) => p.bytes.length <= 1500), 'cut to the MTU');
  assert.equal(r.server.counters.get('InSegs'), fromClient.length, 'each a segment of its own');
  assert.equal(r.client.counters.get('OutSegs'), fromClient.length);
});

test('NAPI and GRO: segments arriving at one instant are merged per connection, ACKed as one skb, and wake the reader once', () => {
  // A sender without offloads sends bursts that arrive together over a link with only latency.
  const link: LinkParams = { latencyUs: 1000 };
  const plain = transfer({ gso: false, link, bytes: 2_000_000 });
  const gro = transfer({ gso: false, serverGso: true, link, bytes: 2_000_000 });
  const dataSegs = Math.ceil(2_000_000 / 1448);
  const sent = (r: Run): number => r.packets.filter((p) => p.from === 'client').length;
  // The wire is the same in both directions until the receiver's ACKs differ: the sender's
  // segments are all single (no TSO), and the receiver takes them in GRO packets.
  assert.ok(gro.packets.filter((p) => p.from === 'client').every((p) => p.bytes.length <= 1500));
  const inSegs = gro.server.counters.get('InSegs');
  assert.ok(inSegs < sent(gro) / 4, `InSegs ${inSegs}: one per GRO packet, for ${sent(gro)} packets`);
  assert.equal(plain.server.counters.get('InSegs'), sent(plain), 'without GRO every packet is one skb');
  const acks = (r: Run): number => r.packets.filter((p) => p.from === 'server').length;
  assert.ok(acks(gro) < acks(plain) / 4, `${acks(gro)} ACKs with GRO, ${acks(plain)} without`);
  assert.ok(sent(gro) >= dataSegs);
});

test('NAPI: a reader is woken once per poll, not once per packet', () => {
  const net = new Network({ seed: 3 });
  const client = new Host({ name: 'client', addresses: ['10.0.0.1'], clock: net.clock, seed: 1, tracePackets: false });
  const server = new Host({ name: 'server', addresses: ['10.0.0.2'], clock: net.clock, seed: 2, tracePackets: false, gso: true });
  net.addNode(client);
  net.addNode(server);
  net.link('client', 'server', { latencyUs: 1000 });
  const arrivals = new Set<number>();
  net.onPacket = (e) => {
    if (e.fate === 'delivered' && e.from === 'client') arrivals.add(e.t);
  };
  const l = server.socket();
  l.bind('10.0.0.2', 80);
  l.listen(1);
  let wakeups = 0;
  let got = 0;
  let accepted = false;
  l.on('connection', () => {
    const s = l.accept()!;
    accepted = true;
    s.on('readable', () => {
      wakeups++;
      for (let d = s.recv(1 << 20); d && d.length; d = s.recv(1 << 20)) got += d.length;
    });
  });
  const c = client.socket();
  c.connect('10.0.0.2', 80);
  net.runWhile(() => !accepted, 10e6);
  arrivals.clear();
  c.send(new Uint8Array(14480));
  net.runWhile(() => got < 14480, 10e6);
  // Ten segments sent at once arrive at one instant: one GRO packet, one wake-up.
  assert.equal(got, 14480);
  assert.equal(wakeups, 1);
  assert.equal(server.counters.get('InSegs'), 3, 'SYN, ACK, and the ten segments as one GRO packet');
  assert.equal(arrivals.size, 1, 'the ten segments arrived at one instant');
});

test('hosts with offloads over links with every fault: 24 seeded runs deliver every byte in order, IPv4 and IPv6', () => {
  for (let seed = 1; seed <= 24; seed++) {
    const r = (k: number): number => ((seed * 2654435761 + k * 40503) >>> 0) / 2 ** 32;
    const link: LinkParams = {
      latencyUs: 50 + Math.floor(r(1) * 3000),
      bandwidthBps: r(2) < 0.5 ? 0 : 50e6 + r(3) * 500e6,
      loss: r(4) * 0.03,
      duplicate: r(5) * 0.02,
      reorder: r(6) * 0.03,
      queuePackets: 2000,
    };
    // transfer() asserts the bytes; the sender with offloads, the receiver with or without.
    transfer({ gso: true, serverGso: r(7) < 0.7, link, bytes: 300_000 + Math.floor(r(8) * 700_000), v6: seed % 3 === 0 });
  }
});
