// setsockopt() and getsockopt() (net/core/sock.c sk_setsockopt/sk_getsockopt,
// net/ipv4/tcp.c do_tcp_setsockopt/do_tcp_getsockopt): one table per direction, by level
// and option number.

import type { SockOptName } from '../host/socket.ts';
import * as K from './constants.ts';
import { engineRet, fail, isErr } from './errno.ts';
import type { Proc, SockFile } from './file.ts';
import { tcpInfo, TCP_INFO_SIZE } from './tcpinfo.ts';
import type { Linger, OptRet, Ret, SetOptValue, Timeval } from './types.ts';

/** Integer options the engine socket keeps, both ways. */
const SOCKET_INTS: [number, SockOptName][] = [
  [K.SO_REUSEADDR, 'SO_REUSEADDR'], [K.SO_KEEPALIVE, 'SO_KEEPALIVE'], [K.SO_RCVBUF, 'SO_RCVBUF'], [K.SO_SNDBUF, 'SO_SNDBUF'],
];
const TCP_INTS: [number, SockOptName][] = [
  [K.TCP_NODELAY, 'TCP_NODELAY'], [K.TCP_KEEPIDLE, 'TCP_KEEPIDLE'], [K.TCP_KEEPINTVL, 'TCP_KEEPINTVL'], [K.TCP_KEEPCNT, 'TCP_KEEPCNT'],
  [K.TCP_LINGER2, 'TCP_LINGER2'], [K.TCP_USER_TIMEOUT, 'TCP_USER_TIMEOUT'], [K.TCP_CORK, 'TCP_CORK'],
  [K.TCP_NOTSENT_LOWAT, 'TCP_NOTSENT_LOWAT'], [K.TCP_INQ, 'TCP_INQ'], [K.TCP_DEFER_ACCEPT, 'TCP_DEFER_ACCEPT'],
];
/** Set one way only: TCP_MAXSEG reads back as the MSS in use (getMaxseg). */
const TCP_SET_ONLY: [number, SockOptName][] = [[K.TCP_MAXSEG, 'TCP_MAXSEG']];

function asInt(v: unknown): number | null {
  if (typeof v === 'boolean') return v ? 1 : 0;
  return typeof v === 'number' && Number.isInteger(v) ? v : null;
}

// ---- setsockopt ----

type Setter = (f: SockFile, value: SetOptValue, optname: number) => Ret;

const setInt = (name: SockOptName): Setter => (f, value) => {
  const int = asInt(value);
  return int === null ? fail('EINVAL') : engineRet(() => f.sock.setsockopt(name, int));
};

const setLinger: Setter = (f, value) => {
  const l = value as Partial<Linger> & { onoff?: number; linger?: number };
  const on = typeof l === 'object' && l !== null ? asInt(l.l_onoff ?? l.onoff) : null;
  const secs = typeof l === 'object' && l !== null ? asInt(l.l_linger ?? l.linger) : null;
  if (on === null || secs === null) return fail('EINVAL');
  return engineRet(() => f.sock.setsockopt('SO_LINGER', { on: on !== 0, seconds: secs }));
};

/** sock_set_timeout: usec out of range is EDOM, {0, 0} means forever, a negative time 0. */
const setTimeo: Setter = (f, value, optname) => {
  const tv = value as Timeval;
  if (typeof tv !== 'object' || tv === null || asInt(tv.tv_sec) === null || asInt(tv.tv_usec) === null) return fail('EINVAL');
  if (tv.tv_usec < 0 || tv.tv_usec >= 1_000_000) return fail('EDOM');
  const us = tv.tv_sec < 0 ? 0 : tv.tv_sec === 0 && tv.tv_usec === 0 ? Infinity : tv.tv_sec * 1e6 + tv.tv_usec;
  if (optname === K.SO_RCVTIMEO) f.rcvtimeoUs = us;
  else f.sndtimeoUs = us;
  return { ret: 0 };
};

/**
 * do_tcp_setsockopt(TCP_CONGESTION): optlen < 1 is EINVAL; the name is the buffer up to its
 * first NUL, at most TCP_CA_NAME_MAX - 1 bytes (strncpy_from_sockptr); an unknown one ENOENT.
 */
const setCongestion: Setter = (f, value) => {
  if (typeof value !== 'string' || value.length < 1) return fail('EINVAL');
  const name = value.split('\0')[0]!.slice(0, K.TCP_CA_NAME_MAX - 1);
  return engineRet(() => f.sock.setsockopt('TCP_CONGESTION', name));
};

// SO_ERROR and TCP_INFO are read-only: ENOPROTOOPT.
const SETTERS = new Map<number, Map<number, Setter>>([
  [K.SOL_SOCKET, new Map<number, Setter>([
    ...SOCKET_INTS.map(([n, name]): [number, Setter] => [n, setInt(name)]),
    [K.SO_LINGER, setLinger], [K.SO_RCVTIMEO, setTimeo], [K.SO_SNDTIMEO, setTimeo],
  ])],
  [K.IPPROTO_TCP, new Map<number, Setter>(
    [...TCP_INTS, ...TCP_SET_ONLY, [K.TCP_QUICKACK, 'TCP_QUICKACK'] as [number, SockOptName]].map(([n, name]): [number, Setter] => [n, setInt(name)])
      .concat([[K.TCP_CONGESTION, setCongestion]]),
  )],
]);

export function setsockopt(p: Proc, fd: number, level: number, optname: number, value: SetOptValue): Ret {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return f;
  const set = SETTERS.get(level)?.get(optname);
  return set ? set(f, value, optname) : fail('ENOPROTOOPT');
}

// ---- getsockopt ----

type Getter = (p: Proc, f: SockFile, optname: number) => OptRet;

const intRet = (v: number | boolean): OptRet => ({ ret: 0, value: typeof v === 'boolean' ? (v ? 1 : 0) : v, optlen: 4 });

const getInt = (name: SockOptName): Getter => (_p, f) => {
  const v = f.sock.getsockopt(name);
  return typeof v === 'object' || typeof v === 'string' ? fail('EINVAL') : intRet(v);
};

const getLinger: Getter = (_p, f) => {
  const l = f.sock.getsockopt('SO_LINGER') as { on: boolean; seconds: number };
  return { ret: 0, value: { l_onoff: l.on ? 1 : 0, l_linger: l.seconds }, optlen: 8 };
};

/** sock_get_timeout: forever reads back as {0, 0}. */
const getTimeo: Getter = (_p, f, optname) => {
  const us = optname === K.SO_RCVTIMEO ? f.rcvtimeoUs : f.sndtimeoUs;
  const tv = us === Infinity ? { tv_sec: 0, tv_usec: 0 } : { tv_sec: Math.floor(us / 1e6), tv_usec: us % 1e6 };
  return { ret: 0, value: tv, optlen: 16 };
};

// Linux reports whether quickack mode is on: not in pingpong (interactive) mode.
const getQuickack: Getter = (_p, f) => intRet(f.conn ? (f.conn.pingpong ? 0 : 1) : 1);

/** tcp_sock's mss_cache once connected, else the default MSS (TCP_MSS_DEFAULT 536). */
const getMaxseg: Getter = (_p, f) => intRet(f.sock.getsockopt('TCP_MAXSEG') as number);

/** The name, NUL-padded to TCP_CA_NAME_MAX bytes (a shorter optlen gets its first bytes). */
const getCongestion: Getter = (_p, f) => ({ ret: 0, value: f.sock.getsockopt('TCP_CONGESTION') as string, optlen: K.TCP_CA_NAME_MAX });

const getInfo: Getter = (p, f) => ({ ret: 0, value: tcpInfo(f.sock.listener, f.conn, p.host.now(), p.host.cfg.mtu), optlen: TCP_INFO_SIZE });

const GETTERS = new Map<number, Map<number, Getter>>([
  [K.SOL_SOCKET, new Map<number, Getter>([
    ...[...SOCKET_INTS, [K.SO_ERROR, 'SO_ERROR'] as [number, SockOptName]].map(([n, name]): [number, Getter] => [n, getInt(name)]),
    [K.SO_LINGER, getLinger], [K.SO_RCVTIMEO, getTimeo], [K.SO_SNDTIMEO, getTimeo],
  ])],
  [K.IPPROTO_TCP, new Map<number, Getter>([
    ...TCP_INTS.map(([n, name]): [number, Getter] => [n, getInt(name)]),
    [K.TCP_QUICKACK, getQuickack], [K.TCP_MAXSEG, getMaxseg], [K.TCP_INFO, getInfo], [K.TCP_CONGESTION, getCongestion],
  ])],
]);

export function getsockopt(p: Proc, fd: number, level: number, optname: number): OptRet {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return f;
  const get = GETTERS.get(level)?.get(optname);
  return get ? get(p, f, optname) : fail('ENOPROTOOPT');
}
