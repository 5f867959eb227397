// The node:net flavour of the proxy, with real peers: Linux's own TCP over loopback (127.0.0.1),
// and `linger proxy` as a process. Half-close and resets cross the real kernel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { StreamProxy } from '../../src/proxy/stream.ts';
import type { ProxyEvent } from '../../src/proxy/l4.ts';

const listen = (s: net.Server): Promise<number> => new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as net.AddressInfo).port)));

async function setup(onUpstream: (s: net.Socket) => void, profile = {}) {
  const backend = net.createServer({ allowHalfOpen: true }, onUpstream);
  const bport = await listen(backend);
  const proxy = new StreamProxy(net, { listen: { host: '127.0.0.1', port: 0 }, upstream: { host: '127.0.0.1', port: bport }, profile });
  const events: ProxyEvent[] = [];
  proxy.on('event', (e: ProxyEvent) => events.push(e));
  await proxy.listen();
  const pport = (proxy.server.address() as net.AddressInfo).port;
  return { backend, proxy, pport, events, close: async () => { await proxy.close(); backend.close(); } };
}

test('real kernel: 50 MB through the proxy with sha256, then half-close both ways', async () => {
  let got = createHash('sha256');
  let n = 0;
  const t = await setup((s) => {
    s.on('data', (d: Buffer) => { got.update(d); n += d.length; });
    s.on('end', () => {
      // The client's FIN arrived through the proxy: answer after it, then close.
      s.end('after your FIN');
    });
  });
  try {
    const c = net.connect({ port: t.pport, host: '127.0.0.1', allowHalfOpen: true });
    await new Promise((r) => c.once('connect', r));
    const chunk = Buffer.alloc(1 << 20, 0x5a);
    const want = createHash('sha256');
    for (let i = 0; i < 50; i++) {
      want.update(chunk);
      if (!c.write(chunk)) await new Promise((r) => c.once('drain', r));
    }
    let reply = '';
    c.on('data', (d: Buffer) => (reply += d));
    c.end();
    await new Promise((r) => c.once('end', r));
    assert.equal(n, 50 << 20);
    assert.equal(got.digest('hex'), want.digest('hex'));
    assert.equal(reply, 'after your FIN');
    assert.deepEqual(t.events.filter((e) => e.kind === 'half-close').map((e) => (e as { from: string }).from), ['client', 'upstream']);
    got = createHash('sha256');
  } finally {
    await t.close();
  }
});

test('real kernel: a backend reset reaches the client as a reset', async () => {
  const t = await setup((s) => setTimeout(() => s.resetAndDestroy(), 20));
  try {
    const c = net.connect({ port: t.pport, host: '127.0.0.1' });
    const err = await new Promise<Error & { code?: string }>((r) => c.once('error', r));
    assert.equal(err.code, 'ECONNRESET');
    assert.deepEqual(t.events.filter((e) => e.kind === 'reset').map((e) => (e as { code: string }).code), ['ECONNRESET']);
  } finally {
    await t.close();
  }
});

test('real kernel: idle timeout with reset, and `linger proxy` rejects bad arguments', async () => {
  const t = await setup((s) => s.resume().on('error', () => undefined), { idleTimeoutMs: 200, idleAction: 'rst' });
  try {
    const c = net.connect({ port: t.pport, host: '127.0.0.1' });
    const t0 = Date.now();
    const err = await new Promise<Error & { code?: string }>((r) => c.once('error', r));
    assert.equal(err.code, 'ECONNRESET');
    assert.ok(Date.now() - t0 >= 190, 'not before the idle timeout');
    assert.equal(t.proxy.stats.idleTimeouts, 1);
  } finally {
    await t.close();
  }
  const r = await new Promise<{ code: number | null; err: string }>((resolve) => {
    const p = spawn(process.execPath, ['bin/linger.mjs', 'proxy', '--listen', '9', '--upstream', 'nowhere', '--idle-timeout', '5x'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('close', (code) => resolve({ code, err }));
  });
  assert.equal(r.code, 2);
  assert.match(r.err, /--upstream takes \[host:\]port, got "nowhere"/);
});
