/* eslint-disable no-control-regex -- the tests look for ANSI escapes */
// The diagram renderers against the trace they draw: the SVG has one arrow per segment sent (RSTs,
// lost ones), a state label per state change, gap labels with the time skipped; the ASCII diagram
// says the same; sampling the run for the web page does not change it; the CLI writes them.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CATALOGUE, runScenario } from '../../src/lab/runner.ts';
import { nodeEnv } from '../../src/lab/node/index.ts';
import { toJson } from '../../src/lab/export.ts';
import { toTimeline } from '../../src/lab/render.ts';
import { renderSvg } from '../../src/lab/svg.ts';
import { renderAscii } from '../../src/lab/ascii.ts';
import { buildArrows, viewOfJson, viewOfRun, viewOfWebRun } from '../../src/lab/view.ts';
import { Recorder, toWebRun } from '../../src/lab/record.ts';
import type { LabEvent } from '../../src/lab/scenario.ts';

const count = (s: string, re: RegExp) => (s.match(re) ?? []).length;
const outSegs = (ev: LabEvent[]) => ev.filter((e) => e.kind === 'segment' && e.dir === 'out') as Array<Extract<LabEvent, { kind: 'segment' }>>;
const linkDrops = (ev: LabEvent[]) => ev.filter((e) => e.kind === 'drop' && e.reason.startsWith('packet lost on the link')).length;
const all = { maxArrows: 1_000_000 };

for (const id of ['handshake-close', 'linger-zero', 'close-unread-data', 'keepalive-dead-peer', 'simultaneous-close', 'proxy-idle-timeout', 'connect-refused']) {
  test(`svg ${id}: one arrow per segment sent, RST and lost ones as in the trace, a label per state change`, async () => {
    const run = await runScenario(id, { seed: 1 });
    const { svg, layout } = renderSvg(viewOfRun(run), all);
    const segs = outSegs(run.events);
    assert.equal(layout.window.atEnd, true);
    assert.equal(count(svg, /<g class="arrow /g), segs.length, 'arrows = segments sent');
    const rsts = segs.filter((e) => e.flags.includes('R')).length;
    assert.equal(count(svg, /<g class="arrow k-rst/g), rsts, 'RST arrows = RST segments sent');
    assert.equal(count(svg, /<g class="arrow [^"]*\blost\b/g), linkDrops(run.events), 'lost arrows = segments lost on the link');
    assert.equal(count(svg, /<path class="cross"/g), count(svg, /\blost\b[^"]*" data-n/g));
    const states = run.events.filter((e) => e.kind === 'state');
    assert.equal(count(svg, /<g class="state-label"/g), states.length, 'a state label per state change');
    for (const st of new Set(states.map((e) => (e as { to: string }).to))) assert.match(svg, new RegExp(`data-state="${st}"[^>]*>.*?>${st}</text>`, 's'));
    for (const h of run.hosts) assert.match(svg, new RegExp(`<g class="host" data-host="${h.name}">`));
    const errors = run.events.filter((e) => e.kind === 'error').length;
    assert.equal(count(svg, /class="err-mark"/g) >= errors, true, 'every error is marked');
  });
}

test('svg handshake-close: the TIME_WAIT gap is compressed and labelled with the time skipped; tcpdump numbering', async () => {
  const run = await runScenario('handshake-close');
  const { svg } = renderSvg(viewOfRun(run));
  // The last ACK at 130 ms; the TIME_WAIT timer at 60.130 s: 59.995 s after the server's last event (135 ms).
  assert.match(svg, /<g class="gap" data-us="59995000">.*?59\.995 s later/s);
  assert.match(svg, /<g class="gap" data-us="9870000">.*?9\.87 s later/s);
  // SYN and SYN-ACK with absolute numbers, then relative ones (tcpdump's default).
  const syn = outSegs(run.events)[0]!;
  assert.match(svg, new RegExp(`Flags \\[S\\], seq ${syn.seq}, win 64240, length 0`));
  assert.match(svg, />Flags \[\.\], ack 1, win 502, length 0</);
  assert.match(svg, />Flags \[P\.\], seq 1:33, ack 1, win 502, length 32</);
  assert.match(svg, />Flags \[F\.\], seq 33, ack 44, win 502, length 0</);
  for (const st of ['SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSE_WAIT', 'LAST_ACK', 'TIME_WAIT', 'CLOSED']) {
    assert.match(svg, new RegExp(`class="band" data-state="${st}"|data-state="${st}"`));
  }
  // Arrows slant by latency: every arrival 5 ms after its sending.
  for (const a of buildArrows(viewOfRun(run))) assert.equal(a.tIn! - a.tOut, 5000);
  // The SVG parses as XML-ish: balanced <g> tags.
  assert.equal(count(svg, /<g[ >]/g), count(svg, /<\/g>/g));
});

test('svg keepalive-dead-peer: the nine unanswered probes and the RST stop midway with a cross', async () => {
  const run = await runScenario('keepalive-dead-peer');
  const { svg } = renderSvg(viewOfRun(run));
  assert.equal(count(svg, /<g class="arrow k-ack lost/g), 9);
  assert.equal(count(svg, /<g class="arrow k-rst lost/g), 1);
  assert.match(svg, /keepalive probe · lost/);
  assert.match(svg, /ETIMEDOUT \(errno 110\)/);
  assert.match(svg, /1 h 59 min/, 'the two idle hours are one labelled gap');
});

test('svg windows: a long run is cut into pages of whole instants that cover every segment once', async () => {
  const run = await runScenario('close-unsent-data');
  const view = viewOfRun(run);
  const total = outSegs(run.events).length;
  let from = 0;
  let seen = 0;
  let pages = 0;
  for (;;) {
    const { svg, layout } = renderSvg(view, { fromUs: from, maxArrows: 300 });
    assert.equal(layout.window.total, total);
    assert.equal(count(svg, /<g class="arrow [^"]*" data-n="\d+" data-flags="[^"]*" data-from="(client|server)"/g) >= layout.window.shown, true);
    seen += layout.window.shown;
    pages++;
    if (layout.window.nextFromUs === null) break;
    assert.ok(layout.window.nextFromUs > from);
    from = layout.window.nextFromUs;
  }
  assert.equal(seen, total);
  assert.ok(pages >= 4);
});

test('ascii handshake-close: the four-way close with states, gaps and tcpdump labels', async () => {
  const run = await runScenario('handshake-close');
  const txt = renderAscii(viewOfRun(run), { width: 132 });
  assert.doesNotMatch(txt, /\x1b\[/, 'no colour unless asked');
  assert.match(txt, /\|-- \[S\], seq \d+, win 64240 -+>\|/);
  assert.match(txt, /\|<- \[S\.\], seq \d+, ack \d+, win 65160 -+\|/);
  assert.match(txt, /close\(\) FIN_WAIT1 +\|-- \[F\.\], seq 33, ack 44, win 502 -+>\|/);
  assert.match(txt, /\| CLOSE_WAIT \[rcv FIN\]/);
  assert.match(txt, /\[rcv FIN\] TIME_WAIT +\|/);
  assert.match(txt, /~ +59\.995 s later +~/);
  assert.match(txt, /end of run at 70\.000 s/);
  for (const l of txt.split('\n')) assert.ok(l.length <= 132, `line longer than the width: ${l}`);
  const colored = renderAscii(viewOfRun(run), { color: true });
  assert.match(colored, /\x1b\[1;33mTIME_WAIT\x1b\[0m/);
  assert.equal(colored.replace(/\x1b\[[0-9;]*m/g, ''), renderAscii(viewOfRun(run)));
});

test('ascii linger-zero and keepalive-dead-peer: RST and lost segments', async () => {
  const lz = await runScenario('linger-zero');
  const txt = renderAscii(viewOfRun(lz));
  const rsts = outSegs(lz.events).filter((e) => e.flags.includes('R')).length;
  assert.equal(count(txt, /\[R\.?\]/g), rsts);
  const kd = await runScenario('keepalive-dead-peer');
  const k = renderAscii(viewOfRun(kd));
  assert.equal(count(k, /-X/g), 10, 'nine probes and the RST end in X');
});

test('timeline colour: ANSI only when asked, same text underneath', async () => {
  const run = await runScenario('linger-zero');
  const plain = toTimeline(run);
  const col = toTimeline(run, { color: true });
  assert.doesNotMatch(plain, /\x1b\[/);
  assert.match(col, /\x1b\[1;31m/);
  assert.equal(col.replace(/\x1b\[[0-9;]*m/g, ''), plain);
});

test('observe (the web page\'s sampling) leaves every engine scenario\'s run unchanged', async () => {
  for (const s of CATALOGUE.filter((x) => !x.node)) {
    const a = JSON.stringify(toJson(await runScenario(s.id, { seed: 3 })));
    const rec = new Recorder();
    const run = await runScenario(s.id, { seed: 3, observe: rec.observe });
    assert.equal(JSON.stringify(toJson(run)), a, s.id);
    const samples = rec.finish(run);
    assert.ok(samples.length > 0);
    for (let i = 1; i < samples.length; i++) assert.ok(samples[i]!.t > samples[i - 1]!.t, `${s.id}: samples in time order`);
  }
});

test('samples: the socket table at a moment, as ss -tano shows it', async () => {
  const rec = new Recorder();
  const run = await runScenario('handshake-close', { observe: rec.observe });
  const samples = rec.finish(run);
  const at = (t: number) => samples.filter((s) => s.t <= t).pop()!;
  const tw = at(1_000_000).sockets['client']!;
  assert.deepEqual(tw.map((r) => [r.ss, r.local, r.remote]), [['TIME-WAIT', '10.0.0.1:34342', '10.0.0.2:80']]);
  assert.match(tw[0]!.timer, /^timer:\(timewait,(59|60)sec,0\)$/);
  assert.deepEqual(at(17_000).sockets['server']!.map((r) => r.ss).sort(), ['ESTAB', 'LISTEN']);
  assert.equal(at(70_000_000).sockets['client']!.length, 0);
  assert.equal(at(17_000).counters['server']!['TcpPassiveOpens'], 1);
  // The web run round-trips to the same view.
  const w = JSON.parse(JSON.stringify(toWebRun(run, samples)));
  const v = viewOfWebRun(w);
  assert.deepEqual(v.hosts, viewOfRun(run).hosts);
  assert.equal(renderSvg(v).svg, renderSvg(viewOfRun(run)).svg);
  assert.equal(renderSvg(viewOfJson(toJson(run), { title: run.scenario.title, endUs: run.net.now })).svg, renderSvg(viewOfRun(run)).svg);
});

test('every scenario in the catalogue draws (SVG and text), the Node ones too', async () => {
  const env = nodeEnv();
  for (const s of CATALOGUE) {
    const run = await runScenario(s.id, { env });
    const view = viewOfRun(run);
    const r = renderSvg(view, { maxArrows: 150 });
    assert.ok(r.svg.startsWith('<svg') && r.svg.endsWith('</svg>'), s.id);
    assert.equal(count(r.svg, /<g[ >]/g), count(r.svg, /<\/g>/g), `${s.id}: balanced groups`);
    assert.ok(r.layout.window.shown <= Math.max(150, r.layout.window.shown), s.id);
    const a = renderAscii(view, { maxArrows: 50 });
    assert.ok(a.length > 0, s.id);
  }
});

test('CLI: lab run --diagram prints the text diagram, --svg writes the SVG', () => {
  const dir = mkdtempSync(join(tmpdir(), 'linger-diagram-'));
  try {
    const f = join(dir, 'hc.svg');
    const r = spawnSync(process.execPath, ['bin/linger.mjs', 'lab', 'run', 'handshake-close', '--diagram', '--svg', f], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /~ +59\.995 s later +~/);
    assert.doesNotMatch(r.stdout, /\x1b\[/);
    const svg = readFileSync(f, 'utf8');
    assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(count(svg, /<g class="arrow /g), 11);
    const bad = spawnSync(process.execPath, ['bin/linger.mjs', 'lab', 'run', 'handshake-close', '--diagram', '--max-arrows', 'x'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    const col = spawnSync(process.execPath, ['bin/linger.mjs', 'lab', 'run', 'linger-zero'], { encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '1', NO_COLOR: '' } });
    assert.match(col.stdout, /\x1b\[/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
