// Runs lingerScale(n) in a process of its own, with a heap sized for a million connections:
//   node --max-old-space-size=16384 --import tsx src/bench/scale-child.ts 1000000
import { lingerScale } from './cases.ts';

const n = Number(process.argv[2]);
if (!Number.isInteger(n) || n < 1) {
  process.stderr.write(`scale-child: bad connection count ${process.argv[2]}\n`);
  process.exit(2);
}
process.stdout.write(JSON.stringify(lingerScale(n)) + '\n');
