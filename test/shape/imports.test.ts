// The shape of src/: no import cycle among its files, type-only imports included (eslint's
// import-x/no-cycle skips those), and the engine core (wire, time, base, tcp, host) importing
// nothing above it. The direction of every other layer is eslint's (eslint.config.js, LAYERS).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const SRC = resolve('src');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir)) {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (n.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Every relative import and export-from of each file, `import type` included, resolved to a file. */
function importGraph(): Map<string, Set<string>> {
  const files = walk(SRC);
  const known = new Set(files);
  const spec = /(?:^|\n)\s*(?:import|export)\s[^;]*?\sfrom\s*['"]([^'"]+)['"]|(?:^|\n)\s*import\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;
  const g = new Map<string, Set<string>>();
  for (const f of files) {
    const to = new Set<string>();
    for (const m of readFileSync(f, 'utf8').matchAll(spec)) {
      const s = m[1] ?? m[2] ?? m[3]!;
      if (!s.startsWith('.')) continue;
      const t = resolve(dirname(f), s);
      if (!t.startsWith(SRC + '/')) continue; // the web build's config, outside the layers
      assert.ok(known.has(t), `${relative('.', f)} imports ${s}, which is not a file of src/`);
      if (t !== f) to.add(t);
    }
    g.set(f, to);
  }
  return g;
}

/** Strongly connected components of more than one file (Tarjan). */
function cycles(g: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of g.get(v)!) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(relative('.', w));
      } while (w !== v);
      if (comp.length > 1) out.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!index.has(v)) visit(v);
  return out;
}

test('shape: no import cycle in src/, type-only imports included', () => {
  assert.deepEqual(cycles(importGraph()), []);
});

test('shape: a cycle is found when there is one (the check itself)', () => {
  const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((n) => resolve(`${n}.ts`));
  assert.deepEqual(cycles(new Map([[a!, new Set([b!])], [b!, new Set([c!])], [c!, new Set([a!])], [d!, new Set([a!])]])), [['a.ts', 'b.ts', 'c.ts']]);
  assert.deepEqual(cycles(new Map([[a!, new Set([b!])], [b!, new Set<string>()]])), []);
});

test('shape: the engine core imports nothing above it', () => {
  const core = ['wire', 'time', 'base', 'tcp', 'host'];
  const may: Record<string, string[]> = { wire: [], time: [], base: [], tcp: ['wire', 'time', 'base'], host: ['wire', 'time', 'base', 'tcp'] };
  const bad: string[] = [];
  for (const [f, tos] of importGraph()) {
    const a = relative(SRC, f).split('/')[0]!;
    if (!core.includes(a)) continue;
    for (const t of tos) {
      const b = relative(SRC, t).split('/')[0]!;
      if (b !== a && !may[a]!.includes(b)) bad.push(`${relative('.', f)} -> ${relative('.', t)}`);
    }
  }
  assert.deepEqual(bad, []);
});
