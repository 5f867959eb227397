// Sockets as applications see them (Linux net/ipv4/tcp.c, af_inet.c): bind, listen, connect,
// accept, send, recv, shutdown, close, setsockopt. Calls act at once in virtual time and never
// block; a call that would block returns null/0 (EAGAIN) and an event says when to retry.

import { rcvbuf, rcvSpaceAdjust } from '../tcp/autotune.ts';
import { RCV_SLACK, TcpConn, type ConnEvent, type SockOpts } from '../tcp/conn.ts';
import { tcpClose, tcpShutdown, type ShutdownHow } from '../tcp/close.ts';
import { Chrono, chronoStart, writeQueued } from '../tcp/chrono.ts';
import { CONGESTION_CONTROLS, caReinit, slowStartAfterIdleCheck } from '../tcp/congestion.ts';
import { Listener, acceptChild, listenStop, retransToSecs, secsToRetrans } from '../tcp/listen.ts';
import { keepIdleChanged, startKeepalive } from '../tcp/keepalive.ts';
import { memReclaim } from '../tcp/memory.ts';
import { tcpConnect, tcpConnectInit } from '../tcp/open.ts';
import { notsentAllowance, tcpOutput, tcpPush, windowUpdateAfterRead } from '../tcp/output.ts';
import { queueWrite } from '../tcp/push.ts';
import { seqAdd } from '../tcp/seq.ts';
import { TcpState, STATE_NAMES } from '../tcp/states.ts';
import { isnAfterTimeWait, type TimeWaitEntry, type TimeWaitTable } from '../tcp/timewait.ts';
import { canonicalIp, ipVersion } from '../wire/addr.ts';
import { SocketError, type ErrnoCode } from '../base/errno.ts';
import type { PortTable } from './ports.ts';
import { endpoint, type TraceEvent } from '../base/trace.ts';
import type { HostConfig } from '../base/config.ts';

/** What a Socket needs of its host (host.ts implements it). */
export interface SocketHost {
  readonly name: string;
  readonly addresses: readonly string[];
  readonly cfg: HostConfig;
  readonly ports: PortTable;
  readonly timeWait: TimeWaitTable;
  readonly tracing: boolean;
  now(): number;
  trace(ev: TraceEvent): void;
  /** Runs the application wake-ups queued while the call ran. */
  flush(): void;
  reschedule(conn: TcpConn): void;
  defaultSockOpts(): SockOpts;
  nextSocketId(): number;
  addListener(l: Listener): boolean;
  removeListener(l: Listener): void;
  /** The connection or TIME_WAIT entry holding a 4-tuple. */
  findEntry(laddr: string, lport: number, raddr: string, rport: number): TcpConn | TimeWaitEntry | undefined;
  sourceAddressFor(dst: string): string | undefined;
  newConn(local: { addr: string; port: number }, remote: { addr: string; port: number }, opts: SockOpts): TcpConn;
  isnFor(laddr: string, lport: number, raddr: string, rport: number): number;
  hashConn(conn: TcpConn): void;
}

/** The events an engine socket emits to its application. */
export type SocketEventName = 'connect' | 'readable' | 'writable' | 'error' | 'close' | 'connection';
type Handler = (arg?: unknown) => void;


/** Names accepted by setsockopt/getsockopt, Linux's. */
export type SockOptName =
  | 'SO_LINGER' | 'SO_KEEPALIVE' | 'SO_REUSEADDR' | 'SO_RCVBUF' | 'SO_SNDBUF' | 'SO_ERROR'
  | 'TCP_NODELAY' | 'TCP_KEEPIDLE' | 'TCP_KEEPINTVL' | 'TCP_KEEPCNT' | 'TCP_LINGER2' | 'TCP_USER_TIMEOUT' | 'TCP_QUICKACK'
  | 'TCP_MAXSEG' | 'TCP_CORK' | 'TCP_NOTSENT_LOWAT' | 'TCP_INQ' | 'TCP_DEFER_ACCEPT' | 'TCP_CONGESTION';

/** A socket option's value: an integer or flag, SO_LINGER's pair, TCP_CONGESTION's name. */
export type SockOptValue = number | boolean | { on: boolean; seconds: number } | string;

/** A socket of a Host, with Linux's semantics: bind, listen, connect, accept, read, write, shutdown, close, setsockopt. Host.socket() makes one. */
export class Socket {
  readonly id: number;
  conn: TcpConn | null = null;
  listener: Listener | null = null;
  boundAddr: string | null = null;
  boundPort = 0;
  opts: SockOpts;
  refs = 1;
  closed = false;
  /** A connection that already ended keeps its last state for the owner (CLOSED). */
  private lastConnState: TcpState = TcpState.CLOSED;
  /** Event, handler, event, handler...: most sockets have one handler or none (a Map each would cost ~230 bytes). */
  private handlers: Array<SocketEventName | Handler> | null = null;

  constructor(readonly host: SocketHost) {
    this.id = host.nextSocketId();
    this.opts = host.defaultSockOpts();
  }

  // ---- events ----
  /** Adds a listener for an event. */
  on(ev: SocketEventName, fn: Handler): this {
    if (this.handlers) this.handlers.push(ev, fn);
    else this.handlers = [ev, fn];
    return this;
  }
  /** Adds a listener for the next occurrence of an event. */
  once(ev: SocketEventName, fn: Handler): this {
    const wrapped: Handler = (arg) => {
      this.off(ev, wrapped);
      fn(arg);
    };
    return this.on(ev, wrapped);
  }
  /** Removes a listener. */
  off(ev: SocketEventName, fn: Handler): this {
    const h = this.handlers;
    if (!h) return this;
    // A new array: an emit() in progress keeps calling the handlers it started with.
    const kept: Array<SocketEventName | Handler> = [];
    for (let i = 0; i < h.length; i += 2) if (h[i] !== ev || h[i + 1] !== fn) kept.push(h[i]!, h[i + 1]!);
    this.handlers = kept;
    return this;
  }
  /** @internal Calls the listeners of an event. */
  emit(ev: SocketEventName, arg?: unknown): void {
    const h = this.handlers;
    if (!h) return;
    // The handlers registered when the event fires, in order (as a copy of the list would give).
    let first: Handler | null = null;
    let more: Handler[] | null = null;
    for (let i = 0; i < h.length; i += 2) {
      if (h[i] !== ev) continue;
      const f = h[i + 1] as Handler;
      if (!first) first = f;
      else (more ??= [first]).push(f);
    }
    if (more) for (const f of more) f(arg);
    else if (first) first(arg);
  }

  /** ConnOwner: the connection woke us. */
  connEvent(what: ConnEvent): void {
    // close() took the descriptor out of every epoll set: a wake-up queued before it (two in
    // one NAPI poll, the first handler closing) reaches nobody. 'closed' still tells the owner.
    if (this.closed && what !== 'closed') return;
    switch (what) {
      case 'connected': this.emit('connect'); break;
      case 'readable': this.emit('readable'); break;
      case 'writable': this.emit('writable'); break;
      case 'error': this.emit('error', this.conn?.softError); break;
      case 'closed': this.emit('close'); break;
      default: break;
    }
  }

  get state(): string {
    if (this.listener) return 'LISTEN';
    return STATE_NAMES[this.conn ? this.conn.state : this.lastConnState];
  }
  get localAddress(): string | undefined {
    return this.conn?.localAddr ?? this.boundAddr ?? undefined;
  }
  get localPort(): number | undefined {
    return this.conn?.localPort ?? (this.boundPort || undefined);
  }
  /** The peer's address and port (getpeername), while the socket has a connection. */
  get remoteAddress(): string | undefined {
    return this.conn?.remoteAddr;
  }
  get remotePort(): number | undefined {
    return this.conn?.remotePort;
  }
  /** The connection's 4-tuple as traces label it (local>remote), while it has one. */
  get connectionLabel(): string | undefined {
    return this.conn?.label;
  }
  /** How a call on this socket is traced: its connection, else its binding, else sock#N. */
  get traceLabel(): string {
    return this.conn?.label ?? (this.boundPort ? endpoint(this.boundAddr ?? '*', this.boundPort) : `sock#${this.id}`);
  }

  private call(name: string, args?: string, result?: string): void {
    const h = this.host;
    if (!h.tracing) return; // the label is built on demand
    h.trace({ kind: 'call', t: h.now(), host: h.name, socket: this.traceLabel, call: name, args, result });
  }

  private fail(code: ErrnoCode, syscall: string, detail?: string): never {
    const h = this.host;
    const err = new SocketError(code, syscall, detail);
    if (syscall === 'send' || syscall === 'recv') this.call(syscall === 'send' ? 'write' : 'read', undefined, code);
    h.trace({ kind: 'error', t: h.now(), host: h.name, socket: this.conn?.label ?? `sock#${this.id}`, code, errno: err.errno, message: err.message });
    throw err;
  }

  private checkOpen(syscall: string): void {
    if (this.closed) this.fail('EBADF', syscall);
  }

  // ---- calls ----

  /** Another owner of this socket (dup/fork): the TCP close happens when the last owner closes. */
  dup(): this {
    this.checkOpen('dup');
    this.refs++;
    this.call('dup', undefined, `refs=${this.refs}`);
    return this;
  }

  /** bind(): port 0 picks an ephemeral port; a SocketError (EADDRINUSE, EINVAL...) as on Linux. */
  bind(addr: string, port: number): void {
    this.checkOpen('bind');
    const c = canonicalIp(addr);
    if (!c.ok) this.fail('EINVAL', 'bind', `bad address ${addr}`);
    const a = c.value;
    if (this.boundPort || this.conn) this.fail('EINVAL', 'bind', 'already bound');
    if (!Number.isInteger(port) || port < 0 || port > 65535) this.fail('EINVAL', 'bind', `bad port ${port}`);
    if (a !== '0.0.0.0' && a !== '::' && !this.host.addresses.includes(a)) this.fail('EADDRNOTAVAIL', 'bind', a);
    if (port === 0) {
      port = this.host.ports.pickBindPort(a, this.opts.reuseaddr, this);
      if (port === 0) this.fail('EADDRINUSE', 'bind', 'no free port');
    } else if (this.host.ports.portBusyForBind(a, port, this.opts.reuseaddr, this)) {
      this.fail('EADDRINUSE', 'bind', endpoint(a, port));
    }
    this.boundAddr = a;
    this.boundPort = port;
    this.host.ports.bind(this, port);
    this.call('bind', endpoint(a, port), '0');
  }

  /** listen(backlog): the accept queue holds min(backlog, somaxconn) + 1 (sk_acceptq_is_full uses >). */
  listen(backlog = 511): void {
    this.checkOpen('listen');
    if (this.conn) this.fail('EINVAL', 'listen', 'connected socket');
    if (!this.boundPort) this.bind(this.host.addresses.some((x) => x.includes(':')) && !this.host.addresses.some((x) => !x.includes(':')) ? '::' : '0.0.0.0', 0);
    const b = Math.max(0, Math.min(backlog, this.host.cfg.somaxconn));
    if (this.listener) {
      this.listener.backlog = b;
      return;
    }
    const l = new Listener(this, this.boundAddr!, this.boundPort, b);
    if (!this.host.addListener(l)) this.fail('EADDRINUSE', 'listen', endpoint(l.addr, l.port));
    this.listener = l;
    this.host.trace({ kind: 'state', t: this.host.now(), host: this.host.name, socket: endpoint(l.addr, l.port), from: 'CLOSED', to: 'LISTEN', cause: 'listen()', causeKind: 'call' });
    this.call('listen', String(backlog), '0');
  }

  /** accept(): a completed connection, or null (EAGAIN). */
  accept(): Socket | null {
    this.checkOpen('accept');
    const l = this.listener;
    if (!l) this.fail('EINVAL', 'accept', 'not listening');
    const conn = acceptChild(l);
    if (!conn) return null;
    const s = new Socket(this.host);
    s.opts = conn.opts;
    s.conn = conn;
    conn.socket = s;
    this.call('accept', undefined, conn.label);
    return s;
  }

  /** connect(): sends the SYN at once; 'connect' or 'error' follows (non-blocking, EINPROGRESS). */
  connect(addr: string, port: number): void {
    try {
      this.connectImpl(addr, port);
    } finally {
      this.host.flush();
    }
  }

  private connectImpl(addr: string, port: number): void {
    this.checkOpen('connect');
    const h = this.host;
    const c = canonicalIp(addr);
    if (!c.ok) this.fail('EINVAL', 'connect', `bad address ${addr}`);
    const raddr = c.value;
    if (this.listener) this.fail('EINVAL', 'connect', 'listening socket');
    if (this.conn) {
      if (this.conn.state === TcpState.SYN_SENT) this.fail('EALREADY', 'connect');
      if (this.conn.state !== TcpState.CLOSED) this.fail('EISCONN', 'connect');
      this.fail('EISCONN', 'connect', 'socket already used');
    }
    if (!Number.isInteger(port) || port <= 0 || port > 65535) this.fail('EINVAL', 'connect', `bad port ${port}`);
    let laddr = this.boundAddr && this.boundAddr !== '0.0.0.0' && this.boundAddr !== '::' ? this.boundAddr : h.sourceAddressFor(raddr);
    if (!laddr || ipVersion(laddr) !== ipVersion(raddr)) this.fail('ENETUNREACH', 'connect', `no ${ipVersion(raddr) === 6 ? 'IPv6' : 'IPv4'} address on ${h.name}`);
    let lport = this.boundPort;
    let tw: TimeWaitEntry | null = null;
    if (lport) {
      const existing = h.findEntry(laddr, lport, raddr, port);
      if (existing) this.fail('EADDRNOTAVAIL', 'connect', `4-tuple in use (${existing instanceof TcpConn ? existing.stateName : existing.substate})`);
    } else {
      let picked;
      try {
        picked = h.ports.pickEphemeral(laddr, raddr, port);
      } catch (e) {
        if (e instanceof SocketError) this.fail(e.code, 'connect', 'ephemeral ports exhausted');
        throw e;
      }
      lport = picked.port;
      tw = picked.tw;
      if (tw) h.timeWait.reuse(tw);
    }
    laddr = laddr!;
    const conn = h.newConn({ addr: laddr, port: lport }, { addr: raddr, port }, this.opts);
    conn.socket = this;
    this.conn = conn;
    tcpConnectInit(conn, tw ? isnAfterTimeWait(tw) : h.isnFor(laddr, lport, raddr, port), tw ?? undefined);
    h.hashConn(conn);
    this.call('connect', endpoint(raddr, port), 'EINPROGRESS');
    tcpConnect(conn);
    h.reschedule(conn);
  }

  /**
   * send(): bytes accepted into the send buffer (0 = EAGAIN); throws EPIPE, ECONNRESET, ...
   * `more`: MSG_MORE, more data follows (tcpPush).
   */
  send(data: Uint8Array, more = false): number {
    try {
      return this.sendImpl(data, more);
    } finally {
      this.host.flush();
    }
  }

  private sendImpl(data: Uint8Array, more: boolean): number {
    this.checkOpen('send');
    const c = this.conn;
    // tcp_sendmsg -> sk_stream_wait_connect: EPIPE in any state but SYN_SENT/SYN_RECV, so a
    // never-connected or listening socket gets EPIPE (observed on Linux 6.18), not ENOTCONN.
    if (!c) this.fail('EPIPE', 'send');
    // tcp_sendmsg: a pending error first, then EPIPE after shutdown or the end of the connection.
    if (c.softError) {
      const code = c.softError;
      c.softError = null;
      this.call('write', `${data.length} bytes`, code);
      throw new SocketError(code, 'send'); // traced when it was reported
    }
    if (c.sndShutdown || c.done || c.state === TcpState.CLOSED) this.fail('EPIPE', 'send');
    if (c.state === TcpState.SYN_SENT || c.state === TcpState.SYN_RECV) return 0;
    const allowed = this.sendRoom(data.length);
    const queued = writeQueued(c);
    const n = c.sndBuf.push(data, 0, Math.min(allowed, data.length));
    if (n) queueWrite(c, n, more && n === data.length);
    c.writeSeq = seqAdd(c.writeSeq, n);
    if (this.host.tracing) this.call('write', `${data.length} bytes`, n === 0 ? 'EAGAIN' : String(n)); // no strings built otherwise
    if (n) {
      if (!queued) {
        chronoStart(c, Chrono.Busy); // tcp_add_write_queue_tail: the first unsent skb
        slowStartAfterIdleCheck(c); // tcp_skb_entail
      }
      tcpPush(c, more);
      this.host.reschedule(c);
    }
    return n;
  }

  /** How many of `len` bytes a send() would queue now: the send buffer's room, TCP_NOTSENT_LOWAT's allowance. */
  sendRoom(len: number): number {
    const c = this.conn;
    return c ? Math.min(notsentAllowance(c, len), c.sndBuf.free) : 0;
  }

  /** recv(): data, an empty array at end of stream, or null (EAGAIN); throws ECONNRESET, ... */
  recv(max = 65536): Uint8Array | null {
    try {
      const c = this.conn;
      const n = this.readWait(max);
      if (n < 0) return null;
      if (n === 0) return new Uint8Array(0);
      const out = c!.rcvBuf.slice(0, n);
      this.readDone(c!, max, n);
      return out;
    } finally {
      this.host.flush();
    }
  }

  /**
   * read(2) into the caller's memory: copies up to buf.length - offset waiting bytes to
   * buf[offset...] and returns how many; 0 at end of stream, -1 when nothing is waiting
   * (EAGAIN). Errors as recv. Nothing is allocated. `count`, read(2)'s count, may be more than
   * the room when the caller sized the room to the bytes waiting (`readable`), as node:net does
   * for libuv's read of 64 KiB: a read that would overflow the room is a RangeError.
   */
  recvInto(buf: Uint8Array, offset = 0, count = buf.length - offset): number {
    if (!(offset >= 0 && offset <= buf.length)) throw new RangeError(`recvInto: offset ${offset} outside a buffer of ${buf.length} bytes`);
    const room = buf.length - offset;
    if (count > room && Math.min(count, this.readable) > room) throw new RangeError(`recvInto: ${Math.min(count, this.readable)} bytes to read into a room of ${room}`);
    try {
      const c = this.conn;
      const max = count;
      const n = this.readWait(max);
      if (n <= 0) return n;
      c!.rcvBuf.copyOut(0, n, buf, offset);
      this.readDone(c!, max, n);
      return n;
    } finally {
      this.host.flush();
    }
  }

  /**
   * tcp_recvmsg up to the copy: the bytes a read of `max` takes now (> 0), 0 at end of stream
   * (traced), -1 for EAGAIN; throws the socket's error.
   */
  private readWait(max: number): number {
    this.checkOpen('recv');
    const c = this.conn;
    if (!c) this.fail('ENOTCONN', 'recv');
    if (c.state === TcpState.SYN_SENT || c.state === TcpState.SYN_RECV) {
      if (c.softError) return this.takeError(c, 'recv');
      return -1;
    }
    const n = Math.min(max, c.rcvBuf.length);
    if (n > 0) return n;
    // tcp_recvmsg: SOCK_DONE (the peer's FIN) is checked before sk_err, so after a FIN
    // reads return 0 even when a RST set an error later (EPIPE in CLOSE_WAIT, observed).
    if (c.finReceived) {
      this.call('read', String(max), '0 (EOF)');
      return 0;
    }
    if (c.softError) return this.takeError(c, 'recv');
    if (c.state === TcpState.CLOSED && !c.done) this.fail('ENOTCONN', 'recv'); // after tcp_disconnect
    if (c.done || c.rcvShutdown) {
      this.call('read', String(max), '0 (EOF)');
      return 0;
    }
    return -1;
  }

  /** tcp_recvmsg after copying n bytes: the skbs read are freed, the window may open. */
  private readDone(c: TcpConn, max: number, n: number): void {
    // tcp_recvmsg_locked: tcp_rcv_space_adjust after each skb copied.
    for (let left = n; left > 0;) {
      const take = Math.min(left, c.rcvBuf.headLength());
      c.rcvBuf.consume(take);
      left -= take;
      // copied_seq as int32 (the same sequence number): a uint32 above 2^31 would be boxed for the call.
      rcvSpaceAdjust(c, (c.rcvNxt - c.rcvBuf.length - (c.finReceived ? 1 : 0)) | 0);
    }
    memReclaim(c); // each skb read was uncharged (sk_eat_skb)
    if (this.host.tracing) this.call('read', String(max), String(n));
    if (c.state !== TcpState.CLOSED) {
      windowUpdateAfterRead(c);
      this.host.reschedule(c);
    }
  }

  private takeError(c: TcpConn, syscall: string): never {
    const code = c.softError!;
    c.softError = null;
    this.call(syscall === 'recv' ? 'read' : syscall, undefined, code);
    throw new SocketError(code, syscall); // the error event was traced when it was reported
  }

  /** Bytes waiting to be read. */
  get readable(): number {
    return this.conn ? this.conn.rcvBuf.length : 0;
  }
  /** Free space in the send buffer. */
  get writable(): number {
    return this.conn ? this.conn.sndBuf.free : 0;
  }

  /** shutdown(): acts at once whatever the reference count (unlike close). */
  shutdown(how: ShutdownHow): void {
    try {
      this.shutdownImpl(how);
    } finally {
      this.host.flush();
    }
  }

  private shutdownImpl(how: ShutdownHow): void {
    this.checkOpen('shutdown');
    this.call('shutdown', how);
    if (this.listener) {
      if (how !== 'SHUT_WR') this.closeListener('shutdown()');
      return;
    }
    const c = this.conn;
    if (!c || c.state === TcpState.CLOSED) this.fail('ENOTCONN', 'shutdown');
    tcpShutdown(c, how);
  }

  /** close(): drops one reference; the last one closes the connection as tcp_close does. */
  close(): void {
    try {
      this.closeImpl();
    } finally {
      this.host.flush();
    }
  }

  private closeImpl(): void {
    this.checkOpen('close');
    this.refs--;
    if (this.refs > 0) {
      this.call('close', undefined, `refs=${this.refs}: other owners remain, nothing sent`);
      return;
    }
    this.closed = true;
    if (this.listener) {
      this.call('close');
      this.closeListener('close()');
      this.unbind();
      return;
    }
    const c = this.conn;
    this.unbind();
    if (!c) {
      this.call('close');
      return;
    }
    this.call('close');
    tcpClose(c, this);
    this.detach(c);
  }

  private detach(c: TcpConn): void {
    this.lastConnState = TcpState.CLOSED;
    if (c.socket === this) c.socket = null;
    this.conn = null;
  }

  private unbind(): void {
    if (!this.boundPort) return;
    this.host.ports.unbind(this, this.boundPort);
  }

  /** inet_csk_listen_stop: unaccepted children are reset, embryonic ones dropped. */
  private closeListener(cause: string): void {
    const l = this.listener;
    if (!l) return;
    const h = this.host;
    h.removeListener(l);
    this.listener = null;
    h.trace({ kind: 'state', t: h.now(), host: h.name, socket: endpoint(l.addr, l.port), from: 'LISTEN', to: 'CLOSED', cause, causeKind: 'call' });
    listenStop(l);
  }

  // ---- options ----

  /** setsockopt() with Linux's names and checks. */
  setsockopt(name: SockOptName, value: SockOptValue): void {
    try {
      this.setsockoptImpl(name, value);
    } finally {
      this.host.flush();
    }
  }

  private setsockoptImpl(name: SockOptName, value: SockOptValue): void {
    this.checkOpen('setsockopt');
    const c = this.conn;
    let o = this.opts;
    if (Object.isFrozen(o)) {
      // Shared options (the host's defaults, a listener's for its children): copy on write.
      o = this.opts = { ...o };
      if (c) c.opts = o;
    }
    const num = (v: unknown): number => {
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v !== 'number' || !Number.isInteger(v)) this.fail('EINVAL', 'setsockopt', `${name} takes an integer`);
      return v;
    };
    switch (name) {
      case 'SO_LINGER': {
        if (typeof value !== 'object') this.fail('EINVAL', 'setsockopt', 'SO_LINGER takes {on, seconds}');
        o.linger = { on: value.on, seconds: Math.max(0, value.seconds | 0) };
        break;
      }
      case 'SO_KEEPALIVE': {
        const on = num(value) !== 0;
        const was = o.keepalive;
        o.keepalive = on;
        if (c && c.state !== TcpState.CLOSED && c.state !== TcpState.LISTEN) {
          // tcp_set_keepalive: arming starts a full idle period from now.
          if (on && !was) startKeepalive(c);
          else if (!on) c.keepaliveDeadline = Infinity;
        }
        break;
      }
      case 'SO_REUSEADDR': o.reuseaddr = num(value) !== 0; break;
      case 'SO_RCVBUF': {
        // Linux doubles it, capped by rmem_max, and locks it (SOCK_RCVBUF_LOCK): the initial
        // window and window scale follow it (selectInitialWindow); a listener's children inherit it.
        o.rcvbuf = Math.max(2304, Math.min(num(value) * 2, 212992 * 2));
        o.rcvbufLocked = true;
        if (c) c.rcvBuf.limit = o.rcvbuf + RCV_SLACK;
        if (c?.rcvSpace) c.rcvSpace.rcvbuf = o.rcvbuf;
        break;
      }
      case 'SO_SNDBUF': o.sndbuf = Math.max(4608, Math.min(num(value) * 2, 212992 * 2)); o.sndbufLocked = true; if (c) c.sndBuf.limit = o.sndbuf; break;
      case 'TCP_NODELAY': o.nodelay = num(value) !== 0; if (c) { tcpOutput(c); } break;
      case 'TCP_CORK': {
        // __tcp_sock_set_cork: uncorking pushes what waits (tcp_push_pending_frames).
        o.cork = num(value) !== 0;
        if (c && !o.cork) tcpOutput(c);
        break;
      }
      case 'TCP_QUICKACK': o.quickack = num(value) !== 0; break;
      case 'TCP_KEEPIDLE':
      case 'TCP_KEEPINTVL': {
        const v = num(value);
        if (v < 1 || v > 32767) this.fail('EINVAL', 'setsockopt', `${name} must be 1..32767`);
        if (name === 'TCP_KEEPIDLE') {
          o.keepIdle = v;
          if (c && o.keepalive && c.state !== TcpState.CLOSED) keepIdleChanged(c);
        } else o.keepIntvl = v;
        break;
      }
      case 'TCP_KEEPCNT': {
        const v = num(value);
        if (v < 1 || v > 127) this.fail('EINVAL', 'setsockopt', 'TCP_KEEPCNT must be 1..127');
        o.keepCnt = v;
        break;
      }
      case 'TCP_LINGER2': {
        const v = num(value);
        o.linger2 = v < 0 ? -1 : Math.min(v, 120); // TCP_FIN_TIMEOUT_MAX
        break;
      }
      case 'TCP_USER_TIMEOUT': {
        const v = num(value);
        if (v < 0) this.fail('EINVAL', 'setsockopt', 'TCP_USER_TIMEOUT must be >= 0');
        o.userTimeoutMs = v;
        break;
      }
      case 'TCP_MAXSEG': {
        // do_tcp_setsockopt: 0 unsets; otherwise TCP_MIN_MSS (88) .. MAX_TCP_WINDOW (32767), or
        // EINVAL (observed on 6.18). It shapes the next handshake; a connection keeps its MSS.
        const v = num(value);
        if (v !== 0 && (v < 88 || v > 32767)) this.fail('EINVAL', 'setsockopt', 'TCP_MAXSEG must be 0 or 88..32767');
        o.userMss = v;
        break;
      }
      case 'TCP_NOTSENT_LOWAT': {
        // tp->notsent_lowat is a u32 read back as an int (-1 stays -1); then sk_write_space.
        o.notsentLowat = num(value) | 0;
        if (c) c.env.notify(c, 'writable');
        break;
      }
      case 'TCP_INQ': {
        const v = num(value);
        if (v < 0 || v > 1) this.fail('EINVAL', 'setsockopt', 'TCP_INQ takes 0 or 1');
        o.recvmsgInq = v === 1;
        break;
      }
      case 'TCP_DEFER_ACCEPT': o.deferAccept = secsToRetrans(num(value), this.host.cfg.tcp_rto_max_us); break;
      case 'TCP_CONGESTION': {
        // tcp_set_congestion_control: a name with no module is ENOENT. Children of a listener
        // share its options, as Linux's inherit a congestion control set by setsockopt.
        if (typeof value !== 'string') this.fail('EINVAL', 'setsockopt', 'TCP_CONGESTION takes a name');
        if (!CONGESTION_CONTROLS.includes(value)) this.fail('ENOENT', 'setsockopt', `no congestion control "${value}" (linger has ${CONGESTION_CONTROLS.join(', ')})`);
        // tcp_reinit_congestion_control: a connection that changes its control starts it afresh.
        const was = o.congestion ?? this.host.cfg.tcp_congestion_control;
        o.congestion = value;
        if (c && value !== was && c.state !== TcpState.CLOSED) caReinit(c);
        break;
      }
      case 'SO_ERROR': this.fail('ENOPROTOOPT', 'setsockopt', 'SO_ERROR is read-only');
    }
    if (c) this.host.reschedule(c);
    this.call('setsockopt', `${name}=${typeof value === 'object' ? `{${value.on ? 1 : 0},${value.seconds}}` : String(value)}`, '0');
  }

  /** getsockopt() with Linux's names. */
  getsockopt(name: SockOptName): SockOptValue {
    const o = this.opts;
    switch (name) {
      case 'SO_LINGER': return { ...o.linger };
      case 'SO_KEEPALIVE': return o.keepalive;
      case 'SO_REUSEADDR': return o.reuseaddr;
      case 'SO_RCVBUF': return this.conn ? rcvbuf(this.conn) : o.rcvbuf; // sk_rcvbuf, as autotuning grew it
      case 'SO_SNDBUF': return o.sndbuf;
      case 'SO_ERROR': {
        const c = this.conn;
        const e = c?.softError;
        if (c) c.softError = null;
        return e ? new SocketError(e, 'getsockopt').errno : 0;
      }
      case 'TCP_NODELAY': return o.nodelay;
      case 'TCP_CORK': return o.cork === true;
      case 'TCP_NOTSENT_LOWAT': return o.notsentLowat ?? 0;
      case 'TCP_INQ': return o.recvmsgInq === true;
      case 'TCP_DEFER_ACCEPT': return retransToSecs(o.deferAccept ?? 0, this.host.cfg.tcp_rto_max_us);
      case 'TCP_QUICKACK': return o.quickack;
      case 'TCP_CONGESTION': return o.congestion ?? this.host.cfg.tcp_congestion_control;
      case 'TCP_KEEPIDLE': return o.keepIdle || this.host.cfg.tcp_keepalive_time;
      case 'TCP_KEEPINTVL': return o.keepIntvl || this.host.cfg.tcp_keepalive_intvl;
      case 'TCP_KEEPCNT': return o.keepCnt || this.host.cfg.tcp_keepalive_probes;
      case 'TCP_LINGER2': return o.linger2 === 0 ? this.host.cfg.tcp_fin_timeout : o.linger2;
      case 'TCP_USER_TIMEOUT': return o.userTimeoutMs;
      case 'TCP_MAXSEG': {
        // do_tcp_getsockopt: mss_cache (536 before a connection), or user_mss in CLOSE and
        // LISTEN (observed on 6.18: 536 by default, 1000 after setting it, 788 once connected).
        const c = this.conn;
        if (c && c.state !== TcpState.CLOSED) return c.mssCache;
        return o.userMss || 536;
      }
    }
  }
}
