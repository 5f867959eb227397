// Descriptor calls: dup(), dup2() (fs/file.c), fcntl() (fs/fcntl.c) and ioctl() (sock_ioctl,
// tcp_ioctl).

import * as K from './constants.ts';
import { fail } from './errno.ts';
import { isConnecting, SockFile, type Proc } from './file.ts';
import { outq, outqNotSent } from './tcpinfo.ts';
import type { Ret, ValueRet } from './types.ts';

export function dup(p: Proc, fd: number): Ret {
  const e = p.fds.get(fd);
  if (!e) return fail('EBADF');
  const nfd = p.fds.lowestFree();
  if (nfd < 0) return fail('EMFILE');
  p.fds.install(nfd, e.file, false);
  return { ret: nfd };
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

export function fcntl(p: Proc, fd: number, cmd: number, arg: number): Ret {
  const e = p.fds.get(fd);
  if (!e) return fail('EBADF');
  const f = e.file;
  switch (cmd) {
    case K.F_GETFL:
      return { ret: K.O_RDWR | (f instanceof SockFile && f.nonblock ? K.O_NONBLOCK : 0) };
    case K.F_SETFL:
      if (f instanceof SockFile) f.nonblock = (arg & K.O_NONBLOCK) !== 0;
      return { ret: 0 };
    case K.F_GETFD:
      return { ret: e.cloexec ? K.FD_CLOEXEC : 0 };
    case K.F_SETFD:
      e.cloexec = (arg & K.FD_CLOEXEC) !== 0;
      return { ret: 0 };
    case K.F_DUPFD:
    case K.F_DUPFD_CLOEXEC: {
      if (!Number.isInteger(arg) || arg < 0 || arg >= p.fds.maxFds) return fail('EINVAL');
      const nfd = p.fds.lowestFree(arg);
      if (nfd < 0) return fail('EMFILE');
      p.fds.install(nfd, f, cmd === K.F_DUPFD_CLOEXEC);
      return { ret: nfd };
    }
    default:
      return fail('EINVAL');
  }
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
  if (request === K.SIOCINQ) value = !c || isConnecting(c) ? 0 : c.rcvBuf.length;
  else if (request === K.SIOCOUTQ) value = outq(c);
  else value = outqNotSent(c);
  return { ret: 0, value };
}
