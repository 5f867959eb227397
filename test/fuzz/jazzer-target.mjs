// The file Jazzer.js loads (npm run fuzz -- <target>): the target named by LINGER_FUZZ_TARGET
// from targets.ts, compiled on the fly by tsx. Jazzer calls fuzz() with each input.
import { register } from 'tsx/esm/api';

register();
const { TARGETS } = await import('./targets.ts');
const name = process.env['LINGER_FUZZ_TARGET'] ?? '';
const target = TARGETS[name];
if (!target) throw new Error(`no fuzz target "${name}" (targets: ${Object.keys(TARGETS).join(', ')})`);

export async function fuzz(data) {
  await target(new Uint8Array(data));
}
