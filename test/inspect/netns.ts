// Network namespaces for the end-to-end tests of `linger inspect`: each test makes its own
// namespace (loopback only), runs a python3 scenario from test/inspect/py inside it, runs the CLI
// inside it, and deletes the namespace afterwards, also when the test fails or the process exits.

import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';

const PY_DIR = 'test/inspect/py';
const live = new Set<string>();
let counter = 0;

process.on('exit', () => {
  for (const ns of live) spawnSync('ip', ['netns', 'del', ns]);
});

/** Why the namespace tests cannot run here, or null when they can. Checked once per process. */
let cachedReason: string | null | undefined;
export function netnsUnavailable(): string | null {
  if (cachedReason !== undefined) return cachedReason;
  cachedReason = (() => {
    if (process.platform !== 'linux') return `SKIPPED: linger inspect end-to-end tests need Linux (this is ${process.platform})`;
    if (process.getuid?.() !== 0) return 'SKIPPED: linger inspect end-to-end tests need root to create network namespaces (`ip netns add`); CI runs them as root. Run: sudo node scripts/run-tests.mjs test/inspect';
    for (const [cmd, args] of [['ip', ['-V']], ['python3', ['--version']]] as const) {
      const r = spawnSync(cmd, [...args], { encoding: 'utf8' });
      if (r.error || r.status !== 0) return `SKIPPED: linger inspect end-to-end tests need \`${cmd}\` (${r.error?.message ?? r.stderr.trim()}); scripts/install-debian-deps.sh installs iproute2`;
    }
    const probe = `lgprobe${process.pid}`;
    const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
    if (r.status !== 0) return `SKIPPED: \`ip netns add\` fails here: ${r.stderr.trim()}`;
    spawnSync('ip', ['netns', 'del', probe]);
    return null;
  })();
  if (cachedReason) process.stderr.write(`\n*** ${cachedReason} ***\n\n`);
  return cachedReason;
}

export interface Scenario {
  proc: ChildProcessWithoutNullStreams;
  info: Record<string, unknown> & { pid: number };
  /** Sends a command ("burst 30") and waits for its DONE line. */
  command(line: string): Promise<Record<string, unknown>>;
}

export class Netns {
  readonly name: string;
  private children: ChildProcessWithoutNullStreams[] = [];

  constructor(tag: string) {
    this.name = `lgi${process.pid % 100000}${tag}${counter++}`;
    const r = spawnSync('ip', ['netns', 'add', this.name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${this.name}: ${r.stderr}`);
    live.add(this.name);
    const up = spawnSync('ip', ['-n', this.name, 'link', 'set', 'lo', 'up'], { encoding: 'utf8' });
    if (up.status !== 0) throw new Error(`ip link set lo up: ${up.stderr}`);
  }

  /** Starts test/inspect/py/<file> in the namespace and waits (at most 20 s) for its READY line. */
  async scenario(file: string): Promise<Scenario> {
    const proc = spawn('ip', ['netns', 'exec', this.name, 'python3', '-u', file], { cwd: PY_DIR });
    this.children.push(proc);
    const lines = createInterface({ input: proc.stdout });
    let stderr = '';
    proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const waiters: ((line: string) => void)[] = [];
    const buffered: string[] = [];
    lines.on('line', (l) => {
      const w = waiters.shift();
      if (w) w(l); else buffered.push(l);
    });
    const next = (what: string, ms = 20_000): Promise<string> =>
      new Promise((resolve, reject) => {
        const b = buffered.shift();
        if (b !== undefined) return resolve(b);
        const t = setTimeout(() => reject(new Error(`${file}: no ${what} line within ${ms} ms; stderr: ${stderr}`)), ms);
        const onExit = (code: number | null) => reject(new Error(`${file} exited (${code}) before ${what}; stderr: ${stderr}`));
        proc.once('exit', onExit);
        waiters.push((l) => {
          clearTimeout(t);
          proc.off('exit', onExit);
          resolve(l);
        });
      });
    const ready = await next('READY');
    if (!ready.startsWith('READY ')) throw new Error(`${file}: expected READY, got ${ready}`);
    return {
      proc,
      info: JSON.parse(ready.slice(6)),
      command: async (line: string) => {
        proc.stdin.write(line + '\n');
        const done = await next('DONE');
        if (!done.startsWith('DONE ')) throw new Error(`${file}: expected DONE, got ${done}`);
        return JSON.parse(done.slice(5));
      },
    };
  }

  /** Runs `linger <args>` inside the namespace (at most 30 s). */
  linger(args: string[], timeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.name, process.execPath, 'bin/linger.mjs', ...args], { encoding: 'utf8', timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Starts `linger <args>` inside the namespace without waiting. */
  lingerAsync(args: string[]): ChildProcessWithoutNullStreams {
    const p = spawn('ip', ['netns', 'exec', this.name, process.execPath, 'bin/linger.mjs', ...args]);
    this.children.push(p);
    return p;
  }

  /** `linger inspect ... --json` parsed. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inspect(args: string[]): Record<string, any> {
    const r = this.linger(['inspect', ...args, '--json']);
    if (r.status !== 0) throw new Error(`linger inspect ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  /** Runs a command in the namespace (python3 -c ..., nft ...). */
  exec(cmd: string[], timeoutMs = 20_000): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.name, ...cmd], { encoding: 'utf8', timeout: timeoutMs });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** Kills every process started here, waits for them, deletes the namespace. */
  async destroy(): Promise<void> {
    await Promise.all(this.children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    })));
    spawnSync('ip', ['netns', 'del', this.name]);
    live.delete(this.name);
  }
}

/** Runs `body` with a fresh namespace and always deletes it. */
export async function withNetns<T>(tag: string, body: (ns: Netns) => Promise<T>): Promise<T> {
  const ns = new Netns(tag);
  try {
    return await body(ns);
  } finally {
    await ns.destroy();
  }
}

/**
 * Reads a child's stdout line by line: `next()` waits (bounded) for the next line. Used with
 * `--watch ... --json` so that a test acts between two samples, whatever the start-up time.
 */
export function lineReader(p: ChildProcessWithoutNullStreams): { next(ms?: number): Promise<string>; stderr(): string } {
  const lines = createInterface({ input: p.stdout });
  const buffered: string[] = [];
  const waiters: ((l: string) => void)[] = [];
  let err = '';
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  lines.on('line', (l) => {
    const w = waiters.shift();
    if (w) w(l); else buffered.push(l);
  });
  return {
    stderr: () => err,
    next: (ms = 20_000) => new Promise((resolve, reject) => {
      const b = buffered.shift();
      if (b !== undefined) return resolve(b);
      const t = setTimeout(() => reject(new Error(`no output line within ${ms} ms; stderr: ${err}`)), ms);
      waiters.push((l) => {
        clearTimeout(t);
        resolve(l);
      });
    }),
  };
}

/** Collects a child's stdout and waits for its exit (bounded). */
export function finished(p: ChildProcessWithoutNullStreams, timeoutMs = 30_000): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`process did not finish within ${timeoutMs} ms; stdout: ${stdout.slice(-2000)} stderr: ${stderr}`));
    }, timeoutMs);
    p.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
