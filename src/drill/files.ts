// Node-side helpers of the runner: script files and directories, and python3 for %{ }% blocks.

import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PythonRunner } from './code.ts';
import type { ScriptReader } from './shell.ts';
import { runDrill, type DrillResult, type RunOptions } from './runner.ts';

let pythonOk: boolean | undefined;

/** Runs a program with python3; undefined when python3 is not installed. */
export function nodePython(): PythonRunner | undefined {
  if (pythonOk === undefined) {
    const r = spawnSync('python3', ['-c', 'pass'], { stdio: 'ignore' });
    pythonOk = r.status === 0;
  }
  if (!pythonOk) return undefined;
  return (program) => {
    const r = spawnSync('python3', ['-'], { input: program, encoding: 'utf8', timeout: 60_000 });
    return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
  };
}

/** Files named on the command line; a directory stands for every *.pkt under it (sorted). */
export function expandPaths(paths: string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (name.endsWith('.pkt')) files.push(p);
    }
  };
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch {
      missing.push(p);
      continue;
    }
    if (st.isDirectory()) walk(p);
    else files.push(p);
  }
  return { files, missing };
}

export function runFiles(files: string[], opts: RunOptions = {}): DrillResult[] {
  const python = opts.python ?? nodePython();
  return files.map((f) => runDrill(readFileSync(f, 'utf8'), f, { readFile: scriptReader(f), ...opts, ...(python ? { python } : {}) }));
}

/** Files a script's shell commands name, relative to its folder (Linux suites run from there). */
export function scriptReader(script: string): ScriptReader {
  return (path) => {
    try {
      return readFileSync(resolve(dirname(script), path), 'utf8');
    } catch {
      return undefined;
    }
  };
}
