// src/lab/invariants.ts: what the soak checks on every lab run whatever the seed. A sound run
// passes; each kind of damage is caught (a check that cannot fail proves nothing).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runScenario } from '../../src/lab/runner.ts';
import { lifecycle, runViolations } from '../../src/lab/invariants.ts';

test('handshake-close at seeds 1 and 99: no violation, the same lifecycle', async () => {
  const a = await runScenario('handshake-close', { seed: 1 });
  const b = await runScenario('handshake-close', { seed: 99 });
  assert.deepEqual(runViolations(a), []);
  assert.deepEqual(runViolations(b), []);
  assert.equal(lifecycle(a), 'client: SYN_SENT,ESTABLISHED,FIN_WAIT1,FIN_WAIT2,TIME_WAIT,CLOSED | server: SYN_RECV,ESTABLISHED,CLOSE_WAIT,LAST_ACK,CLOSED');
  assert.equal(lifecycle(b), lifecycle(a));
});

test('each kind of damage is a violation', async () => {
  const run = await runScenario('half-close', { seed: 1 });
  const read = run.events.find((e) => e.kind === 'call' && e.host === 'client' && e.call === 'read');
  assert.ok(read && read.kind === 'call');
  const sock = read.socket;
  const last = run.events[run.events.length - 1]!.t;
  const damaged = (extra: typeof run.events) => runViolations({ ...run, events: [...run.events, ...extra] });
  assert.match(damaged([{ kind: 'state', t: last, host: 'client', socket: sock, from: 'CLOSED', to: 'FIN_WAIT2', cause: 'x', causeKind: 'call' }]).join(), /no such transition CLOSED -> FIN_WAIT2/);
  const at = run.events.findIndex((e) => e.kind === 'state' && e.host === 'client' && e.socket === sock && e.to === 'ESTABLISHED') + 1;
  const spliced = [...run.events.slice(0, at), { kind: 'state' as const, t: run.events[at - 1]!.t, host: 'client', socket: sock, from: 'CLOSE_WAIT', to: 'LAST_ACK', cause: 'x', causeKind: 'call' as const }, ...run.events.slice(at)];
  assert.match(runViolations({ ...run, events: spliced }).join(), /CLOSE_WAIT -> LAST_ACK but it was ESTABLISHED/);
  assert.match(damaged([{ kind: 'call', t: last, host: 'client', socket: sock, call: 'read', args: '65536', result: '1000' }]).join(), /read 1042 bytes, the peer wrote 42/);
  assert.match(damaged([{ kind: 'call', t: last - 1, host: 'client', socket: sock, call: 'note' }]).join(), /after one at/);
  run.hosts[0]!.counters.inc('CurrEstab');
  assert.match(runViolations(run).join(), /client: TcpCurrEstab 1 but 0 sockets ESTABLISHED or CLOSE_WAIT/);
});
