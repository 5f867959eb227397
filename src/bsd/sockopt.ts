// setsockopt() and getsockopt() (net/core/sock.c sk_setsockopt/sk_getsockopt,
// net/ipv4/tcp.c do_tcp_setsockopt/do_tcp_getsockopt).

import type { SockOptName } from '../host/socket.ts';
import { TcpState } from '../tcp/states.ts';
import * as K from './constants.ts';
import { engineRet, fail, isErr } from './errno.ts';
import type { Proc } from './file.ts';
import { tcpInfo, TCP_INFO_SIZE } from './tcpinfo.ts';
import type { Linger, OptRet, Ret, SetOptValue, Timeval } from './types.ts';

function asInt(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

export function setsockopt(p: Proc, fd: number, level: number, optname: number, value: SetOptValue): Ret {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return f;
  const s = f.sock;
  const set = (name: SockOptName, v: number | { on: boolean; seconds: number }): Ret => engineRet(() => s.setsockopt(name, v));
  const int = asInt(value);
  if (level === K.SOL_SOCKET) {
    switch (optname) {
      case K.SO_LINGER: {
        const l = value as Partial<Linger> & { onoff?: number; linger?: number };
        const on = typeof l === 'object' && l !== null ? asInt(l.l_onoff ?? l.onoff) : null;
        const secs = typeof l === 'object' && l !== null ? asInt(l.l_linger ?? l.linger) : null;
        if (on === null || secs === null) return fail('EINVAL');
        return set('SO_LINGER', { on: on !== 0, seconds: secs });
      }
      case K.SO_RCVTIMEO:
      case K.SO_SNDTIMEO: {
        const tv = value as Timeval;
        if (typeof tv !== 'object' || tv === null || asInt(tv.tv_sec) === null || asInt(tv.tv_usec) === null) return fail('EINVAL');
        // sock_set_timeout: usec out of range is EDOM, {0, 0} means forever, a negative time 0.
        if (tv.tv_usec < 0 || tv.tv_usec >= 1_000_000) return fail('EDOM');
        const us = tv.tv_sec < 0 ? 0 : tv.tv_sec === 0 && tv.tv_usec === 0 ? Infinity : tv.tv_sec * 1e6 + tv.tv_usec;
        if (optname === K.SO_RCVTIMEO) f.rcvtimeoUs = us;
        else f.sndtimeoUs = us;
        return { ret: 0 };
      }
      case K.SO_ERROR:
        return fail('ENOPROTOOPT');
    }
    const name = ({ [K.SO_REUSEADDR]: 'SO_REUSEADDR', [K.SO_KEEPALIVE]: 'SO_KEEPALIVE', [K.SO_RCVBUF]: 'SO_RCVBUF', [K.SO_SNDBUF]: 'SO_SNDBUF' } as Record<number, SockOptName>)[optname];
    if (!name) return fail('ENOPROTOOPT');
    if (int === null) return fail('EINVAL');
    return set(name, int);
  }
  if (level === K.IPPROTO_TCP) {
    const name = ({
      [K.TCP_NODELAY]: 'TCP_NODELAY', [K.TCP_KEEPIDLE]: 'TCP_KEEPIDLE', [K.TCP_KEEPINTVL]: 'TCP_KEEPINTVL', [K.TCP_KEEPCNT]: 'TCP_KEEPCNT',
      [K.TCP_LINGER2]: 'TCP_LINGER2', [K.TCP_USER_TIMEOUT]: 'TCP_USER_TIMEOUT', [K.TCP_QUICKACK]: 'TCP_QUICKACK',
    } as Record<number, SockOptName>)[optname];
    // TCP_INFO is read-only; TCP_MAXSEG cannot be set (the engine has no user MSS).
    if (!name) return fail('ENOPROTOOPT');
    if (int === null) return fail('EINVAL');
    return set(name, int);
  }
  return fail('ENOPROTOOPT');
}

export function getsockopt(p: Proc, fd: number, level: number, optname: number): OptRet {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return f;
  const s = f.sock;
  const int = (v: number | boolean): OptRet => ({ ret: 0, value: typeof v === 'boolean' ? (v ? 1 : 0) : v, optlen: 4 });
  const get = (name: SockOptName): OptRet => {
    const v = s.getsockopt(name);
    return typeof v === 'object' ? fail('EINVAL') : int(v);
  };
  if (level === K.SOL_SOCKET) {
    switch (optname) {
      case K.SO_REUSEADDR: return get('SO_REUSEADDR');
      case K.SO_KEEPALIVE: return get('SO_KEEPALIVE');
      case K.SO_RCVBUF: return get('SO_RCVBUF');
      case K.SO_SNDBUF: return get('SO_SNDBUF');
      case K.SO_ERROR: return get('SO_ERROR');
      case K.SO_LINGER: {
        const l = s.getsockopt('SO_LINGER') as { on: boolean; seconds: number };
        return { ret: 0, value: { l_onoff: l.on ? 1 : 0, l_linger: l.seconds }, optlen: 8 };
      }
      case K.SO_RCVTIMEO:
      case K.SO_SNDTIMEO: {
        const us = optname === K.SO_RCVTIMEO ? f.rcvtimeoUs : f.sndtimeoUs;
        const tv = us === Infinity ? { tv_sec: 0, tv_usec: 0 } : { tv_sec: Math.floor(us / 1e6), tv_usec: us % 1e6 };
        return { ret: 0, value: tv, optlen: 16 };
      }
      default: return fail('ENOPROTOOPT');
    }
  }
  if (level === K.IPPROTO_TCP) {
    switch (optname) {
      case K.TCP_NODELAY: return get('TCP_NODELAY');
      case K.TCP_KEEPIDLE: return get('TCP_KEEPIDLE');
      case K.TCP_KEEPINTVL: return get('TCP_KEEPINTVL');
      case K.TCP_KEEPCNT: return get('TCP_KEEPCNT');
      case K.TCP_LINGER2: return get('TCP_LINGER2');
      case K.TCP_USER_TIMEOUT: return get('TCP_USER_TIMEOUT');
      // Linux reports whether quickack mode is on: not in pingpong (interactive) mode.
      case K.TCP_QUICKACK: return int(f.conn ? (f.conn.pingpong ? 0 : 1) : 1);
      case K.TCP_MAXSEG: return int(f.conn && f.conn.state !== TcpState.CLOSED ? f.conn.mssCache : 536);
      case K.TCP_INFO:
        return { ret: 0, value: tcpInfo(s, f.conn, p.host.now(), p.host.cfg.mtu), optlen: TCP_INFO_SIZE };
      default: return fail('ENOPROTOOPT');
    }
  }
  return fail('ENOPROTOOPT');
}
