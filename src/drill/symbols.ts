// Names a script may use: the BSD layer's Linux constants, plus the ones only the runner
// implements (epoll) and packetdrill's NULL.

import { SYMBOLS } from '../bsd/constants.ts';

export const EPOLL = {
  EPOLL_CTL_ADD: 1,
  EPOLL_CTL_DEL: 2,
  EPOLL_CTL_MOD: 3,
  EPOLLIN: 0x1,
  EPOLLPRI: 0x2,
  EPOLLOUT: 0x4,
  EPOLLERR: 0x8,
  EPOLLHUP: 0x10,
  EPOLLRDNORM: 0x40,
  EPOLLRDBAND: 0x80,
  EPOLLWRNORM: 0x100,
  EPOLLWRBAND: 0x200,
  EPOLLMSG: 0x400,
  EPOLLRDHUP: 0x2000,
  EPOLLEXCLUSIVE: 1 << 28,
  EPOLLWAKEUP: 1 << 29,
  EPOLLONESHOT: 1 << 30,
  EPOLLET: 0x80000000,
  EPOLL_CLOEXEC: 0o2000000,
} as const;

export const DRILL_SYMBOLS: Readonly<Record<string, number>> = {
  ...SYMBOLS,
  ...EPOLL,
  NULL: 0,
  // tcp_info constants a %{ }% block may also use are in SYMBOLS (TCP_ESTABLISHED ..., TCP_CA_*).
};

/** The symbol's value, or undefined for a name linger does not know. */
export const symbolValue = (name: string): number | undefined =>
  Object.prototype.hasOwnProperty.call(DRILL_SYMBOLS, name) ? DRILL_SYMBOLS[name] : undefined;
