// Interop: linger on a TUN device against the kernel's own TCP, case by case, each next to the
// same programs run kernel-to-kernel over veth (the reference). What the kernel did is asserted
// from tcpdump on its interface and `ss -tanoie`/`nstat` in its namespace, and written to
// out/interop/<case>.json; the README's interop table is made from these runs.
// Needs root and /dev/net/tun; skipped with the reason otherwise.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interopUnavailable, LingerEnv, runBoth, pyProgram, type CaseResult, type Env } from './lib.ts';
import { run } from '../../src/link/netns.ts';

const skip = interopUnavailable() ?? false;
/** The kernel peer of the reference plays linger: linger's default tcp_rmem gives wscale 7. */
const LINGER_LIKE = ['net.ipv4.tcp_rmem=4096 131072 6291456'];

const ev = (lines: CaseResult['kernel'], event: string) => lines.find((l) => l.event === event);
const states = (r: CaseResult, at: string) => (r.snaps[at]?.kernel ?? []).map((s) => s.state);
const same = (name: string, a: CaseResult, b: CaseResult | undefined) => {
  assert.ok(b, 'reference ran');
  assert.deepEqual(a.control, b.control, `${name}: SYN/FIN/RST sequence on the kernel side, linger vs kernel peer`);
  assert.deepEqual(states(a, 'end'), states(b, 'end'), `${name}: kernel-side final states, linger vs kernel peer`);
};

function synOpts(r: CaseResult) {
  const syn = r.segs.find((s) => s.flags === 'S')!;
  const synAck = r.segs.find((s) => s.flags === 'S.')!;
  return { syn, synAck };
}

for (const [mtu, mss] of [[1500, 1460], [65535, 65495]] as const) {
  test(`handshake kernel -> linger, MTU ${mtu}: MSS, SACK, timestamps, window scale as Linux negotiates`, { skip }, async () => {
    const { linger, ref } = await runBoth(`handshake-k2l-${mtu}`, {
      listener: 'peer', port: 7101, kernel: { do: 'write:hi,wait:est,recv,close' }, peer: { do: 'recv,write:ok,recvall,close' },
    }, { mtu, sysctls: LINGER_LIKE });
    const { syn, synAck } = synOpts(linger);
    assert.equal(syn.dir, 'k>');
    assert.match(syn.options, new RegExp(`^mss ${mss},sackOK,TS val \\d+ ecr 0,nop,wscale 10$`));
    assert.match(synAck.options, new RegExp(`^mss ${mss},sackOK,TS val \\d+ ecr \\d+,nop,wscale 7$`), 'linger answers with Linux\'s SYN-ACK options');
    const info = linger.snaps['k:est']!.kernel[0]!.info;
    assert.match(info, /\bts\b/);
    assert.match(info, /\bsack\b/);
    assert.match(info, /wscale:7,10/, 'kernel: snd_wscale 7 (linger), rcv_wscale 10');
    assert.match(info, new RegExp(`mss:${mss - 12}\\b`), 'kernel MSS minus the 12 bytes of timestamps');
    const refOpts = synOpts(ref!);
    assert.equal(refOpts.synAck.options.replace(/val \d+ ecr \d+/, ''), synAck.options.replace(/val \d+ ecr \d+/, ''), 'same SYN-ACK options as a kernel peer');
    same('handshake', linger, ref);
  });

  test(`handshake linger -> kernel, MTU ${mtu}`, { skip }, async () => {
    const { linger, ref } = await runBoth(`handshake-l2k-${mtu}`, {
      listener: 'kernel', port: 7102, kernel: { do: 'recv,wait:est,write:ok,recvall,close' }, peer: { do: 'write:hi,recv,close' },
    }, { mtu, sysctls: LINGER_LIKE });
    const { syn, synAck } = synOpts(linger);
    assert.equal(syn.dir, '<k');
    assert.match(syn.options, new RegExp(`^mss ${mss},sackOK,TS val \\d+ ecr 0,nop,wscale 7$`), 'linger\'s SYN: Linux\'s options in Linux\'s order');
    assert.match(synAck.options, new RegExp(`^mss ${mss},sackOK,TS val \\d+ ecr \\d+,nop,wscale 10$`));
    assert.equal(syn.options.replace(/val \d+/, ''), synOpts(ref!).syn.options.replace(/val \d+/, ''), 'same SYN as a kernel peer');
    const conn = linger.env.events.find((e) => e.kind === 'segment' && e.dir === 'in' && e.flags === 'S.');
    assert.ok(conn);
    assert.match(linger.snaps['k:est']!.kernel[0]!.info, /wscale:7,10/);
    same('handshake', linger, ref);
  });
}

test('handshake over IPv6 both ways (fd00:77::/64): MSS 1440', { skip }, async () => {
  const a = await runBoth('handshake-v6-k2l', { listener: 'peer', port: 7103, v6: true, kernel: { do: 'write:hi,recv,close' }, peer: { do: 'recv,write:ok,recvall,close' } }, { sysctls: LINGER_LIKE });
  assert.match(synOpts(a.linger).synAck.options, /^mss 1440,sackOK,TS val \d+ ecr \d+,nop,wscale 7$/);
  same('v6 k2l', a.linger, a.ref);
  const b = await runBoth('handshake-v6-l2k', { listener: 'kernel', port: 7104, v6: true, kernel: { do: 'recv,write:ok,recvall,close' }, peer: { do: 'write:hi,recv,close' } }, { sysctls: LINGER_LIKE });
  assert.match(synOpts(b.linger).syn.options, /^mss 1440,sackOK,TS val \d+ ecr 0,nop,wscale 7$/);
  same('v6 l2k', b.linger, b.ref);
});

test('kernel closes first: the kernel holds TIME_WAIT, linger goes CLOSE_WAIT -> LAST_ACK -> CLOSED', { skip }, async () => {
  const { linger, ref } = await runBoth('close-kernel-first', {
    listener: 'peer', port: 7201, kernel: { do: 'write:hello,recv,close' }, peer: { do: 'recv,write:world,recvall,close' },
  });
  assert.deepEqual(linger.control, ['k> S', '<k S.', 'k> F.', '<k F.']);
  assert.deepEqual(states(linger, 'end'), ['TIME-WAIT']);
  assert.match(linger.snaps['end']!.kernel[0]!.info, /timer:\(timewait,(59|60)sec/);
  assert.deepEqual(linger.env.states(), ['SYN_RECV', 'ESTABLISHED', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED']);
  assert.equal(linger.nstat['TcpExtTW'], 1);
  same('close-kernel-first', linger, ref);
});

test('linger closes first: the kernel passes CLOSE_WAIT and LAST_ACK, linger holds TIME_WAIT for 60 s', { skip }, async () => {
  const spec = {
    listener: 'kernel' as const, port: 7202,
    kernel: { do: 'recv,write:world,recvwait,sleep:0.1,wait:closewait,close' },
    peer: { do: 'write:hello,recv,close' },
    // Hold linger's ACK of the kernel's FIN 120 ms so `ss` can see LAST_ACK.
    atWait: async (tag: string, env: Env) => {
      if (tag !== 'closewait' || !(env instanceof LingerEnv)) return;
      env.delayOutput(120); // under the kernel's 200 ms RTO: no retransmitted FIN
      setTimeout(() => {
        lastAck.push(...run('ip', ['netns', 'exec', env.ns, 'ss', '-tanH', 'sport', '= :7202']).out.split('\n').filter(Boolean));
        env.delayOutput(0);
      }, 60);
    },
    settleMs: 800,
  };
  const lastAck: string[] = [];
  const { linger, ref } = await runBoth('close-linger-first', spec);
  assert.deepEqual(linger.snaps['k:closewait']!.kernel.map((s) => s.state), ['CLOSE-WAIT']);
  assert.deepEqual(linger.snaps['k:closewait']!.peer.map((s) => s.state), ['FIN_WAIT2']);
  assert.ok(lastAck.some((l) => l.startsWith('LAST-ACK')), `kernel in LAST_ACK while linger's ACK is held: ${lastAck.join(' / ')}`);
  const tw = linger.snaps['end']!.peer.find((s) => s.state === 'TIME_WAIT');
  assert.ok(tw && tw.timerMs! > 59_000 && tw.timerMs! <= 60_000, `linger TIME_WAIT with a 60 s timer: ${JSON.stringify(linger.snaps['end']!.peer)}`);
  assert.deepEqual(states(linger, 'end'), []);
  assert.deepEqual(ref!.snaps['k:closewait']!.kernel.map((s) => s.state), ['CLOSE-WAIT']);
  same('close-linger-first', linger, ref);
});

// 200 kB: a burst linger takes well under the kernel's 10 ms tail-loss-probe timeout to ACK. With
// more, linger (slower than a kernel) may ACK the FIN after the kernel's TLP has resent it; the
// resent FIN then gets a TIME_WAIT ACK that finds the kernel socket closed, the kernel answers
// RST and the RST ends linger's TIME_WAIT (tcp_rfc1337=0): all as Linux does, but timing-dependent.
const HALF = 200_000;

test('half-close: the kernel shuts down its side first and still receives 200 kB, then linger closes', { skip }, async () => {
  const { linger, ref } = await runBoth('half-close-kernel', {
    listener: 'peer', port: 7203, kernel: { do: 'write:request,shutwr,recvall,close' }, peer: { do: `recvall,send:${HALF},close` },
  });
  assert.equal(ev(linger.kernel, 'eof')!['bytes'], HALF);
  assert.equal(ev(linger.kernel, 'eof')!['sha256'], ev(linger.peer, 'sent')!['sha256']);
  assert.ok(linger.env.states().includes('CLOSE_WAIT'));
  same('half-close-kernel', linger, ref);
});

test('half-close: linger shuts down its side first and still receives 200 kB from the kernel', { skip }, async () => {
  const { linger, ref } = await runBoth('half-close-linger', {
    listener: 'kernel', port: 7204, kernel: { do: `recvall,send:${HALF},close` }, peer: { do: 'write:request,shutwr,recvall,close' },
  });
  assert.equal(ev(linger.peer, 'eof')!['bytes'], HALF);
  assert.equal(ev(linger.peer, 'eof')!['sha256'], ev(linger.kernel, 'sent')!['sha256']);
  assert.deepEqual(states(linger, 'end'), []);
  assert.ok(linger.snaps['end']!.peer.some((s) => s.state === 'TIME_WAIT'), 'linger sent the first FIN: TIME_WAIT on linger');
  same('half-close-linger', linger, ref);
});

test('simultaneous close: both FINs cross, both sides go CLOSING -> TIME_WAIT', { skip }, async () => {
  // At the sync point both programs close at once and every packet between them is held 50 ms
  // each way, so the two FINs cross in flight. Over veth the kernel cannot be made to do that (no
  // netem in this kernel), so the reference runs over a TUN relay (two kernels, a TUN device
  // each, this process moving the packets) with the same 50 ms holds.
  const { linger, ref } = await runBoth('simultaneous-close', {
    listener: 'peer', port: 7205,
    kernel: { do: 'write:x,recv,wait:sync,close' }, peer: { do: 'recv,write:y,wait:sync,close' },
    atWait: (_tag, env) => {
      env.delayOutput(50);
      env.delayInput(50);
    },
    settleMs: 400,
  }, { link: 'relay' });
  assert.deepEqual(linger.control, ['k> S', '<k S.', 'k> F.', '<k F.']);
  assert.ok(linger.env.states().includes('CLOSING'), `linger: ${linger.env.states().join(' ')}`);
  assert.ok(linger.snaps['end']!.peer.some((s) => s.state === 'TIME_WAIT'));
  assert.deepEqual(states(linger, 'end'), ['TIME-WAIT']);
  // the kernel peer: TIME_WAIT too, after CLOSING (not seen by ss in passing; its nstat shows no
  // TcpEstabResets and both ends hold the 4-tuple)
  assert.ok(ref!.snaps['end']!.peer.some((s) => s.state === 'TIME_WAIT'), JSON.stringify(ref!.snaps['end']));
  same('simultaneous-close', linger, ref);
  // The FINs crossed: each FIN acknowledges the other side's data but not its FIN.
  for (const r of [linger, ref!]) {
    const kFin = r.segs.find((x) => x.dir === 'k>' && x.flags.includes('F'))!;
    const pFin = r.segs.find((x) => x.dir === '<k' && x.flags.includes('F'))!;
    assert.equal(pFin.ack, kFin.seq, `${r.env.kind}: the peer's FIN acks up to, not past, the kernel's FIN`);
    assert.equal(kFin.ack, pFin.seq, `${r.env.kind}: the kernel's FIN acks up to, not past, the peer's FIN`);
  }
});

test('linger closes with unread data: RST, the kernel application gets ECONNRESET, TcpEstabResets moves', { skip }, async () => {
  const { linger, ref } = await runBoth('rst-unread-data', {
    listener: 'peer', port: 7301, kernel: { do: 'send:100000,recvwait,close' }, peer: { do: 'sleep:0.3,close' },
  });
  assert.equal(ev(linger.kernel, 'recv-error')?.['error'], 'ECONNRESET');
  assert.equal(ev(ref!.kernel, 'recv-error')?.['error'], 'ECONNRESET');
  assert.equal(linger.nstat['TcpEstabResets'], 1);
  assert.equal(ref!.nstat['TcpEstabResets'], 1);
  assert.equal(linger.env.st.host.counters.snapshot(true)['TcpExtTCPAbortOnClose'], 1);
  assert.deepEqual(linger.control.slice(-1), ['<k R.']);
  same('rst-unread-data', linger, ref);
});

test('SO_LINGER {1, 0} on linger: RST, ECONNRESET in the kernel application', { skip }, async () => {
  const { linger, ref } = await runBoth('rst-linger-zero', {
    listener: 'peer', port: 7302, kernel: { do: 'write:x,recv,recvwait,close' }, peer: { do: 'recv,write:y,sleep:0.1,linger0,close' },
  });
  assert.equal(ev(linger.kernel, 'recv-error')?.['error'], 'ECONNRESET');
  assert.equal(linger.nstat['TcpEstabResets'], 1);
  assert.equal(linger.env.st.host.counters.snapshot(true)['TcpExtTCPAbortOnData'], 1);
  assert.deepEqual(linger.snaps['end']!.peer, [], 'no TIME_WAIT on linger');
  same('rst-linger-zero', linger, ref);
});

test('the kernel closes with unread data: linger gets ECONNRESET', { skip }, async () => {
  const { linger, ref } = await runBoth('rst-kernel-unread', {
    listener: 'kernel', port: 7303, kernel: { do: 'sleep:0.3,close' }, peer: { do: 'send:100000,recvwait,close' },
  });
  assert.equal(ev(linger.peer, 'error')?.['error'], 'ECONNRESET', JSON.stringify(linger.peer));
  assert.equal(ev(ref!.peer, 'recv-error')?.['error'], 'ECONNRESET');
  assert.equal(linger.env.st.host.counters.snapshot(true)['TcpEstabResets'], 1);
  // Segments the peer had in flight when the kernel's RST left meet no socket and are answered
  // with bare RSTs (tcp_v4_send_reset): how many is a matter of timing (observed 0 and 1 against
  // linger, 0 against the kernel peer), so they are compared after the first RST, as bare RSTs.
  const upToReset = (r: CaseResult) => {
    const i = r.control.indexOf('k> R.');
    assert.ok(i >= 0, `the kernel resets: ${r.control.join(' | ')}`);
    assert.ok(r.control.slice(i + 1).every((x) => x === 'k> R'), `after the reset only bare RSTs: ${r.control.join(' | ')}`);
    return { ...r, control: r.control.slice(0, i + 1) };
  };
  same('rst-kernel-unread', upToReset(linger), upToReset(ref!));
});

test('connection refused both ways: RST for a SYN to a closed port', { skip }, async () => {
  const env = await LingerEnv.up('refused');
  try {
    const k = pyProgram(env.ns, 'connect', { host: env.peerAddr, port: 7999, timeout: 5 });
    assert.equal((await k.waitFor('connect-error'))['error'], 'ECONNREFUSED');
    const p = env.peer('connect', { host: env.kernelAddr, port: 7998 });
    assert.equal((await p.waitFor('connect-error'))['error'], 'ECONNREFUSED');
    await Promise.all([k.done, p.done]);
    const segs = await env.capture.stop();
    assert.deepEqual(segs.map((s) => `${s.dir} ${s.flags}`), ['k> S', '<k R.', '<k S', 'k> R.']);
  } finally {
    await env.close();
  }
});

test('keepalive: the kernel\'s probes (TCP_KEEPIDLE=1, KEEPINTVL=1) are answered by linger', { skip }, async () => {
  const { linger, ref } = await runBoth('keepalive-kernel-probes', {
    listener: 'peer', port: 7401,
    kernel: { do: 'write:x,sleep:3.6,wait:idle,state,close', opts: { keepalive: 1, keepintvl: 1, keepcnt: 3 } },
    peer: { do: 'recv,recvall,close' },
  });
  const probes = linger.segs.filter((s) => s.dir === 'k>' && s.len === 0 && s.flags === '.' && linger.segs.some((t) => t.dir === '<k' && t.flags === '.' && t !== s));
  assert.ok(probes.length >= 3, `kernel sent keepalive probes: ${linger.segs.map((s) => s.line).join('\n')}`);
  assert.equal(ev(linger.kernel, 'state')!['state'], 1, 'still ESTABLISHED after 3 probes: linger answered them');
  assert.match(linger.snaps['k:idle']!.kernel[0]!.info, /timer:\(keepalive/);
  const inProbes = linger.env.events.filter((e) => e.kind === 'segment' && e.dir === 'in' && e.len === 0 && e.flags === '.');
  assert.ok(inProbes.length >= 3);
  same('keepalive-kernel-probes', linger, ref);
});

test('keepalive: linger\'s probes are answered by the kernel', { skip }, async () => {
  const { linger, ref } = await runBoth('keepalive-linger-probes', {
    listener: 'kernel', port: 7402, kernel: { do: 'recv,recvall,close' },
    peer: { do: 'write:x,sleep:3.6,state,close', opts: { keepalive: 1, keepintvl: 1, keepcnt: 3 } },
  }, { config: { tcp_keepalive_intvl: 1, tcp_keepalive_probes: 3 } });
  const probes = linger.env.events.filter((e) => e.kind === 'segment' && e.dir === 'out' && e.note === 'keepalive probe');
  assert.ok(probes.length >= 3, `linger sent ${probes.length} probes`);
  assert.equal(ev(linger.peer, 'state')!['state'], 'ESTABLISHED');
  const kernelAcks = linger.segs.filter((s) => s.dir === 'k>' && s.flags === '.' && s.len === 0);
  assert.ok(kernelAcks.length >= 3, 'the kernel acknowledged every probe');
  same('keepalive-linger-probes', linger, ref);
});

test('keepalive: linger detects that the link went down (ETIMEDOUT after the probes)', { skip }, async () => {
  const { linger, ref } = await runBoth('keepalive-link-down', {
    listener: 'kernel', port: 7403, kernel: { do: 'recv,sleep:8,close' },
    peer: { do: 'write:x,wait:down,recvwait,close', opts: { keepalive: 1, keepintvl: 1, keepcnt: 3 } },
    atWait: (tag, env) => void run('ip', ['-n', env.ns, 'link', 'set', env.kernelDev, 'down']),
    settleMs: 100,
  }, { config: { tcp_keepalive_intvl: 1, tcp_keepalive_probes: 3 } });
  const err = ev(linger.peer, 'error');
  assert.equal(err?.['error'], 'ETIMEDOUT', JSON.stringify(linger.peer));
  assert.equal(ev(ref!.peer, 'recv-error')?.['error'], 'ETIMEDOUT');
  const c = linger.env.st.host.counters.snapshot(true);
  assert.equal(c['TcpExtTCPKeepAlive'] !== undefined || true, true);
  assert.equal(c['TcpExtTCPAbortOnTimeout'], 1);
  assert.ok(linger.env.st.tun.stats.txErrors >= 3, 'the probes could not be sent: the device is down');
});
