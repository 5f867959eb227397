// The numbers a C program passes to the socket calls, with Linux's values (x86-64 and the
// generic ABI: include/uapi/linux/*.h, include/uapi/asm-generic/*.h, include/linux/socket.h).
// The packetdrill runner maps script symbols through SYMBOLS.

import { ERRNO } from '../base/errno.ts';

// Address families, socket types and protocols (include/linux/socket.h, linux/net.h, linux/in.h).
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const PF_INET = AF_INET;
export const PF_INET6 = AF_INET6;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_TYPE_MASK = 0xf;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const IPPROTO_IP = 0;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;

// Option levels and names (asm-generic/socket.h, linux/tcp.h).
export const SOL_SOCKET = 1;
export const SOL_TCP = 6;
export const SO_REUSEADDR = 2;
export const SO_ERROR = 4;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_LINGER = 13;
export const SO_RCVTIMEO = 20; // SO_RCVTIMEO_OLD: struct timeval
export const SO_SNDTIMEO = 21;
export const TCP_NODELAY = 1;
export const TCP_MAXSEG = 2;
export const TCP_CORK = 3;
export const TCP_KEEPIDLE = 4;
export const TCP_KEEPINTVL = 5;
export const TCP_KEEPCNT = 6;
export const TCP_LINGER2 = 8;
export const TCP_DEFER_ACCEPT = 9;
export const TCP_INFO = 11;
export const TCP_QUICKACK = 12;
export const TCP_USER_TIMEOUT = 18;
export const TCP_CONGESTION = 13;
/** TCP_CONGESTION's name buffer: 15 characters and the NUL (include/net/tcp.h). */
export const TCP_CA_NAME_MAX = 16;
export const TCP_NOTSENT_LOWAT = 25;
export const TCP_INQ = 36;
/** recvmsg()'s control message for TCP_INQ (cmsg_level SOL_TCP). */
export const TCP_CM_INQ = TCP_INQ;

// shutdown() (linux/net.h) and the kernel's sk_shutdown bits (include/net/sock.h).
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;
export const RCV_SHUTDOWN = 1;
export const SEND_SHUTDOWN = 2;
export const SHUTDOWN_MASK = 3;

// send/recv flags (include/linux/socket.h).
export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_DONTROUTE = 0x4;
export const MSG_DONTWAIT = 0x40;
export const MSG_WAITALL = 0x100;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_MORE = 0x8000;

// fcntl (asm-generic/fcntl.h).
export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_DUPFD_CLOEXEC = 1030;
export const FD_CLOEXEC = 1;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_NONBLOCK = 0o4000;

// ioctl (asm-generic/ioctls.h, linux/sockios.h).
export const FIONREAD = 0x541b;
export const SIOCINQ = FIONREAD;
export const TIOCOUTQ = 0x5411;
export const SIOCOUTQ = TIOCOUTQ;
export const SIOCOUTQNSD = 0x894b;
export const FIONBIO = 0x5421;

// poll (asm-generic/poll.h).
export const POLLIN = 0x1;
export const POLLPRI = 0x2;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
export const POLLRDNORM = 0x40;
export const POLLRDBAND = 0x80;
export const POLLWRNORM = 0x100;
export const POLLWRBAND = 0x200;
export const POLLMSG = 0x400;
export const POLLRDHUP = 0x2000;

// TCP states (include/net/tcp_states.h) as tcpi_state reports them.
export const TCP_ESTABLISHED = 1;
export const TCP_SYN_SENT = 2;
export const TCP_SYN_RECV = 3;
export const TCP_FIN_WAIT1 = 4;
export const TCP_FIN_WAIT2 = 5;
export const TCP_TIME_WAIT = 6;
export const TCP_CLOSE = 7;
export const TCP_CLOSE_WAIT = 8;
export const TCP_LAST_ACK = 9;
export const TCP_LISTEN = 10;
export const TCP_CLOSING = 11;

// tcpi_ca_state (linux/tcp.h enum tcp_ca_state) and tcpi_options bits.
export const TCP_CA_Open = 0;
export const TCP_CA_Disorder = 1;
export const TCP_CA_CWR = 2;
export const TCP_CA_Recovery = 3;
export const TCP_CA_Loss = 4;
export const TCPI_OPT_TIMESTAMPS = 1;
export const TCPI_OPT_SACK = 2;
export const TCPI_OPT_WSCALE = 4;
export const TCPI_OPT_ECN = 8;
export const TCPI_OPT_ECN_SEEN = 16;
export const TCPI_OPT_SYN_DATA = 32;

/**
 * errno values: the engine's table (src/base/errno.ts) plus the ones only the call layer
 * returns (a descriptor that is not a socket, an unsupported family or type, a full fd table).
 */
export const BSD_ERRNO = {
  ...ERRNO,
  EMFILE: 24,
  ENOTTY: 25,
  EDOM: 33,
  ENOTSOCK: 88,
  EPROTONOSUPPORT: 93,
  ESOCKTNOSUPPORT: 94,
  EAFNOSUPPORT: 97,
} as const;
export type Errno = keyof typeof BSD_ERRNO;
/** EWOULDBLOCK is EAGAIN on Linux. */
export const EWOULDBLOCK = BSD_ERRNO.EAGAIN;

const ERRNO_NAMES = new Map<number, Errno>(Object.entries(BSD_ERRNO).map(([k, v]) => [v, k as Errno]));
/** The errno name for a number (undefined for numbers this layer never returns). */
export const errnoName = (n: number): Errno | undefined => ERRNO_NAMES.get(n);

/** Every symbol above by name, for script runners ("O_NONBLOCK" -> 2048). */
export const SYMBOLS: Readonly<Record<string, number>> = {
  AF_UNSPEC, AF_INET, AF_INET6, PF_INET, PF_INET6, SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, SOCK_NONBLOCK, SOCK_CLOEXEC,
  IPPROTO_IP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_IPV6,
  SOL_SOCKET, SOL_TCP, SO_REUSEADDR, SO_ERROR, SO_SNDBUF, SO_RCVBUF, SO_KEEPALIVE, SO_LINGER, SO_RCVTIMEO, SO_SNDTIMEO,
  TCP_NODELAY, TCP_MAXSEG, TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, TCP_LINGER2, TCP_INFO, TCP_QUICKACK, TCP_USER_TIMEOUT, TCP_CONGESTION,
  TCP_CORK, TCP_DEFER_ACCEPT, TCP_NOTSENT_LOWAT, TCP_INQ, TCP_CM_INQ,
  SHUT_RD, SHUT_WR, SHUT_RDWR,
  MSG_OOB, MSG_PEEK, MSG_DONTROUTE, MSG_DONTWAIT, MSG_WAITALL, MSG_NOSIGNAL, MSG_MORE,
  F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_DUPFD_CLOEXEC, FD_CLOEXEC, O_RDONLY, O_WRONLY, O_RDWR, O_NONBLOCK,
  FIONREAD, SIOCINQ, TIOCOUTQ, SIOCOUTQ, SIOCOUTQNSD, FIONBIO,
  POLLIN, POLLPRI, POLLOUT, POLLERR, POLLHUP, POLLNVAL, POLLRDNORM, POLLRDBAND, POLLWRNORM, POLLWRBAND, POLLMSG, POLLRDHUP,
  TCP_ESTABLISHED, TCP_SYN_SENT, TCP_SYN_RECV, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_TIME_WAIT, TCP_CLOSE, TCP_CLOSE_WAIT,
  TCP_LAST_ACK, TCP_LISTEN, TCP_CLOSING,
  TCP_CA_Open, TCP_CA_Disorder, TCP_CA_CWR, TCP_CA_Recovery, TCP_CA_Loss,
  TCPI_OPT_TIMESTAMPS, TCPI_OPT_SACK, TCPI_OPT_WSCALE, TCPI_OPT_ECN, TCPI_OPT_ECN_SEEN, TCPI_OPT_SYN_DATA,
  ...BSD_ERRNO,
  EWOULDBLOCK,
};
