// The system calls a script may make, one handler per call or family of calls: each reads the
// script's arguments, starts the call on linger's BSD layer (src/bsd) and says how to check
// what it returned.

import { BLOCKED, Call } from '../bsd/call.ts';
import * as K from '../bsd/constants.ts';
import { nullBuffer, type AddrRet, type NullBuffer, type OptRet, type PollFd, type SetOptValue, type ValueRet } from '../bsd/types.ts';
import type { ScriptSyscalls } from './syscalls.ts';
import type { Expr, SyscallSpec } from './ast.ts';
import { describeExpr, field, fieldOf, payload, type CallArgs } from './args.ts';
import type { DrillConfig } from './config.ts';
import { epollError, type EpollEvent, type Epolls } from './epoll.ts';
import { fail, pollNames } from './result.ts';
import type { SockRec, SockTable } from './sockets.ts';
import { EPOLL } from './symbols.ts';
import { checkOptValue, checkRet, type CallRet } from './verify.ts';

/** What the runner needs of a call, whatever its result type. */
export interface CallView {
  readonly done: boolean;
  readonly result: CallRet | undefined;
  readonly deadline: number;
  readonly endedAt: number;
  poll(): boolean;
}

/** A started call, and the check of its result once it has returned. */
export interface StartedCall {
  call: CallView;
  verify: () => void;
}

export interface CallContext {
  cfg: DrillConfig;
  sys: ScriptSyscalls;
  args: CallArgs;
  socks: SockTable;
  epolls: Epolls;
  /** The virtual clock (host µs). */
  clock: () => number;
}

type Handler = (cx: CallContext, c: SyscallSpec) => StartedCall;

function started<R extends CallRet>(call: Call<R>, verify: (r: R) => void): StartedCall {
  return { call, verify: () => verify(call.result!) };
}

/** A call that returned at once. */
const done = <R extends CallRet>(cx: CallContext, c: SyscallSpec, r: R): Call<R> => Call.done(c.name, cx.clock, r);

/** A call checked only by its return value; plain(): one that returned at once. */
const checked = <R extends CallRet>(cx: CallContext, c: SyscallSpec, call: Call<R>): StartedCall => started(call, (x) => checkRet(cx.args, c, x));
const plain = (cx: CallContext, c: SyscallSpec, r: CallRet): StartedCall => checked(cx, c, done(cx, c, r));

/** A call that returns a new descriptor: the script's number for it maps to the live one. */
function newFd(cx: CallContext, c: SyscallSpec, x: CallRet): boolean {
  checkRet(cx.args, c, x, true);
  if (x.errno !== undefined) return false;
  if (c.ret.kind !== 'ellipsis') cx.socks.fdMap.set(cx.args.int(c.ret, 'fd'), x.ret);
  return true;
}

// ---- socket, bind, listen, accept, connect ----

const socket: Handler = (cx, c) => {
  const a = c.args;
  const domain = a[0]!.kind === 'ellipsis' ? (cx.cfg.ipVersion === 'ipv4' ? K.AF_INET : K.AF_INET6) : cx.args.int(a[0], 'domain');
  const r = cx.sys.socket(domain, cx.args.int(a[1], 'type'), cx.args.int(a[2], 'protocol'));
  return started(done(cx, c, r), (x) => {
    if (!newFd(cx, c, x)) return;
    const rec = cx.socks.rec(x.ret);
    rec.kind = 'init';
    cx.socks.sut = rec;
  });
};

const bind: Handler = (cx, c) => plain(cx, c, cx.sys.bind(cx.args.fd(c.args[0]), cx.args.sockaddr(c.args[1], 'bind')));

const listen: Handler = (cx, c) => {
  const fd = cx.args.fd(c.args[0]);
  const r = cx.sys.listen(fd, cx.args.int(c.args[1], 'backlog'));
  if (r.errno === undefined) {
    const rec = cx.socks.rec(fd);
    rec.kind = 'listener';
    rec.localPort = cx.socks.localPortOf(fd);
    cx.socks.sut = rec;
  }
  return plain(cx, c, r);
};

const accept: Handler = (cx, c) => {
  const a = c.args;
  const fd = cx.args.fd(a[0]);
  const call = c.name === 'accept' ? cx.sys.begin.accept(fd) : cx.sys.begin.accept4(fd, a[3] ? cx.args.int(a[3], 'flags') : 0);
  return started(call, (x: AddrRet) => {
    newFd(cx, c, x);
    if (x.errno !== undefined) return;
    const socks = cx.socks;
    const peer = x.addr.port;
    const s = socks.sut;
    let rec: SockRec;
    // The passive child the script's SYN opened, if this is it.
    if (s && s.kind === 'child' && s.fd === null && s.remotePort === peer) {
      rec = s;
      rec.fd = x.ret;
      rec.kind = 'conn';
    } else {
      rec = { kind: 'conn', fd: x.ret, localPort: socks.localPortOf(x.ret), remotePort: peer };
    }
    socks.set(x.ret, rec);
  });
};

const connect: Handler = (cx, c) => {
  const fd = cx.args.fd(c.args[0]);
  const addr = cx.args.sockaddr(c.args[1], 'connect');
  const call = cx.sys.begin.connect(fd, addr);
  const rec = cx.socks.rec(fd);
  if (rec.kind === 'init' || rec.kind === 'connecting') {
    rec.kind = 'connecting';
    rec.localPort = cx.socks.localPortOf(fd);
    rec.remotePort = addr.port;
    cx.socks.sut = rec;
  }
  return checked(cx, c, call);
};

// ---- close, shutdown ----

const close: Handler = (cx, c) => {
  const fd = cx.socks.live(cx.args.int(c.args[0], 'fd'));
  const call = cx.sys.begin.close(fd);
  cx.epolls.closed(fd);
  return checked(cx, c, call);
};

const shutdown: Handler = (cx, c) => plain(cx, c, cx.sys.shutdown(cx.args.fd(c.args[0]), cx.args.int(c.args[1], 'how')));

// ---- read and write: plain, vector (iovec) and msghdr forms ----

/** The script's buffer is NULL: the call gets a NULL buffer of its count. */
const isNull = (e: Expr | undefined): boolean => e?.kind === 'sym' && e.name === 'NULL';

const read: Handler = (cx, c) => {
  const a = c.args;
  const fd = cx.args.fd(a[0]);
  let count: number | NullBuffer;
  let flags = 0;
  if (c.name === 'readv') count = cx.args.iovLen(a[1]);
  else if (c.name === 'recvmsg') {
    count = cx.args.iovLen(a[1]);
    flags = cx.args.int(a[2], 'flags');
  } else {
    count = cx.args.int(a[2], 'count');
    if (isNull(a[1])) count = nullBuffer(count);
    if (c.name !== 'read') flags = cx.args.int(a[3], 'flags');
  }
  // read() and readv() go through sock_read_iter, the others through sock_recvmsg (they differ for 0 bytes).
  const call = c.name === 'read' || c.name === 'readv' ? cx.sys.begin.read(fd, count) : cx.sys.begin.recv(fd, count, flags);
  const control = c.name === 'recvmsg' ? field(a[1]!, 'msg_control') : undefined;
  if (!control || control.kind === 'ellipsis') return checked(cx, c, call);
  return started(call, (x) => {
    checkRet(cx.args, c, x);
    if (x.errno === undefined) checkCmsgs(cx, control, x.inq);
  });
};

/**
 * recvmsg()'s msg_control against the control messages Linux would return: TCP_CM_INQ (with
 * TCP_INQ on) is the only one linger has; unsupported.ts reports scripts that expect others.
 */
function checkCmsgs(cx: CallContext, control: Expr, inq: number | undefined): void {
  const items = control.kind === 'list' ? control.items : [control];
  const got = inq === undefined ? 'no control message' : `{cmsg_level=SOL_TCP, cmsg_type=TCP_CM_INQ, cmsg_data=${inq}}`;
  if (items.length === 0 && inq !== undefined) fail(control, `recvmsg() returned ${got}, the script expects none`, { expected: 'msg_control=[]', actual: got });
  for (const it of items) {
    const dataE = field(it, 'cmsg_data');
    if (inq === undefined) fail(it, `recvmsg() returned no control message (TCP_INQ is off), the script expects ${describeExpr(it)}`, { expected: describeExpr(it), actual: got });
    if (dataE && dataE.kind !== 'ellipsis' && cx.args.int(dataE, 'cmsg_data') !== inq) {
      fail(dataE, `recvmsg() TCP_CM_INQ ${inq} != ${cx.args.int(dataE, 'cmsg_data')}`, { expected: describeExpr(it), actual: got });
    }
  }
}

const write: Handler = (cx, c) => {
  const a = c.args;
  const fd = cx.args.fd(a[0]);
  let data: Uint8Array | NullBuffer;
  let flags = 0;
  if (c.name === 'writev') data = payload(undefined, cx.args.iovLen(a[1]));
  else if (c.name === 'sendmsg') {
    data = payload(undefined, cx.args.iovLen(a[1]));
    flags = cx.args.int(a[2], 'flags');
  } else {
    const count = cx.args.int(a[2], 'count');
    data = isNull(a[1]) ? nullBuffer(count) : payload(a[1], count);
    if (c.name !== 'write') flags = cx.args.int(a[3], 'flags');
  }
  return checked(cx, c, flags ? cx.sys.begin.send(fd, data, flags & ~K.MSG_NOSIGNAL) : cx.sys.begin.write(fd, data));
};

// ---- socket options ----

/**
 * setsockopt()'s value: an integer, a struct linger, a struct timeval, or a string (TCP_CONGESTION's
 * name), of which optlen bytes are passed (the C string's NUL ends it sooner).
 */
function optValue(cx: CallContext, v: Expr, lenE: Expr | undefined): SetOptValue {
  if (v.kind === 'str') {
    const bytes = new TextEncoder().encode(v.value);
    const len = lenE && lenE.kind !== 'ellipsis' ? cx.args.int(lenE, 'optlen') : bytes.length;
    return new TextDecoder().decode(bytes.subarray(0, Math.max(0, Math.min(len, bytes.length))));
  }
  if (v.kind !== 'struct') return cx.args.int(v, 'option value');
  const on = fieldOf(v, 'onoff', 'l_onoff');
  const lg = fieldOf(v, 'linger', 'l_linger');
  const sec = field(v, 'tv_sec');
  const usec = field(v, 'tv_usec');
  if (on && lg) return { l_onoff: cx.args.int(on, 'onoff'), l_linger: cx.args.int(lg, 'linger') };
  if (sec) return { tv_sec: cx.args.int(sec, 'tv_sec'), tv_usec: usec ? cx.args.int(usec, 'tv_usec') : 0 };
  return fail(v, `setsockopt: cannot read ${describeExpr(v)}`);
}

const setsockopt: Handler = (cx, c) => {
  const a = c.args;
  const fd = cx.args.fd(a[0]);
  const level = cx.args.int(a[1], 'level');
  const name = cx.args.int(a[2], 'optname');
  return plain(cx, c, cx.sys.setsockopt(fd, level, name, optValue(cx, a[3]!, a[4])));
};

const getsockopt: Handler = (cx, c) => {
  const a = c.args;
  const fd = cx.args.fd(a[0]);
  const r = cx.sys.getsockopt(fd, cx.args.int(a[1], 'level'), cx.args.int(a[2], 'optname'));
  return started(done(cx, c, r), (x: OptRet) => {
    checkRet(cx.args, c, x);
    if (x.errno !== undefined) return;
    const lenE = a[4];
    // A name is copied into the script's optlen bytes: a shorter buffer holds its first bytes.
    const value = typeof x.value === 'string' && lenE?.kind === 'list' && lenE.items.length === 1 && lenE.items[0]!.kind !== 'ellipsis'
      ? x.value.slice(0, Math.max(0, cx.args.int(lenE.items[0], 'optlen'))) : x.value;
    checkOptValue(cx.args, a[3]!, value);
    if (lenE && lenE.kind === 'list' && lenE.items.length === 1 && lenE.items[0]!.kind !== 'ellipsis') {
      const wantLen = cx.args.int(lenE.items[0], 'optlen');
      const gotLen = Math.min(wantLen, x.optlen);
      if (gotLen !== wantLen) fail(lenE, `getsockopt optlen ${gotLen} != ${wantLen}`, { expected: `optlen [${wantLen}]`, actual: `optlen [${x.optlen}]` });
    }
  });
};

// ---- fcntl, ioctl ----

const fcntl: Handler = (cx, c) => {
  const a = c.args;
  return plain(cx, c, cx.sys.fcntl(cx.args.fd(a[0]), cx.args.int(a[1], 'cmd'), a[2] ? cx.args.int(a[2], 'arg') : 0));
};

const ioctl: Handler = (cx, c) => {
  const a = c.args;
  const fd = cx.args.fd(a[0]);
  const req = cx.args.int(a[1], 'request');
  const argE = a[2];
  const arg = req === K.FIONBIO && argE ? cx.args.int(argE, 'arg') : 0;
  return started(done(cx, c, cx.sys.ioctl(fd, req, arg)), (x: ValueRet) => {
    checkRet(cx.args, c, x);
    if (x.errno !== undefined || req === K.FIONBIO || !argE || argE.kind === 'ellipsis') return;
    const want = cx.args.int(argE, 'ioctl value');
    if (x.value !== want) fail(argE, `ioctl() value ${x.value} != ${want}`, { expected: `[${want}]`, actual: `[${x.value}]` });
  });
};

// ---- poll, epoll ----

const poll: Handler = (cx, c) => {
  const arr = c.args[0]!;
  const items = arr.kind === 'list' ? arr.items : arr.kind === 'struct' ? [arr] : fail(arr, 'poll() takes an array of {fd=..., events=..., revents=...}');
  const fds: PollFd[] = items.map((it) => {
    const fdE = field(it, 'fd');
    const evE = field(it, 'events');
    if (!fdE || !evE) fail(it, 'a pollfd needs fd= and events=');
    return { fd: cx.args.fd(fdE), events: cx.args.int(evE, 'events') };
  });
  const call = cx.sys.begin.poll(fds, cx.args.int(c.args[2], 'timeout'));
  return started(call, (x) => {
    checkRet(cx.args, c, x);
    items.forEach((it, i) => {
      const rv = field(it, 'revents');
      if (!rv || rv.kind === 'ellipsis') return;
      const want = cx.args.int(rv, 'revents');
      const got = fds[i]!.revents ?? 0;
      if (got !== want) fail(rv, `poll() revents of fd ${describeExpr(field(it, 'fd')!)} is ${pollNames(got)}, the script expects ${pollNames(want)}`, { expected: `revents=${pollNames(want)}`, actual: `revents=${pollNames(got)}` });
    });
  });
};

const epollCreate: Handler = (cx, c) => {
  const r = cx.sys.epollFd();
  return started(done(cx, c, r), (x) => {
    if (newFd(cx, c, x)) cx.epolls.create(x.ret);
  });
};

/** epoll_event.data as the script writes it. */
const epollData = (e: Expr): Expr | undefined => fieldOf(e, 'fd', 'u32', 'u64', 'ptr');

const epollCtl: Handler = (cx, c) => {
  const a = c.args;
  const ep = cx.epolls.get(cx.args.fd(a[0]));
  const op = cx.args.int(a[1], 'op');
  const scriptFd = cx.args.int(a[2], 'fd');
  const fd = cx.socks.live(scriptFd);
  const kernel = cx.sys.epoll;
  if (kernel) {
    const evE = a[3]!;
    const events = evE.kind === 'ellipsis' ? 0 : cx.args.int(field(evE, 'events') ?? evE, 'events');
    const dataE = evE.kind === 'ellipsis' ? undefined : epollData(evE);
    return plain(cx, c, kernel.ctl(cx.args.fd(a[0]), op, fd, events, dataE ? cx.args.int(dataE, 'data') : scriptFd));
  }
  if (!ep || !cx.sys.isSocket(fd)) return plain(cx, c, epollError('EBADF'));
  if (op === EPOLL.EPOLL_CTL_DEL) return plain(cx, c, ep.delete(fd) ? { ret: 0 } : epollError('ENOENT'));
  const evE = a[3]!;
  const events = cx.args.int(field(evE, 'events') ?? evE, 'events');
  const dataE = epollData(evE);
  const data = dataE ? cx.args.int(dataE, 'data') : scriptFd;
  return plain(cx, c, ep.set(op, fd, events, data, cx.sys.onWake ? (fn) => cx.sys.onWake!(fd, fn) : undefined));
};

const epollWait: Handler = (cx, c) => {
  const a = c.args;
  if (cx.sys.epoll) {
    const call = cx.sys.epoll.wait(cx.args.fd(a[0]), cx.args.int(a[2], 'maxevents'), cx.args.int(a[3], 'timeout'));
    return started(call, (x) => {
      checkRet(cx.args, c, x);
      const evE = a[1]!;
      const want = evE.kind === 'list' ? evE.items : evE.kind === 'struct' ? [evE] : [];
      const got = x.errno === undefined ? x.events : [];
      want.forEach((w, i) => checkEpollEvent(cx, w, got[i]));
    });
  }
  const ep = cx.epolls.get(cx.args.fd(a[0]));
  if (!ep) return plain(cx, c, epollError('EBADF'));
  const max = cx.args.int(a[2], 'maxevents');
  const timeout = cx.args.int(a[3], 'timeout');
  let ready: EpollEvent[] = [];
  const scan = (): number => {
    ready = ep.scan(max, (p) => cx.sys.revents(p));
    return ready.length;
  };
  const deadline = timeout < 0 ? Infinity : cx.clock() + timeout * 1000;
  const call = new Call<CallRet>('epoll_wait', cx.clock, () => (scan() ? { ret: ready.length } : BLOCKED), () => ({ ret: scan() }), deadline);
  return started(call, (x) => {
    checkRet(cx.args, c, x);
    const evE = a[1]!;
    const want = evE.kind === 'list' ? evE.items : evE.kind === 'struct' ? [evE] : [];
    want.forEach((w, i) => checkEpollEvent(cx, w, ready[i]));
  });
};

/** One epoll_event the script expects against the one returned. */
function checkEpollEvent(cx: CallContext, w: Expr, got: EpollEvent | undefined): void {
  const evs = field(w, 'events');
  const fdE = epollData(w);
  if (!got) return;
  if (evs && evs.kind !== 'ellipsis' && cx.args.int(evs, 'events') !== got.events) {
    fail(evs, `epoll_wait() events ${pollNames(got.events)} != ${pollNames(cx.args.int(evs, 'events'))}`, { expected: `events=${pollNames(cx.args.int(evs, 'events'))}`, actual: `events=${pollNames(got.events)}` });
  }
  if (fdE && fdE.kind !== 'ellipsis' && cx.args.int(fdE, 'fd') !== got.data) fail(fdE, `epoll_wait() data ${got.data} != ${cx.args.int(fdE, 'fd')}`);
}

// ---- names, dup ----

const sockname: Handler = (cx, c) => {
  const fd = cx.args.fd(c.args[0]);
  return plain(cx, c, c.name === 'getsockname' ? cx.sys.getsockname(fd) : cx.sys.getpeername(fd));
};

const dup: Handler = (cx, c) => {
  const old = cx.args.fd(c.args[0]);
  const r = c.name === 'dup' ? cx.sys.dup(old) : cx.sys.dup2(old, cx.args.fd(c.args[1]));
  return started(done(cx, c, r), (x) => void newFd(cx, c, x));
};

/** Each call: how many arguments it needs at least, and its handler. */
const TABLE: Array<[names: string[], args: number, make: Handler]> = [
  [['socket'], 3, socket],
  [['bind'], 2, bind],
  [['listen'], 2, listen],
  [['accept', 'accept4'], 1, accept],
  [['connect'], 2, connect],
  [['close'], 1, close],
  [['shutdown'], 2, shutdown],
  [['read', 'readv', 'recvmsg'], 3, read],
  [['recv', 'recvfrom'], 4, read],
  [['write', 'writev', 'send', 'sendto', 'sendmsg'], 3, write],
  [['setsockopt'], 4, setsockopt],
  [['getsockopt'], 4, getsockopt],
  [['fcntl'], 2, fcntl],
  [['ioctl'], 2, ioctl],
  [['poll'], 3, poll],
  [['epoll_create', 'epoll_create1'], 1, epollCreate],
  [['epoll_ctl'], 4, epollCtl],
  [['epoll_wait'], 4, epollWait],
  [['getsockname', 'getpeername'], 1, sockname],
  [['dup', 'dup2', 'dup3'], 1, dup],
];

const CALLS = new Map(TABLE.flatMap(([names, args, make]) => names.map((n) => [n, { args, make }] as const)));

/** The system calls the runner has. */
export const SYSCALL_NAMES: ReadonlySet<string> = new Set(CALLS.keys());

/** Starts the script's call. */
export function makeCall(cx: CallContext, c: SyscallSpec): StartedCall {
  const h = CALLS.get(c.name);
  if (!h) return fail(c.namePos, `system call ${c.name}() is not supported`);
  if (c.args.length < h.args) fail(c.namePos, `${c.name}() takes ${h.args} arguments, the script gives ${c.args.length}`);
  return h.make(cx, c);
}
