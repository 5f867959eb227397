// What the calls read off an engine connection (tcp_sock) to decide readiness and counts.

import type { TcpConn } from '../tcp/conn.ts';
import { streamMemoryFree } from '../tcp/output.ts';
import { TcpState } from '../tcp/states.ts';

/** The handshake is not over (SYN_SENT, SYN_RECV): no data to read, none queued to count. */
export const isConnecting = (c: TcpConn): boolean => c.state === TcpState.SYN_SENT || c.state === TcpState.SYN_RECV;

/**
 * __sk_stream_is_writeable(sk, 1): free space at least half of what is queued, and fewer unsent
 * bytes than half TCP_NOTSENT_LOWAT (poll's POLLOUT, a blocked writer's wake-up).
 */
export const streamWriteable = (c: TcpConn): boolean => c.sndBuf.free > 0 && c.sndBuf.free >= c.sndBuf.length / 2 && streamMemoryFree(c, 1);

/** tcp_inq (SIOCINQ): bytes queued to read, 0 before the handshake is over. */
export const inq = (c: TcpConn | null): number => (!c || isConnecting(c) ? 0 : c.rcvBuf.length);

/**
 * tcp_inq_hint (TCP_CM_INQ): rcv_nxt - copied_seq, so an unread FIN counts one; 1 once the FIN
 * is read, telling the reader to go on to the end of the stream (observed on 6.18: 300 bytes,
 * read 100 -> 200; 200 and a FIN, read 100 -> 101; read the rest -> 1; read again -> 0 bytes, 1).
 */
export const inqHint = (c: TcpConn | null): number => {
  if (!c || isConnecting(c)) return 0;
  return c.rcvBuf.length + (c.finReceived ? 1 : 0);
};
