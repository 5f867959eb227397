// poll() (fs/select.c do_poll) over tcp_poll's mask (inet_csk_listen_poll for a listener).

import { TcpState } from '../tcp/states.ts';
import { returned, trackCall } from './blocking.ts';
import { BLOCKED, Call, type Attempt } from './call.ts';
import * as K from './constants.ts';
import { fail } from './errno.ts';
import { inq, isConnecting, streamWriteable } from './conn.ts';
import { SockFile, type Proc } from './file.ts';
import type { PollFd, PollRet } from './types.ts';

/** tcp_poll (inet_csk_listen_poll for a listener) on an open socket. */
function pollMask(f: SockFile): number {
  const s = f.sock;
  if (s.listener) return s.listener.acceptQueue.length ? K.POLLIN | K.POLLRDNORM : 0;
  const c = f.conn;
  const state = c ? c.state : TcpState.CLOSED;
  let shut = f.shut;
  if (c) {
    if (c.rcvShutdown || c.finReceived) shut |= K.RCV_SHUTDOWN;
    if (c.sndShutdown) shut |= K.SEND_SHUTDOWN;
  }
  let mask = 0;
  if (shut === K.SHUTDOWN_MASK || state === TcpState.CLOSED) mask |= K.POLLHUP;
  if (shut & K.RCV_SHUTDOWN) mask |= K.POLLIN | K.POLLRDNORM | K.POLLRDHUP;
  if (!c || !isConnecting(c)) {
    if (inq(c) > 0) mask |= K.POLLIN | K.POLLRDNORM;
    if (shut & K.SEND_SHUTDOWN || !c || streamWriteable(c)) mask |= K.POLLOUT | K.POLLWRNORM;
  }
  // sk_err (also of a connection tcp_disconnect left behind).
  if (s.conn?.softError) mask |= K.POLLERR;
  return mask;
}

/** The revents poll() would report for one entry now. */
export function revents(p: Proc, pfd: PollFd): number {
  if (pfd.fd < 0) return 0;
  const e = p.fds.get(pfd.fd);
  if (!e) return K.POLLNVAL;
  if (!(e.file instanceof SockFile)) return 0; // stdio stand-ins are never ready
  return pollMask(e.file) & (pfd.events | K.POLLERR | K.POLLHUP);
}

export function poll(p: Proc, fds: PollFd[], timeoutMs: number): Call<PollRet> {
  if (!Array.isArray(fds)) throw new TypeError('poll: fds must be an array of { fd, events }');
  if (fds.length > p.fds.maxFds || Number.isNaN(timeoutMs)) return returned<PollRet>(p, 'poll', fail('EINVAL'));
  const scan = (): number => {
    let n = 0;
    for (const pfd of fds) {
      pfd.revents = revents(p, pfd);
      if (pfd.revents) n++;
    }
    return n;
  };
  const attempt: Attempt<PollRet> = () => {
    const n = scan();
    return n ? { ret: n, fds } : BLOCKED;
  };
  const deadline = timeoutMs < 0 ? Infinity : p.now() + Math.floor(timeoutMs * 1000);
  return trackCall(p, new Call('poll', p.now, attempt, () => ({ ret: scan(), fds }), deadline), `poll(${fds.map((pfd) => pfd.fd).join(',')})`);
}
