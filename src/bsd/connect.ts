// connect() (af_inet.c __inet_stream_connect, inet_wait_for_connect) and accept()/accept4()
// (__sys_accept4, inet_csk_accept).

import { TcpState } from '../tcp/states.ts';
import { addrOut, parseAddr } from './addr.ts';
import { returned, sleeping } from './blocking.ts';
import { BLOCKED, type Attempt, type Call } from './call.ts';
import * as K from './constants.ts';
import type { Errno } from './constants.ts';
import { engine, fail, isErr } from './errno.ts';
import { isConnecting } from './conn.ts';
import { SockFile, type Proc } from './file.ts';
import { renew } from './socket.ts';
import type { AddrRet, Ret, SockAddr, SysError } from './types.ts';

/**
 * __inet_stream_connect by socket state: the errno a connect() that has to wait reports
 * (EALREADY, or EINPROGRESS for an attempt started now), or the call's error.
 */
function start(p: Proc, f: SockFile, addr: SockAddr): Errno | SysError {
  switch (f.ss) {
    case 'CONNECTED':
      return fail('EISCONN');
    case 'DISCONNECTING':
      return fail('EINVAL');
    case 'CONNECTING':
      return 'EALREADY';
    case 'UNCONNECTED': {
      if (f.sock.listener || (f.conn && f.conn.state !== TcpState.CLOSED)) return fail('EISCONN');
      const a = parseAddr(f, addr);
      if (isErr(a)) return a;
      const r = renew(p, f);
      if (r) return r;
      const s = f.sock;
      if (s.conn) return fail('EISCONN');
      const c = engine(() => s.connect(a.addr, a.port));
      if (isErr(c)) return c;
      f.ss = 'CONNECTING';
      f.shut = 0;
      return 'EINPROGRESS';
    }
  }
}

export function connect(p: Proc, fd: number, addr: SockAddr): Call<Ret> {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return returned<Ret>(p, 'connect', f);
  const err = start(p, f, addr);
  if (typeof err !== 'string') return returned<Ret>(p, 'connect', err);
  const connecting = (): boolean => {
    const c = f.conn;
    return c !== null && isConnecting(c);
  };
  // After the wait: established, or the connection died (sock_error, then tcp_disconnect).
  const finish = (): Ret => {
    const c = f.conn;
    if (!c || c.state === TcpState.CLOSED) {
      const e = f.takeError();
      f.disconnect();
      return fail(e ?? 'ECONNABORTED');
    }
    f.ss = 'CONNECTED';
    return { ret: 0 };
  };
  if (!connecting()) return returned<Ret>(p, 'connect', finish());
  if (f.nonblock) return returned<Ret>(p, 'connect', fail(err));
  const attempt: Attempt<Ret> = () => (connecting() ? BLOCKED : finish());
  // inet_wait_for_connect gives up after SO_SNDTIMEO with the error set above (EINPROGRESS).
  return sleeping(p, 'connect', f, attempt, () => fail(err), f.sndtimeoUs);
}

export function accept(p: Proc, fd: number, flags: number, name: string): Call<AddrRet> {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return returned<AddrRet>(p, name, f);
  if (!Number.isInteger(flags) || flags & ~(K.SOCK_NONBLOCK | K.SOCK_CLOEXEC)) return returned<AddrRet>(p, name, fail('EINVAL'));
  const attempt: Attempt<AddrRet> = () => {
    const s = f.sock;
    if (!s.listener) return fail('EINVAL');
    // The descriptor is reserved before a connection is taken from the queue (__sys_accept4).
    const nfd = p.fds.lowestFree();
    if (nfd < 0) return fail('EMFILE');
    const ns = engine(() => s.accept());
    if (isErr(ns)) return ns;
    if (!ns) return BLOCKED;
    const nf = new SockFile(ns, f.family, (flags & K.SOCK_NONBLOCK) !== 0);
    nf.ss = 'CONNECTED';
    p.fds.add(nfd, nf, (flags & K.SOCK_CLOEXEC) !== 0);
    const c = ns.conn!;
    return { ret: nfd, addr: addrOut(f, c.remoteAddr, c.remotePort) };
  };
  return sleeping(p, name, f, attempt, () => fail('EAGAIN'), f.nonblock ? 0 : f.rcvtimeoUs);
}
