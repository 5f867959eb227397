// Descriptor calls: dup(), dup2() (fs/file.c), fcntl() (fs/fcntl.c) and ioctl() (sock_ioctl,
// tcp_ioctl).

import * as K from './constants.ts';
import { fail } from './errno.ts';
import { inq } from './conn.ts';
import { SockFile, type FdEntry, type File, type Proc } from './file.ts';
import { outq, outqNotSent } from './tcpinfo.ts';
import type { Ret, ValueRet } from './types.ts';

/** The lowest free descriptor at or above `from` now refers to the file too (dup, F_DUPFD). */
function dupFrom(p: Proc, file: File, from: number, cloexec: boolean): Ret {
  const nfd = p.fds.lowestFree(from);
  if (nfd < 0) return fail('EMFILE');
  p.fds.install(nfd, file, cloexec);
  return { ret: nfd };
}

export function dup(p: Proc, fd: number): Ret {
  const e = p.fds.get(fd);
  if (!e) return fail('EBADF');
  return dupFrom(p, e.file, 0, false);
}

/** dup2: newfd (closed first if open) refers to oldfd's socket; the close of newfd does not block. */
export function dup2(p: Proc, oldfd: number, newfd: number): Ret {
  const e = p.fds.get(oldfd);
  if (!e) return fail('EBADF');
  if (!Number.isInteger(newfd) || newfd < 0 || newfd >= p.fds.maxFds) return fail('EBADF');
  if (oldfd === newfd) return { ret: newfd };
  p.fds.release(newfd);
  p.fds.install(newfd, e.file, false);
  return { ret: newfd };
}

type FcntlCmd = (p: Proc, e: FdEntry, arg: number, cmd: number) => Ret;

const dupfd: FcntlCmd = (p, e, arg, cmd) => {
  if (!Number.isInteger(arg) || arg < 0 || arg >= p.fds.maxFds) return fail('EINVAL');
  return dupFrom(p, e.file, arg, cmd === K.F_DUPFD_CLOEXEC);
};

/** fcntl's commands: O_NONBLOCK is the only file status flag kept, FD_CLOEXEC the only descriptor flag. */
const FCNTL = new Map<number, FcntlCmd>([
  [K.F_GETFL, (_p, e) => ({ ret: K.O_RDWR | (e.file instanceof SockFile && e.file.nonblock ? K.O_NONBLOCK : 0) })],
  [K.F_SETFL, (_p, e, arg) => {
    if (e.file instanceof SockFile) e.file.nonblock = (arg & K.O_NONBLOCK) !== 0;
    return { ret: 0 };
  }],
  [K.F_GETFD, (_p, e) => ({ ret: e.cloexec ? K.FD_CLOEXEC : 0 })],
  [K.F_SETFD, (_p, e, arg) => {
    e.cloexec = (arg & K.FD_CLOEXEC) !== 0;
    return { ret: 0 };
  }],
  [K.F_DUPFD, dupfd],
  [K.F_DUPFD_CLOEXEC, dupfd],
]);

export function fcntl(p: Proc, fd: number, cmd: number, arg: number): Ret {
  const e = p.fds.get(fd);
  if (!e) return fail('EBADF');
  const run = FCNTL.get(cmd);
  return run ? run(p, e, arg, cmd) : fail('EINVAL');
}

/** ioctl: FIONBIO sets O_NONBLOCK from arg; FIONREAD/SIOCINQ, SIOCOUTQ, SIOCOUTQNSD return the count in `value`. */
export function ioctl(p: Proc, fd: number, request: number, arg: number): ValueRet {
  const e = p.fds.get(fd);
  if (!e) return fail('EBADF');
  const f = e.file;
  if (!(f instanceof SockFile)) return fail('ENOTTY');
  if (request === K.FIONBIO) {
    f.nonblock = arg !== 0;
    return { ret: 0, value: arg };
  }
  if (request !== K.SIOCINQ && request !== K.SIOCOUTQ && request !== K.SIOCOUTQNSD) return fail('ENOTTY');
  if (f.sock.listener) return fail('EINVAL');
  const c = f.conn;
  let value: number;
  if (request === K.SIOCINQ) value = inq(c);
  else if (request === K.SIOCOUTQ) value = outq(c);
  else value = outqNotSent(c);
  return { ret: 0, value };
}
