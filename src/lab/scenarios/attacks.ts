// Topic F: attacks and limits. Blind in-window attacks (RFC 5961): an off-path host that
// forges the client's address sprays guessed RSTs or data at a live connection.

import type { Socket } from '../../host/socket.ts';
import type { SimNode } from '../../sim/network.ts';
import { encodePacket, makeIpRepr } from '../../wire/packet.ts';
import { ACK, PSH, RST, type TcpRepr } from '../../wire/types.ts';
import { latencyParam, ms, text, type Scenario, type ScenarioContext } from '../scenario.ts';
import { reader, serve } from './apps.ts';

/**
 * A third host on the server's side of the network that only sends: its packets carry whatever
 * source address it writes (spoofed), and whatever comes back to it is ignored. It has no TCP
 * stack, so the trace shows its packets only where they arrive.
 */
export function attacker(ctx: ScenarioContext): { send(tcp: TcpRepr): void } {
  const addr = ctx.serverAddr.includes(':') ? 'fd00::66' : '10.0.0.66';
  let emit: (p: Uint8Array) => void = () => undefined;
  const node: SimNode = {
    name: 'attacker',
    addresses: [addr],
    setEmit: (e) => (emit = e),
    deliver: () => undefined,
    advance: () => undefined,
    nextDeadline: () => Infinity,
  };
  ctx.net.addNode(node);
  ctx.net.link('attacker', 'server', { latencyUs: 0 });
  return { send: (tcp) => emit(encodePacket(makeIpRepr(ctx.clientAddr, ctx.serverAddr), tcp)) };
}

/** The bytes the client uploads: a pattern that shows any forged byte (never 'X'). */
export function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = 0x61 + (i % 26); // a..z
  return b;
}

/**
 * The client uploads `bytes` (the pattern) to the server and closes; the server reads it all,
 * compares it with what the client wrote and notes the verdict. Returns the server's socket once
 * accepted (through `onAccept`).
 */
export function upload(ctx: ScenarioContext, total: number, onAccept: (s: Socket) => void): void {
  const { net, client, server, serverAddr } = ctx;
  const data = pattern(total);
  serve(server, 80, (s) => {
    onAccept(s);
    const got: Uint8Array[] = [];
    reader(s, {
      onData: (d) => got.push(d.slice()),
      onEof: () => {
        const all = new Uint8Array(got.reduce((a, d) => a + d.length, 0));
        let off = 0;
        for (const d of got) {
          all.set(d, off);
          off += d.length;
        }
        const same = all.length === data.length && all.every((v, i) => v === data[i]);
        ctx.note(server, `the server read ${all.length} bytes: ${same ? 'exactly the bytes the client wrote' : 'NOT what the client wrote'}`);
        s.close();
      },
      onError: (code) => ctx.note(server, `the server's read failed: ${code}`),
    });
  });
  const c = client.socket();
  reader(c, { onError: (code) => ctx.note(client, `the client's read failed: ${code}`) });
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      let k: number;
      try {
        k = c.send(data.subarray(sent));
      } catch {
        return; // the engine traced the error
      }
      if (k === 0) return;
      sent += k;
    }
    c.off('writable', pump);
    c.close();
  };
  c.on('connect', pump);
  c.on('writable', pump);
  net.at(ms(1), () => c.connect(serverAddr, 80));
}

/** The server connection's receive window now (RFC 9293 RCV.NXT .. RCV.NXT + RCV.WND). */
export function window(s: Socket): { rcvNxt: number; wnd: number; sndNxt: number; sndUna: number; lport: number; rport: number } | null {
  const c = s.conn;
  if (!c || s.state !== 'ESTABLISHED') return null;
  return { rcvNxt: c.rcvNxt, wnd: Math.max(1, (c.rcvWup + c.rcvWnd - c.rcvNxt) | 0), sndNxt: c.sndMax, sndUna: c.sndUna, lport: c.localPort, rport: c.remotePort };
}

const bandwidth = { name: 'bandwidth_mbps', description: 'link bandwidth (Mbit/s), so that the transfer lasts', default: 5, min: 1, max: 10000 };

export const blindRst: Scenario = {
  id: 'blind-rst',
  title: 'Blind reset attack: guessed in-window RSTs get challenge ACKs, the transfer survives',
  topic: 'F',
  explain:
    'An off-path attacker that knows the 4-tuple (addresses and ports are easy to guess) forges RSTs "from the client" to tear down its upload to the server. ' +
    'It cannot see the sequence numbers, so it sprays guesses; the lab places every guess inside the server\'s receive window, but never exactly at RCV.NXT. ' +
    'Before RFC 5961 any RST in the window reset the connection, so a window of 64 KB meant one hit per 2^32/65536 = 65536 guesses. ' +
    'Linux (tcp_validate_incoming) resets only on a RST exactly at RCV.NXT (or at the right edge of its SACK blocks) and answers any other in-window RST with a challenge ACK to the real client, whose own RST would then carry the right number. ' +
    'The challenge ACKs are limited to one per 500 ms per socket (tcp_invalid_ratelimit, TcpExtTCPACKSkippedChallenge) so the attacker cannot use them as an amplifier. ' +
    'With --set exact_guess=N the Nth guess is exact: the server is reset (ECONNRESET) and the client\'s next segment meets a RST.',
  question: 'Can an off-path attacker reset a TCP connection by guessing?',
  params: [
    latencyParam,
    bandwidth,
    { name: 'bytes', description: 'bytes the client uploads', default: 1_000_000, min: 1000, max: 100_000_000 },
    { name: 'rsts', description: 'guessed RSTs the attacker sends', default: 150, min: 1, max: 100_000 },
    { name: 'interval_ms', description: 'time between two guesses', default: 10, min: 1, max: 10_000 },
    { name: 'exact_guess', description: 'which guess (1..rsts) is exactly RCV.NXT; 0 = none', default: 0, min: 0, max: 100_000 },
    { name: 'invalid_ratelimit_ms', description: 'server net.ipv4.tcp_invalid_ratelimit (ms between two challenge ACKs of a socket)', default: 500, min: 0, max: 100_000 },
  ],
  notice: [
    'server: R segments arrive from 10.0.0.1 that the client never sent (the attacker\'s, over its own link)',
    'the first one is answered with a "challenge ACK" to the client; further ones within 500 ms get nothing (TcpExtTCPACKSkippedChallenge)',
    'the upload completes: the server notes it read exactly the bytes the client wrote; no ECONNRESET anywhere',
    'exact_guess=10: the 10th RST resets the server\'s socket (TcpEstabResets, ECONNRESET), the client\'s next data is answered with a RST',
  ],
  config: (p) => ({ server: { tcp_invalid_ratelimit: p['invalid_ratelimit_ms']! } }),
  link: (p) => ({ latencyUs: Math.round(p['latency_ms']! * 1000), bandwidthBps: p['bandwidth_mbps']! * 1_000_000 }),
  setup(ctx) {
    const { net, p } = ctx;
    const evil = attacker(ctx);
    let conn: Socket | null = null;
    upload(ctx, p['bytes']!, (s) => (conn = s));
    const n = p['rsts']!;
    const every = ms(p['interval_ms']!);
    for (let i = 1; i <= n; i++) {
      net.at(ms(100) + (i - 1) * every, () => {
        const w = conn && window(conn);
        if (!w) return; // nothing left to attack
        // A guess across the window, never 0 (Knuth's multiplicative step spreads them).
        const off = i === p['exact_guess'] ? 0 : 1 + ((i * 2654435761) >>> 0) % Math.max(1, w.wnd - 1);
        evil.send({ srcPort: w.rport, dstPort: w.lport, seq: (w.rcvNxt + off) >>> 0, ack: 0, flags: RST, window: 0, urgent: 0, options: [], payload: new Uint8Array(0) });
      });
    }
  },
  duration: (p) => ms(100) + p['rsts']! * ms(p['interval_ms']!) + Math.ceil((p['bytes']! * 8 * 1.2) / p['bandwidth_mbps']!) + ms(2000),
};

export const blindDataInjection: Scenario = {
  id: 'blind-data-injection',
  title: 'Blind data injection: forged data with an unacceptable ACK is dropped, the stream stays intact',
  topic: 'F',
  explain:
    'The same off-path attacker now forges data "from the client" into its upload, hoping the server will deliver it to the application as if the client had sent it. ' +
    'The lab even places every forged segment exactly at the server\'s RCV.NXT, where it would be accepted. The attacker still has to guess the ACK number: ' +
    'Linux (tcp_ack) drops a segment whose ACK acknowledges bytes never sent (beyond SND.NXT), or is older than SND.UNA by more than the bytes ever acknowledged ' +
    '(RFC 5961 §5.2; the server of an upload has sent nothing, so only SND.UNA itself is acceptable), and answers with a challenge ACK (one per 500 ms per socket). ' +
    'The forged bytes never reach the application: the server reads exactly what the client wrote.',
  question: 'Can an off-path attacker slip data into a TCP stream?',
  params: [
    latencyParam,
    bandwidth,
    { name: 'bytes', description: 'bytes the client uploads', default: 1_000_000, min: 1000, max: 100_000_000 },
    { name: 'injections', description: 'forged data segments the attacker sends', default: 60, min: 1, max: 100_000 },
    { name: 'interval_ms', description: 'time between two forged segments', default: 20, min: 1, max: 10_000 },
    { name: 'payload', description: 'bytes of forged data in each segment', default: 100, min: 1, max: 1400 },
  ],
  notice: [
    'server: P. segments arrive from 10.0.0.1 whose ACK is beyond what the server sent (odd ones) or far behind it (even ones)',
    'each is dropped ("challenge ACK" at most once per 500 ms; TcpExtTCPChallengeACK, TcpExtTCPACKSkippedChallenge for the rest)',
    'the server notes it read exactly the bytes the client wrote: none of the attacker\'s "X" bytes',
  ],
  link: (p) => ({ latencyUs: Math.round(p['latency_ms']! * 1000), bandwidthBps: p['bandwidth_mbps']! * 1_000_000 }),
  setup(ctx) {
    const { net, p } = ctx;
    const evil = attacker(ctx);
    let conn: Socket | null = null;
    upload(ctx, p['bytes']!, (s) => (conn = s));
    const forged = text('X'.repeat(p['payload']!));
    const every = ms(p['interval_ms']!);
    for (let i = 1; i <= p['injections']!; i++) {
      net.at(ms(100) + (i - 1) * every, () => {
        const w = conn && window(conn);
        if (!w) return;
        // Odd guesses acknowledge data never sent; even ones are 2^20 behind SND.UNA.
        const ack = i % 2 ? (w.sndNxt + 1 + i * 1000) >>> 0 : (w.sndUna - (1 << 20)) >>> 0;
        evil.send({ srcPort: w.rport, dstPort: w.lport, seq: w.rcvNxt, ack, flags: ACK | PSH, window: 502, urgent: 0, options: [], payload: forged });
      });
    }
  },
  duration: (p) => ms(100) + p['injections']! * ms(p['interval_ms']!) + Math.ceil((p['bytes']! * 8 * 1.2) / p['bandwidth_mbps']!) + ms(2000),
};
