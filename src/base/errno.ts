// Errors applications see, with Linux errno numbers (include/uapi/asm-generic/errno*.h).

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EINVAL: 22,
  EPIPE: 32,
  ENOPROTOOPT: 92,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
  EADDRNOTAVAIL: 99,
  ENETUNREACH: 101,
  ECONNABORTED: 103,
  ECONNRESET: 104,
  EISCONN: 106,
  ENOTCONN: 107,
  ETIMEDOUT: 110,
  ECONNREFUSED: 111,
  EHOSTUNREACH: 113,
  EALREADY: 114,
  EINPROGRESS: 115,
} as const;
/** The errno names linger's socket calls fail with (ECONNREFUSED, ETIMEDOUT...). */
export type ErrnoCode = keyof typeof ERRNO;

const MESSAGES: Partial<Record<ErrnoCode, string>> = {
  EPIPE: 'Broken pipe',
  ECONNRESET: 'Connection reset by peer',
  ECONNREFUSED: 'Connection refused',
  ETIMEDOUT: 'Connection timed out',
  EADDRINUSE: 'Address already in use',
  EADDRNOTAVAIL: 'Cannot assign requested address',
  EAGAIN: 'Resource temporarily unavailable',
  EINPROGRESS: 'Operation now in progress',
  ENOTCONN: 'Transport endpoint is not connected',
  EISCONN: 'Transport endpoint is already connected',
  EINVAL: 'Invalid argument',
  EALREADY: 'Operation already in progress',
  EBADF: 'Bad file descriptor',
  ENOPROTOOPT: 'Protocol not available',
  ECONNABORTED: 'Software caused connection abort',
  EHOSTUNREACH: 'No route to host',
  ENETUNREACH: 'Network is unreachable',
  EOPNOTSUPP: 'Operation not supported',
};

export const errnoMessage = (code: ErrnoCode): string => MESSAGES[code] ?? code;

/** A failed socket call, like Node's system errors: code, errno, syscall. */
export class SocketError extends Error {
  readonly errno: number;
  constructor(readonly code: ErrnoCode, readonly syscall: string, detail?: string) {
    super(`${syscall} ${code}${detail ? ` ${detail}` : ''}: ${errnoMessage(code)}`);
    this.name = 'SocketError';
    this.errno = ERRNO[code];
  }
}
