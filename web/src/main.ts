// The lab's web page: the catalogue grouped by topic, and a page per scenario with its sequence
// diagram, socket states, counters and socket table at a chosen moment. Engine-only scenarios run
// here (in a worker) with the parameters the user picks; Node-only ones show a run the build made.

import './style.css';
import type { ScenarioMeta, WebRun } from '../../src/lab/record.ts';
import { renderSvg, type SvgResult, type SvgText } from '../../src/lab/svg.ts';
import { fmtAt, fmtDuration, stateColor, typicalLatency, buildArrows, viewOfWebRun, type TraceView } from '../../src/lab/view.ts';
import { eventLine } from '../../src/lab/render.ts';
import { counterCharts, esc, makeScale, placeChartCursors, sampleAt, ssTables, stateTimelines, type Scale } from './charts.ts';
import { LANGS, getLang, scenarioText, setLang, t, type Key } from './i18n.ts';
import type { RunReply, RunRequest } from './worker.ts';

const app = document.getElementById('app')!;
let catalogue: ScenarioMeta[] = [];

// ---------------------------------------------------------------------------------------------
// Routing: #/ is the catalogue, #/s/<id>?name=value&seed=N&lang=zh a scenario with its parameters.

interface Route {
  id: string | null;
  q: URLSearchParams;
}

function route(): Route {
  const h = location.hash.replace(/^#/, '') || '/';
  const [path, query] = h.split('?') as [string, string | undefined];
  const q = new URLSearchParams(query ?? '');
  const m = /^\/s\/([^/]+)$/.exec(path);
  return { id: m ? decodeURIComponent(m[1]!) : null, q };
}

function hashFor(id: string | null, q: URLSearchParams): string {
  const qs = q.toString();
  return `#/${id ? `s/${encodeURIComponent(id)}` : ''}${qs ? `?${qs}` : ''}`;
}

function initialLang(q: URLSearchParams): string {
  const l = q.get('lang') ?? localStorage.getItem('linger.lang') ?? (navigator.language.toLowerCase().startsWith('zh') ? 'zh' : 'en');
  return LANGS[l] ? l : 'en';
}

function header(): string {
  const langs = Object.entries(LANGS)
    .map(([k, v]) => `<button type="button" class="lang-btn${k === getLang() ? ' on' : ''}" data-lang="${k}" aria-pressed="${k === getLang()}">${esc(v.name)}</button>`)
    .join('');
  return `<header class="top"><div class="top-in"><a class="brand" href="${hashFor(null, langQuery())}"><span class="logo">⇅</span> ${esc(t('appName'))}</a><span class="tagline">${esc(t('tagline'))}</span><nav class="langs" aria-label="${esc(t('language'))}">${langs}</nav></div></header>`;
}

function langQuery(): URLSearchParams {
  const q = new URLSearchParams();
  if (getLang() !== 'en') q.set('lang', getLang());
  return q;
}

function bindHeader(rerender: () => void): void {
  app.querySelectorAll<HTMLButtonElement>('.lang-btn').forEach((b) =>
    b.addEventListener('click', () => {
      setLang(b.dataset['lang']!);
      localStorage.setItem('linger.lang', getLang());
      const r = route();
      if (getLang() === 'en') r.q.delete('lang');
      else r.q.set('lang', getLang());
      history.replaceState(null, '', hashFor(r.id, r.q));
      rerender();
    }),
  );
}

// ---------------------------------------------------------------------------------------------
// The catalogue.

const TOPICS = ['A', 'B', 'C', 'D', 'E', 'F'] as const;

function renderHome(): void {
  const parts: string[] = [header(), '<main class="home">'];
  parts.push(`<section class="hero"><h1>${esc(t('catalogue'))} <span class="count">${catalogue.length} ${esc(t('scenarios'))}</span></h1><p>${esc(t('intro'))}</p></section>`);
  for (const tp of TOPICS) {
    const list = catalogue.filter((s) => s.topic === tp);
    if (!list.length) continue;
    parts.push(`<section class="topic" id="topic-${tp}"><h2><span class="tletter">${tp}</span> ${esc(t(`topic_${tp}` as Key))}</h2><p class="tdesc">${esc(t(`topicDesc_${tp}` as Key))}</p><div class="cards">`);
    for (const s of list) {
      const tx = scenarioText(s);
      parts.push(`<a class="card" href="${hashFor(s.id, langQuery())}" data-id="${esc(s.id)}"><div class="card-title">${esc(tx.title)}</div><div class="card-q">${esc(tx.question)}</div><div class="card-foot"><code>${esc(s.id)}</code>${s.node ? `<span class="badge">${esc(t('nodeBadge'))}</span>` : ''}</div></a>`);
    }
    parts.push('</div></section>');
  }
  parts.push('</main>');
  app.innerHTML = parts.join('');
  bindHeader(renderHome);
  document.title = t('appName');
}

// ---------------------------------------------------------------------------------------------
// Running scenarios: engine-only ones in a worker, Node-only ones from the build's precomputed runs.

interface Result {
  run: WebRun;
  pcap: Uint8Array | null;
  ms: number | null;
}

let worker: Worker | null = null;
let workerBusy = false;
let reqN = 0;
const cache = new Map<string, Result>();

function runInWorker(id: string, seed: number, set: Record<string, string>): Promise<Result> {
  if (worker && workerBusy) {
    worker.terminate();
    worker = null;
  }
  if (!worker) worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module' });
  const w = worker;
  const n = ++reqN;
  workerBusy = true;
  return new Promise((ok, fail) => {
    w.onmessage = (ev: MessageEvent<RunReply>) => {
      if (ev.data.n !== n) return;
      workerBusy = false;
      if (ev.data.ok) ok({ run: ev.data.run, pcap: ev.data.pcap, ms: ev.data.ms });
      else fail(new Error(ev.data.error));
    };
    w.onerror = (e) => {
      workerBusy = false;
      fail(new Error(e.message || 'worker failed'));
    };
    const req: RunRequest = { n, id, seed, set };
    w.postMessage(req);
  });
}

async function getRun(s: ScenarioMeta, seed: number, params: Record<string, number>): Promise<Result> {
  const set: Record<string, string> = {};
  for (const p of s.params) if (params[p.name] !== undefined && params[p.name] !== p.default) set[p.name] = String(params[p.name]);
  const key = `${s.id}|${s.node ? 'node' : `${seed}|${JSON.stringify(set)}`}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let r: Result;
  if (s.node) {
    const res = await fetch(`./runs/${encodeURIComponent(s.id)}.json`);
    if (!res.ok) throw new Error(`runs/${s.id}.json: HTTP ${res.status}`);
    r = { run: (await res.json()) as WebRun, pcap: null, ms: null };
  } else r = await runInWorker(s.id, seed, set);
  cache.set(key, r);
  return r;
}

// ---------------------------------------------------------------------------------------------
// A scenario's page.

interface Page {
  meta: ScenarioMeta;
  params: Record<string, number>;
  seed: number;
  result: Result | null;
  view: TraceView | null;
  fromUs: number;
  cursor: number;
  moments: number[];
  svg: SvgResult | null;
  scale: Scale | null;
  running: boolean;
  error: string | null;
}

let page: Page | null = null;

function svgText(): SvgText {
  return {
    gap: (d) => t('svgGap', { d }),
    lost: t('legend_lost'),
    end: (tt) => t('svgEnd', { t: tt }),
    legend: { syn: t('legend_syn'), fin: t('legend_fin'), rst: t('legend_rst'), data: t('legend_data'), ack: t('legend_ack'), lost: t('legend_lost') },
    cut: (shown, total) => t('svgCut', { shown, total }),
    hiddenSockets: (n) => t('svgHidden', { n }),
  };
}

function paramsFromQuery(s: ScenarioMeta, q: URLSearchParams): { params: Record<string, number>; seed: number } {
  const params: Record<string, number> = {};
  for (const p of s.params) {
    const v = q.get(p.name);
    const n = v === null ? NaN : Number(v);
    params[p.name] = !s.node && Number.isFinite(n) && n >= p.min && n <= p.max ? n : p.default;
  }
  const seed = Number(q.get('seed') ?? '1');
  return { params, seed: !s.node && Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff ? seed : 1 };
}

function queryOf(p: Page): URLSearchParams {
  const q = new URLSearchParams();
  for (const spec of p.meta.params) if (p.params[spec.name] !== spec.default) q.set(spec.name, String(p.params[spec.name]));
  if (p.seed !== 1) q.set('seed', String(p.seed));
  if (getLang() !== 'en') q.set('lang', getLang());
  return q;
}

function cliCommand(p: Page): string {
  const sets = p.meta.params.filter((s) => p.params[s.name] !== s.default).map((s) => ` --set ${s.name}=${p.params[s.name]}`).join('');
  return `npx linger lab run ${p.meta.id}${p.seed !== 1 ? ` --seed ${p.seed}` : ''}${sets} --diagram`;
}

function openScenario(id: string, q: URLSearchParams): void {
  const meta = catalogue.find((s) => s.id === id);
  if (!meta) {
    app.innerHTML = `${header()}<main class="scenario"><a class="back" href="${hashFor(null, langQuery())}">${esc(t('back'))}</a><p class="error">${esc(t('notFound', { id }))}</p></main>`;
    bindHeader(() => openScenario(id, q));
    return;
  }
  const { params, seed } = paramsFromQuery(meta, q);
  const same = page && page.meta.id === id && page.seed === seed && JSON.stringify(page.params) === JSON.stringify(params);
  if (!same) page = { meta, params, seed, result: null, view: null, fromUs: 0, cursor: 0, moments: [], svg: null, scale: null, running: false, error: null };
  renderScenario();
  if (!page!.result) void execute();
}

function renderScenario(): void {
  const p = page!;
  const s = p.meta;
  const tx = scenarioText(s);
  document.title = `${tx.title} · ${t('appName')}`;
  const form = s.params
    .map((spec) => {
      const v = p.params[spec.name];
      const desc = tx.param(spec.name, spec.description);
      return `<label class="param"><span class="pname mono">${esc(spec.name)}</span><input type="number" name="${esc(spec.name)}" value="${v}" min="${spec.min}" max="${spec.max}" step="any"${s.node ? ' disabled' : ''} aria-label="${esc(spec.name)}"/><span class="pdesc">${esc(desc)} <span class="dim">(${spec.default}; ${spec.min}–${spec.max})</span></span></label>`;
    })
    .join('');
  const seedField = `<label class="param"><span class="pname mono">${esc(t('seed'))}</span><input type="number" name="__seed" value="${p.seed}" min="0" max="4294967295" step="1"${s.node ? ' disabled' : ''} aria-label="seed"/><span class="pdesc">${esc(t('seedHelp'))}</span></label>`;
  app.innerHTML = `${header()}
<main class="scenario" data-id="${esc(s.id)}">
  <a class="back" href="${hashFor(null, langQuery())}">${esc(t('back'))}</a>
  <div class="topicline">${esc(t('topic'))} ${s.topic} · ${esc(t(`topic_${s.topic}` as Key))} · <code>${esc(s.id)}</code>${s.node ? ` <span class="badge">${esc(t('nodeBadge'))}</span>` : ''}</div>
  <h1 id="title">${esc(tx.title)}</h1>
  <div class="intro-grid">
    <div class="text">
      <p class="explain">${esc(tx.explain)}</p>
      <div class="question"><span class="qlabel">${esc(t('question'))}</span> ${esc(tx.question)}</div>
      <div class="notice"><div class="nlabel">${esc(t('whatToNotice'))}</div><ul>${tx.notice.map((n) => `<li>${esc(n)}</li>`).join('')}</ul></div>
    </div>
    <aside class="panel">
      <h3>${esc(t('parameters'))}</h3>
      <form id="params" autocomplete="off">${form}${seedField}
        <div class="buttons"><button type="submit" class="primary" id="run"${s.node ? ' disabled' : ''}>${esc(t('run'))}</button><button type="button" id="reset"${s.node ? ' disabled' : ''}>${esc(t('reset'))}</button></div>
      </form>
      ${s.node ? `<p class="nodenote">${esc(t('nodeNote'))}<br><code class="cli">npx linger lab run ${esc(s.id)} --set name=value --diagram</code></p>` : ''}
      <p class="status" id="status" role="status"></p>
      <div class="actions"><button type="button" id="dl-pcap">${esc(t('downloadPcap'))}</button><button type="button" id="dl-json">${esc(t('downloadJson'))}</button><button type="button" id="permalink">${esc(t('permalink'))}</button></div>
      ${s.node ? '' : `<p class="clihint dim">${esc(t('cliHint'))}<br><code class="cli" id="cli">${esc(cliCommand(p))}</code></p>`}
    </aside>
  </div>
  <section class="block" id="diagram-sec">
    <h2>${esc(t('sequenceDiagram'))}</h2>
    <p class="help">${esc(t('diagramHelp'))}</p>
    <div class="pager" id="pager"></div>
    <aside class="statekey" id="statekey"></aside>
    <div class="diagram" id="diagram"><div class="placeholder">${esc(t('loading'))}</div></div>
  </section>
  <section class="block" id="ss-sec"><h2 id="ss-title">${esc(t('socketTable', { t: '' }))}</h2><p class="help">${esc(t('socketTableHelp'))}</p><div class="ss-grid" id="ss"></div></section>
  <section class="block" id="states-sec"><h2>${esc(t('stateTimelines'))}</h2><p class="help">${esc(t('stateTimelinesHelp'))}</p><div id="states"></div></section>
  <section class="block" id="counters-sec"><h2>${esc(t('counters'))}</h2><p class="help">${esc(t('countersHelp'))}</p><div id="counters"></div></section>
  <details class="block" id="timeline-sec"><summary>${esc(t('timeline'))}</summary><p class="help mono">${esc(t('timelineHelp'))}</p><pre id="timeline" class="timeline"></pre></details>
  <div class="cursorbar" id="cursorbar"><span class="clabel">${esc(t('timeCursor'))}</span><button type="button" id="cprev" aria-label="previous moment">◀</button><input type="range" id="slider" min="0" max="0" value="0" aria-label="${esc(t('timeCursor'))}"/><button type="button" id="cnext" aria-label="next moment">▶</button><span class="ctime mono" id="ctime"></span></div>
</main>`;
  bindHeader(renderScenario);
  const formEl = document.getElementById('params') as HTMLFormElement;
  formEl.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (readForm()) void execute();
  });
  document.getElementById('reset')!.addEventListener('click', () => {
    for (const spec of p.meta.params) p.params[spec.name] = spec.default;
    p.seed = 1;
    (formEl.querySelectorAll('input') as NodeListOf<HTMLInputElement>).forEach((i) => {
      const spec = p.meta.params.find((x) => x.name === i.name);
      i.value = String(spec ? spec.default : 1);
      i.classList.remove('bad');
    });
    void execute();
  });
  document.getElementById('dl-pcap')!.addEventListener('click', () => void downloadPcap());
  document.getElementById('dl-json')!.addEventListener('click', downloadJson);
  document.getElementById('permalink')!.addEventListener('click', () => void copyPermalink());
  const slider = document.getElementById('slider') as HTMLInputElement;
  slider.addEventListener('input', () => setCursor(p.moments[Number(slider.value)] ?? 0));
  document.getElementById('cprev')!.addEventListener('click', () => stepCursor(-1));
  document.getElementById('cnext')!.addEventListener('click', () => stepCursor(1));
  if (p.result) drawRun();
  updateStatus();
}

/** Reads the parameter form; false (and the bad fields marked) when a value is out of range. */
function readForm(): boolean {
  const p = page!;
  let ok = true;
  const next: Record<string, number> = { ...p.params };
  let seed = p.seed;
  document.querySelectorAll<HTMLInputElement>('#params input').forEach((i) => {
    const n = Number(i.value);
    if (i.name === '__seed') {
      const good = i.value.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
      i.classList.toggle('bad', !good);
      if (good) seed = n;
      else ok = false;
      return;
    }
    const spec = p.meta.params.find((x) => x.name === i.name)!;
    const good = i.value.trim() !== '' && Number.isFinite(n) && n >= spec.min && n <= spec.max;
    i.classList.toggle('bad', !good);
    if (good) next[spec.name] = n;
    else ok = false;
  });
  if (ok) {
    p.params = next;
    p.seed = seed;
  }
  return ok;
}

async function execute(): Promise<void> {
  const p = page!;
  p.running = true;
  p.error = null;
  updateStatus();
  try {
    const r = await getRun(p.meta, p.seed, p.params);
    if (page !== p) return;
    p.result = r;
    p.view = viewOfWebRun(r.run);
    p.fromUs = 0;
    p.cursor = -1;
    history.replaceState(null, '', hashFor(p.meta.id, queryOf(p)));
    const cli = document.getElementById('cli');
    if (cli) cli.textContent = cliCommand(p);
  } catch (e) {
    if (page !== p) return;
    p.error = e instanceof Error ? e.message : String(e);
  } finally {
    if (page === p) {
      p.running = false;
      updateStatus();
      if (p.result) drawRun();
    }
  }
}

function updateStatus(): void {
  const p = page!;
  const el = document.getElementById('status');
  const btn = document.getElementById('run') as HTMLButtonElement | null;
  if (btn && !p.meta.node) {
    btn.disabled = p.running;
    btn.textContent = p.running ? t('running') : t('run');
  }
  if (!el) return;
  el.classList.toggle('error', !!p.error);
  if (p.error) el.textContent = `${t('error')}: ${p.error}`;
  else if (p.running) el.textContent = t('running');
  else if (p.result) {
    const r = p.result;
    el.textContent = r.ms === null
      ? t('precomputed', { virtual: fmtDuration(r.run.endUs), events: r.run.events.length })
      : t('ran', { ms: r.ms, virtual: fmtDuration(r.run.endUs), events: r.run.events.length });
  } else el.textContent = '';
}

function drawRun(): void {
  const p = page!;
  if (!p.view || !p.result) return;
  const view = p.view;
  drawDiagram();
  // Moments for the cursor: every distinct time something happened, and the end.
  const times = new Set<number>();
  for (const e of view.events) times.add(e.t);
  times.add(view.endUs);
  p.moments = [...times].sort((a, b) => a - b);
  const lat = typicalLatency(buildArrows(view));
  p.scale = makeScale(view.events.filter((e) => e.kind === 'state' || e.kind === 'segment').map((e) => e.t), view.endUs, lat);
  const st = stateTimelines(view, p.scale);
  document.getElementById('states')!.innerHTML = st.svg + (st.hidden ? `<p class="dim">${esc(t('moreSockets', { n: st.hidden }))}</p>` : '');
  document.getElementById('counters')!.innerHTML = counterCharts(view, p.result.run, p.scale);
  // State key: the states this run passed through, with their meaning.
  const seen = new Set<string>();
  for (const e of view.events) if (e.kind === 'state') seen.add(e.to);
  const order = ['LISTEN', 'SYN_SENT', 'SYN_RECV', 'ESTABLISHED', 'FIN_WAIT1', 'FIN_WAIT2', 'CLOSING', 'TIME_WAIT', 'CLOSE_WAIT', 'LAST_ACK', 'CLOSED'];
  document.getElementById('statekey')!.innerHTML = `<div class="sk-title">${esc(t('stateKey'))}</div><div class="sk-grid">${order
    .filter((x) => seen.has(x))
    .map((x) => `<div class="sk-item" data-state="${x}"><span class="chip" style="background:${stateColor(x)}">${x}</span> <span>${esc(t(`state_${x}` as Key))}</span></div>`)
    .join('')}</div>`;
  // The text timeline.
  const lines: string[] = [];
  let more = 0;
  for (const e of view.events) {
    const l = eventLine(e);
    if (l === null) continue;
    if (lines.length >= 3000) more++;
    else lines.push(l);
  }
  document.getElementById('timeline')!.textContent = lines.join('\n') + (more ? `\n${t('timelineCut', { n: more })}` : '');
  const slider = document.getElementById('slider') as HTMLInputElement;
  slider.max = String(Math.max(0, p.moments.length - 1));
  if (p.cursor < 0) p.cursor = initialCursor(p);
  setCursor(p.cursor);
}

/** Where the cursor starts: after the last segment of the first page of the diagram arrived. */
function initialCursor(p: Page): number {
  const arrows = p.svg?.layout.arrows ?? [];
  const win = p.svg?.layout.window;
  let t0 = 0;
  for (const a of arrows) if (win && a.tOut <= win.toUs) t0 = Math.max(t0, a.tIn ?? a.tOut);
  return t0 || p.view!.endUs;
}

function drawDiagram(): void {
  const p = page!;
  const view = p.view!;
  const r = renderSvg(view, { fromUs: p.fromUs, maxArrows: 300, title: false, text: svgText() });
  p.svg = r;
  const holder = document.getElementById('diagram')!;
  holder.innerHTML = r.svg;
  const svg = holder.querySelector('svg')!;
  svg.insertAdjacentHTML('beforeend', `<line id="dcursor" x1="0" x2="${r.width}" y1="0" y2="0" stroke="#ef4444" stroke-width="1.5" stroke-dasharray="6 4" visibility="hidden" pointer-events="none"/>`);
  svg.addEventListener('click', (ev) => {
    const box = svg.getBoundingClientRect();
    const y = ((ev.clientY - box.top) / box.height) * r.height;
    setCursor(snap(r.tAt(y)));
  });
  const w = r.layout.window;
  const pager = document.getElementById('pager')!;
  if (w.total > w.shown || w.fromUs > 0) {
    const firstIdx = r.layout.arrows.filter((a) => a.out && a.tOut < w.fromUs).length;
    pager.innerHTML = `<button type="button" id="pg-prev"${w.prevFromUs === null ? ' disabled' : ''}>${esc(t('prevPage'))}</button><span class="dim">${esc(t('pageInfo', { from: firstIdx + 1, to: firstIdx + w.shown, total: w.total }))}</span><button type="button" id="pg-next"${w.nextFromUs === null ? ' disabled' : ''}>${esc(t('nextPage'))}</button>`;
    document.getElementById('pg-prev')!.addEventListener('click', () => {
      if (w.prevFromUs === null) return;
      p.fromUs = w.prevFromUs;
      drawDiagram();
      setCursor(snap(p.fromUs));
    });
    document.getElementById('pg-next')!.addEventListener('click', () => {
      if (w.nextFromUs === null) return;
      p.fromUs = w.nextFromUs;
      drawDiagram();
      setCursor(snap(p.fromUs));
    });
  } else pager.innerHTML = '';
}

function snap(tt: number): number {
  const m = page!.moments;
  let best = m[0] ?? 0;
  for (const x of m) if (x <= tt) best = x;
  return best;
}

function stepCursor(d: number): void {
  const p = page!;
  const i = p.moments.indexOf(p.cursor);
  const j = Math.max(0, Math.min(p.moments.length - 1, (i < 0 ? 0 : i) + d));
  setCursor(p.moments[j] ?? 0);
}

function setCursor(tt: number): void {
  const p = page!;
  if (!p.view || !p.result) return;
  p.cursor = tt;
  const idx = p.moments.indexOf(tt);
  const slider = document.getElementById('slider') as HTMLInputElement | null;
  if (slider && idx >= 0) slider.value = String(idx);
  const label = fmtAt(tt);
  const ct = document.getElementById('ctime');
  if (ct) ct.textContent = label;
  const title = document.getElementById('ss-title');
  if (title) title.textContent = t('socketTable', { t: label });
  document.getElementById('ss')!.innerHTML = ssTables(p.view, sampleAt(p.result.run.samples, tt), tt);
  // The diagram's cursor, when the time is in the window drawn.
  const line = document.getElementById('dcursor');
  const svgAttr = p.svg ? document.querySelector('#diagram svg') : null;
  if (line && p.svg && svgAttr) {
    const from = Number(svgAttr.getAttribute('data-from-us'));
    const to = Number(svgAttr.getAttribute('data-to-us'));
    if (tt >= from && tt <= to) {
      const y = p.svg.yOf(tt).toFixed(1);
      line.setAttribute('y1', y);
      line.setAttribute('y2', y);
      line.setAttribute('visibility', 'visible');
    } else line.setAttribute('visibility', 'hidden');
  }
  if (p.scale) placeChartCursors(document, p.scale, tt);
}

// ---------------------------------------------------------------------------------------------
// Downloads and the permalink.

function download(name: string, data: BlobPart, type: string): void {
  const url = URL.createObjectURL(new Blob([data], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function downloadPcap(): Promise<void> {
  const p = page!;
  if (!p.result) return;
  if (p.result.pcap) download(`${p.meta.id}.pcap`, p.result.pcap as BlobPart, 'application/vnd.tcpdump.pcap');
  else {
    const res = await fetch(`./runs/${encodeURIComponent(p.meta.id)}.pcap`);
    download(`${p.meta.id}.pcap`, await res.arrayBuffer(), 'application/vnd.tcpdump.pcap');
  }
}

function downloadJson(): void {
  const p = page!;
  if (!p.result) return;
  const { scenario, seed, params, events, counters, sockets } = p.result.run;
  download(`${p.meta.id}.json`, JSON.stringify({ scenario, seed, params, events, counters, sockets }, null, 1), 'application/json');
}

async function copyPermalink(): Promise<void> {
  const p = page!;
  const url = `${location.origin}${location.pathname}${hashFor(p.meta.id, queryOf(p))}`;
  history.replaceState(null, '', hashFor(p.meta.id, queryOf(p)));
  const btn = document.getElementById('permalink')!;
  try {
    await navigator.clipboard.writeText(url);
    btn.textContent = t('copied');
  } catch {
    window.prompt(t('permalink'), url);
  }
  btn.dataset['url'] = url;
  setTimeout(() => (btn.textContent = t('permalink')), 2000);
}

// ---------------------------------------------------------------------------------------------

function onRoute(): void {
  const r = route();
  const l = r.q.get('lang');
  if (l && LANGS[l] && l !== getLang()) setLang(l);
  if (r.id) openScenario(r.id, r.q);
  else {
    page = null;
    renderHome();
  }
  window.scrollTo(0, 0);
}

async function start(): Promise<void> {
  setLang(initialLang(route().q));
  app.innerHTML = `${header()}<main><p class="placeholder">${esc(t('loading'))}</p></main>`;
  try {
    const res = await fetch('./catalogue.json');
    catalogue = (await res.json()) as ScenarioMeta[];
  } catch (e) {
    app.innerHTML = `<main><p class="error">catalogue.json: ${esc(String(e))}</p></main>`;
    return;
  }
  window.addEventListener('hashchange', onRoute);
  onRoute();
}

void start();
