// Errors are results, not exceptions: a failed call returns { ret: -1, errno, errnum } as
// the C library sets errno and returns -1.

import { SocketError } from '../base/errno.ts';
import { BSD_ERRNO, type Errno } from './constants.ts';
import type { Ret, SysError } from './types.ts';

export const fail = (e: Errno): SysError => ({ ret: -1, errno: e, errnum: BSD_ERRNO[e] });

export const isErr = (v: unknown): v is SysError => typeof v === 'object' && v !== null && (v as SysError).ret === -1 && typeof (v as SysError).errno === 'string';

/** The engine call, or its errno. */
export function engine<T>(fn: () => T): T | SysError {
  try {
    return fn();
  } catch (e) {
    if (e instanceof SocketError) return fail(e.code);
    throw e;
  }
}

/** An engine call whose success is a plain 0. */
export function engineRet(fn: () => unknown): Ret {
  const r = engine(fn);
  return isErr(r) ? r : { ret: 0 };
}
