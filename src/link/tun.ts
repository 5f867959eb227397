// A Linux TUN device (IFF_TUN | IFF_NO_PI: each read() is one IP packet, each write() sends one)
// through the koffi FFI package, so nothing is compiled at install time. With `vnetHdr` (the
// default of TunStack) the device also has IFF_VNET_HDR and TUNSETOFFLOAD (TUN_F_CSUM,
// TUN_F_TSO4, TUN_F_TSO6): every packet comes and goes after a virtio_net_hdr (vnet.ts), the
// kernel hands over TSO/GSO super-packets of up to 64 KB with partial checksums and takes the
// same from linger. Where the kernel refuses either, the device falls back to plain packets and
// says why (`offloadRefused`, printed by its user). Reads are non-blocking:
// poll() waits on the libuv pool (koffi's async call) for the TUN fd and an eventfd; on each
// wake-up the main thread drains the fd until EAGAIN. close() writes the eventfd, which ends the
// poll, so no pool thread is left blocked and the process can exit. No busy-spinning: while the
// device is idle one pool thread sleeps in poll() and the event loop is free.

import koffi from 'koffi';
import { tcpHeadersLen } from '../wire/gso.ts';
import { GsoCoalescer, gsoSegments, VNET_F_DATA_VALID, VNET_F_NEEDS_CSUM, VNET_GSO_ECN, VNET_GSO_TCPV4, VNET_GSO_TCPV6, VNET_HDR_LEN } from './vnet.ts';

const O_RDWR = 0o2;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const TUNSETIFF = 0x400454ca; // _IOW('T', 202, int)
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const IFF_VNET_HDR = 0x4000;
const TUNSETOFFLOAD = 0x400454d0; // _IOW('T', 208, unsigned int)
const TUNGETFEATURES = 0x800454cf; // _IOR('T', 207, unsigned int)
const TUN_F_CSUM = 0x01;
const TUN_F_TSO4 = 0x02;
const TUN_F_TSO6 = 0x04;
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;
const POLLIN = 0x001;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;
const EAGAIN = 11;
const EINTR = 4;

/** The most one read() returns: a packet of at most 64 KiB (the MTU, or a GSO packet's gso_max_size) and its vnet header. */
export const TUN_READ_BUFFER = 65536 + VNET_HDR_LEN;
/**
 * Packets are read into an arena. A large one (GSO packets, MTU-65535 segments) is handed over
 * as a view of it (no copy): the engine keeps payload views, as an skb keeps its page, and a
 * full arena is left to those views and a new one taken. A small one is copied out and its room
 * reused, so an unread small segment never keeps an arena alive: a view pins at most
 * ARENA / COPY_BELOW = 16 times its own size (the engine charges its truesize).
 */
const ARENA = 256 * 1024;
const COPY_BELOW = 16 * 1024;
/** Packets handled per turn of the event loop before yielding to it (bounded work per turn). */
const BATCH = 256;

type Fn = ((...args: unknown[]) => unknown) & { async: (...args: unknown[]) => void };

interface Libc {
  open: Fn;
  ioctl: Fn;
  ioctlVal: Fn;
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
    ioctlVal: l.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']) as Fn,
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
  /** GSO super-packets read (vnet header with gso_type TCPV4/TCPV6), and the segments they held. */
  rxGsoPackets: number;
  rxGsoSegments: number;
  /** GSO packets written, and the segments they held. */
  txGsoPackets: number;
  txGsoSegments: number;
}

export interface TunOptions {
  /** Interface name to ask for (at most 15 bytes); the kernel picks tunN when absent. */
  name?: string;
  /** IFF_VNET_HDR with TUNSETOFFLOAD (checksum, TSO4, TSO6). Default false: plain packets. */
  vnetHdr?: boolean;
}

/**
 * What a packet read from the device says of itself: `csumValid` when the kernel's vnet header
 * says its TCP checksum needs no check (NEEDS_CSUM: a partial checksum of a packet the kernel
 * made, DATA_VALID: checked), `gsoSize` the segment size of a GSO super-packet (0: one segment).
 */
export type TunPacketHandler = (p: Uint8Array, csumValid: boolean, gsoSize: number) => void;

export class TunDevice {
  readonly fd: number;
  readonly name: string;
  readonly stats: TunStats = { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, txErrors: 0, wakeups: 0, rxGsoPackets: 0, rxGsoSegments: 0, txGsoPackets: 0, txGsoSegments: 0 };
  /** The device carries vnet headers with the kernel's offloads on. */
  readonly vnetHdr: boolean;
  /** Why offloads were asked for and not had (null: had, or not asked). */
  readonly offloadRefused: string | null = null;
  private readonly efd: number;
  private arena = new Uint8Array(0);
  private arenaOff = 0;
  private readonly pollfds = Buffer.alloc(16);
  private onPacket: TunPacketHandler | null = null;
  private readonly coalescer: GsoCoalescer | null = null;
  private flushQueued = false;
  /** Packets written since the last read found the device empty. */
  private wrote = 0;
  private draining = false;
  private drainQueued = false;
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
    let vnet = opts.vnetHdr ?? false;
    if (vnet) {
      const feat = Buffer.alloc(4);
      if ((c.ioctl(fd, TUNGETFEATURES, feat) as number) < 0 || !(feat.readUInt32LE(0) & IFF_VNET_HDR)) {
        this.offloadRefused = 'TUNGETFEATURES: this kernel\'s tun has no IFF_VNET_HDR';
        vnet = false;
      }
    }
    ifr.writeUInt16LE(IFF_TUN | IFF_NO_PI | (vnet ? IFF_VNET_HDR : 0), IFNAMSIZ);
    if ((c.ioctl(fd, TUNSETIFF, ifr) as number) < 0) {
      const e = koffi.errno();
      c.close(fd);
      koffi.errno(e);
      fail('ioctl TUNSETIFF');
    }
    if (vnet && (c.ioctlVal(fd, TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6) as number) < 0) {
      // The header stays (IFF_VNET_HDR cannot be dropped once set) but carries nothing: no GSO,
      // no partial checksums either way.
      const e = koffi.errno();
      this.offloadRefused = `TUNSETOFFLOAD: ${String(c.strerror(e))} (errno ${e}); vnet headers without offloads`;
    }
    this.vnetHdr = vnet;
    if (vnet) {
      this.coalescer = new GsoCoalescer((b, n) => this.writeRaw(b, n), this.offloadRefused === null);
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
  start(onPacket: TunPacketHandler, afterBatch?: () => void): void {
    this.onPacket = onPacket;
    this.afterBatch = afterBatch ?? null;
    this.drain();
  }

  /**
   * One packet to the kernel. Plain: one write(); false if the kernel refused it (counted in
   * stats.txErrors). With vnet headers the packet joins the GSO coalescer, which writes at the
   * end of the current job (a microtask) or when a run cannot grow: true, errors are counted.
   */
  write(packet: Uint8Array, gsoSize = 0): boolean {
    if (this.closed) return false;
    const co = this.coalescer;
    if (!co) {
      // A plain device takes single segments: a TSO packet goes as the segments it stands for.
      const segs = gsoSize ? gsoSegments(packet, gsoSize) : null;
      if (segs === null) return this.writeRaw(packet, packet.length);
      let ok = true;
      for (const s of segs) ok = this.writeRaw(s, s.length) && ok;
      return ok;
    }
    if (gsoSize) co.pushGso(packet, gsoSize);
    else co.push(packet);
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushNow);
    }
    return true;
  }

  /** Writes what the coalescer holds now. */
  readonly flushNow = (): void => {
    if (this.closed || !this.coalescer) return;
    this.flushQueued = false;
    this.coalescer.flush();
    this.stats.txGsoPackets = this.coalescer.stats.gsoPackets;
    this.stats.txGsoSegments = this.coalescer.stats.gsoSegments;
  };

  private writeRaw(b: Uint8Array, len: number): boolean {
    if (this.closed) return false;
    const n = lib().write(this.fd, b, len) as number;
    if (n !== len) {
      this.stats.txErrors++;
      return false;
    }
    this.stats.txPackets++;
    this.stats.txBytes += n;
    this.wrote++;
    if (!this.draining) this.queueDrain();
    return true;
  }

  /** Reads until EAGAIN (or a batch is done, then continues on the next turn); then polls. */
  private drain(): void {
    if (this.closing || !this.onPacket) return;
    this.draining = true;
    try {
      this.drainBatch();
    } finally {
      this.draining = false;
    }
  }

  /**
   * After writes made outside a drain (an application's send, a timer), a look at the device on
   * this thread: the kernel handles a written packet in the write() itself (its ACK, or the data
   * an ACK let it send, is queued on the device when write() returns), so reading at once saves
   * the poll thread's round trip (measured: most of a bulk run's time under load).
   */
  private queueDrain(fromDrain = false): void {
    if (this.drainQueued || (this.draining && !fromDrain) || this.closing || !this.onPacket) return;
    this.drainQueued = true;
    setImmediate(() => {
      this.drainQueued = false;
      this.drain();
    });
  }

  private drainBatch(): void {
    const c = lib();
    const onPacket = this.onPacket!;
    const hl = this.vnetHdr ? VNET_HDR_LEN : 0;
    for (let i = 0; i < BATCH; i++) {
      if (this.arenaOff + TUN_READ_BUFFER > this.arena.length) {
        this.arena = new Uint8Array(Buffer.allocUnsafeSlow(ARENA).buffer, 0, ARENA); // not zeroed: read() fills what is used
        this.arenaOff = 0;
      }
      const at = this.arenaOff;
      const n = c.read(this.fd, at ? this.arena.subarray(at) : this.arena, TUN_READ_BUFFER) as number;
      if (n < 0) {
        const e = koffi.errno();
        if (e === EINTR) continue;
        this.afterBatch?.();
        if (e === EAGAIN) {
          // What this batch made goes out now. The kernel's answer to it (handled in write())
          // is read on the next turn, after the application has run on this batch (its
          // callbacks, as a woken process runs before the next softirq round here), without
          // the poll thread's round trip.
          this.flushNow();
          if (this.wrote) {
            this.wrote = 0;
            this.queueDrain(true);
            return;
          }
        }
        if (e === EAGAIN) {
          this.poll();
          return;
        }
        // EBADFD and friends: the interface was deleted under us. Stop reading; writes fail too.
        this.readError = new TunError('read', e, `${String(c.strerror(e))} (errno ${e})`);
        return;
      }
      if (n <= hl) continue;
      this.stats.rxPackets++;
      this.stats.rxBytes += n - hl;
      let p: Uint8Array;
      if (n - hl < COPY_BELOW) p = this.arena.slice(at + hl, at + n); // its own buffer; the room is reused
      else {
        p = this.arena.subarray(at + hl, at + n);
        this.arenaOff = (at + n + 7) & ~7; // 8-byte aligned: the checksum reads 32-bit words
      }
      if (!hl) {
        onPacket(p, false, 0);
        continue;
      }
      const a = this.arena;
      const flags = a[at]!;
      const gsoType = a[at + 1]! & ~VNET_GSO_ECN;
      const gsoSize = gsoType === VNET_GSO_TCPV4 || gsoType === VNET_GSO_TCPV6 ? a[at + 4]! | (a[at + 5]! << 8) : 0;
      if (gsoSize) {
        this.stats.rxGsoPackets++;
        this.stats.rxGsoSegments += Math.ceil((p.length - Math.max(0, tcpHeadersLen(p))) / gsoSize);
      }
      onPacket(p, (flags & (VNET_F_NEEDS_CSUM | VNET_F_DATA_VALID)) !== 0, gsoSize);
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
      this.flushNow();
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
