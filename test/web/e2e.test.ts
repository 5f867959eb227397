// End to end: `linger lab serve` builds and serves the web UI; Debian's chromium (driven by
// playwright-core, never a downloaded browser) opens it, runs scenarios in the page and checks
// their sequence diagrams against the trace the same runner gives here, changes a parameter and
// sees the diagram change, follows a permalink, moves the time slider, downloads the pcap,
// switches to Chinese, and saves screenshots under test-output/web/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { CATALOGUE, runScenario } from '../../src/lab/runner.ts';
import '../../src/lab/node/index.ts';
import type { LabEvent } from '../../src/lab/scenario.ts';
import { fmtDuration } from '../../src/lab/view.ts';
import { ZH_SCENARIOS } from '../../web/src/i18n/zh-CN.scenarios.ts';

// The callbacks given to page.evaluate run in the page; the test's own tsconfig has no DOM types.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
declare const document: any;

const CHROMIUM = '/usr/bin/chromium';
const OUT = join('test-output', 'web');

const outSegs = (ev: LabEvent[]) => ev.filter((e) => e.kind === 'segment' && e.dir === 'out') as Array<Extract<LabEvent, { kind: 'segment' }>>;

async function startServer(): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, ['bin/linger.mjs', 'lab', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
  let out = '';
  let err = '';
  proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => {
      proc.kill('SIGTERM');
      fail(new Error(`lab serve did not start in 180 s: ${out} ${err}`));
    }, 180_000);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /http:\/\/127\.0\.0\.1:(\d+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(m[0]);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`lab serve exited ${code}: ${out} ${err}`));
    });
  });
  return { url, proc };
}

async function diagramCounts(page: Page) {
  return page.evaluate(() => {
    const svg = document.querySelector('#diagram svg')!;
    return {
      arrows: svg.querySelectorAll('g.arrow').length as number,
      rst: svg.querySelectorAll('g.arrow.k-rst').length as number,
      lost: svg.querySelectorAll('g.arrow.lost').length as number,
      states: [...svg.querySelectorAll('g.state-label')].map((g) => g.getAttribute('data-state')) as string[],
      gaps: [...svg.querySelectorAll('g.gap')].map((g) => g.textContent.trim()) as string[],
      firstTIn: (svg.querySelector('g.arrow')?.getAttribute('data-t-in') ?? null) as string | null,
      hosts: [...svg.querySelectorAll('g.host')].map((g) => g.getAttribute('data-host')) as string[],
    };
  });
}

async function openScenario(page: Page, base: string, hash: string): Promise<void> {
  await page.goto(`${base}${hash}`);
  await page.waitForSelector('#diagram svg g.arrow', { timeout: 60_000 });
  await page.waitForFunction(() => !document.getElementById('status')?.textContent?.includes('…'));
}

test('web UI: catalogue, three scenarios run in the page and drawn from their traces, a parameter, the slider, pcap, Chinese', { timeout: 400_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing (scripts/install-debian-deps.sh installs it, as root)`);
    return;
  }
  mkdirSync(OUT, { recursive: true });
  const { url, proc } = await startServer();
  const profile = mkdtempSync(join(tmpdir(), 'linger-chromium-'));
  const downloads = mkdtempSync(join(tmpdir(), 'linger-dl-'));
  let ctx: BrowserContext | null = null;
  const pageErrors: string[] = [];
  try {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'bound to 127.0.0.1');
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1500, height: 1000 },
      acceptDownloads: true,
      downloadsPath: downloads,
      locale: 'en-US',
    });
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('pageerror', (e) => pageErrors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') pageErrors.push(m.text());
    });

    // The catalogue, grouped by topic.
    await page.goto(url);
    await page.waitForSelector('.card');
    assert.equal(await page.locator('.card').count(), CATALOGUE.length);
    assert.deepEqual(await page.locator('section.topic').evaluateAll((els) => els.map((e) => e.id)), ['topic-A', 'topic-B', 'topic-C', 'topic-D', 'topic-E', 'topic-F']);
    await page.screenshot({ path: join(OUT, 'catalogue.png'), fullPage: true });

    // 1. The four-way close, run in the page: its diagram against the trace.
    await page.click('a.card[data-id="handshake-close"]');
    await page.waitForSelector('#diagram svg g.arrow', { timeout: 60_000 });
    const hc = await runScenario('handshake-close');
    let d = await diagramCounts(page);
    assert.equal(d.arrows, outSegs(hc.events).length);
    assert.equal(d.rst, 0);
    assert.deepEqual(d.states, hc.events.filter((e) => e.kind === 'state').map((e) => (e as { to: string }).to));
    assert.ok(d.gaps.some((g) => g.includes('59.995 s later')), `gap labels: ${d.gaps.join(' | ')}`);
    assert.equal(d.firstTIn, '5000');
    assert.deepEqual(d.hosts, ['client', 'server']);
    assert.match(await page.locator('#status').innerText(), /70 s of virtual time; 47 events/);
    // The time slider: a moment in TIME_WAIT shows the client's socket in the ss table.
    const twAt = hc.events.find((e) => e.kind === 'state' && e.to === 'TIME_WAIT')!.t;
    await page.evaluate((tt) => {
      const s = document.getElementById('slider');
      for (let i = 0; i <= Number(s.max); i++) {
        s.value = String(i);
        s.dispatchEvent(new Event('input'));
        if (document.getElementById('ctime').textContent === `${(tt / 1000).toFixed(3)} ms`) break;
      }
    }, twAt);
    assert.equal(await page.locator('#ctime').innerText(), '130.000 ms');
    const ssClient = await page.locator('.ss[data-host="client"] tbody').innerText();
    assert.match(ssClient, /TIME-WAIT\s+0\s+0\s+10\.0\.0\.1:34342\s+10\.0\.0\.2:80\s+timer:\(timewait,(1min|60sec|59sec),0\)/);
    assert.equal(await page.locator('#dcursor').getAttribute('visibility'), 'visible');
    await page.locator('#diagram-sec').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(OUT, 'handshake-close.png'), fullPage: true });
    await page.screenshot({ path: join(OUT, 'handshake-close-viewport.png') });

    // The pcap, built in the page from the trace.
    const [dl] = await Promise.all([page.waitForEvent('download'), page.click('#dl-pcap')]);
    const pcap = readFileSync(await dl.path());
    assert.equal(pcap.readUInt32LE(0), 0xa1b2c3d4, 'pcap magic');
    assert.equal(dl.suggestedFilename(), 'handshake-close.pcap');

    // 2. A parameter changed: 50 ms latency. The diagram is redrawn from the new run.
    await page.fill('input[name="latency_ms"]', '50');
    await page.click('#run');
    await page.waitForFunction(() => document.querySelector('#diagram svg g.arrow')?.getAttribute('data-t-in') === '50000', undefined, { timeout: 60_000 });
    const hc50 = await runScenario('handshake-close', { set: { latency_ms: '50' } });
    d = await diagramCounts(page);
    assert.equal(d.arrows, outSegs(hc50.events).length);
    // The TIME_WAIT gap: from the event before the TIME_WAIT timer fired to it.
    const twEnd = hc50.events.find((e) => e.kind === 'state' && e.from === 'TIME_WAIT')!.t;
    const before = Math.max(...hc50.events.filter((e) => e.t < twEnd).map((e) => e.t));
    assert.ok(d.gaps.some((g) => g.includes(`${fmtDuration(twEnd - before)} later`)), `gap labels: ${d.gaps.join(' | ')}`);
    assert.ok(!d.gaps.some((g) => g.includes('59.995 s later')));
    assert.match(page.url(), /#\/s\/handshake-close\?latency_ms=50$/);
    await page.screenshot({ path: join(OUT, 'handshake-close-latency50.png') });
    // The permalink opens the same run.
    const permalink = page.url();
    await page.goto('about:blank');
    await openScenario(page, permalink, '');
    assert.equal(await page.inputValue('input[name="latency_ms"]'), '50');
    assert.equal((await diagramCounts(page)).firstTIn, '50000');

    // 3. SO_LINGER {1, 0}: the RST arrows are the RST segments sent.
    await openScenario(page, url, '#/s/linger-zero');
    const lz = await runScenario('linger-zero');
    d = await diagramCounts(page);
    const lzRst = outSegs(lz.events).filter((e) => e.flags.includes('R')).length;
    assert.ok(lzRst >= 1);
    assert.equal(d.rst, lzRst);
    assert.equal(d.arrows, outSegs(lz.events).length);
    await page.screenshot({ path: join(OUT, 'linger-zero.png'), fullPage: true });

    // 4. A dead peer: nine lost keepalive probes and a lost RST, each stopping midway.
    await openScenario(page, url, '#/s/keepalive-dead-peer');
    const kd = await runScenario('keepalive-dead-peer');
    d = await diagramCounts(page);
    assert.equal(d.lost, kd.events.filter((e) => e.kind === 'drop' && e.reason.startsWith('packet lost on the link')).length);
    assert.equal(d.lost, 10);
    assert.equal(d.rst, outSegs(kd.events).filter((e) => e.flags.includes('R')).length);
    assert.equal(await page.locator('#diagram svg path.cross').count(), 10);
    await page.screenshot({ path: join(OUT, 'keepalive-dead-peer.png'), fullPage: true });

    // 5. Three hosts: the proxy between client and server.
    await openScenario(page, url, '#/s/proxy-idle-timeout');
    const px = await runScenario('proxy-idle-timeout');
    d = await diagramCounts(page);
    assert.deepEqual(d.hosts, ['client', 'proxy', 'server']);
    assert.equal(d.rst, outSegs(px.events).filter((e) => e.flags.includes('R')).length);
    assert.equal(d.arrows, outSegs(px.events).length);
    await page.screenshot({ path: join(OUT, 'proxy-idle-timeout.png') });

    // 6. A Node-only scenario: the build's precomputed run, parameters disabled.
    await openScenario(page, url, '#/s/http10-close');
    assert.equal(await page.locator('input[name="requests"]').isDisabled(), true);
    assert.match(await page.locator('.nodenote').innerText(), /npx linger lab run http10-close/);
    const pre = JSON.parse(readFileSync(join('web', 'dist', 'runs', 'http10-close.json'), 'utf8')) as { events: Array<{ kind: string; dir?: string; flags?: string }> };
    d = await diagramCounts(page);
    assert.equal(d.arrows, pre.events.filter((e) => e.kind === 'segment' && e.dir === 'out').length);

    // 7. Simplified Chinese: the UI and the scenario texts (English where no translation exists).
    await openScenario(page, url, '#/s/handshake-close');
    await page.click('button[data-lang="zh"]');
    await page.waitForFunction(() => document.documentElement.lang === 'zh-CN');
    assert.equal(await page.locator('.panel h3').innerText(), '参数');
    assert.equal(await page.locator('#diagram-sec h2').innerText(), '时序图');
    const zhTitle = ZH_SCENARIOS['handshake-close']?.title ?? hc.scenario.title;
    assert.equal(await page.locator('h1#title').innerText(), zhTitle);
    assert.ok((await page.locator('#diagram svg .legend').textContent())!.includes('丢失'));
    assert.match(page.url(), /lang=zh/);
    await page.screenshot({ path: join(OUT, 'handshake-close-zh.png') });
    await page.click('a.back');
    await page.waitForSelector('.card');
    assert.equal((await page.locator('#topic-A h2').textContent())!.replace(/\s+/g, ' ').trim(), 'A 建立连接与状态机');
    await page.screenshot({ path: join(OUT, 'catalogue-zh.png') });
    await page.click('button[data-lang="en"]');
    assert.equal((await page.locator('#topic-A h2').textContent())!.replace(/\s+/g, ' ').trim(), 'A Establishing a connection and the state machine');

    assert.deepEqual(pageErrors, [], 'no errors in the page');
  } finally {
    await ctx?.close();
    proc.kill('SIGTERM');
    rmSync(profile, { recursive: true, force: true });
    rmSync(downloads, { recursive: true, force: true });
  }
});
