// A call's arguments: script expressions read as integers, descriptors, socket addresses,
// iovec lengths and buffers.

import * as K from '../bsd/constants.ts';
import type { SockAddr } from '../bsd/syscalls.ts';
import type { Expr, Pos } from './ast.ts';
import type { DrillConfig } from './config.ts';
import { fail } from './result.ts';
import { symbolValue } from './symbols.ts';

export function lookup(at: Pos, name: string): number {
  const v = symbolValue(name);
  if (v === undefined) fail(at, `unknown symbol ${name}`);
  return v;
}

export function describeExpr(e: Expr): string {
  switch (e.kind) {
    case 'num': return e.text;
    case 'sym': return e.name;
    case 'str': return JSON.stringify(e.value);
    case 'ellipsis': return '...';
    case 'list': return `[${e.items.map(describeExpr).join(', ')}]`;
    case 'struct': return `{${e.fields.map((f) => `${f.name ? `${f.name}=` : ''}${describeExpr(f.value)}`).join(', ')}}`;
    case 'call': return `${e.name}(...)`;
    case 'neg': return `-${describeExpr(e.e)}`;
    case 'or': return e.parts.map(describeExpr).join('|');
  }
}

/** A struct member's value (undefined when `e` is no struct or has no such member). */
export function field(e: Expr, name: string): Expr | undefined {
  if (e.kind !== 'struct') return undefined;
  return e.fields.find((f) => f.name === name)?.value;
}

/** The first of several spellings of a member that the struct has. */
export function fieldOf(e: Expr, ...names: string[]): Expr | undefined {
  for (const n of names) {
    const v = field(e, n);
    if (v) return v;
  }
  return undefined;
}

export class CallArgs {
  /**
   * @param fdMap script descriptors -> live ones.
   * @param line the line of the event being run (where a missing argument is reported).
   */
  constructor(
    private readonly cfg: DrillConfig,
    private readonly fdMap: ReadonlyMap<number, number>,
    private readonly line: () => number,
  ) {}

  /** An integer expression (symbols, |, -, htons()). */
  int(e: Expr | undefined, what: string): number {
    if (!e) fail({ line: this.line(), col: 1 }, `missing argument: ${what}`);
    switch (e.kind) {
      case 'num': return e.value;
      case 'sym': return lookup(e, e.name);
      case 'neg': return -this.int(e.e, what);
      case 'or': return e.parts.reduce((a, p) => a | this.int(p, what), 0);
      case 'list': if (e.items.length === 1) return this.int(e.items[0], what); break;
      case 'call':
        if (['htons', 'htonl', 'ntohs', 'ntohl'].includes(e.name) && e.args.length === 1) return this.int(e.args[0], what);
        break;
      default: break;
    }
    fail(e, `${what}: expected an integer, found ${describeExpr(e)}`);
  }

  /** An fd argument: script numbers map to live ones. */
  fd(e: Expr | undefined): number {
    const n = this.int(e, 'file descriptor');
    return this.fdMap.get(n) ?? n;
  }

  sockaddr(e: Expr | undefined, dflt: 'bind' | 'connect'): SockAddr {
    const c = this.cfg;
    const mapped = c.ipVersion === 'ipv4-mapped-ipv6';
    const fam = c.ipVersion === 'ipv4' ? K.AF_INET : K.AF_INET6;
    const show = (a: string): string => (mapped ? `::ffff:${a}` : a);
    const dfltAddr = show(dflt === 'bind' ? c.localIp : c.remoteIp);
    const dfltPort = dflt === 'bind' ? c.bindPort : c.connectPort;
    if (!e || e.kind === 'ellipsis' || (e.kind === 'sym' && e.name === 'NULL')) return { family: fam, addr: dfltAddr, port: dfltPort };
    if (e.kind !== 'struct') fail(e, `expected a socket address (... or {sa_family=..., sin_port=htons(N), sin_addr=inet_addr("...")}), found ${describeExpr(e)}`);
    const famE = fieldOf(e, 'sa_family', 'sin_family', 'sin6_family');
    const portE = fieldOf(e, 'sin_port', 'sin6_port');
    const addrE = fieldOf(e, 'sin_addr', 'sin6_addr');
    const family = famE ? this.int(famE, 'sa_family') : fam;
    const port = portE ? this.int(portE, 'port') : dfltPort;
    return { family, addr: addrE ? this.address(addrE, family) : dfltAddr, port };
  }

  private address(e: Expr, family: number): string {
    if (e.kind === 'call' && (e.name === 'inet_addr' || e.name === 'inet6_addr') && e.args[0]?.kind === 'str') return e.args[0].value;
    if (e.kind === 'str') return e.value;
    if (e.kind === 'sym' && e.name === 'INADDR_ANY') return family === K.AF_INET ? '0.0.0.0' : '::';
    return fail(e, `cannot read an address from ${describeExpr(e)}`);
  }

  /** Bytes of an iovec array ([{..., 100}, {..., 50}]) or a msghdr's msg_iov. */
  iovLen(e: Expr | undefined): number {
    if (!e) return 0;
    if (e.kind === 'list') return e.items.reduce((a, x) => a + this.iovLen(x), 0);
    if (e.kind === 'struct') {
      const iov = field(e, 'msg_iov');
      if (iov) return this.iovLen(iov);
      const len = field(e, 'iov_len') ?? e.fields[1]?.value;
      if (len) return this.int(len, 'iov_len');
    }
    fail(e, `expected an iovec array [{..., N}], found ${describeExpr(e)}`);
  }
}

/** A write's payload: `count` bytes, the script's string first when it gives one. */
export function payload(buf: Expr | undefined, count: number): Uint8Array {
  const b = new Uint8Array(Math.max(0, count)).fill(0x78);
  if (buf && buf.kind === 'str') b.set(new TextEncoder().encode(buf.value).subarray(0, count));
  return b;
}
