// Where the data path allocates: the bulk transfer of `linger bench alloc-per-segment` (MTU 1500,
// two in-process hosts) under V8's sampling heap profiler, objects freed by GC included, with the
// bytes per data segment summed by function (name and file:line), largest first.
//   node --import tsx scripts/alloc-profile.ts [--segments 50000] [--interval 128] [--top 40] [--stacks]
// --stacks also prints, for the top functions, the callers that lead to them.

import { Session } from 'node:inspector/promises';
import { benchWorld } from '../src/bench/world.ts';
import { BULK_LINK, oneWayTransfer } from '../src/bench/cases.ts';

const arg = (name: string, def: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
};
const segments = Number(arg('segments', '50000'));
const interval = Number(arg('interval', '128'));
const top = Number(arg('top', '40'));
const stacks = process.argv.includes('--stacks');

interface Node {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children: Node[];
}

const mss = 1448;
const warm = 2000 * mss;
const total = warm + segments * mss;
const w = benchWorld({ config: { mtu: 1500 }, link: BULK_LINK, gso: !process.argv.includes('--no-gso') });
const x = oneWayTransfer(w, total);
w.net.runWhile(() => x.got() < warm, 3600e6);
const s = new Session();
s.connect();
await s.post('HeapProfiler.enable');
await s.post('HeapProfiler.startSampling', { samplingInterval: interval, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
w.net.runWhile(() => x.got() < total, 3600e6);
const { profile } = (await s.post('HeapProfiler.stopSampling')) as unknown as { profile: { head: Node } };
s.disconnect();
if (x.got() !== total) throw new Error(`${x.got()} of ${total} bytes`);

const name = (n: Node): string => {
  const url = n.callFrame.url.replace(/^file:\/\/.*?\/(src|node_modules|scripts)\//, '$1/');
  return `${n.callFrame.functionName || '(anonymous)'} ${url}:${n.callFrame.lineNumber + 1}`;
};
const self = new Map<string, number>();
const callers = new Map<string, Map<string, number>>();
let bytes = 0;
const walk = (n: Node, path: string[]): void => {
  const k = name(n);
  bytes += n.selfSize;
  if (n.selfSize) {
    self.set(k, (self.get(k) ?? 0) + n.selfSize);
    const chain = path.slice(-4).join(' < ');
    let m = callers.get(k);
    if (!m) callers.set(k, (m = new Map()));
    m.set(chain, (m.get(chain) ?? 0) + n.selfSize);
  }
  path.push(n.callFrame.functionName || '(anonymous)');
  for (const c of n.children) walk(c, path);
  path.pop();
};
walk(profile.head, []);
const per = (b: number): string => (b / segments).toFixed(1).padStart(8);
console.log(`${per(bytes)} B/segment in all (${segments} segments, sampling interval ${interval} B)`);
for (const [k, b] of [...self].sort((p, q) => q[1] - p[1]).slice(0, top)) {
  console.log(`${per(b)}  ${k}`);
  if (stacks) {
    for (const [c, cb] of [...callers.get(k)!].sort((p, q) => q[1] - p[1]).slice(0, 3)) console.log(`          ${per(cb)} < ${[...c.split(' < ')].reverse().join(' < ')}`);
  }
}
