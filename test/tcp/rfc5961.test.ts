// RFC 5961 as Linux 6.x does it (tcp_validate_incoming, tcp_ack, tcp_send_challenge_ack,
// __tcp_oow_rate_limited): the limits on challenge ACKs and the RST that matches the right edge of
// the SACK blocks. Seen on 6.18: docs/linux-observations.md Q10 and Q17 (scapy segments into an
// ESTABLISHED socket in a namespace), test/drill/rfc5961/*.pkt (drill --both: same).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultConfig } from '../../src/base/config.ts';
import { ChallengeAckBudget } from '../../src/tcp/oow.ts';
import { ACK, PSH, RST, ackNow, bytes, errCode, establishedServer, expectOne, peer, tableState } from '../helpers/harness.ts';

test('defaults as in a fresh namespace on 6.18: tcp_challenge_ack_limit INT_MAX, tcp_invalid_ratelimit 500 ms', () => {
  const c = defaultConfig();
  assert.deepEqual([c.tcp_challenge_ack_limit, c.tcp_invalid_ratelimit], [2147483647, 500]);
});

test('tcp_challenge_ack_limit=1, tcp_invalid_ratelimit=0: one challenge ACK per second for the namespace; the refused ones count nothing (Q17)', () => {
  const e = establishedServer({ tcp_challenge_ack_limit: 1, tcp_invalid_ratelimit: 0 });
  const ecr = e.h.peerTs;
  e.h.inject({ flags: RST, seq: e.h.rSeq + 100 });
  expectOne(e.h, ackNow(e, ecr));
  e.h.inject({ flags: RST, seq: e.h.rSeq + 200 });
  e.h.inject({ flags: RST, seq: e.h.rSeq + 300 });
  e.h.none();
  assert.deepEqual([e.h.counter('TcpExtTCPChallengeACK'), e.h.counter('TcpExtTCPACKSkippedChallenge')], [1, 0]);
  // The fixture's clock is at 1.01 s: the next second of jiffies/HZ refills the budget.
  e.h.advance(1_000_000);
  e.h.inject({ flags: RST, seq: e.h.rSeq + 400 });
  expectOne(e.h, ackNow(e, ecr));
  assert.equal(e.h.counter('TcpExtTCPChallengeACK'), 2);
  assert.equal(tableState(e.h), 'ESTABLISHED');
});

test('tcp_invalid_ratelimit=0: no per-socket limit, every in-window RST is challenged (Q17)', () => {
  const e = establishedServer({ tcp_invalid_ratelimit: 0 });
  const ecr = e.h.peerTs;
  for (let i = 1; i <= 3; i++) {
    e.h.inject({ flags: RST, seq: e.h.rSeq + 100 * i });
    expectOne(e.h, ackNow(e, ecr));
  }
  assert.deepEqual([e.h.counter('TcpExtTCPChallengeACK'), e.h.counter('TcpExtTCPACKSkippedChallenge')], [3, 0]);
});

test('tcp_invalid_ratelimit=100: counted in jiffies (25 at HZ 250): 96 ms later skipped, 100 ms later sent', () => {
  const e = establishedServer({ tcp_invalid_ratelimit: 100 });
  const ecr = e.h.peerTs;
  e.h.advance(2000); // a jiffy boundary: t = 1.012 s
  e.h.inject({ flags: RST, seq: e.h.rSeq + 100 });
  expectOne(e.h, ackNow(e, ecr));
  e.h.advance(96_000); // 24 jiffies
  e.h.inject({ flags: RST, seq: e.h.rSeq + 200 });
  e.h.none();
  assert.equal(e.h.counter('TcpExtTCPACKSkippedChallenge'), 1);
  e.h.advance(4000); // 25 jiffies since the last one sent
  e.h.inject({ flags: RST, seq: e.h.rSeq + 300 });
  expectOne(e.h, ackNow(e, ecr));
  assert.equal(e.h.counter('TcpExtTCPChallengeACK'), 2);
});

test('a RST at the right edge of the highest SACK block we advertise resets; one inside the block is challenged (Q17)', () => {
  const e = establishedServer();
  const hole = e.h.rSeq;
  peer(e, ACK | PSH, { seq: hole + 100, payload: bytes(10) });
  e.h.take();
  peer(e, ACK | PSH, { seq: hole + 300, payload: bytes(10) });
  e.h.take();
  // Blocks [300, 310] then [100, 110]: the right-most edge is 310, wherever it stands in the list.
  e.h.inject({ flags: RST, seq: hole + 110 });
  assert.equal(e.h.take().length, 1, 'the edge of a block that is not the highest: a challenge ACK');
  e.h.advance(600_000);
  e.h.inject({ flags: RST, seq: hole + 305 });
  assert.equal(e.h.take().length, 1, 'inside a block: a challenge ACK');
  assert.equal(e.h.counter('TcpExtTCPChallengeACK'), 2);
  e.h.inject({ flags: RST, seq: hole + 310 });
  e.h.none();
  assert.equal(tableState(e.h), '');
  assert.equal(e.h.counter('TcpEstabResets'), 1);
  assert.equal(errCode(() => e.sock.recv()), 'ECONNRESET');
});

test('without SACK blocks (none advertised) a RST at RCV.NXT + 10 is only challenged', () => {
  const e = establishedServer();
  e.h.inject({ flags: RST, seq: e.h.rSeq + 10 });
  assert.equal(e.h.take().length, 1);
  assert.equal(tableState(e.h), 'ESTABLISHED');
});

test('the namespace budget: drawn each second in [half, limit + half - 1], half = (limit + 1) / 2, and reproducible', () => {
  const cfg = { ...defaultConfig(), tcp_challenge_ack_limit: 100 };
  const counts = new Set<number>();
  for (let seed = 1; seed <= 20; seed++) {
    const b = new ChallengeAckBudget(seed);
    for (let s = 0; s < 5; s++) {
      let n = 0;
      while (b.take(cfg, s * 1_000_000 + 10) && n < 1000) n++;
      assert.ok(n >= 50 && n <= 149, `seed ${seed} second ${s}: ${n}`);
      counts.add(n);
    }
  }
  assert.ok(counts.size > 10, `the draw varies: ${[...counts].join(',')}`);
  const again = (seed: number) => {
    const b = new ChallengeAckBudget(seed);
    let n = 0;
    while (b.take(cfg, 10) && n < 1000) n++;
    return n;
  };
  assert.equal(again(3), again(3));
  // limit 1: exactly one; INT_MAX: no budget at all.
  const one = new ChallengeAckBudget(9);
  const c1 = { ...cfg, tcp_challenge_ack_limit: 1 };
  assert.deepEqual([one.take(c1, 0), one.take(c1, 999_999), one.take(c1, 1_000_000)], [true, false, true]);
  const inf = new ChallengeAckBudget(9);
  const c2 = defaultConfig();
  for (let i = 0; i < 10_000; i++) assert.equal(inf.take(c2, 0), true);
});
