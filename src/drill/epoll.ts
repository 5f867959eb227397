// epoll, which the BSD layer does not have, emulated over poll(): an interest list per epoll
// descriptor (a reserved live fd), level- or edge-triggered, EPOLLONESHOT. An edge is a wake-up
// of the socket (ep_poll_callback: data or a connection arrived, a state change, an error), or
// a readiness bit that was not there at the last report (write space after none); so new data
// on a socket that was readable already is an edge, as on Linux (seen on 6.18: drill --both,
// api/epoll-et-new-data-wakes-again.pkt). On the kernel the runner uses the kernel's own epoll.

import * as K from '../bsd/constants.ts';
import { BSD_ERRNO } from '../bsd/constants.ts';
import type { PollFd } from '../bsd/syscalls.ts';
import { EPOLL } from './symbols.ts';
import type { CallRet } from './verify.ts';

interface EpollReg {
  fd: number; // live
  events: number;
  data: number; // script fd as given in {fd=...}
  lastMask: number;
  disabled: boolean;
  /** The socket was woken since the last report. */
  woken: boolean;
}

/** An event epoll_wait() reports. */
export interface EpollEvent {
  events: number;
  data: number;
}

const ERRNUM_EXTRA: Record<string, number> = { EEXIST: 17 };

/** A failed epoll call (EEXIST is not among the BSD layer's errnos). */
export function epollError(errno: string): CallRet & { errnum: number } {
  return { ret: -1, errno, errnum: BSD_ERRNO[errno as keyof typeof BSD_ERRNO] ?? ERRNUM_EXTRA[errno] ?? 0 };
}

export class EpollSet {
  private readonly regs = new Map<number, EpollReg>();

  has(fd: number): boolean {
    return this.regs.has(fd);
  }

  delete(fd: number): boolean {
    return this.regs.delete(fd);
  }

  /**
   * EPOLL_CTL_ADD or _MOD. `onWake` subscribes to the socket's wake-ups (ep_poll_callback); a
   * new or changed registration reports what is ready at once (ep_insert, ep_modify).
   */
  set(op: number, fd: number, events: number, data: number, onWake?: (fn: () => void) => void): CallRet {
    if (op === EPOLL.EPOLL_CTL_ADD && this.regs.has(fd)) return epollError('EEXIST');
    if (op === EPOLL.EPOLL_CTL_MOD && !this.regs.has(fd)) return epollError('ENOENT');
    this.regs.set(fd, { fd, events, data, lastMask: 0, disabled: false, woken: true });
    if (op === EPOLL.EPOLL_CTL_ADD) {
      onWake?.(() => {
        const r = this.regs.get(fd);
        if (r) r.woken = true;
      });
    }
    return { ret: 0 };
  }

  /** The events ready now, at most `max` (edge-triggered ones only when they changed). */
  scan(max: number, revents: (p: PollFd) => number): EpollEvent[] {
    const ready: EpollEvent[] = [];
    for (const reg of this.regs.values()) {
      if (reg.disabled) continue;
      const m = revents({ fd: reg.fd, events: reg.events & 0xffff }) & (reg.events | K.POLLERR | K.POLLHUP);
      const et = (reg.events & EPOLL.EPOLLET) !== 0;
      const report = et ? m !== 0 && (reg.woken || (m & ~reg.lastMask) !== 0) : m !== 0;
      if (et) {
        reg.lastMask = m;
        reg.woken = false;
      }
      if (report && ready.length < max) {
        ready.push({ events: m, data: reg.data });
        if (reg.events & EPOLL.EPOLLONESHOT) reg.disabled = true;
      }
    }
    return ready;
  }
}

/** The epoll descriptors of a run. */
export class Epolls {
  private readonly sets = new Map<number, EpollSet>();

  create(fd: number): void {
    this.sets.set(fd, new EpollSet());
  }

  get(fd: number): EpollSet | undefined {
    return this.sets.get(fd);
  }

  /** A descriptor closed: an epoll set, or a member of every set. */
  closed(fd: number): void {
    this.sets.delete(fd);
    for (const s of this.sets.values()) s.delete(fd);
  }
}
