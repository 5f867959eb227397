// The packetdrill lexer: tokens with their line and column (1-based), as packetdrill's lexer.l
// cuts them. Newlines are whitespace; comments are `//` to the end of the line and `/* */`.
// Numbers are decimal integers, floats (`0.100`, `.1`) and 0x hex; "strings" with C escapes;
// `backquoted shell commands`; %{ python code }%; `...`; option lines `--name=value`.
// A `.` is its own token (the ACK flag): the parser joins adjacent tokens into flags (`S.`,
// `FP.`), which is why every token records whether whitespace came before it.

export type TokKind =
  | 'num' // value: the number; text: as written
  | 'word' // identifiers, symbols, flag letters, option names
  | 'string' // text: the decoded string
  | 'shell' // text: the command between the backquotes
  | 'code' // text: the python between %{ and }%
  | 'option' // text: "name=value" or "name" of a `--name=value` line
  | 'ellipsis'
  | 'punct' // text: one of + - * ~ = , : ( ) [ ] { } < > | . ! / ;
  | 'other' // a character the language does not use (kept so free text in notes lexes)
  | 'eof';

export interface Token {
  kind: TokKind;
  text: string;
  value?: number;
  line: number;
  col: number;
  /** Byte offset in the source. */
  offset: number;
  /** Whitespace, a comment or the start of the file came before this token. */
  spaceBefore: boolean;
}

export class DrillSyntaxError extends Error {
  constructor(readonly line: number, readonly col: number, readonly detail: string) {
    super(`${line}:${col}: ${detail}`);
    this.name = 'DrillSyntaxError';
  }
}

const PUNCT = new Set(['+', '-', '*', '~', '=', ',', ':', '(', ')', '[', ']', '{', '}', '<', '>', '|', '.', '!', ';', '/', '&', '^', '?']);

/**
 * The tokens of a script. `defines` are packetdrill's -D NAME=VALUE: a word that is a defined
 * name stands for the tokens of its value, at the word's position; in a backquoted shell
 * command, $NAME and ${NAME} are replaced by the value.
 */
export function lex(src: string, defines?: ReadonlyMap<string, string>): Token[] {
  const toks = new Lexer(src).tokens();
  if (!defines?.size) return toks;
  const out: Token[] = [];
  for (const t of toks) {
    const v = t.kind === 'word' ? defines.get(t.text) : undefined;
    if (v !== undefined) {
      const sub = new Lexer(v).tokens().slice(0, -1);
      sub.forEach((x, k) => out.push({ ...x, line: t.line, col: t.col, offset: t.offset, spaceBefore: k === 0 ? t.spaceBefore : x.spaceBefore }));
    } else if (t.kind === 'shell') {
      out.push({ ...t, text: t.text.replace(/\$\{(\w+)\}|\$(\w+)/g, (m, a: string | undefined, b: string | undefined) => defines.get((a ?? b)!) ?? m) });
    } else out.push(t);
  }
  return out;
}

const SPACE = new Set([' ', '\t', '\r', '\n', '\f', '\v']);
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'" };
const NUMBER = /^(?:0[xX][0-9a-fA-F]+|[0-9]+\.[0-9]+(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|[0-9]+)/;

class Lexer {
  private readonly out: Token[] = [];
  private i = 0;
  private line = 1;
  private col = 1;
  /** Whitespace (or a comment, or the start) came since the last token. */
  private space = true;
  // Where the token being read starts.
  private startLine = 1;
  private startCol = 1;
  private start = 0;

  constructor(private readonly src: string) {}

  tokens(): Token[] {
    while (this.i < this.src.length) this.token();
    this.out.push({ kind: 'eof', text: '', line: this.line, col: this.col, offset: this.src.length, spaceBefore: true });
    return this.out;
  }

  private advance(k: number): void {
    for (let j = 0; j < k; j++) {
      if (this.src[this.i] === '\n') {
        this.line++;
        this.col = 1;
      } else this.col++;
      this.i++;
    }
  }

  /** The token that starts at startLine:startCol and ends at the current position. */
  private push(kind: TokKind, text: string, value?: number): void {
    const t: Token = { kind, text, line: this.startLine, col: this.startCol, offset: this.start, spaceBefore: this.space };
    if (value !== undefined) t.value = value;
    this.out.push(t);
    this.space = false;
  }

  private error(detail: string): never {
    throw new DrillSyntaxError(this.startLine, this.startCol, detail);
  }

  private token(): void {
    const { src, i } = this;
    const c = src[i]!;
    if (SPACE.has(c)) {
      this.advance(1);
      this.space = true;
      return;
    }
    this.startLine = this.line;
    this.startCol = this.col;
    this.start = i;
    if (c === '/' && src[i + 1] === '/') {
      while (this.i < src.length && src[this.i] !== '\n') this.advance(1);
      this.space = true;
    } else if (c === '/' && src[i + 1] === '*') {
      this.delimited('/*', '*/', null, 'unterminated /* comment');
      this.space = true;
    } else if (c === '%' && src[i + 1] === '{') this.delimited('%{', '}%', 'code', 'unterminated %{ code block (no }%)');
    else if (c === '`') this.delimited('`', '`', 'shell', 'unterminated `shell command`');
    else if (c === '"') this.string();
    else if (c === '-' && src[i + 1] === '-' && /[A-Za-z_]/.test(src[i + 2] ?? '')) this.option();
    else if (c === '.' && src[i + 1] === '.' && src[i + 2] === '.') {
      this.advance(3);
      this.push('ellipsis', '...');
    } else if (!this.number()) {
      if (/[A-Za-z_]/.test(c)) this.word(i + 1);
      else {
        this.advance(1);
        this.push(PUNCT.has(c) ? 'punct' : 'other', c);
      }
    }
  }

  /** A comment, code block or shell command from `open` to `close`; its text is the token's (none for a comment). */
  private delimited(open: string, close: string, kind: TokKind | null, unterminated: string): void {
    const end = this.src.indexOf(close, this.i + open.length);
    if (end < 0) this.error(unterminated);
    const text = this.src.slice(this.i + open.length, end);
    this.advance(end + close.length - this.i);
    if (kind) this.push(kind, text);
  }

  /** A "string" with C escapes (\n \t \r \0 \\ \" \' \xHH). */
  private string(): void {
    const { src, i } = this;
    let j = i + 1;
    let s = '';
    for (;;) {
      if (j >= src.length || src[j] === '\n') this.error('unterminated "string"');
      const d = src[j]!;
      if (d === '"') break;
      if (d === '\\') {
        const e = src[j + 1];
        if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(j + 2, j + 4))) {
          s += String.fromCharCode(parseInt(src.slice(j + 2, j + 4), 16));
          j += 4;
          continue;
        }
        if (e === undefined || !(e in ESCAPES)) throw new DrillSyntaxError(this.line, this.col + (j - i), `unknown escape \\${e ?? ''} in string`);
        s += ESCAPES[e];
        j += 2;
        continue;
      }
      s += d;
      j++;
    }
    this.advance(j + 1 - i);
    this.push('string', s);
  }

  /** An option line's `--name=value` (a "quoted" value loses its quotes). */
  private option(): void {
    const { src, i } = this;
    let j = i + 2;
    while (j < src.length && /[A-Za-z0-9_-]/.test(src[j]!)) j++;
    if (src[j] === '=') {
      j++;
      if (src[j] === '"') {
        const end = src.indexOf('"', j + 1);
        if (end < 0) this.error('unterminated "string" in option');
        j = end + 1;
      } else while (j < src.length && !/\s/.test(src[j]!)) j++;
    }
    const text = src.slice(i + 2, j).replace(/="(.*)"$/, '=$1');
    this.advance(j - i);
    this.push('option', text);
  }

  /** A number, if one starts here. */
  private number(): boolean {
    const num = NUMBER.exec(this.src.slice(this.i, this.i + 64));
    if (!num) return false;
    const text = num[0];
    // A number glued to letters (`1abc`, a TFO cookie `0123abcd`) is a word.
    if (/[A-Za-z_]/.test(this.src[this.i + text.length] ?? '') && !/^0[xX]/.test(text)) this.word(this.i + text.length);
    else {
      const value = /^0[xX]/.test(text) ? parseInt(text, 16) : Number(text);
      this.advance(text.length);
      this.push('num', text, value);
    }
    return true;
  }

  /** A word from here, its letters, digits and _ from `j` on. */
  private word(j: number): void {
    while (j < this.src.length && /[A-Za-z0-9_]/.test(this.src[j]!)) j++;
    const text = this.src.slice(this.i, j);
    this.advance(j - this.i);
    this.push('word', text);
  }
}
