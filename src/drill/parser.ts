// The packetdrill grammar (packetdrill's parser.y), by recursive descent over lexer tokens:
//
//   script   := option* untimed* event* untimed*
//   event    := time action
//   time     := '*' | ['+']NUM ['~' ['+']NUM]          (a range is for outbound packets)
//   action   := packet | ['...' NUM] syscall | `shell` | %{code}%
//   packet   := ('<'|'>') ipinfo* (tcp | 'udp' ... | 'icmp' ...)
//   tcp      := FLAGS NUM ':' NUM '(' NUM ')' ['ack' NUM] ['win' NUM] ['urg' NUM] ['<' options '>']
//   syscall  := WORD '(' [expr (',' expr)*] ')' '=' expr [ERRNO] ['(' free text ')']
//   expr     := unary ('|' unary)*
//   unary    := '-' unary | NUM | WORD | WORD'(' args ')' | STRING | '...' | '[' list ']' | '{' fields '}'
//
// Errors are DrillSyntaxError with the line and column of the token where parsing failed.

import type { DrillEvent, EventBody, Expr, Field, IpInfo, OptionLine, PacketSpec, Pos, Script, SyscallSpec, TcpOptSpec, TcpPacketSpec, TimeSpec, UntimedCommand } from './ast.ts';
import { DrillSyntaxError, lex, type Token } from './lexer.ts';

const FLAG_LETTERS = /^[SFRPEWU.]+$/;
const u32 = (n: number): number => n >>> 0;

/** Seconds as written ("0.100", ".1", "2") to integer microseconds, without float drift. */
export function secondsToUs(text: string): number {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(text);
  if (!m) return Math.round(Number(text) * 1e6);
  const whole = m[1] ? Number(m[1]) : 0;
  const frac = (m[2] ?? '').padEnd(6, '0');
  return whole * 1_000_000 + Number(frac.slice(0, 6)) + (frac.length > 6 && Number(frac[6]) >= 5 ? 1 : 0);
}

/** A script parsed; `defines` are packetdrill's -D NAME=VALUE (see lex). */
export function parse(src: string, defines?: ReadonlyMap<string, string>): Script {
  return new Parser(src, defines).script();
}

class Parser {
  private toks: Token[];
  private i = 0;
  private lines: string[];

  constructor(private src: string, defines?: ReadonlyMap<string, string>) {
    this.toks = lex(src, defines);
    this.lines = src.split('\n');
  }

  /** The current token's kind (a call, so TypeScript does not narrow it across next()). */
  private kind(): Token['kind'] {
    return this.toks[this.i]!.kind;
  }
  private get t(): Token {
    return this.toks[this.i]!;
  }
  private peek(k = 1): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }
  private next(): Token {
    const t = this.t;
    if (t.kind !== 'eof') this.i++;
    return t;
  }
  private err(msg: string, t: Token = this.t): never {
    throw new DrillSyntaxError(t.line, t.col, msg);
  }
  private describe(t: Token): string {
    if (t.kind === 'eof') return 'end of file';
    if (t.kind === 'string') return `"${t.text}"`;
    if (t.kind === 'shell') return 'a `shell command`';
    if (t.kind === 'code') return 'a %{ code }% block';
    if (t.kind === 'option') return `option --${t.text}`;
    return `"${t.text}"`;
  }
  private isP(p: string, t: Token = this.t): boolean {
    return t.kind === 'punct' && t.text === p;
  }
  private isW(w: string, t: Token = this.t): boolean {
    return t.kind === 'word' && t.text === w;
  }
  private expectP(p: string, what?: string): Token {
    if (!this.isP(p)) this.err(`expected "${p}"${what ? ` ${what}` : ''}, found ${this.describe(this.t)}`);
    return this.next();
  }
  private pos(t: Token = this.t): Pos {
    return { line: t.line, col: t.col };
  }
  /** An unsigned integer token. */
  private int(what: string): number {
    const t = this.t;
    if (t.kind !== 'num' || !Number.isInteger(t.value)) this.err(`expected an integer for ${what}, found ${this.describe(t)}`);
    this.next();
    return t.value!;
  }
  /** Items separated by "," up to `close`, which it takes. */
  private commaList<T>(close: string, item: () => T, what: string): T[] {
    const items: T[] = [];
    if (!this.isP(close)) {
      for (;;) {
        items.push(item());
        if (!this.isP(',')) break;
        this.next();
      }
    }
    this.expectP(close, what);
    return items;
  }

  script(): Script {
    const options: OptionLine[] = [];
    const init: UntimedCommand[] = [];
    const events: DrillEvent[] = [];
    const cleanup: UntimedCommand[] = [];
    while (this.t.kind === 'option') {
      const t = this.next();
      const eq = t.text.indexOf('=');
      options.push({ ...this.pos(t), name: eq < 0 ? t.text : t.text.slice(0, eq), value: eq < 0 ? undefined : t.text.slice(eq + 1) });
    }
    while (this.t.kind === 'shell' || this.t.kind === 'code') {
      const t = this.next();
      init.push({ ...this.pos(t), kind: t.kind as 'shell' | 'code', text: t.text });
    }
    while (this.kind() !== 'eof') {
      if (this.kind() === 'shell' || this.kind() === 'code') {
        const t = this.next();
        cleanup.push({ ...this.pos(t), kind: t.kind as 'shell' | 'code', text: t.text });
        continue;
      }
      if (cleanup.length) this.err(`expected the end of the script after the untimed cleanup command, found ${this.describe(this.t)}`);
      if (this.kind() === 'option') this.err('option lines (--name=value) must come before the first event');
      events.push(this.event());
    }
    return { options, init, events, cleanup, lines: this.lines };
  }

  private event(): DrillEvent {
    const first = this.t;
    const time = this.time();
    let endUs: number | undefined;
    if (this.t.kind === 'ellipsis') {
      const e = this.next();
      const n = this.t;
      if (n.kind !== 'num') this.err(`expected the end time of the blocking call after "...", found ${this.describe(n)}`);
      this.next();
      endUs = secondsToUs(n.text);
      if (time.kind === 'any' || time.kind === 'absRange' || time.kind === 'relRange') this.err('a blocking call (T...END) needs a single start time', e);
    }
    const t = this.t;
    let body: EventBody;
    if (this.isP('<') || this.isP('>')) {
      if (endUs !== undefined) this.err('only system calls can block (T...END)', t);
      body = { kind: 'packet', packet: this.packet() };
    } else if (t.kind === 'shell' || t.kind === 'code') {
      if (endUs !== undefined) this.err('only system calls can block (T...END)', t);
      this.next();
      body = t.kind === 'shell' ? { kind: 'shell', command: t.text } : { kind: 'code', code: t.text };
    } else if (t.kind === 'word' && this.isP('(', this.peek())) {
      body = { kind: 'syscall', call: this.syscall(endUs) };
    } else {
      this.err(`expected a packet (< or >), a system call, a \`shell command\` or a %{ code }% block after the time, found ${this.describe(t)}`);
    }
    if ((time.kind === 'absRange' || time.kind === 'relRange') && !(body.kind === 'packet' && body.packet.dir === '>')) {
      this.err('a time range (T1~T2) is allowed only for outbound packets', first);
    }
    const last = this.toks[this.i - 1]!;
    const text = this.lines.slice(first.line - 1, last.line).map((l) => l.trim()).join(' ').replace(/\s*\/\/.*$/, '');
    return { ...this.pos(first), time, body, text };
  }

  private time(): TimeSpec {
    const t = this.t;
    if (this.isP('*')) {
      this.next();
      return { kind: 'any' };
    }
    const one = (): { rel: boolean; us: number } => {
      const rel = this.isP('+');
      if (rel) this.next();
      const n = this.t;
      if (n.kind !== 'num' || /^0[xX]/.test(n.text)) {
        this.err(rel ? `expected a time after "+", found ${this.describe(n)}` : `expected an event time (T, +T or *), found ${this.describe(n)}`);
      }
      this.next();
      return { rel, us: secondsToUs(n.text) };
    };
    const a = one();
    if (this.isP('~')) {
      this.next();
      const b = one();
      if (a.rel !== b.rel) this.err('both ends of a time range must be relative (+T1~+T2) or both absolute (T1~T2)', t);
      if (b.us < a.us) this.err('a time range must not end before it starts', t);
      return a.rel ? { kind: 'relRange', us: a.us, endUs: b.us } : { kind: 'absRange', us: a.us, endUs: b.us };
    }
    return a.rel ? { kind: 'rel', us: a.us } : { kind: 'abs', us: a.us };
  }

  // ---- packets ----

  private packet(): PacketSpec {
    const dirTok = this.next();
    const dir = dirTok.text as '<' | '>';
    const ip = this.ipInfo();
    if (this.isW('udp') || this.isW('icmp')) {
      const w = this.next();
      // UDP and ICMP lines are kept as text: the rest of the line.
      const parts: string[] = [];
      while (this.t.kind !== 'eof' && this.t.line === w.line) parts.push(this.next().text);
      return { proto: w.text as 'udp' | 'icmp', dir, text: parts.join(' ') };
    }
    const ft = this.t;
    const flags = this.flags();
    const st = this.t;
    const start = this.int('the starting sequence number');
    this.expectP(':', 'between the start and end sequence numbers');
    const end = this.int('the ending sequence number');
    this.expectP('(', 'before the payload length');
    const len = this.int('the payload length');
    this.expectP(')', 'after the payload length');
    if (u32(start + len) !== u32(end)) this.err(`inconsistent sequence numbers: ${start}:${end} is not ${len} bytes (end must be start + length)`, st);
    const p: TcpPacketSpec = { proto: 'tcp', dir, ip, flags, flagsPos: this.pos(ft), start: u32(start), end: u32(end), len };
    this.ackWinUrg(p);
    if (this.isP('<')) {
      const lt = this.next();
      if (this.t.kind === 'ellipsis') {
        this.next();
        this.expectP('>', 'to close "<..."');
        if (dir === '<') this.err('"<...>" (any options) is allowed only for outbound packets', lt);
        p.options = 'any';
      } else {
        p.options = this.tcpOptions();
      }
    }
    if (dir === '<' && p.win === undefined) this.err('an inbound packet needs a window (win N)', dirTok);
    return p;
  }

  /** `[ecn]` and `(tos N)`, `(flowlabel N)`, `(ttl N)` before the protocol. */
  private ipInfo(): IpInfo {
    const ip: IpInfo = {};
    for (;;) {
      if (this.isP('[')) {
        this.next();
        const w = this.t;
        if (w.kind !== 'word' || !/^(noect|ect0|ect1|ect01|ce)$/.test(w.text)) this.err(`expected an ECN codepoint (noect, ect0, ect1, ect01, ce), found ${this.describe(w)}`);
        this.next();
        ip.ecn = w.text;
        this.expectP(']');
        continue;
      }
      if (this.isP('(') && this.peek().kind === 'word' && /^(tos|flowlabel|ttl|hoplimit|class)$/.test(this.peek().text)) {
        this.next();
        const name = this.next().text;
        const v = this.int(name);
        if (name === 'tos' || name === 'class') ip.tos = v;
        else if (name === 'flowlabel') ip.flowlabel = v;
        else ip.ttl = v;
        this.expectP(')');
        continue;
      }
      break;
    }
    return ip;
  }

  /** Flags: adjacent tokens made of S F R P E W U and '.', or '-' for none (''). */
  private flags(): string {
    const ft = this.t;
    let flags = '';
    if (this.isP('-')) {
      this.next();
    } else {
      let first = true;
      while ((this.t.kind === 'word' || this.isP('.')) && (first || !this.t.spaceBefore)) {
        if (!FLAG_LETTERS.test(this.t.text)) {
          if (first) this.err(`expected TCP flags (S F R P E W U . or -), found ${this.describe(this.t)}`);
          this.err(`"${this.t.text}" is not a TCP flag (flags are S F R P E W U and .)`);
        }
        flags += this.next().text;
        first = false;
      }
      if (first) this.err(`expected TCP flags (S F R P E W U . or -), found ${this.describe(this.t)}`);
    }
    for (const ch of flags) if (flags.indexOf(ch) !== flags.lastIndexOf(ch)) this.err(`flag "${ch}" is given twice`, ft);
    return flags;
  }

  /** `ack N`, `win N`, `urg N`, each at most once, in any order. */
  private ackWinUrg(p: TcpPacketSpec): void {
    for (;;) {
      if (this.isW('ack') && p.ack === undefined) {
        this.next();
        p.ack = u32(this.int('ack'));
      } else if (this.isW('win') && p.win === undefined) {
        this.next();
        p.win = this.int('win');
        if (p.win > 65535) this.err('win must be at most 65535 (the raw 16-bit field)');
      } else if (this.isW('urg') && p.urg === undefined) {
        this.next();
        p.urg = this.int('urg');
      } else break;
    }
  }

  private tcpOptions(): TcpOptSpec[] {
    const out: TcpOptSpec[] = [];
    if (this.isP('>')) {
      this.next();
      return out;
    }
    for (;;) {
      const t = this.t;
      const pos = this.pos(t);
      if (t.kind !== 'word') this.err(`expected a TCP option (nop, eol, mss, wscale, sackOK, sack, TS, md5, FO, FOEXP), found ${this.describe(t)}`);
      this.next();
      switch (t.text) {
        case 'nop':
        case 'NOP':
          out.push({ ...pos, kind: 'nop' });
          break;
        case 'eol':
        case 'EOL':
          out.push({ ...pos, kind: 'eol' });
          break;
        case 'mss':
          out.push({ ...pos, kind: 'mss', value: this.int('mss') });
          break;
        case 'wscale':
          out.push({ ...pos, kind: 'wscale', value: this.int('wscale') });
          break;
        case 'sackOK':
          out.push({ ...pos, kind: 'sackOK' });
          break;
        case 'sack': {
          const blocks: Array<[number, number]> = [];
          while (this.t.kind === 'num') {
            const l = this.int('a SACK block start');
            this.expectP(':', 'in a SACK block (L:R)');
            blocks.push([u32(l), u32(this.int('a SACK block end'))]);
          }
          if (!blocks.length) this.err('a sack option needs at least one block L:R');
          out.push({ ...pos, kind: 'sack', blocks });
          break;
        }
        case 'TS': {
          if (!this.isW('val')) this.err(`expected "val" after TS, found ${this.describe(this.t)}`);
          this.next();
          const val = u32(this.int('TS val'));
          if (!this.isW('ecr')) this.err(`expected "ecr" in the TS option, found ${this.describe(this.t)}`);
          this.next();
          out.push({ ...pos, kind: 'TS', val, ecr: u32(this.int('TS ecr')) });
          break;
        }
        case 'md5':
          // packetdrill: `md5` alone; any signature argument is taken as text.
          if (!this.isP(',') && !this.isP('>')) this.next();
          out.push({ ...pos, kind: 'md5' });
          break;
        case 'FO':
        case 'FOEXP': {
          let cookie: string | undefined;
          if (!this.isP(',') && !this.isP('>')) cookie = this.next().text;
          out.push({ ...pos, kind: t.text, ...(cookie !== undefined ? { cookie } : {}) } as TcpOptSpec);
          break;
        }
        default: {
          const parts: string[] = [];
          while (!this.isP(',') && !this.isP('>') && this.t.kind !== 'eof') parts.push(this.next().text);
          out.push({ ...pos, kind: 'unknown', name: t.text, text: parts.join(' ') });
        }
      }
      if (this.isP(',')) {
        this.next();
        continue;
      }
      this.expectP('>', 'to end the option list (or "," between options)');
      return out;
    }
  }

  // ---- system calls and expressions ----

  private syscall(endUs: number | undefined): SyscallSpec {
    const nameTok = this.next();
    this.expectP('(');
    const args = this.commaList(')', () => this.expr(), `to close the arguments of ${nameTok.text}()`);
    if (!this.isP('=')) this.err(`expected "=" and the return value after ${nameTok.text}(...), found ${this.describe(this.t)}`);
    this.next();
    const ret = this.expr();
    const call: SyscallSpec = { name: nameTok.text, namePos: this.pos(nameTok), args, ret };
    if (endUs !== undefined) call.endUs = endUs;
    if (this.t.kind === 'word') {
      const e = this.next();
      if (!/^E[A-Z0-9]+$/.test(e.text)) this.err(`expected an errno name (EAGAIN, EINPROGRESS, ...) after the return value, found "${e.text}"`, e);
      call.errno = e.text;
      call.errnoPos = this.pos(e);
    }
    if (this.isP('(')) {
      // Free text: "(Operation now in progress)". Anything up to the matching ')'.
      const open = this.next();
      let depth = 1;
      const startOff = open.offset + 1;
      let endOff = startOff;
      while (depth > 0) {
        const t = this.t;
        if (t.kind === 'eof') this.err('unterminated note: expected ")"', open);
        if (this.isP('(')) depth++;
        if (this.isP(')')) depth--;
        endOff = t.offset;
        this.next();
      }
      call.note = this.src.slice(startOff, endOff).trim();
    }
    return call;
  }

  private expr(): Expr {
    const first = this.unary();
    if (!this.isP('|')) return first;
    const parts = [first];
    while (this.isP('|')) {
      this.next();
      parts.push(this.unary());
    }
    return { line: first.line, col: first.col, kind: 'or', parts };
  }

  private unary(): Expr {
    const t = this.t;
    const pos = this.pos(t);
    if (this.isP('-')) {
      this.next();
      return { ...pos, kind: 'neg', e: this.unary() };
    }
    switch (t.kind) {
      case 'num':
        this.next();
        return { ...pos, kind: 'num', value: t.value!, text: t.text };
      case 'string':
        this.next();
        return { ...pos, kind: 'str', value: t.text };
      case 'ellipsis':
        this.next();
        return { ...pos, kind: 'ellipsis' };
      case 'word': {
        this.next();
        if (this.isP('(') && !this.t.spaceBefore) {
          this.next();
          const args = this.commaList(')', () => this.expr(), `to close ${t.text}(`);
          return { ...pos, kind: 'call', name: t.text, args };
        }
        return { ...pos, kind: 'sym', name: t.text };
      }
      case 'punct':
        if (t.text === '[') {
          this.next();
          const items = this.commaList(']', () => this.expr(), 'to close the list');
          return { ...pos, kind: 'list', items };
        }
        if (t.text === '{') {
          this.next();
          const fields = this.commaList('}', () => this.field(), 'to close the struct');
          return { ...pos, kind: 'struct', fields };
        }
        break;
      default:
        break;
    }
    this.err(`expected an expression (number, symbol, "string", ..., [list] or {struct}), found ${this.describe(t)}`);
  }

  private field(): Field {
    const t = this.t;
    const pos = this.pos(t);
    if (t.kind === 'word' && this.isP('=', this.peek())) {
      this.next();
      this.next();
      return { ...pos, name: t.text, value: this.expr() };
    }
    if (t.kind === 'word' && this.isP('(', this.peek()) && !this.peek().spaceBefore) {
      // name(index)=value (msg_iov(1)=[...]) or a call expression used as a value.
      const save = this.i;
      this.next();
      this.next();
      const index = this.expr();
      if (this.isP(')') && this.isP('=', this.peek())) {
        this.next();
        this.next();
        return { ...pos, name: t.text, index, value: this.expr() };
      }
      this.i = save;
    }
    return { ...pos, value: this.expr() };
  }
}
