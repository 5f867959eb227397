// The linger command line. Node-side shell around the engine: files, exit codes, output.

import { Command, CommanderError } from 'commander';
import { LabError } from '../lab/runner.ts';
import { LabUsageError, registerLab, registerTour } from './lab.ts';
import { registerDrill } from './drill.ts';
import { registerInspect } from './inspect.ts';
import { ProxyUsageError, registerProxy } from './proxy.ts';
import { registerTun } from './tun.ts';
import { registerBench } from './bench.ts';
import { WebUiError } from './web.ts';

export async function main(argv: string[]): Promise<number> {
  const program = new Command();
  program
    .name('linger')
    .description('A TCP/IP stack with Linux\'s connection lifecycle, made visible.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  registerLab(program);
  registerTour(program);
  registerDrill(program);
  registerInspect(program);
  registerProxy(program);
  registerTun(program);
  registerBench(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof LabUsageError || e instanceof LabError || e instanceof ProxyUsageError) {
      process.stderr.write(`linger: ${e.message}\n`);
      return 2;
    }
    if (e instanceof WebUiError) {
      process.stderr.write(`linger: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
