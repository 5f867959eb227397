// Replays inputs through one fuzz target, outside the test runner (the CLI target swaps
// process.stdout while main() runs, which must not meet a test reporter's output):
//   node --import tsx test/fuzz/replay.ts <target> FILE...
// Exit 0 when no input is a finding; else prints each finding and exits 1.
import { readFileSync } from 'node:fs';
import { TARGETS } from './targets.ts';

const [name, ...files] = process.argv.slice(2);
const target = name ? TARGETS[name] : undefined;
if (!target) {
  process.stderr.write(`replay: no target "${name ?? ''}" (targets: ${Object.keys(TARGETS).join(', ')})\n`);
  process.exit(2);
}
let findings = 0;
for (const f of files) {
  try {
    await target(new Uint8Array(readFileSync(f)));
  } catch (e) {
    findings++;
    process.stderr.write(`${f}: ${(e as Error).message}\n`);
  }
}
process.stderr.write(`replay ${name}: ${files.length} inputs, ${findings} findings\n`);
process.exit(findings ? 1 : 0);
