// The TCP states, named as netstat and the seed articles name them and numbered as Linux
// numbers them in include/net/tcp_states.h (TCP_CLOSE is 7; we call it CLOSED).

export const TcpState = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSED: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
} as const;
export type TcpState = (typeof TcpState)[keyof typeof TcpState];

export const STATE_NAMES: Record<TcpState, string> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSED',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
};
export type StateName = (typeof STATE_NAMES)[TcpState];

/** The names `ss` prints. */
export const SS_NAMES: Record<TcpState, string> = {
  1: 'ESTAB',
  2: 'SYN-SENT',
  3: 'SYN-RECV',
  4: 'FIN-WAIT-1',
  5: 'FIN-WAIT-2',
  6: 'TIME-WAIT',
  7: 'UNCONN',
  8: 'CLOSE-WAIT',
  9: 'LAST-ACK',
  10: 'LISTEN',
  11: 'CLOSING',
};

export const stateName = (s: TcpState): string => STATE_NAMES[s];

/** States in which the connection is synchronized (RFC 9293 §3.10.7.4). */
export const isSynchronized = (s: TcpState): boolean =>
  s === TcpState.ESTABLISHED || s === TcpState.FIN_WAIT1 || s === TcpState.FIN_WAIT2 ||
  s === TcpState.CLOSE_WAIT || s === TcpState.CLOSING || s === TcpState.LAST_ACK || s === TcpState.TIME_WAIT;
