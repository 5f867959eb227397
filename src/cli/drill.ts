// `linger drill FILE.pkt...`: runs packetdrill scripts against linger on a virtual clock.

import type { Command } from 'commander';
import { applyDrillOption, defaultDrillConfig, DrillOptionError } from '../drill/config.ts';
import { expandPaths, runFiles } from '../drill/files.ts';
import { formatResult, formatSummary, summarize, toJson, toTap } from '../drill/report.ts';

interface DrillCliOptions {
  json?: boolean;
  tap?: boolean;
  verbose?: boolean;
  ipVersion?: string;
  strictSegments?: boolean;
  toleranceUsecs?: string;
  tolerancePercent?: string;
  define?: string[];
}

export function registerDrill(program: Command): void {
  program
    .command('drill')
    .description('run packetdrill scripts against linger (virtual time): per script ok, FAIL or UNSUPPORTED')
    .argument('<files...>', 'packetdrill scripts (.pkt), or directories holding them')
    .option('--json', 'print one JSON object: summary and every script\'s result')
    .option('--tap', 'print TAP (Test Anything Protocol) version 13')
    .option('--verbose', 'print every packet, call and state change of every script')
    .option('--ip-version <v>', 'ipv4, ipv6 or ipv4-mapped-ipv6 (a script\'s own --ip_version line wins)')
    .option('--strict-segments', 'one expected segment must be one live segment')
    .option('--tolerance-usecs <n>', 'timing tolerance in µs (default 4000)')
    .option('--tolerance-percent <p>', 'timing tolerance as a percentage of the time since the previous event (default 12.5)')
    .option('--define <name=value...>', 'any other packetdrill flag, as --name=value on a script\'s first lines', [])
    .action(async (paths: string[], o: DrillCliOptions, cmd: Command) => {
      const usage = (msg: string): never => cmd.error(`linger: ${msg}`, { exitCode: 2, code: 'linger.usage' });
      if (o.json && o.tap) usage('--json and --tap exclude each other');
      const flags: Array<[string, string | undefined]> = [];
      if (o.ipVersion !== undefined) flags.push(['ip_version', o.ipVersion]);
      if (o.strictSegments) flags.push(['strict_segments', undefined]);
      if (o.toleranceUsecs !== undefined) flags.push(['tolerance_usecs', o.toleranceUsecs]);
      if (o.tolerancePercent !== undefined) flags.push(['tolerance_percent', o.tolerancePercent]);
      for (const d of o.define ?? []) {
        const eq = d.indexOf('=');
        flags.push(eq < 0 ? [d.replace(/^--/, ''), undefined] : [d.slice(0, eq).replace(/^--/, ''), d.slice(eq + 1)]);
      }
      // Bad values are usage errors before anything runs.
      const probe = defaultDrillConfig();
      for (const [n, v] of flags) {
        try {
          const w = applyDrillOption(probe, n, v);
          if (w) usage(w.replace(' ignored', ''));
        } catch (e) {
          if (e instanceof DrillOptionError) usage(e.message);
          throw e;
        }
      }
      const { files, missing } = expandPaths(paths);
      if (missing.length) usage(`no such file or directory: ${missing.join(', ')}`);
      if (!files.length) usage(`no .pkt scripts in ${paths.join(', ')}`);
      const t0 = performance.now();
      const results = runFiles(files, { flags });
      const s = summarize(results, performance.now() - t0);
      let text: string;
      if (o.json) text = JSON.stringify(toJson(results, s, o.verbose));
      else if (o.tap) text = toTap(results, s, o.verbose);
      else text = [...results.map((r) => formatResult(r, { verbose: o.verbose })), formatSummary(s)].join('\n');
      const code = s.ok === s.scripts ? 0 : 1;
      await new Promise<void>((resolve) => process.stdout.write(text + '\n', () => resolve()));
      // main() maps every non-zero exit to 2 (usage); a failing script is 1.
      if (code) process.exit(code);
    });
}
