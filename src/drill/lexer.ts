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

export function lex(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  let line = 1;
  let col = 1;
  let space = true;
  const n = src.length;

  const advance = (k: number): void => {
    for (let j = 0; j < k; j++) {
      if (src[i] === '\n') {
        line++;
        col = 1;
      } else col++;
      i++;
    }
  };
  const push = (kind: TokKind, text: string, startLine: number, startCol: number, start: number, value?: number): void => {
    const t: Token = { kind, text, line: startLine, col: startCol, offset: start, spaceBefore: space };
    if (value !== undefined) t.value = value;
    out.push(t);
    space = false;
  };

  while (i < n) {
    const c = src[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v') {
      advance(1);
      space = true;
      continue;
    }
    const L = line;
    const C = col;
    const start = i;
    if (c === '/' && src[i + 1] === '/') {
      while (i < n && src[i] !== '\n') advance(1);
      space = true;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw new DrillSyntaxError(L, C, 'unterminated /* comment');
      advance(end + 2 - i);
      space = true;
      continue;
    }
    if (c === '%' && src[i + 1] === '{') {
      const end = src.indexOf('}%', i + 2);
      if (end < 0) throw new DrillSyntaxError(L, C, 'unterminated %{ code block (no }%)');
      const text = src.slice(i + 2, end);
      advance(end + 2 - i);
      push('code', text, L, C, start);
      continue;
    }
    if (c === '`') {
      const end = src.indexOf('`', i + 1);
      if (end < 0) throw new DrillSyntaxError(L, C, 'unterminated `shell command`');
      const text = src.slice(i + 1, end);
      advance(end + 1 - i);
      push('shell', text, L, C, start);
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let s = '';
      for (;;) {
        if (j >= n || src[j] === '\n') throw new DrillSyntaxError(L, C, 'unterminated "string"');
        const d = src[j]!;
        if (d === '"') break;
        if (d === '\\') {
          const e = src[j + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'" };
          if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(src.slice(j + 2, j + 4))) {
            s += String.fromCharCode(parseInt(src.slice(j + 2, j + 4), 16));
            j += 4;
            continue;
          }
          if (e === undefined || !(e in map)) throw new DrillSyntaxError(line, col + (j - i), `unknown escape \\${e ?? ''} in string`);
          s += map[e];
          j += 2;
          continue;
        }
        s += d;
        j++;
      }
      advance(j + 1 - i);
      push('string', s, L, C, start);
      continue;
    }
    if (c === '-' && src[i + 1] === '-' && /[A-Za-z_]/.test(src[i + 2] ?? '')) {
      let j = i + 2;
      while (j < n && /[A-Za-z0-9_-]/.test(src[j]!)) j++;
      if (src[j] === '=') {
        j++;
        if (src[j] === '"') {
          const end = src.indexOf('"', j + 1);
          if (end < 0) throw new DrillSyntaxError(L, C, 'unterminated "string" in option');
          j = end + 1;
        } else while (j < n && !/\s/.test(src[j]!)) j++;
      }
      const text = src.slice(i + 2, j).replace(/="(.*)"$/, '=$1');
      advance(j - i);
      push('option', text, L, C, start);
      continue;
    }
    if (c === '.' && src[i + 1] === '.' && src[i + 2] === '.') {
      advance(3);
      push('ellipsis', '...', L, C, start);
      continue;
    }
    const num = /^(?:0[xX][0-9a-fA-F]+|[0-9]+\.[0-9]+(?:[eE][-+]?[0-9]+)?|\.[0-9]+(?:[eE][-+]?[0-9]+)?|[0-9]+)/.exec(src.slice(i, i + 64));
    if (num) {
      const text = num[0];
      // A number glued to letters (`1abc`, a TFO cookie `0123abcd`) is a word.
      if (/[A-Za-z_]/.test(src[i + text.length] ?? '') && !/^0[xX]/.test(text)) {
        let j = i + text.length;
        while (j < n && /[A-Za-z0-9_]/.test(src[j]!)) j++;
        const w = src.slice(i, j);
        advance(j - i);
        push('word', w, L, C, start);
        continue;
      }
      const value = /^0[xX]/.test(text) ? parseInt(text, 16) : Number(text);
      advance(text.length);
      push('num', text, L, C, start, value);
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_]/.test(src[j]!)) j++;
      const text = src.slice(i, j);
      advance(j - i);
      push('word', text, L, C, start);
      continue;
    }
    if (PUNCT.has(c)) {
      advance(1);
      push('punct', c, L, C, start);
      continue;
    }
    advance(1);
    push('other', c, L, C, start);
  }
  out.push({ kind: 'eof', text: '', line, col, offset: n, spaceBefore: true });
  return out;
}
