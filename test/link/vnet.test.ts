// The TUN device's vnet header path without a device: a GSO super-packet as the kernel hands it
// (virtio_net_hdr + IPv4/TCP, partial checksum) read whole (GRO) or cut into its segments, and
// linger's segments coalesced into GSO packets that cut back into exactly what linger emitted.
//
// Seen on 6.18 (scripts/bench-tun.ts offload runs, 2026-12-07): 414 writes from linger carrying
// 13,802 segments raised the kernel's TcpInSegs and IpInReceives by 414: a GSO packet counts as
// one segment received, as Host.deliver counts a GRO packet once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GsoCoalescer, gsoSegments, readVnetHdr, VNET_F_NEEDS_CSUM, VNET_GSO_NONE, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_HDR_LEN, writeVnetHdr } from '../../src/link/vnet.ts';
import { decodePacket, encodePacket, makeIpRepr } from '../../src/wire/packet.ts';
import { linuxDataOptions } from '../../src/wire/tcp.ts';
import { ACK, FIN, PSH, type TcpRepr } from '../../src/wire/types.ts';
import { establishedServer } from '../helpers/harness.ts';
import { TcpConn } from '../../src/tcp/conn.ts';

const MSS = 1448;
const pattern = (n: number, from = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (from + i) * 7 % 251);

/** One IPv4/TCP segment as Linux sends it (NOP NOP TS), checksums whole or partial. */
function segment(o: { src?: string; dst?: string; seq: number; ack?: number; flags?: number; payload: Uint8Array; id: number; tsVal?: number; window?: number; partial?: boolean; sport?: number }): Uint8Array {
  const ip = makeIpRepr(o.src ?? '10.0.0.2', o.dst ?? '10.0.0.1');
  ip.id = o.id;
  const tcp: TcpRepr = {
    srcPort: o.sport ?? 40000, dstPort: 80, seq: o.seq >>> 0, ack: o.ack ?? 777, flags: o.flags ?? ACK, window: o.window ?? 502, urgent: 0,
    options: linuxDataOptions({ timestamp: { val: o.tsVal ?? 5000, ecr: 900 } }), payload: o.payload,
  };
  return encodePacket(ip, tcp, o.partial ?? false);
}

/** What the kernel writes to a vnet-header TUN reader for a TSO send: one header, one super-packet. */
function kernelGso(seq: number, n: number, opts: { flags?: number; ack?: number; tsVal?: number; id?: number } = {}): { bytes: Uint8Array; data: Uint8Array } {
  const data = pattern(n * MSS, seq);
  const p = segment({ seq, payload: data, id: opts.id ?? 100, flags: opts.flags ?? (ACK | PSH), ack: opts.ack, tsVal: opts.tsVal, partial: true });
  const bytes = new Uint8Array(VNET_HDR_LEN + p.length);
  writeVnetHdr(bytes, 0, { flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_TCPV4, hdrLen: 52, gsoSize: MSS, csumStart: 20, csumOffset: 16 });
  bytes.set(p, VNET_HDR_LEN);
  return { bytes, data };
}

test('a GSO super-packet from the kernel is cut into exactly its segments (tcp_gso_segment)', () => {
  const { bytes, data } = kernelGso(1_000_001, 10, { id: 0xfffe });
  const h = readVnetHdr(bytes);
  assert.deepEqual(h, { flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_TCPV4, hdrLen: 52, gsoSize: MSS, csumStart: 20, csumOffset: 16 });
  const p = bytes.subarray(VNET_HDR_LEN);
  assert.equal(decodePacket(p).ok, false, 'the super-packet carries a partial checksum only');
  const segs = gsoSegments(p, h.gsoSize)!;
  assert.equal(segs.length, 10);
  for (let i = 0; i < 10; i++) {
    const r = decodePacket(segs[i]!); // checksums verified, IP and TCP
    assert.ok(r.ok, `segment ${i}: ${r.ok ? '' : r.error.detail}`);
    const { ip, tcp } = r.value;
    assert.equal(segs[i]!.length, 52 + MSS);
    assert.equal(ip.id, (0xfffe + i) & 0xffff, 'IPv4 identification counts up and wraps');
    assert.equal(tcp.seq, 1_000_001 + i * MSS);
    assert.equal(tcp.flags, i === 9 ? ACK | PSH : ACK, 'PSH on the last segment only');
    assert.deepEqual(tcp.options, linuxDataOptions({ timestamp: { val: 5000, ecr: 900 } }));
    assert.deepEqual(tcp.payload, data.subarray(i * MSS, (i + 1) * MSS));
    // exactly the segment a sender would have sent alone
    assert.deepEqual(segs[i], segment({ seq: 1_000_001 + i * MSS, payload: data.subarray(i * MSS, (i + 1) * MSS), id: (0xfffe + i) & 0xffff, flags: i === 9 ? ACK | PSH : ACK }));
  }
  // a short last segment and FIN: FIN and PSH stay on the last only
  const tail = segment({ seq: 5, payload: pattern(2 * MSS + 100), id: 1, flags: ACK | PSH | FIN, partial: true });
  const cut = gsoSegments(tail, MSS)!;
  assert.deepEqual(cut.map((s) => s.length - 52), [MSS, MSS, 100]);
  assert.deepEqual(cut.map((s) => s[33]), [ACK, ACK, ACK | PSH | FIN]);
  assert.equal(gsoSegments(tail, 4000), null, 'a packet of one segment is not cut');
});

test('GRO: a super-packet is one skb to TCP: one ACK, rcv_mss from gso_size, every byte in order', () => {
  const e = establishedServer();
  const { h, sock } = e;
  const conn = h.host.findConnection('10.0.0.1', 80, '10.0.0.2', 40000) as TcpConn;
  assert.ok(conn instanceof TcpConn);
  const inSegs = h.counter('TcpInSegs');
  const { bytes, data } = kernelGso(h.rSeq, 10, { ack: e.lSeq, tsVal: h.tsVal++ });
  const packet = bytes.subarray(VNET_HDR_LEN);
  // The partial checksum fails a check: the link must say it needs none (NEEDS_CSUM).
  h.host.deliver(packet, false, MSS);
  h.none();
  assert.equal(h.counter('TcpInCsumErrors'), 1);
  h.host.deliver(packet, true, MSS);
  const acks = h.take();
  // __tcp_ack_snd_check: more than one full frame received, so at once; one skb, one ACK
  assert.deepEqual(acks.map((a) => [a.flags, a.tcp.ack >>> 0, a.tcp.payload.length]), [['.', (h.rSeq + 10 * MSS) >>> 0, 0]]);
  assert.equal(h.counter('TcpInSegs') - inSegs, 1, 'the super-packet once, as tcp_v4_rcv counts a GSO skb (the one with a bad checksum is dropped before TCP here)');
  assert.equal(conn.rcvMss, MSS, 'tcp_measure_rcv_mss takes gso_size');
  // charged as the ten segments would be (skb_gro_receive sums their truesize): 10 x 2304, not
  // the 16 KiB + 256 bucket of one linear 14480-byte skb; scaling_ratio from that skb
  assert.equal(conn.rcvBuf.charged, 10 * 2304);
  assert.equal(conn.rcvSpace!.ratio, Math.floor((10 * MSS * 256) / (10 * 2304)));
  assert.equal(conn.dataSegsIn, 10, 'tcp_segs_in: gso_segs');
  assert.equal(conn.segsIn, 1 + 10, 'the handshake ACK, then the super-packet\'s 10 (tcp_segs_in); the one with a bad checksum never reached TCP');
  const got = sock.recv(1 << 20)!;
  assert.deepEqual(got, data);
});

test('split: the same super-packet cut first gives the segments one by one (quickack: an ACK each)', () => {
  const e = establishedServer();
  const { h, sock } = e;
  const { bytes, data } = kernelGso(h.rSeq, 10, { ack: e.lSeq, tsVal: h.tsVal++ });
  for (const s of gsoSegments(bytes.subarray(VNET_HDR_LEN), MSS)!) h.host.deliver(s, true, 0);
  const acks = h.take();
  // the connection's first data: quickack mode (rcv_wnd / (2 * rcv_mss) ACKs, at most 16) ACKs every segment
  assert.deepEqual(acks.map((a) => (a.tcp.ack - h.rSeq) >>> 0), Array.from({ length: 10 }, (_, i) => (i + 1) * MSS));
  assert.deepEqual(sock.recv(1 << 20), data);
});

/** The coalescer's writes: each as [vnet header, packet]. */
function collect(offload = true): { co: GsoCoalescer; out: Array<{ hdr: ReturnType<typeof readVnetHdr>; p: Uint8Array }> } {
  const out: Array<{ hdr: ReturnType<typeof readVnetHdr>; p: Uint8Array }> = [];
  const co = new GsoCoalescer((b, n) => out.push({ hdr: readVnetHdr(b), p: b.slice(VNET_HDR_LEN, n) }), offload);
  return { co, out };
}

test('coalescing: consecutive segments of one connection go out as one GSO packet that cuts back into them', () => {
  const { co, out } = collect();
  const data = pattern(50 * MSS);
  const segs = Array.from({ length: 50 }, (_, i) => segment({ seq: 9000 + i * MSS, payload: data.subarray(i * MSS, (i + 1) * MSS), id: 300 + i, flags: i === 49 ? ACK | PSH : ACK }));
  for (const s of segs) co.push(s);
  co.flush();
  // at most 65535 bytes of IP packet: 45 segments (52 + 45 x 1448 = 65212), then 5
  assert.deepEqual(out.map((w) => w.p.length), [52 + 45 * MSS, 52 + 5 * MSS]);
  for (const w of out) {
    assert.deepEqual(w.hdr, { flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_TCPV4, hdrLen: 52, gsoSize: MSS, csumStart: 20, csumOffset: 16 });
  }
  assert.deepEqual([...gsoSegments(out[0]!.p, MSS)!, ...gsoSegments(out[1]!.p, MSS)!], segs);
  assert.deepEqual(co.stats, { gsoPackets: 2, gsoSegments: 50 });
});

test('coalescing stops where the kernel could not cut the same segments back', () => {
  const data = pattern(8 * MSS);
  const d = (i: number, o: Partial<Parameters<typeof segment>[0]> = {}) => segment({ seq: i * MSS, payload: data.subarray(i * MSS, (i + 1) * MSS), id: i, ...o });
  const cases: Array<[string, Uint8Array[], number[]]> = [
    ['a different ack', [d(0), d(1), d(2, { ack: 778 })], [2, 1]],
    ['a different window', [d(0), d(1, { window: 501 })], [1, 1]],
    ['a different TSval', [d(0), d(1, { tsVal: 5001 })], [1, 1]],
    ['another connection between', [d(0), segment({ seq: 1, payload: pattern(10), id: 1, sport: 40001 }), d(2, { id: 2 })], [1, 1, 1]],
    ['a gap in sequence', [d(0), d(2, { id: 1 })], [1, 1]],
    ['a gap in IPv4 identification', [d(0), d(1, { id: 5 })], [1, 1]],
    ['PSH ends a run', [d(0, { flags: ACK | PSH }), d(1)], [1, 1]],
    ['a FIN goes alone', [d(0), d(1, { flags: ACK | FIN })], [1, 1]],
    ['a short segment ends a run', [segment({ seq: 0, payload: data.subarray(0, 100), id: 0 }), d(1, { id: 1 })], [1, 1]],
    ['a pure ACK goes alone', [d(0), segment({ seq: MSS, payload: new Uint8Array(0), id: 1 }), d(1, { id: 2 })], [1, 1, 1]],
  ];
  for (const [what, pkts, runs] of cases) {
    const { co, out } = collect();
    for (const p of pkts) co.push(p);
    co.flush();
    assert.deepEqual(out.map((w) => (w.hdr.gsoType === VNET_GSO_NONE ? 1 : gsoSegments(w.p, w.hdr.gsoSize)!.length)), runs, what);
    // order kept, and what went alone went as it was, with only NEEDS_CSUM in its header
    const back = out.flatMap((w) => (w.hdr.gsoType === VNET_GSO_NONE ? [w.p] : gsoSegments(w.p, w.hdr.gsoSize)!));
    assert.deepEqual(back, pkts, what);
    for (const w of out) if (w.hdr.gsoType === VNET_GSO_NONE) assert.deepEqual(w.hdr, { flags: VNET_F_NEEDS_CSUM, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 20, csumOffset: 16 }, what);
  }
});

test('coalescing IPv6, and no offloads: every packet alone with an empty header', () => {
  const data = pattern(3 * MSS);
  const v6 = (i: number) => segment({ src: 'fd00:77::1', dst: 'fd00:77::2', seq: i * MSS, payload: data.subarray(i * MSS, (i + 1) * MSS), id: 0 });
  const { co, out } = collect();
  for (let i = 0; i < 3; i++) co.push(v6(i));
  co.flush();
  assert.equal(out.length, 1);
  assert.deepEqual(out[0]!.hdr, { flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_TCPV6, hdrLen: 72, gsoSize: MSS, csumStart: 40, csumOffset: 16 });
  assert.deepEqual(gsoSegments(out[0]!.p, MSS), [v6(0), v6(1), v6(2)]);
  const plain = collect(false);
  for (let i = 0; i < 3; i++) plain.co.push(v6(i));
  plain.co.flush();
  assert.deepEqual(plain.out.map((w) => w.p), [v6(0), v6(1), v6(2)]);
  for (const w of plain.out) assert.deepEqual(w.hdr, { flags: 0, gsoType: 0, hdrLen: 0, gsoSize: 0, csumStart: 0, csumOffset: 0 });
});

test('a TSO packet from linger (Host with gso) goes out with its own GSO header, or as its segments on a device without TSO', () => {
  // Ten full segments and a short one in one packet, the TCP checksum partial (the host's 'tx').
  const data = pattern(10 * MSS + 300);
  const tso = segment({ seq: 0x7fff0000, payload: data, id: 41, flags: ACK | PSH, partial: true });
  const cut = gsoSegments(tso, MSS)!;
  assert.equal(cut.length, 11);
  const writes: Uint8Array[] = [];
  const co = new GsoCoalescer((b, n) => writes.push(b.slice(0, n)), true);
  co.push(segment({ seq: 0x7ffe0000, payload: pattern(100), id: 40, partial: true })); // pending, flushed first
  co.pushGso(tso, MSS);
  assert.equal(writes.length, 2);
  const h = readVnetHdr(writes[1]!);
  assert.deepEqual(h, { flags: VNET_F_NEEDS_CSUM, gsoType: VNET_GSO_TCPV4, hdrLen: 52, gsoSize: MSS, csumStart: 20, csumOffset: 16 });
  assert.deepEqual(writes[1]!.subarray(VNET_HDR_LEN), tso);
  assert.deepEqual(co.stats, { gsoPackets: 1, gsoSegments: 11 });
  // Without TUNSETOFFLOAD: the eleven segments, each after an empty header, checksums whole.
  const plain: Uint8Array[] = [];
  new GsoCoalescer((b, n) => plain.push(b.slice(0, n)), false).pushGso(tso, MSS);
  assert.equal(plain.length, 11);
  plain.forEach((w, i) => {
    assert.equal(readVnetHdr(w).gsoType, VNET_GSO_NONE);
    assert.deepEqual(w.subarray(VNET_HDR_LEN), cut[i]);
    assert.ok(decodePacket(w.subarray(VNET_HDR_LEN)).ok, 'whole checksums');
  });
});
