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

/** libuv's descriptions (uv_strerror), as node:net puts them in listen and bind errors. */
const UV_DESCRIPTIONS: Readonly<Record<string, string>> = {
  EADDRINUSE: 'address already in use',
  EADDRNOTAVAIL: 'address not available',
  EACCES: 'permission denied',
  EINVAL: 'invalid argument',
  EAFNOSUPPORT: 'address family not supported',
};

/**
 * Node's uvExceptionWithHostPort (listen, bind): `listen EADDRINUSE: address already in use
 * 127.0.0.1:8080`, where connect's exceptionWithHostPort has no description.
 */
export function netErrorWithDescription(code: ErrnoCode | string, syscall: string, address: string, port: number): NodeSystemError {
  const err = netError(code, syscall, address, port);
  const desc = UV_DESCRIPTIONS[code];
  if (desc) err.message = `${syscall} ${code}: ${desc} ${address}:${port}`;
  return err;
}

/** Node's ERR_* errors (e.g. ERR_SOCKET_CLOSED, ERR_INVALID_ARG_VALUE). */
export function nodeError(code: string, message: string, Kind: ErrorConstructor = Error): Error & { code: string } {
  const err = new Kind(message) as Error & { code: string };
  err.code = code;
  return err;
}

/**
 * validatePort (lib/internal/validators.js): an integer 0..65535, or a string of one; else a
 * RangeError ERR_SOCKET_BAD_PORT thrown at once: `options.port should be >= 0 and < 65536.
 * Received type number (70000).`
 */
export function validatePort(port: unknown, name = 'options.port'): number {
  const ok = (typeof port === 'number' || (typeof port === 'string' && port.trim().length > 0)) &&
    Number(port) >>> 0 === Number(port) && Number(port) <= 0xffff;
  if (!ok) {
    const got = typeof port === 'number' ? `type number (${port})` : typeof port === 'string' ? `type string ('${port}')` : port === undefined ? 'undefined' : `type ${typeof port}`;
    throw nodeError('ERR_SOCKET_BAD_PORT', `${name} should be >= 0 and < 65536. Received ${got}.`, RangeError as unknown as ErrorConstructor);
  }
  return Number(port);
}
