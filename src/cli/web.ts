// `linger lab serve` (and `npm start`): builds the web UI when it is missing or older than its
// sources, then serves it on 127.0.0.1. The build writes the catalogue and, for the scenarios that
// run Node's own HTTP code (`node: true`), their runs with default parameters (JSON and pcap), then
// bundles web/ with Vite. Engine-only scenarios run in the page itself.

import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CATALOGUE, COMMON_PARAMS, runScenario } from '../lab/runner.ts';
import { nodeEnv } from '../lab/node/index.ts';
import { toPcap } from '../lab/export.ts';
import { Recorder, toWebRun, type ScenarioMeta } from '../lab/record.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const WEB = join(ROOT, 'web');
export const DIST = join(WEB, 'dist');
export const GENERATED = join(WEB, 'generated');
const STAMP = join(DIST, '.linger-build');

/** Every file the build depends on, as (path, size, mtime): its hash says whether dist is current. */
function inputsHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const name of readdirSync(dir).sort()) {
      if (name === 'node_modules' || name === 'dist' || name === 'generated' || name.startsWith('.')) continue;
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else h.update(`${relative(ROOT, p)}\0${st.size}\0${st.mtimeMs}\n`);
    }
  };
  walk(join(ROOT, 'src'));
  walk(WEB);
  for (const f of ['package-lock.json']) {
    const p = join(ROOT, f);
    if (existsSync(p)) h.update(`${f}\0${statSync(p).mtimeMs}\n`);
  }
  return h.digest('hex');
}

export function webIsCurrent(): boolean {
  return existsSync(join(DIST, 'index.html')) && existsSync(STAMP) && readFileSync(STAMP, 'utf8').trim() === inputsHash();
}

export function catalogueMeta(): ScenarioMeta[] {
  return CATALOGUE.map((s) => ({
    id: s.id, title: s.title, topic: s.topic, explain: s.explain, question: s.question, notice: s.notice,
    params: [...s.params, ...COMMON_PARAMS], node: s.node === true, topology: s.topology ?? 'pair',
  }));
}

/** Writes web/generated: catalogue.json and runs/<id>.json + .pcap for the Node-only scenarios. */
export async function generateData(log: (s: string) => void = () => {}): Promise<void> {
  rmSync(GENERATED, { recursive: true, force: true });
  mkdirSync(join(GENERATED, 'runs'), { recursive: true });
  const meta = catalogueMeta();
  writeFileSync(join(GENERATED, 'catalogue.json'), JSON.stringify(meta));
  for (const s of meta.filter((m) => m.node)) {
    const t0 = Date.now();
    const rec = new Recorder();
    const run = await runScenario(s.id, { env: nodeEnv(), observe: rec.observe });
    writeFileSync(join(GENERATED, 'runs', `${s.id}.json`), JSON.stringify(toWebRun(run, rec.finish(run))));
    writeFileSync(join(GENERATED, 'runs', `${s.id}.pcap`), toPcap(run));
    log(`  ran ${s.id} with Node's http (${Date.now() - t0} ms)`);
  }
}

/** Builds web/dist: the generated data, then Vite. */
export async function buildWeb(log: (s: string) => void = () => {}): Promise<void> {
  const hash = inputsHash();
  log('linger: building the web UI (web/dist)...');
  await generateData(log);
  const { build } = await import('vite');
  const { default: config } = await import('../../web/vite.config.ts');
  await build({ ...config, configFile: false, logLevel: 'warn' });
  writeFileSync(STAMP, hash + '\n');
  log('linger: web UI built');
}

export async function ensureWebBuilt(opts: { force?: boolean; log?: (s: string) => void } = {}): Promise<void> {
  if (!opts.force && webIsCurrent()) return;
  await buildWeb(opts.log);
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.pcap': 'application/vnd.tcpdump.pcap',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/** Serves a directory of static files on 127.0.0.1 only. Resolves when listening. */
export function serveStatic(dir: string, port: number): Promise<Server> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = resolve(root, '.' + path);
    if (file !== root && !file.startsWith(root + sep)) {
      res.writeHead(403).end();
      return;
    }
    let st;
    try {
      st = statSync(file);
    } catch {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    if (!st.isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
      'content-length': st.size,
      'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', fail);
      ok(server);
    });
  });
}
