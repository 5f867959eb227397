// close() (sock_close, with SO_LINGER's wait in tcp_close) and shutdown() (inet_shutdown).

import { TcpState } from '../tcp/states.ts';
import { returned } from './blocking.ts';
import { BLOCKED, Call } from './call.ts';
import * as K from './constants.ts';
import { engineRet, fail, isErr } from './errno.ts';
import { isConnecting } from './conn.ts';
import type { Proc } from './file.ts';
import type { Ret } from './types.ts';

export function close(p: Proc, fd: number): Call<Ret> {
  if (!p.fds.has(fd)) return returned<Ret>(p, 'close', fail('EBADF'));
  const r = p.fds.release(fd);
  const c = r?.conn;
  // SO_LINGER {1, N}: the last close() waits until the FIN is acknowledged or N s pass
  // (Linux blocks even on an O_NONBLOCK socket). The engine says when through conn.lingering.
  if (r && c && c.lingering && c.lingerOwner === r.sock) {
    // The engine traces the return itself ('close SO_LINGER 0, returns: ...').
    return new Call<Ret>('close', p.now, () => (c.lingering ? BLOCKED : { ret: 0 }), () => ({ ret: 0 }), Infinity);
  }
  return returned(p, 'close', { ret: 0 });
}

const SHUT_NAMES = ['SHUT_RD', 'SHUT_WR', 'SHUT_RDWR'] as const;

export function shutdown(p: Proc, fd: number, how: number): Ret {
  const f = p.fds.sockFile(fd);
  if (isErr(f)) return f;
  if (how !== K.SHUT_RD && how !== K.SHUT_WR && how !== K.SHUT_RDWR) return fail('EINVAL');
  const bits = how + 1; // RCV_SHUTDOWN, SEND_SHUTDOWN or both
  const name = SHUT_NAMES[how]!;
  const s = f.sock;
  const c = f.conn;
  if (f.ss === 'CONNECTING') {
    f.ss = !c || c.state === TcpState.CLOSED || isConnecting(c) ? 'DISCONNECTING' : 'CONNECTED';
  }
  if (s.listener) {
    // inet_shutdown: SHUT_RD or SHUT_RDWR stops the listener (tcp_disconnect); SHUT_WR does nothing.
    const r = engineRet(() => s.shutdown(name));
    if (!isErr(r) && bits & K.RCV_SHUTDOWN) f.ss = 'UNCONNECTED';
    return r;
  }
  if (!c || c.state === TcpState.CLOSED) {
    // TCP_CLOSE: ENOTCONN, but sk_shutdown is still set (poll reports it).
    f.shut |= bits;
    return fail('ENOTCONN');
  }
  if (c.state === TcpState.SYN_SENT) {
    // The attempt is abandoned (tcp_disconnect, sk_err ECONNRESET) and shutdown() returns 0.
    const r = engineRet(() => s.shutdown(name));
    if (isErr(r)) return r;
    f.disconnect();
    f.shut = 0;
    return r;
  }
  return engineRet(() => s.shutdown(name));
}
