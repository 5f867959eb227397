// Socket addresses in and out (inet_bind/inet_stream_connect's sockaddr checks, inet_getname
// and inet6_getname), getsockname() and getpeername().

import { TcpState } from '../tcp/states.ts';
import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from '../wire/addr.ts';
import * as K from './constants.ts';
import { fail, isErr } from './errno.ts';
import type { Proc, SockFile } from './file.ts';
import type { AddrRet, SockAddr, SockAddrOut, SysError } from './types.ts';

export const WILDCARD = { 4: '0.0.0.0', 6: '::' } as const;

/**
 * The engine address for a sockaddr given to bind/connect: AF_INET sockets take IPv4
 * (EAFNOSUPPORT otherwise), AF_INET6 sockets IPv6 (EINVAL for a sockaddr_in, as the length
 * check fails), with v4-mapped addresses (::ffff:a.b.c.d) standing for IPv4.
 */
export function parseAddr(f: SockFile, a: SockAddr): { addr: string; port: number } | SysError {
  if (typeof a !== 'object' || a === null || typeof a.addr !== 'string') throw new TypeError('sockaddr must be { family?, addr, port }');
  const family = a.family ?? (a.addr.includes(':') ? K.AF_INET6 : K.AF_INET);
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) return fail('EINVAL');
  if (f.family === 4) {
    if (family !== K.AF_INET) return fail('EAFNOSUPPORT');
    const r = parseIpv4(a.addr);
    return r.ok ? { addr: formatIpv4(r.value), port: a.port } : fail('EINVAL');
  }
  if (family !== K.AF_INET6) return fail('EINVAL');
  const r = parseIpv6(a.addr);
  if (!r.ok) return fail('EINVAL');
  const b = r.value;
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return { addr: mapped ? formatIpv4(b, 12) : formatIpv6(b), port: a.port };
}

/** The sockaddr for the socket's family: IPv4 peers of an AF_INET6 socket come v4-mapped. */
export function addrOut(f: SockFile, addr: string, port: number): SockAddrOut {
  if (f.family === 4) return { family: K.AF_INET, addr, port };
  return { family: K.AF_INET6, addr: addr.includes(':') ? addr : `::ffff:${addr}`, port };
}

export function getsockname(p: Proc, fd: number): AddrRet {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return f;
  const s = f.sock;
  const c = f.conn;
  if (s.listener) return { ret: 0, addr: addrOut(f, s.listener.addr, s.listener.port) };
  if (c) return { ret: 0, addr: addrOut(f, c.localAddr, c.localPort) };
  if (s.boundPort) return { ret: 0, addr: addrOut(f, s.boundAddr!, s.boundPort) };
  return { ret: 0, addr: addrOut(f, WILDCARD[f.family], 0) };
}

export function getpeername(p: Proc, fd: number): AddrRet {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return f;
  const c = f.conn;
  // inet_getname: ENOTCONN in CLOSE and SYN_SENT.
  if (!c || c.state === TcpState.CLOSED || c.state === TcpState.SYN_SENT) return fail('ENOTCONN');
  return { ret: 0, addr: addrOut(f, c.remoteAddr, c.remotePort) };
}
