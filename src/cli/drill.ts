// `linger drill FILE.pkt...`: runs packetdrill scripts against linger on a virtual clock, or
// (--kernel) against this machine's Linux TCP, or (--both) against both, compared.

import type { Command } from 'commander';
import { applyDrillOption, defaultDrillConfig, DrillOptionError } from '../drill/config.ts';
import { expandPaths, runFiles } from '../drill/files.ts';
import { compareRuns, comparisonsJson, formatComparison } from '../drill/compare.ts';
import { DEFAULT_JOBS, kernelUnavailable, runKernelFiles } from '../drill/kernel/files.ts';
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
  flag?: string[];
  kernel?: boolean;
  both?: boolean;
  jobs?: string;
}

export function registerDrill(program: Command): void {
  program
    .command('drill')
    .description('run packetdrill scripts against linger (virtual time), or this machine\'s kernel: per script ok, FAIL or UNSUPPORTED')
    .argument('<files...>', 'packetdrill scripts (.pkt), or directories holding them')
    .option('--json', 'print one JSON object: summary and every script\'s result')
    .option('--tap', 'print TAP (Test Anything Protocol) version 13')
    .option('--verbose', 'print every packet, call and state change of every script')
    .option('--ip-version <v>', 'ipv4, ipv6 or ipv4-mapped-ipv6 (a script\'s own --ip_version line wins)')
    .option('--strict-segments', 'one expected segment must be one live segment')
    .option('--tolerance-usecs <n>', 'timing tolerance in µs (default 4000)')
    .option('--tolerance-percent <p>', 'timing tolerance as a percentage of the time since the previous event (default 12.5)')
    .option('-D, --define <NAME=VALUE...>', 'define a symbol, as packetdrill\'s -D: the word NAME in a script stands for VALUE ($NAME in a shell command)', [])
    .option('--flag <name=value...>', 'any other packetdrill flag (--mss=N, --mtu=N, --bind_port=N ...), as a --name=value line on a script\'s first lines', [])
    .option('--kernel', 'run against this machine\'s Linux TCP instead, in real time, each script in a network namespace of its own (root)')
    .option('--both', 'run on linger and on the kernel; print where they first differ, side by side (root)')
    .option('--jobs <n>', 'kernel runs at once (default: one per core; a suite costs about the wall time of its longest script)')
    .action(async (paths: string[], o: DrillCliOptions, cmd: Command) => {
      const usage = (msg: string): never => cmd.error(`linger: ${msg}`, { exitCode: 2, code: 'linger.usage' });
      if (o.json && o.tap) usage('--json and --tap exclude each other');
      if (o.kernel && o.both) usage('--kernel and --both exclude each other');
      if (o.both && o.tap) usage('--both has no TAP form');
      const jobs = o.jobs === undefined ? DEFAULT_JOBS : Number(o.jobs);
      if (!Number.isInteger(jobs) || jobs < 1 || jobs > 64) usage(`--jobs takes an integer 1..64, got "${o.jobs ?? ''}"`);
      if (o.kernel || o.both) {
        const why = kernelUnavailable();
        if (why) usage(why);
      }
      const flags: Array<[string, string | undefined]> = [];
      if (o.ipVersion !== undefined) flags.push(['ip_version', o.ipVersion]);
      if (o.strictSegments) flags.push(['strict_segments', undefined]);
      if (o.toleranceUsecs !== undefined) flags.push(['tolerance_usecs', o.toleranceUsecs]);
      if (o.tolerancePercent !== undefined) flags.push(['tolerance_percent', o.tolerancePercent]);
      for (const d of o.flag ?? []) {
        const eq = d.indexOf('=');
        flags.push(eq < 0 ? [d.replace(/^--/, ''), undefined] : [d.slice(0, eq).replace(/^--/, ''), d.slice(eq + 1)]);
      }
      const defines: Array<[string, string]> = [];
      for (const d of o.define ?? []) {
        const m = /^([A-Za-z_]\w*)(?:=(.*))?$/s.exec(d);
        if (!m) return usage(`-D takes NAME=VALUE with NAME a C identifier, got "${d}"`);
        defines.push([m[1]!, m[2] ?? '1']);
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
      if (o.both) {
        const kernel = await runKernelFiles(files, flags, jobs, { defines });
        const linger = runFiles(files, { flags, defines: new Map(defines) });
        const cs = linger.map((r, i) => compareRuns(r, kernel[i]!));
        const same = cs.filter((c) => c.same).length;
        const only = cs.filter((c) => c.lingerOnly).length;
        const text = o.json
          ? JSON.stringify(comparisonsJson(cs))
          : [...cs.map(formatComparison), `drill --both: ${cs.length} script${cs.length === 1 ? '' : 's'}: ${same} same, ${cs.length - same - only} differ, ${only} linger-only (${((performance.now() - t0) / 1000).toFixed(2)} s)`].join('\n');
        await new Promise<void>((resolve) => process.stdout.write(text + '\n', () => resolve()));
        if (same + only !== cs.length) process.exit(1);
        return;
      }
      const results = o.kernel ? await runKernelFiles(files, flags, jobs, { defines }) : runFiles(files, { flags, defines: new Map(defines) });
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
