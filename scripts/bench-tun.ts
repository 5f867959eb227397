// `npm run bench:tun`: bulk TCP over linger's TUN link, kernel -> linger and linger -> kernel, at
// MTU 1500 and 65535, next to a kernel-to-kernel run over veth in the same invocation (the
// reference); and keep-alive HTTP: wrk in the namespace against `linger tun http`'s app on
// linger, next to the same app on Node's node:http (the kernel's TCP) over lo in the same
// namespace. Bounded: fixed byte counts (--mb, default 200 MB per run), wrk for --http-secs
// (default 5; 0: no HTTP row), a time limit per run, namespaces deleted afterwards, also on
// failure. Needs root and /dev/net/tun (and wrk for the HTTP row). The TUN device has the
// kernel's offloads unless LINGER_TUN_OFFLOAD=0.
//   node --import tsx scripts/bench-tun.ts [--mb 200] [--mtu 1500,65535] [--http-secs 5] [--json]

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { TunStack } from '../src/link/stack.ts';
import { httpServer } from '../src/link/apps.ts';
import { bindHttp } from '../src/net/http.ts';
import { nsAdd, nsDel, run } from '../src/link/netns.ts';
import type { NetSocket } from '../src/net/socket.ts';

const PEER = new URL('../test/interop/py/peer.py', import.meta.url).pathname;
const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
};
const MB = Number(arg('mb', '200'));
const BYTES = MB * 1_000_000;
const WARM_BYTES = 20_000_000;
const MTUS = arg('mtu', '1500,65535').split(',').map(Number);
const JSON_OUT = process.argv.includes('--json');
const HTTP_SECS = Number(arg('http-secs', '5'));
const HTTP_CONNS = 20;
const LIMIT_S = 120;

interface PeerLine { event: string; secs?: number; bytes?: number; [k: string]: unknown }

/** Runs peer.py in a namespace; resolves with its JSON lines when it exits (killed after LIMIT_S). */
function peer(ns: string, args: string[], onLine?: (l: PeerLine) => void): Promise<PeerLine[]> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, 'python3', '-u', PEER, ...args], { env: { ...process.env, PEER_ALARM: String(LIMIT_S) } });
    const lines: PeerLine[] = [];
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    createInterface({ input: p.stdout }).on('line', (l) => {
      const j = JSON.parse(l) as PeerLine;
      lines.push(j);
      onLine?.(j);
    });
    p.on('error', reject);
    p.on('exit', (code) => (code === 0 ? resolve(lines) : reject(new Error(`peer.py ${args.join(' ')} exited ${code}: ${err}`))));
  });
}

const gbps = (bytes: number, secs: number) => (bytes * 8) / secs / 1e9;

interface Row { what: string; mtu: number; secs: number; gbit: number; pps?: number }

async function tunRuns(mtu: number): Promise<Row[]> {
  const st = TunStack.up({ ns: 'lgbench', mtu, replace: true });
  try {
    // One warm-up each way first, as every in-process row has (bench/index.ts paired()): at
    // 100 MB a run lasts 0.1-0.3 s, and a cold send path (the JIT compiling it) was a third of it.
    await tunPair(st, mtu, WARM_BYTES, 5011);
    return await tunPair(st, mtu, BYTES, 5001);
  } finally {
    await st.down();
  }
}

/** Bytes each way between the kernel and linger's stack over st's device: kernel -> linger, then linger -> kernel. */
async function tunPair(st: TunStack, mtu: number, BYTES: number, port: number): Promise<Row[]> {
  const rows: Row[] = [];
  {
    // kernel -> linger: linger's node:net server counts and discards.
    let got = 0;
    let t0 = 0;
    let rx0 = 0;
    const done = new Promise<{ secs: number; pkts: number }>((resolve) => {
      st.net.createServer((s: NetSocket) => {
        t0 = performance.now();
        rx0 = st.tun.stats.rxPackets;
        s.on('data', (d: Buffer) => (got += d.length));
        s.on('end', () => {
          resolve({ secs: (performance.now() - t0) / 1000, pkts: st.tun.stats.rxPackets - rx0 });
          s.end();
        });
      }).listen(port);
    });
    await peer('lgbench', ['connect', 'host=10.77.0.2', `port=${port}`, `do=send:${BYTES},shutwr,recvall`, `timeout=${LIMIT_S}`]);
    const r = await done;
    if (got !== BYTES) throw new Error(`kernel -> linger: ${got} of ${BYTES} bytes`);
    rows.push({ what: 'kernel -> linger (TUN)', mtu, secs: r.secs, gbit: gbps(BYTES, r.secs), pps: r.pkts / r.secs });
    // linger -> kernel: the kernel's python sink reads to EOF.
    let tx0 = 0;
    let tStart = 0;
    const sink = peer('lgbench', ['listen', 'host=10.77.0.1', `port=${port + 1}`, 'do=recvall', `timeout=${LIMIT_S}`], (l) => {
      if (l.event !== 'ready') return;
      const c = st.net.connect(port + 1, '10.77.0.1', () => {
        tStart = performance.now();
        tx0 = st.tun.stats.txPackets;
        const chunk = Buffer.alloc(65536, 0x62);
        let left = BYTES;
        const pump = () => {
          while (left > 0) {
            const k = Math.min(left, chunk.length);
            left -= k;
            if (!c.write(k === chunk.length ? chunk : chunk.subarray(0, k))) return void c.once('drain', pump);
          }
          c.end();
        };
        pump();
      });
      c.on('error', () => undefined);
    });
    const lines = await sink;
    const eof = lines.find((l) => l.event === 'eof');
    if (eof?.bytes !== BYTES) throw new Error(`linger -> kernel: ${eof?.bytes} of ${BYTES} bytes`);
    // The receiver's own time from accept() to EOF, as the veth reference's: not the wait for the
    // python process to exit, which at 20 MB was a large part of the figure.
    const secs = eof.secs!;
    if (tStart === 0) throw new Error('linger -> kernel: never connected');
    rows.push({ what: 'linger -> kernel (TUN)', mtu, secs, gbit: gbps(BYTES, secs), pps: (st.tun.stats.txPackets - tx0) / secs });
  }
  return rows;
}

async function vethRun(mtu: number): Promise<Row> {
  const a = 'lgbencha';
  const b = 'lgbenchb';
  try {
    nsDel(a);
    nsDel(b);
    nsAdd(a);
    nsAdd(b);
    run('ip', ['-n', a, 'link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb', 'netns', b]);
    run('ip', ['-n', a, 'link', 'set', 'va', 'mtu', String(mtu), 'up']);
    run('ip', ['-n', b, 'link', 'set', 'vb', 'mtu', String(mtu), 'up']);
    run('ip', ['-n', a, 'addr', 'add', '10.78.0.1/24', 'dev', 'va']);
    run('ip', ['-n', b, 'addr', 'add', '10.78.0.2/24', 'dev', 'vb']);
    const sink = peer(b, ['listen', 'host=10.78.0.2', 'port=5003', 'do=recvall', `timeout=${LIMIT_S}`], (l) => {
      if (l.event === 'ready') void peer(a, ['connect', 'host=10.78.0.2', 'port=5003', `do=send:${BYTES},close`, `timeout=${LIMIT_S}`]);
    });
    const eof = (await sink).find((l) => l.event === 'eof')!;
    return { what: 'kernel -> kernel (veth)', mtu, secs: eof.secs!, gbit: gbps(BYTES, eof.secs!) };
  } finally {
    nsDel(a);
    nsDel(b);
  }
}

/** wrk in the namespace for HTTP_SECS against url: requests per second (killed after LIMIT_S). */
function wrk(ns: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', ns, 'wrk', '-t1', `-c${HTTP_CONNS}`, `-d${HTTP_SECS}s`, url], { timeout: LIMIT_S * 1000 });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      const m = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const errors = /Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)/.exec(out);
      if (code !== 0 || !m) reject(new Error(`wrk ${url} exited ${code}: ${out.trim()}`));
      else if (errors) reject(new Error(`wrk ${url}: ${errors[0]}`));
      else resolve(Number(m[1]));
    });
  });
}

interface HttpRow { linger: number; kernel: number }

/**
 * Keep-alive HTTP: wrk (one thread, HTTP_CONNS connections, GET /) in the namespace against
 * linger tun http's app on linger over TUN, then against the same app on Node's node:http over
 * lo in the same namespace (scripts/bench-http-server.ts): the kernel's TCP both ends.
 */
async function httpRuns(): Promise<HttpRow> {
  const ns = 'lgbenchh';
  const st = TunStack.up({ ns, replace: true });
  let linger = 0;
  try {
    httpServer(bindHttp(st.net), 80);
    linger = await wrk(ns, 'http://10.77.0.2/');
  } finally {
    await st.down();
  }
  nsAdd(ns);
  const server = new URL('./bench-http-server.ts', import.meta.url).pathname;
  const ref = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', server, '8080'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('the reference HTTP server did not start in 30 s')), 30_000);
      ref.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(t);
          resolve();
        }
      });
      ref.on('exit', (code) => reject(new Error(`the reference HTTP server exited ${code}`)));
    });
    return { linger, kernel: await wrk(ns, 'http://127.0.0.1:8080/') };
  } finally {
    ref.kill('SIGTERM');
    nsDel(ns);
  }
}

const hasWrk = (): boolean => run('wrk', ['--version'], { ok: true }).out.includes('wrk') || run('which', ['wrk'], { ok: true }).code === 0;

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error('bench:tun needs root (TUN device, network namespaces)');
    process.exit(2);
  }
  if (!JSON_OUT) console.log(`bench:tun: ${MB} MB per run, one TCP connection, node:net on linger over TUN; ${new Date().toISOString()}`);
  const rows: Row[] = [];
  for (const mtu of MTUS) {
    const ref = await vethRun(mtu);
    rows.push(ref);
    for (const r of await tunRuns(mtu)) rows.push(r);
  }
  let http: HttpRow | null = null;
  let httpSkip = '';
  if (HTTP_SECS > 0) {
    if (hasWrk()) http = await httpRuns();
    else httpSkip = 'skipped: wrk is not installed (scripts/install-debian-deps.sh installs it)';
  }
  const httpNote = `wrk -t1 -c${HTTP_CONNS} -d${HTTP_SECS}s GET / (keep-alive) from the namespace against linger tun http's app (node:http on linger over TUN); reference: the same app on Node's node:http over lo in the namespace (the kernel's TCP)`;
  if (JSON_OUT) {
    if (http) console.log(JSON.stringify({ name: 'tun-http-keepalive', value: http.linger, unit: 'requests/s', reference: http.kernel, ratio: http.linger / http.kernel, note: httpNote }));
    else if (httpSkip) console.log(JSON.stringify({ name: 'tun-http-keepalive', value: 0, unit: 'requests/s', reference: null, ratio: null, note: httpSkip }));
    // One JSON row per TUN run for `linger bench tun`: {name, value, unit, reference, ratio, note}.
    for (const r of rows) {
      if (r.what.includes('veth')) continue;
      const ref = rows.find((x) => x.mtu === r.mtu && x.what.includes('veth'))!;
      const name = `tun-${r.what.startsWith('kernel') ? 'kernel-to-linger' : 'linger-to-kernel'}-mtu${r.mtu}`;
      console.log(JSON.stringify({ name, value: r.gbit, unit: 'Gbit/s', reference: ref.gbit, ratio: r.gbit / ref.gbit, note: `${MB} MB, one connection, node:net on linger over TUN; reference: kernel to kernel over veth at the same MTU` }));
    }
    return;
  }
  console.log('\n| direction | MTU | seconds | Gbit/s | packets/s | vs veth |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) {
    const ref = rows.find((x) => x.mtu === r.mtu && x.what.includes('veth'))!;
    console.log(`| ${r.what} | ${r.mtu} | ${r.secs.toFixed(2)} | ${r.gbit.toFixed(2)} | ${r.pps ? Math.round(r.pps).toLocaleString('en') : '-'} | ${r === ref ? '1' : (r.gbit / ref.gbit).toFixed(3)} |`);
  }
  if (http) console.log(`\nkeep-alive HTTP (${httpNote}):\n| server | requests/s | vs the kernel |\n|---|---|---|\n| node:http on the kernel's TCP (lo) | ${Math.round(http.kernel).toLocaleString('en')} | 1 |\n| node:http on linger over TUN | ${Math.round(http.linger).toLocaleString('en')} | ${(http.linger / http.kernel).toFixed(3)} |`);
  else if (httpSkip) console.log(`\nkeep-alive HTTP: ${httpSkip}`);
}

main().then(() => process.exit(0), (e: unknown) => {
  console.error(e);
  process.exit(1);
});
