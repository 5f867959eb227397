// socket(), bind(), listen() (net/socket.c __sys_socket, af_inet.c __inet_bind, inet_listen),
// and the fresh engine socket a tcp_disconnect()ed socket continues on.

import { WILDCARD, parseAddr } from './addr.ts';
import * as K from './constants.ts';
import { engine, engineRet, fail, isErr } from './errno.ts';
import { SockFile, type Proc } from './file.ts';
import type { Ret, SockAddr, SysError } from './types.ts';

export function socket(p: Proc, domain: number, type: number, protocol: number): Ret {
  if (!Number.isInteger(type) || type < 0 || type & ~(K.SOCK_TYPE_MASK | K.SOCK_NONBLOCK | K.SOCK_CLOEXEC)) return fail('EINVAL');
  // Only IPv4 and IPv6 exist here (AF_UNIX and the rest are refused as unsupported families).
  if (domain !== K.AF_INET && domain !== K.AF_INET6) return fail('EAFNOSUPPORT');
  const base = type & K.SOCK_TYPE_MASK;
  if (base === 0 || base > 10) return fail(base === 0 ? 'ESOCKTNOSUPPORT' : 'EINVAL');
  // Only TCP is modelled: other socket types are refused as an unsupported type.
  if (base !== K.SOCK_STREAM) return fail('ESOCKTNOSUPPORT');
  if (protocol !== K.IPPROTO_IP && protocol !== K.IPPROTO_TCP) return fail('EPROTONOSUPPORT');
  const fd = p.fds.lowestFree();
  if (fd < 0) return fail('EMFILE');
  const f = new SockFile(p.host.socket(), domain === K.AF_INET6 ? 6 : 4, (type & K.SOCK_NONBLOCK) !== 0);
  p.fds.add(fd, f, (type & K.SOCK_CLOEXEC) !== 0);
  return { ret: fd };
}

/** tcp_disconnect left the engine socket's connection behind: take a fresh engine socket, keeping options and an explicit bind. */
export function renew(p: Proc, f: SockFile): SysError | null {
  if (!f.disconnected) return null;
  const old = f.sock;
  const s = p.host.socket();
  s.opts = { ...old.opts, linger: { ...old.opts.linger } };
  s.refs = old.refs;
  f.sock = s;
  f.disconnected = false;
  f.shut = 0;
  if (old.boundPort) {
    // The explicit binding survives tcp_disconnect (SOCK_BINDPORT_LOCK): move it.
    p.host.ports.unbind(old, old.boundPort);
    const r = engine(() => s.bind(old.boundAddr!, old.boundPort));
    if (isErr(r)) return r;
  }
  return null;
}

export function bind(p: Proc, fd: number, addr: SockAddr): Ret {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return f;
  const a = parseAddr(f, addr);
  if (isErr(a)) return a;
  // __inet_bind checks the address before whether the socket is already bound.
  if (a.addr !== WILDCARD[4] && a.addr !== WILDCARD[6] && !p.host.addresses.includes(a.addr)) return fail('EADDRNOTAVAIL');
  if (f.ss !== 'UNCONNECTED' || f.sock.listener || f.sock.boundPort) return fail('EINVAL');
  return renew(p, f) ?? engineRet(() => f.sock.bind(a.addr, a.port));
}

export function listen(p: Proc, fd: number, backlog: number): Ret {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return f;
  // inet_listen: only an unconnected socket in CLOSE or LISTEN.
  if (f.ss !== 'UNCONNECTED') return fail('EINVAL');
  const r = renew(p, f);
  if (r) return r;
  const s = f.sock;
  if (s.conn) return fail('EINVAL');
  if (!s.listener && !s.boundPort) {
    // inet_csk_listen_start: a listener without bind() gets an ephemeral port on the wildcard address.
    const b = engine(() => s.bind(WILDCARD[f.family], 0));
    if (isErr(b)) return b;
  }
  // __sys_listen: (unsigned) backlog above somaxconn is somaxconn, so negative means the maximum.
  const n = backlog < 0 || !Number.isFinite(backlog) ? p.host.cfg.somaxconn : Math.floor(backlog);
  return engineRet(() => s.listen(n));
}
