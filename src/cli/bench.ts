// `linger bench [name] [--quick] [--json] [--out FILE]`: the benchmark suite (src/bench).

import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { Command, Option } from 'commander';
import { BENCH_NAMES, runBench } from '../bench/index.ts';

export function registerBench(program: Command): void {
  program
    .command('bench')
    .description('benchmarks with ratios against Node net over the kernel loopback, measured in the same run')
    .addArgument(new Command().createArgument('[name]', 'one benchmark').choices([...BENCH_NAMES]))
    .option('--quick', 'reduced sizes: every benchmark in about a minute')
    .option('--json', 'print only the JSON report')
    .addOption(new Option('--out <file>', 'also write the JSON report here').default('bench-report.json'))
    .action(async (name: string | undefined, o: { quick?: boolean; json?: boolean; out: string }) => {
      const say = (l: string) => (o.json ? process.stderr : process.stdout).write(`${l}\n`);
      say(`linger bench${o.quick ? ' --quick' : ''}: ${os.cpus().length} x ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}, ${new Date().toISOString()}`);
      const rows = await runBench({ quick: !!o.quick, only: name, log: say });
      const report = rows.map((r) => ({ name: r.name, value: r.value, unit: r.unit, reference: r.reference, ratio: r.ratio, spread: r.spread, target: r.target ?? null, note: r.note ?? null }));
      writeFileSync(o.out, JSON.stringify(report, null, 2) + '\n');
      if (o.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else say(`report: ${o.out}`);
    });
}
