// A kernel runner process (files.ts starts one per --jobs lane, under `unshare --net`). It reads
// scripts to run from stdin, one JSON job per line, and for each makes a fresh network
// namespace (unshare(CLONE_NEWNET) on the main thread, which also makes the tun device and the
// sockets, and runs the set-up commands), runs the script there and prints its DrillResult as
// one JSON line. The namespace of a finished script goes with its last socket.

import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { nodePython, scriptReader } from '../files.ts';
import { runDrill, type DrillResult } from '../runner.ts';
import { KernelBackend } from './backend.ts';
import { errno, errnoLabel, lib } from './libc.ts';
import { READY, type KernelJob } from './job.ts';
import { CallPool } from './pool.ts';

const CLONE_NEWNET = 0x40000000;
const PR_SET_PDEATHSIG = 1;
const SIGKILL = 9;

/**
 * Runs the runner's code paths on linger first, so that a script's first events on the kernel
 * are not late by the JIT's first compilations (tolerances are 4 ms; a cold call takes ~0.5 ms).
 */
function warmUp(): void {
  const script = [
    '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3', '+0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0',
    '+0 bind(3, ..., ...) = 0', '+0 listen(3, 1) = 0', '+0 < S 0:0(0) win 65535 <mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7>',
    '+0 > S. 0:0(0) ack 1 <...>', '+0 < . 1:1(0) ack 1 win 514 <nop,nop,TS val 2 ecr 0>', '+0 accept(3, ..., ...) = 4',
    '+0 write(4, ..., 100) = 100', '+0 > P. 1:101(100) ack 1 <...>', '+0 < P. 1:11(10) ack 101 win 514 <nop,nop,TS val 3 ecr 0>',
    '+0 read(4, ..., 10) = 10', '+0 close(4) = 0', '+0 > F. 101:101(0) ack 11 <...>', '+0 close(3) = 0',
  ].join('\n');
  for (let i = 0; i < 20; i++) runDrill(script, 'warm-up.pkt');
}

async function runJob(job: KernelJob, pool: CallPool): Promise<DrillResult> {
  // A full collection now rather than in the middle of the script's timing (--expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  if (lib().unshare(CLONE_NEWNET) < 0) throw new Error(`unshare(CLONE_NEWNET): ${errnoLabel(errno())}`);
  const readFile = scriptReader(job.file);
  const python = nodePython();
  let backend: KernelBackend | null = null;
  try {
    return runDrill(readFileSync(job.file, 'utf8'), job.file, { flags: job.flags, defines: new Map(job.defines ?? []), readFile, ...(python ? { python } : {}) }, {
      kind: 'kernel',
      make: (cfg, hooks) => (backend = new KernelBackend(cfg, hooks, pool, readFile)),
    });
  } finally {
    (backend as KernelBackend | null)?.close();
    await pool.settle();
  }
}

async function main(): Promise<void> {
  // If the parent goes (killed, or a timeout), so does this process, even in the middle of a script.
  lib().prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  const pool = await CallPool.start();
  warmUp();
  process.stderr.write(`${READY}\n`);
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const job = JSON.parse(line) as KernelJob;
    const result = await runJob(job, pool);
    await new Promise<void>((resolve) => process.stdout.write(`${JSON.stringify(result)}\n`, () => resolve()));
  }
  // A call still blocked in the kernel holds a pool thread: it ends with the process.
  process.exit(0);
}

await main();
