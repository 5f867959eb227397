// The package (`npm pack`) as far as it can be checked cheaply without packing: package.json
// brings no build tool to a consumer, the build compiles, every "exports" entry resolves to a
// file of the build, the compiled code imports no build tool and runs on plain node (the root
// API, and the CLI through bin/linger.mjs in a package's layout), and every export of the root
// entry has a doc comment. The full check (pack, install in a fresh project, lab serve) is in
// the README ("Install").

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  files: string[];
  exports: Record<string, string | { types: string; default: string }>;
  bin: Record<string, string>;
};
const BUILD_TOOLS = ['vite', 'tsx', 'typescript', 'typedoc'];

test('package: build tools are devDependencies only; files ships dist, bin and the changelog', () => {
  for (const d of BUILD_TOOLS) {
    assert.equal(pkg.dependencies[d], undefined, `${d} is a runtime dependency`);
    assert.ok(pkg.devDependencies[d], `${d} is not a devDependency`);
  }
  assert.deepEqual(pkg.files, ['dist/', 'bin/', 'CHANGELOG.md']);
  assert.equal(pkg.bin.linger, 'bin/linger.mjs');
});

// A package's layout: bin/ beside the build in dist/ (no src/), inside the project so that the
// compiled modules find the dependencies in its node_modules, as in a consumer's.
const PKG = resolve('test-output', 'package');
const DIST = join(PKG, 'dist');

test('package: the build, its exports, and the compiled code on plain node', async (t) => {
  rmSync(PKG, { recursive: true, force: true });
  mkdirSync(PKG, { recursive: true });
  const b = spawnSync(process.execPath, ['scripts/build.mjs', '--out', DIST, '--no-web'], { encoding: 'utf8' });
  assert.equal(b.status, 0, `build failed: ${b.stderr}`);
  cpSync('bin', join(PKG, 'bin'), { recursive: true });

  await t.test('every "exports" entry resolves to a file of the build', () => {
    for (const [path, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') {
        assert.ok(existsSync(target), `${path}: ${target} is missing`);
        continue;
      }
      for (const f of [target.types, target.default]) assert.match(f, /^\.\/dist\//, `${path}: ${f} is not in dist/`);
      for (const f of [target.types, target.default]) assert.ok(existsSync(join(PKG, f)), `${path}: ${f} not built`);
    }
    assert.ok(existsSync(join(DIST, 'drill/kernel/worker.mjs')) && existsSync(join(DIST, 'bench/lossy-kernel.py')), 'assets not copied');
  });

  await t.test('the compiled code imports no build tool', () => {
    const bad: string[] = [];
    const walk = (dir: string): void => {
      for (const n of readdirSync(dir)) {
        const p = join(dir, n);
        if (statSync(p).isDirectory()) walk(p);
        else if (/\.m?js$/.test(n)) {
          const text = readFileSync(p, 'utf8');
          for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"]([^'"]+)['"]/g)) {
            if (BUILD_TOOLS.includes(m[1]!.split('/')[0]!)) bad.push(`${p}: ${m[1]}`);
          }
        }
      }
    };
    walk(DIST);
    assert.deepEqual(bad, []);
  });

  await t.test('the root API echoes bytes between two hosts on plain node', () => {
    const prog = `
      import { Network, Host, Runtime, bindNet } from ${JSON.stringify(join(DIST, 'index.js'))};
      const net = new Network({ seed: 1 });
      const rt = new Runtime(net);
      const a = rt.addHost(new Host({ name: 'a', addresses: ['10.0.0.1'], clock: net.clock }));
      const b = rt.addHost(new Host({ name: 'b', addresses: ['10.0.0.2'], clock: net.clock }));
      net.link('a', 'b', { latencyUs: 10_000 });
      bindNet(b, rt).createServer((s) => s.pipe(s)).listen(7);
      const c = bindNet(a, rt).connect(7, 'b');
      const got = await rt.wait(new Promise((ok) => { c.on('data', (d) => ok(String(d))); c.write('hello'); }));
      console.log(got, net.now);
      rt.dispose();`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', prog], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    // Handshake (one RTT), then the data and its echo (another): 40 ms of virtual time.
    assert.equal(r.stdout.trim(), 'hello 40000');
  });

  await t.test('bin/linger.mjs with no src/ beside it runs dist/ on plain node, same output as from the sources', () => {
    const run = (bin: string, args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });
    const args = ['lab', 'run', 'handshake-close', '--json'];
    const packed = run(join(PKG, 'bin', 'linger.mjs'), args);
    assert.equal(packed.status, 0, packed.stderr);
    assert.equal(packed.stdout, run('bin/linger.mjs', args).stdout);
    const serve = run(join(PKG, 'bin', 'linger.mjs'), ['lab', 'serve', '--port', '0']);
    assert.equal(serve.status, 1);
    assert.match(serve.stderr, /no prebuilt web UI at .*dist\/web/);
  });
  rmSync(PKG, { recursive: true, force: true });
});

test('package: every export of the root entry has a doc comment', () => {
  const program = ts.createProgram(['src/index.ts'], {
    module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, allowImportingTsExtensions: true, noEmit: true, types: [],
  });
  const checker = program.getTypeChecker();
  const root = checker.getSymbolAtLocation(program.getSourceFile(resolve('src/index.ts'))!)!;
  const undocumented = checker.getExportsOfModule(root).filter((s) => {
    const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s;
    return ts.displayPartsToString(target.getDocumentationComment(checker)).trim() === '';
  });
  assert.deepEqual(undocumented.map((s) => s.name), []);
  assert.ok(checker.getExportsOfModule(root).length >= 40);
});
