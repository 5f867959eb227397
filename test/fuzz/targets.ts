// Fuzz targets: one function per parser, taking the fuzzer's bytes. A target throws only when
// it found something: an exception other than the typed error the API documents, or an error
// with no clear message. Jazzer.js drives them (npm run fuzz -- <target>); every input kept in
// test/fuzz/corpus/<target>/ is replayed by test/fuzz/corpus.test.ts.

import { decodePacket, decodePacketGeneral } from '../../src/wire/packet.ts';
import { readPcap } from '../../src/wire/pcap.ts';
import { DrillSyntaxError, lex } from '../../src/drill/lexer.ts';
import { parse } from '../../src/drill/parser.ts';
import { main } from '../../src/cli/main.ts';
import { existsSync } from 'node:fs';

export class Finding extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Finding';
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)) === JSON.stringify(b, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v));

/** IPv4/IPv6 + TCP decoding: a Result, never an exception; every error says what was wrong. */
function wire(data: Uint8Array): void {
  for (const verify of [true, false]) {
    let r: ReturnType<typeof decodePacket>;
    try {
      r = decodePacket(data, verify);
    } catch (e) {
      throw new Finding(`decodePacket threw: ${(e as Error).stack}`);
    }
    if (!r.ok && !(r.error.detail.length > 0)) throw new Finding(`decodePacket: error ${r.error.kind} with no detail`);
    if (!same(r, decodePacketGeneral(data, verify))) throw new Finding('decodePacket: fast path and general path disagree');
  }
}

/** The pcap reader: a Result, never an exception. */
function pcap(data: Uint8Array): void {
  let r: ReturnType<typeof readPcap>;
  try {
    r = readPcap(data);
  } catch (e) {
    throw new Finding(`readPcap threw: ${(e as Error).stack}`);
  }
  if (!r.ok && !(r.error.detail.length > 0)) throw new Finding(`readPcap: error ${r.error.kind} with no detail`);
}

/** A syntax error must be the documented DrillSyntaxError, pointing at a line and column. */
export function drillError(what: string, e: unknown, src: string): void {
  if (!(e instanceof DrillSyntaxError)) throw new Finding(`${what} threw ${(e as Error)?.name}: ${(e as Error)?.stack ?? String(e)}`);
  const lines = src.split('\n').length;
  if (!(e.line >= 1 && e.line <= lines + 1 && e.col >= 1 && e.detail.trim().length > 0)) throw new Finding(`${what}: unclear error "${e.message}" (line ${e.line} of ${lines}, col ${e.col})`);
}

function drillLexer(data: Uint8Array): void {
  const src = utf8.decode(data);
  try {
    lex(src);
  } catch (e) {
    drillError('lex', e, src);
  }
}

function drillParser(data: Uint8Array): void {
  const src = utf8.decode(data);
  try {
    parse(src);
  } catch (e) {
    drillError('parse', e, src);
  }
}

// The CLI: arguments only for commands that neither write files, listen, nor touch the kernel.
const COMMANDS: string[][] = [['lab', 'list'], ['lab', 'explain'], ['lab', 'run'], ['drill'], []];
const UNSAFE = /^-{0,2}(pcap|svg|kernel|both|jobs|port|serve|tour|tun|proxy|bench|inspect|rebuild)\b/;

/** The bytes as arguments: the first picks a command, the rest are NUL- or newline-separated words. */
export function cliArgs(data: Uint8Array): string[] {
  const cmd = COMMANDS[(data[0] ?? 0) % COMMANDS.length]!;
  const words = utf8.decode(data.subarray(1)).split(/[\n\0]/).filter((w) => w.length <= 200).slice(0, 12);
  // No word naming an existing file or folder: `drill DIR` would run every script under it.
  return [...cmd, ...words.filter((w) => !UNSAFE.test(w) && !(w.length > 0 && existsSync(w)))];
}

/** Bad arguments: a clear message and a non-zero exit, never an uncaught exception. */
async function cli(data: Uint8Array): Promise<void> {
  const argv = cliArgs(data);
  if (argv.some((a) => /^(serve|tour)$/.test(a)) || argv.length === 0) return;
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  let errText = '';
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { errText += String(s); return true; }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await main(argv);
  } catch (e) {
    throw new Finding(`linger ${JSON.stringify(argv)} threw: ${(e as Error)?.stack ?? String(e)}`);
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  if (code !== 0 && errText.trim().length === 0) throw new Finding(`linger ${JSON.stringify(argv)} exited ${code} with no message`);
}

export const TARGETS: Record<string, (data: Uint8Array) => void | Promise<void>> = {
  wire,
  pcap,
  'drill-lexer': drillLexer,
  'drill-parser': drillParser,
  cli,
};
