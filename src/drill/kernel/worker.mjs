// A thread of the kernel runner's call pool (kernel/pool.ts): it makes one system call at a
// time that may block (accept, connect, read, write, close, poll) on a real socket, posts the
// result and wakes the main thread through an eventfd, so the main thread keeps playing the
// script's packets while a call sleeps in the kernel, as packetdrill's syscall thread does.
// Plain JavaScript: worker threads do not inherit the tsx loader.

import { Buffer } from 'node:buffer';
import { parentPort } from 'node:worker_threads';
import koffi from 'koffi';

const l = koffi.load('libc.so.6');
const C = {
  accept4: l.func('int accept4(int fd, void *addr, void *len, int flags)'),
  connect: l.func('int connect(int fd, const void *addr, uint32_t len)'),
  recv: l.func('long recv(int fd, void *buf, unsigned long n, int flags)'),
  send: l.func('long send(int fd, const void *buf, unsigned long n, int flags)'),
  close: l.func('int close(int fd)'),
  poll: l.func('int poll(void *fds, unsigned long n, int timeout)'),
  write: l.func('long write(int fd, const void *buf, unsigned long n)'),
  epoll_wait: l.func('int epoll_wait(int epfd, void *events, int max, int timeout)'),
  getsockopt: l.func('int getsockopt(int fd, int level, int name, void *val, void *len)'),
};

const iovec = koffi.struct('linger_iovec', { base: 'void *', len: 'size_t' });
koffi.struct('linger_msghdr', {
  name: 'void *', namelen: 'uint32', iov: koffi.pointer(iovec), iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int',
});
const recvmsg = l.func('long recvmsg(int fd, _Inout_ linger_msghdr *msg, int flags)');

/** recvmsg() into buf with a control buffer; `extra` is the control length the kernel filled. */
C.recvmsg = (fd, buf, count, ctl, flags) => {
  const m = { name: null, namelen: 0, iov: [{ base: buf, len: count }], iovlen: 1, control: ctl, controllen: ctl.length, flags: 0 };
  const ret = Number(recvmsg(fd, m, flags));
  return { ret, errno: ret < 0 ? koffi.errno() : 0, extra: Number(m.controllen) };
};

const POLLOUT = 0x4;
const SOL_SOCKET = 1;
const SO_ERROR = 4;

/**
 * The second half of a blocking connect() whose SYN the main thread sent: sleeps until the
 * socket is connected or has failed, and returns what connect() would (sock_error).
 */
C.connectWait = (fd) => {
  const pfd = Buffer.alloc(8);
  pfd.writeInt32LE(fd, 0);
  pfd.writeInt16LE(POLLOUT, 4);
  for (;;) {
    const n = Number(C.poll(pfd, 1, -1));
    if (n > 0) break;
    if (n < 0 && koffi.errno() !== 4) return { ret: -1, errno: koffi.errno() };
  }
  const err = Buffer.alloc(4);
  const len = Buffer.alloc(4);
  len.writeInt32LE(4);
  if (Number(C.getsockopt(fd, SOL_SOCKET, SO_ERROR, err, len)) < 0) return { ret: -1, errno: koffi.errno() };
  const e = err.readInt32LE(0);
  return e ? { ret: -1, errno: e } : { ret: 0, errno: 0 };
};

/** Each request: its call, arguments (numbers, Uint8Array for in/out buffers, null for NULL). */
function run(req) {
  const a = req.args.map((x) => (x instanceof Uint8Array ? Buffer.from(x.buffer, x.byteOffset, x.byteLength) : x));
  const out = C[req.call](...a);
  // The return stamped here, on the calling thread, as packetdrill's syscall thread does: the
  // hop back to the main thread (a message and an eventfd wake-up) is not the call's time.
  const at = process.hrtime.bigint();
  const ret = typeof out === 'object' ? out.ret : Number(out);
  const errno = typeof out === 'object' ? out.errno : ret < 0 ? koffi.errno() : 0;
  return { id: req.id, at, ret, errno, extra: typeof out === 'object' ? out.extra : undefined, bufs: a.filter((x) => Buffer.isBuffer(x)).map((b) => new Uint8Array(b)) };
}

parentPort.once('message', ({ port, wakeFd }) => {
  const one = Buffer.alloc(8);
  one.writeBigUInt64LE(1n);
  port.on('message', (req) => {
    let res;
    try {
      res = run(req);
    } catch (e) {
      res = { id: req.id, ret: -1, errno: 0, bufs: [], error: String(e && e.message ? e.message : e) };
    }
    port.postMessage(res);
    C.write(wakeFd, one, 8);
  });
  parentPort.postMessage('ready');
});
