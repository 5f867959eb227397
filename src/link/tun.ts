// A Linux TUN device (IFF_TUN | IFF_NO_PI: each read() is one IP packet, each write() sends one)
// through the koffi FFI package, so nothing is compiled at install time. Reads are non-blocking:
// poll() waits on the libuv pool (koffi's async call) for the TUN fd and an eventfd; on each
// wake-up the main thread drains the fd until EAGAIN. close() writes the eventfd, which ends the
// poll, so no pool thread is left blocked and the process can exit. No busy-spinning: while the
// device is idle one pool thread sleeps in poll() and the event loop is free.

import koffi from 'koffi';

const O_RDWR = 0o2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;
const POLLIN = 0x001;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const EAGAIN = 11;
const EINTR = 4;

/** A read buffer of 64 KiB: a TUN packet is at most the MTU (65535 at most). */
export const TUN_READ_BUFFER = 65536;
/** Packets handled per turn of the event loop before yielding to it (bounded work per turn). */
const BATCH = 256;

type Fn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

interface Libc {
  open: Fn;
  ioctl: Fn;
  read: Fn;
  write: Fn;
  close: Fn;
  poll: Fn;
  eventfd: Fn;
  strerror: Fn;
}

let libc: Libc | null = null;
function lib(): Libc {
  if (libc) return libc;
  const l = koffi.load('libc.so.6');
  libc = {
    open: l.func('int open(const char *path, int flags)') as Fn,
    ioctl: l.func('int ioctl(int fd, unsigned long req, void *arg)') as Fn,
    read: l.func('long read(int fd, void *buf, unsigned long n)') as Fn,
    write: l.func('long write(int fd, const void *buf, unsigned long n)') as Fn,
    close: l.func('int close(int fd)') as Fn,
    poll: l.func('int poll(void *fds, unsigned long nfds, int timeout)') as Fn,
    eventfd: l.func('int eventfd(unsigned int initval, int flags)') as Fn,
    strerror: l.func('const char *strerror(int errnum)') as Fn,
  };
  return libc;
}

export class TunError extends Error {
  constructor(readonly call: string, readonly errno: number, detail: string) {
    super(`${call}: ${detail}`);
    this.name = 'TunError';
  }
}

function fail(call: string): never {
  const e = koffi.errno();
  throw new TunError(call, e, `${String(lib().strerror(e))} (errno ${e})`);
}

export interface TunStats {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  /** write() failures (the device is down, or the kernel's queue refused the packet). */
  txErrors: number;
  /** poll() wake-ups. */
  wakeups: number;
}

export interface TunOptions {
  /** Interface name to ask for (at most 15 bytes); the kernel picks tunN when absent. */
  name?: string;
}

export class TunDevice {
  readonly fd: number;
  readonly name: string;
  readonly stats: TunStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, wakeups: 0 };
  private readonly efd: number;
  private readonly rbuf = Buffer.alloc(TUN_READ_BUFFER);
  private readonly pollfds = Buffer.alloc(16);
  private onPacket: ((p: Uint8Array) => void) | null = null;
  private afterBatch: (() => void) | null = null;
  private polling = false;
  private closing = false;
  private closed = false;
  private closeWaiters: Array<() => void> = [];
  /** The first error of a failed read (the device is gone); null while all is well. */
  readError: TunError | null = null;

  /** Opens /dev/net/tun and creates (or attaches to) the interface. Needs CAP_NET_ADMIN. */
  constructor(opts: TunOptions = {}) {
    const c = lib();
    const fd = c.open('/dev/net/tun', O_RDWR | O_NONBLOCK | O_CLOEXEC) as number;
    if (fd < 0) fail('open /dev/net/tun');
    const ifr = Buffer.alloc(IFREQ_SIZE);
    if (opts.name) {
      if (Buffer.byteLength(opts.name) >= IFNAMSIZ) {
        c.close(fd);
        throw new TunError('TUNSETIFF', 22, `interface name "${opts.name}" is longer than ${IFNAMSIZ - 1} bytes`);
      }
      ifr.write(opts.name, 0, 'latin1');
    }
    ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI, IFNAMSIZ);
    if ((c.ioctl(fd, TUNSETIFF, ifr) as number) < 0) {
      const e = koffi.errno();
      c.close(fd);
      koffi.errno(e);
      fail('ioctl TUNSETIFF');
    }
    const efd = c.eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) as number;
    if (efd < 0) {
      c.close(fd);
      fail('eventfd');
    }
    this.fd = fd;
    this.efd = efd;
    this.name = ifr.toString('latin1', 0, IFNAMSIZ).replace(/\0.*$/s, '');
    // struct pollfd { int fd; short events; short revents; } x 2
    this.pollfds.writeInt32LE(fd, 0);
    this.pollfds.writeInt16LE(POLLIN, 4);
    this.pollfds.writeInt32LE(efd, 8);
    this.pollfds.writeInt16LE(POLLIN, 12);
  }

  /**
   * Starts delivering packets: `onPacket` gets each one (its own copy), `afterBatch` runs after
   * each batch of reads (the place to re-arm timers once rather than per packet).
   */
  start(onPacket: (p: Uint8Array) => void, afterBatch?: () => void): void {
    this.onPacket = onPacket;
    this.afterBatch = afterBatch ?? null;
    this.drain();
  }

  /** One packet, one write(). False if the kernel refused it (counted in stats.txErrors). */
  write(packet: Uint8Array): boolean {
    if (this.closed) return false;
    const n = lib().write(this.fd, packet, packet.length) as number;
    if (n !== packet.length) {
      this.stats.txErrors++;
      return false;
    }
    this.stats.txPackets++;
    this.stats.txBytes += n;
    return true;
  }

  /** Reads until EAGAIN (or a batch is done, then continues on the next turn); then polls. */
  private drain(): void {
    if (this.closing || !this.onPacket) return;
    const c = lib();
    for (let i = 0; i < BATCH; i++) {
      const n = c.read(this.fd, this.rbuf, TUN_READ_BUFFER) as number;
      if (n < 0) {
        const e = koffi.errno();
        if (e === EINTR) continue;
        this.afterBatch?.();
        if (e === EAGAIN) {
          this.poll();
          return;
        }
        // EBADFD and friends: the interface was deleted under us. Stop reading; writes fail too.
        this.readError = new TunError('read', e, `${String(c.strerror(e))} (errno ${e})`);
        return;
      }
      if (n === 0) continue;
      this.stats.rxPackets++;
      this.stats.rxBytes += n;
      this.onPacket(new Uint8Array(this.rbuf.subarray(0, n))); // a copy: the engine may keep payload views
    }
    this.afterBatch?.();
    setImmediate(() => this.drain());
  }

  private poll(): void {
    if (this.polling || this.closing) return;
    this.polling = true;
    lib().poll.async(this.pollfds, 2, -1, (err: unknown) => {
      this.polling = false;
      this.stats.wakeups++;
      if (this.closing) {
        this.finishClose();
        return;
      }
      if (err) {
        this.readError = new TunError('poll', 0, String(err));
        return;
      }
      this.drain();
    });
  }

  /** Stops reading and closes the device (a non-persistent TUN interface disappears with it). */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.closeWaiters.push(resolve));
    if (!this.closing) {
      this.closing = true;
      if (this.polling) {
        const one = Buffer.alloc(8);
        one.writeBigUInt64LE(1n);
        lib().write(this.efd, one, 8); // wakes the poll() blocked on the libuv pool
      } else this.finishClose();
    }
    return p;
  }

  private finishClose(): void {
    if (this.closed) return;
    this.closed = true;
    const c = lib();
    c.close(this.fd);
    c.close(this.efd);
    for (const w of this.closeWaiters.splice(0)) w();
  }
}
