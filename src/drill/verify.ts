// A call's result against the script's: `= ret [ERRNO]`, and what getsockopt() read.

import { BSD_ERRNO } from '../bsd/constants.ts';
import type { OptValue } from '../bsd/syscalls.ts';
import type { Expr, SyscallSpec } from './ast.ts';
import { describeExpr, type CallArgs } from './args.ts';
import { fail } from './result.ts';

/** What every call returns: ret, and errno when it failed. */
export interface CallRet {
  ret: number;
  errno?: string | undefined;
}

export const fmtRet = (r: CallRet): string => (r.errno ? `-1 ${r.errno}` : String(r.ret));

/** Compares a call's result with the script's `= ret [ERRNO]`; `anyFd`: any descriptor will do. */
export function checkRet(args: CallArgs, c: SyscallSpec, r: CallRet, anyFd = false): void {
  const want = c.ret.kind === 'ellipsis' ? null : args.int(c.ret, 'return value');
  const expected = `${c.name}(...) = ${want === null ? '...' : want}${c.errno ? ` ${c.errno}` : ''}`;
  const actual = `${c.name}(...) = ${fmtRet(r)}${r.errno ? ` (${BSD_ERRNO[r.errno as keyof typeof BSD_ERRNO] ?? '?'})` : ''}`;
  const bad = (msg: string): never => fail(c.namePos, msg, { expected, actual });
  if (c.errno) {
    if (!r.errno) bad(`${c.name}() returned ${r.ret}, the script expects -1 ${c.errno}`);
    if (r.errno !== c.errno) bad(`${c.name}() failed with ${r.errno}, the script expects ${c.errno}`);
    if (want !== null && want !== -1) bad(`${c.name}(): an errno comes with -1, the script says ${want}`);
    return;
  }
  if (r.errno) {
    if (want === -1) return;
    bad(`${c.name}() failed with ${r.errno}, the script expects ${want === null ? 'success' : want}`);
  }
  if (want === null) return;
  if (anyFd && want >= 0 && r.ret >= 0) return;
  if (r.ret !== want) bad(`${c.name}() returned ${r.ret}, the script expects ${want}`);
}

/** getsockopt()'s value against the script's `[N]`, `{field=N, ...}` or `"name"` (TCP_CONGESTION). */
export function checkOptValue(args: CallArgs, want: Expr, got: OptValue): void {
  if (want.kind === 'ellipsis') return;
  if (want.kind === 'str' || typeof got === 'string') {
    if (want.kind !== 'str' || got !== want.value) fail(want, `getsockopt() value ${JSON.stringify(got)} != ${describeExpr(want)}`, { expected: describeExpr(want), actual: JSON.stringify(got) });
    return;
  }
  if (want.kind === 'list' && want.items.length === 1) {
    const inner = want.items[0]!;
    if (inner.kind === 'ellipsis') return;
    if (inner.kind !== 'struct') {
      const w = args.int(inner, 'option value');
      if (typeof got !== 'number' || got !== w) fail(want, `getsockopt() value ${JSON.stringify(got)} != ${w}`, { expected: `[${w}]`, actual: `[${typeof got === 'number' ? got : JSON.stringify(got)}]` });
      return;
    }
    want = inner;
  }
  if (want.kind === 'struct') {
    checkOptStruct(args, want, got);
    return;
  }
  const w = args.int(want, 'option value');
  if (got !== w) fail(want, `getsockopt() value ${JSON.stringify(got)} != ${w}`);
}

/** packetdrill's struct linger spelling. */
const LINGER_ALIAS: Record<string, string> = { onoff: 'l_onoff', linger: 'l_linger' };

function checkOptStruct(args: CallArgs, want: Expr & { kind: 'struct' }, got: OptValue): void {
  // A number where the script expects a struct: `in` throws, a runner error.
  const obj = got as Exclude<OptValue, number | string>;
  for (const f of want.fields) {
    if (!f.name || f.value.kind === 'ellipsis') continue;
    const key = f.name in obj ? f.name : LINGER_ALIAS[f.name] ?? f.name;
    if (!(key in obj)) fail(f, `getsockopt(): the result has no field ${f.name}`);
    const w = args.int(f.value, f.name);
    const have: unknown = Reflect.get(obj, key);
    if (have !== w) fail(f, `getsockopt() ${f.name} ${have} != ${w}`, { expected: `${f.name}=${w}`, actual: `${f.name}=${have}` });
  }
}
