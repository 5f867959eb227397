// Errors shaped like Node's system errors from libuv: `connect ECONNREFUSED 10.0.0.2:80`, with
// code, errno (negative, as libuv reports it), syscall, address and port.

import { ERRNO, type ErrnoCode } from '../base/errno.ts';

export interface NodeSystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

export function netError(code: ErrnoCode | string, syscall: string, address?: string, port?: number): NodeSystemError {
  const where = address !== undefined ? ` ${address}${port !== undefined ? `:${port}` : ''}` : '';
  const err = new Error(`${syscall} ${code}${where}`) as NodeSystemError;
  err.code = code;
  err.errno = code in ERRNO ? -ERRNO[code as ErrnoCode] : -1;
  err.syscall = syscall;
  if (address !== undefined) err.address = address;
  if (port !== undefined) err.port = port;
  return err;
}

/** Node's ERR_* errors (e.g. ERR_SOCKET_CLOSED, ERR_INVALID_ARG_VALUE). */
export function nodeError(code: string, message: string): Error & { code: string } {
  const err = new Error(message) as Error & { code: string };
  err.code = code;
  return err;
}
