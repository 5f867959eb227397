// `linger lab serve` (and `npm start`): the web UI, served on 127.0.0.1. Where the UI comes from
// depends on what this module was loaded as, and nothing else:
// - from the sources (src/cli/web.ts through tsx: a dev checkout), scripts/build-web.ts builds
//   web/dist with Vite when it is missing or older than its sources;
// - compiled (dist/cli/web.js: the installed package), the UI prebuilt into dist/web by
//   `npm run build` at pack time is served as is: the package has no Vite and builds nothing.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (dev checkout) or the package's root: two levels above src/cli or dist/cli. */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** True when this module runs from the TypeScript sources, false when compiled into dist/. */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');
/** Where the package's prebuilt UI lives (written by scripts/build.mjs). */
export const PREBUILT_UI = join(ROOT, 'dist', 'web');

export class WebUiError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebUiError';
  }
}

/** The directory of the UI to serve, built first when running from the sources (see above). */
export async function webUiDir(opts: { rebuild?: boolean; log?: (s: string) => void } = {}): Promise<string> {
  if (FROM_SOURCE) {
    // Not a static import: the build (and Vite) exist in a dev checkout only, never in the package.
    const build = new URL('../../scripts/build-web.ts', import.meta.url).href;
    const { ensureWebBuilt } = (await import(build)) as { ensureWebBuilt(o: { force?: boolean; log?: (s: string) => void }): Promise<string> };
    return ensureWebBuilt({ force: opts.rebuild, log: opts.log });
  }
  if (opts.rebuild) throw new WebUiError('--rebuild needs a dev checkout: the installed package serves the UI prebuilt when it was packed');
  if (!existsSync(join(PREBUILT_UI, 'index.html'))) {
    throw new WebUiError(`no prebuilt web UI at ${PREBUILT_UI}: this package was packed without \`npm run build\``);
  }
  return PREBUILT_UI;
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
