// Interop, offloads: the TUN device with IFF_VNET_HDR and TUNSETOFFLOAD (checksums, TSO4/6),
// byte streams both ways at MTU 1500 and 65535 with a sha256 match, each next to a
// kernel-to-kernel run over veth (the same SYN/FIN sequence); and the plain device (no vnet
// header) still carrying the same bytes. 50 MB each (LINGER_INTEROP_OFFLOAD_MB).
//
// Seen on 6.18 (2026-12-07): at MTU 1500 the kernel hands linger GSO packets of up to 45
// segments (gso_size 1448) and takes linger's, so reads and writes of the data are 64 KB each;
// at MTU 65535 (MSS 65483) a segment is a packet, but for 1-2 GSO packets at the start while
// the send MSS is bounded to half the offered window.
// Needs root and /dev/net/tun; skipped with the reason otherwise.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interopUnavailable, patternSha, runBoth } from './lib.ts';

const skip = interopUnavailable() ?? false;
const BYTES = Math.round(Number(process.env['LINGER_INTEROP_OFFLOAD_MB'] ?? 50) * 1_000_000);
const ev = (lines: Array<{ event: string; [k: string]: unknown }>, event: string) => lines.find((l) => l.event === event);

for (const mtu of [1500, 65535]) {
  test(`offload: kernel -> linger, ${BYTES / 1e6} MB at MTU ${mtu}: sha256 match, GSO packets read`, { skip, timeout: 120_000 }, async () => {
    const { linger, ref } = await runBoth(`offload-k2l-${mtu}`, {
      listener: 'peer', port: 7511, kernel: { do: `send:${BYTES},close` }, peer: { do: 'recvall,close' }, timeoutMs: 90_000,
    }, { mtu, offload: true });
    const st = linger.env.st;
    assert.equal(st.offload, true);
    assert.equal(st.tun.vnetHdr, true);
    const eof = ev(linger.peer, 'eof')!;
    assert.equal(eof['bytes'], BYTES);
    assert.equal(eof['sha256'], patternSha(BYTES));
    assert.equal(ev(linger.kernel, 'sent')!['sha256'], eof['sha256']);
    assert.deepEqual(linger.control, ref!.control);
    assert.equal(st.host.counters.snapshot(true)['TcpRetransSegs'] ?? 0, 0);
    const s = st.tun.stats;
    if (mtu === 1500) {
      // most of the data came in GSO packets, each taken by TCP as one skb
      assert.ok(s.rxGsoPackets > 0 && s.rxGsoSegments >= 0.9 * (BYTES / 1448), JSON.stringify(s));
      assert.ok(s.rxPackets < BYTES / 1448 / 4, `far fewer reads than segments: ${JSON.stringify(s)}`);
    } else assert.ok(s.rxGsoPackets < 10, `MSS 65483: a segment per packet but at the start, where the kernel's send MSS is half the window linger offered (tcp_bound_to_half_wnd): ${JSON.stringify(s)}`);
    process.stdout.write(`# offload kernel -> linger MTU ${mtu}: ${s.rxPackets} packets read, ${s.rxGsoPackets} GSO (${s.rxGsoSegments} segments); ${s.txPackets} written\n`);
  });

  test(`offload: linger -> kernel, ${BYTES / 1e6} MB at MTU ${mtu}: sha256 match, GSO packets written`, { skip, timeout: 120_000 }, async () => {
    const { linger, ref } = await runBoth(`offload-l2k-${mtu}`, {
      listener: 'kernel', port: 7512, kernel: { do: 'recvall,close' }, peer: { do: `send:${BYTES},close` }, timeoutMs: 90_000,
    }, { mtu, offload: true });
    const st = linger.env.st;
    const eof = ev(linger.kernel, 'eof')!;
    assert.equal(eof['bytes'], BYTES);
    assert.equal(eof['sha256'], patternSha(BYTES));
    assert.deepEqual(linger.control, ref!.control);
    // every segment linger's TCP sent reached the kernel inside a packet written (none lost, no
    // checksum refused: the kernel counted no InCsumErrors)
    assert.equal(linger.nstat['TcpInCsumErrors'] ?? 0, 0);
    assert.equal(linger.nstat['TcpInErrs'] ?? 0, 0);
    const s = st.tun.stats;
    if (mtu === 1500) {
      assert.ok(s.txGsoPackets > 0 && s.txGsoSegments >= 0.9 * (BYTES / 1448), JSON.stringify(s));
      assert.ok(s.txPackets < BYTES / 1448 / 4, `far fewer writes than segments: ${JSON.stringify(s)}`);
    } else assert.ok(s.txGsoPackets < 10, `MSS 65483: nothing to coalesce but at the start, where linger's send MSS is half the window the kernel offered (tcp_bound_to_half_wnd): ${JSON.stringify(s)}`);
    process.stdout.write(`# offload linger -> kernel MTU ${mtu}: ${s.txPackets} packets written, ${s.txGsoPackets} GSO (${s.txGsoSegments} segments); ${s.rxPackets} read\n`);
  });
}

test(`offload over IPv6 (TCPV6 GSO): ${BYTES / 1e6} MB each way at MTU 1500, sha256 match`, { skip, timeout: 120_000 }, async () => {
  for (const dir of ['k2l', 'l2k'] as const) {
    const { linger } = await runBoth(`offload6-${dir}`, dir === 'k2l'
      ? { v6: true, listener: 'peer', port: 7515, kernel: { do: `send:${BYTES},close` }, peer: { do: 'recvall,close' }, timeoutMs: 90_000 }
      : { v6: true, listener: 'kernel', port: 7516, kernel: { do: 'recvall,close' }, peer: { do: `send:${BYTES},close` }, timeoutMs: 90_000 },
    { offload: true, reference: false });
    const eof = ev(dir === 'k2l' ? linger.peer : linger.kernel, 'eof')!;
    assert.equal(eof['bytes'], BYTES, dir);
    assert.equal(eof['sha256'], patternSha(BYTES), dir);
    const s = linger.env.st.tun.stats;
    const [gso, segs] = dir === 'k2l' ? [s.rxGsoPackets, s.rxGsoSegments] : [s.txGsoPackets, s.txGsoSegments];
    // MSS 1428 over IPv6 (1500 - 40 - 20 - 12): most of the data in GSO packets
    assert.ok(gso > 0 && segs >= 0.9 * (BYTES / 1428), `${dir}: ${JSON.stringify(s)}`);
  }
});

test(`plain device (no vnet header): ${BYTES / 1e6} MB each way at MTU 1500, sha256 match`, { skip, timeout: 120_000 }, async () => {
  for (const dir of ['k2l', 'l2k'] as const) {
    const { linger } = await runBoth(`plain-${dir}`, dir === 'k2l'
      ? { listener: 'peer', port: 7513, kernel: { do: `send:${BYTES},close` }, peer: { do: 'recvall,close' }, timeoutMs: 90_000 }
      : { listener: 'kernel', port: 7514, kernel: { do: 'recvall,close' }, peer: { do: `send:${BYTES},close` }, timeoutMs: 90_000 },
    { offload: false, reference: false });
    const st = linger.env.st;
    assert.equal(st.offload, false);
    assert.equal(st.tun.vnetHdr, false);
    const eof = ev(dir === 'k2l' ? linger.peer : linger.kernel, 'eof')!;
    assert.equal(eof['bytes'], BYTES, dir);
    assert.equal(eof['sha256'], patternSha(BYTES), dir);
    const s = st.tun.stats;
    assert.equal(s.rxGsoPackets + s.txGsoPackets, 0);
    // one packet per segment: at least as many packets as 1448-byte segments in the data direction
    assert.ok((dir === 'k2l' ? s.rxPackets : s.txPackets) >= BYTES / 1448, `${dir}: ${JSON.stringify(s)}`);
  }
});
