// The linger command line. Node-side shell around the engine: files, exit codes, output.

import { Command, CommanderError, Option } from 'commander';
import { writeFileSync } from 'node:fs';
import { CATALOGUE as SCENARIOS } from '../lab/runner.ts';
import { nodeEnv } from '../lab/node/index.ts';
import { COMMON_PARAMS, LabError, findScenario, runScenario } from '../lab/runner.ts';
import { toJson, toPcap, toTimeline } from '../lab/render.ts';
import { registerInspect } from './inspect.ts';
import { ProxyUsageError, registerProxy } from './proxy.ts';

class UsageError extends Error {}

function parseSet(values: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values) {
    const i = v.indexOf('=');
    if (i <= 0) throw new UsageError(`--set takes name=value, got "${v}"`);
    out[v.slice(0, i)] = v.slice(i + 1);
  }
  return out;
}

function parseSeed(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new UsageError(`--seed takes an integer 0..4294967295, got "${v}"`);
  return n;
}

const TOUR = ['handshake-close', 'close-unread-data', 'linger-zero', 'simultaneous-close', 'keepalive-dead-peer'];

export async function main(argv: string[]): Promise<number> {
  const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : s + '\n');
  const program = new Command();
  program
    .name('linger')
    .description('A TCP/IP stack with Linux\'s connection lifecycle, made visible.')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  const lab = program.command('lab').description('run lifecycle scenarios on the simulated network');
  lab
    .command('list')
    .description('list the scenarios')
    .addOption(new Option('--topic <letter>', 'only one topic (A-E, as in seed-topics.md)').choices(['A', 'B', 'C', 'D', 'E']))
    .option('--json', 'print JSON')
    .action((o: { topic?: string; json?: boolean }) => {
      const list = SCENARIOS.filter((s) => !o.topic || s.topic === o.topic);
      if (o.json) out(JSON.stringify(list.map((s) => ({ id: s.id, title: s.title, topic: s.topic, question: s.question, params: s.params })), null, 2));
      else for (const s of list) out(`${s.topic}  ${s.id.padEnd(26)} ${s.title}`);
    });
  lab
    .command('explain <id>')
    .description('what a scenario shows and which parameters it takes')
    .action((id: string) => {
      const s = findScenario(id);
      out(`${s.id} (topic ${s.topic}): ${s.title}\n\n${s.explain}\n\nQuestion: ${s.question}\n\nWhat to notice:\n${s.notice.map((n) => `  - ${n}`).join('\n')}\n\nParameters (--set name=value):\n${[...s.params, ...COMMON_PARAMS].map((p) => `  ${p.name.padEnd(22)} ${p.description} (default ${p.default}, ${p.min}..${p.max})`).join('\n')}`);
    });
  lab
    .command('run <id>')
    .description('run a scenario and print its timeline (or JSON)')
    .option('--json', 'print one JSON object: scenario, seed, events, counters, sockets')
    .option('--pcap <file>', 'write the packets to a pcap file (LINKTYPE_RAW) for Wireshark')
    .option('--seed <n>', 'seed of the simulated network and hosts', '1')
    .option('--set <name=value...>', 'set a scenario parameter', [])
    .option('--max-lines <n>', 'cut the timeline after this many lines')
    .action(async (id: string, o: { json?: boolean; pcap?: string; seed: string; set: string[]; maxLines?: string }) => {
      const run = await runScenario(id, { seed: parseSeed(o.seed), set: parseSet(o.set), env: nodeEnv() });
      if (o.pcap) writeFileSync(o.pcap, toPcap(run));
      if (o.json) out(JSON.stringify(toJson(run)));
      else out(toTimeline(run, { maxLines: o.maxLines ? Number(o.maxLines) : undefined }));
    });
  program
    .command('tour')
    .description('a short tour of the lifecycle on the simulated network (what `npm start` runs)')
    .action(async () => {
      out('linger: Linux\'s TCP connection lifecycle, simulated in virtual time and shown segment by segment.\n');
      for (const id of TOUR) {
        const s = findScenario(id);
        out(`\n${'='.repeat(100)}\n${s.title}\n${'-'.repeat(100)}\n${s.explain}\n`);
        out(toTimeline(await runScenario(id, { env: nodeEnv() }), { maxLines: 60 }));
      }
      out(`\nMore: npx linger lab list; npx linger lab explain <id>; npx linger lab run <id> [--json] [--pcap FILE] [--set k=v]`);
    });

  registerInspect(program);
  registerProxy(program);

  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof UsageError || e instanceof LabError || e instanceof ProxyUsageError) {
      process.stderr.write(`linger: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
}
