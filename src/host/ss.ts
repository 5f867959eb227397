// The socket table as `ss -tanoie` prints it: one row per listener, connection and TIME_WAIT
// entry, with the timer and tcp_info fields ss shows (Linux inet_diag, tcp_diag).

import { endpoint } from '../base/trace.ts';
import type { TcpConn } from '../tcp/conn.ts';
import type { Listener } from '../tcp/listen.ts';
import { TcpState, STATE_NAMES } from '../tcp/states.ts';
import { TimeWaitEntry } from '../tcp/timewait.ts';
import { isWildcard } from '../wire/addr.ts';

/** Every socket: listeners, connections, TIME_WAIT entries (the rows of `ss -tanoie`). */
export function socketRows(listeners: Iterable<Listener>, entries: Iterable<TcpConn | TimeWaitEntry>, now: number): SocketRow[] {
  const rows: SocketRow[] = [];
  for (const l of new Set(listeners)) {
    rows.push({
      state: 'LISTEN', stateNum: TcpState.LISTEN, recvQ: l.acceptQueue.length, sendQ: l.backlog,
      local: endpoint(l.addr, l.port), remote: isWildcard(l.addr) ? (l.addr === '::' ? '[::]:*' : '0.0.0.0:*') : '*:*', timer: null, orphan: false,
    });
  }
  for (const e of entries) {
    if (e instanceof TimeWaitEntry) {
      rows.push({
        state: e.substate, stateNum: e.substate === 'TIME_WAIT' ? TcpState.TIME_WAIT : TcpState.FIN_WAIT2, recvQ: 0, sendQ: 0,
        local: endpoint(e.localAddr, e.localPort), remote: endpoint(e.remoteAddr, e.remotePort),
        timer: { kind: 'timewait', expiresMs: Math.max(0, (e.deadline - now) / 1000), retrans: 0 }, orphan: true,
      });
      continue;
    }
    rows.push(connRow(e, now));
  }
  return rows;
}

/** One row of `ss -tanoie`: a socket's state, addresses, queues, timer and TCP info. */
export interface SocketRow {
  state: string;
  stateNum: number;
  recvQ: number;
  sendQ: number;
  local: string;
  remote: string;
  timer: { kind: 'on' | 'keepalive' | 'timewait' | 'persist'; expiresMs: number; retrans: number } | null;
  orphan: boolean;
  rtoMs?: number;
  rttMs?: number;
  rttvarMs?: number;
  mss?: number;
  cwnd?: number;
  ssthresh?: number;
  wscale?: string;
  retrans?: string;
  bytesSent?: number;
  bytesAcked?: number;
  bytesReceived?: number;
  lastsndMs?: number;
  lastrcvMs?: number;
  lastackMs?: number;
}

function connRow(c: TcpConn, now: number): SocketRow {
  let timer: SocketRow['timer'] = null;
  if (c.rtxDeadline !== Infinity) {
    timer = { kind: c.rtxKind === 'persist' ? 'persist' : 'on', expiresMs: (c.rtxDeadline - now) / 1000, retrans: c.rtxKind === 'persist' ? c.probesOut : c.retransmits };
  } else if (c.keepaliveDeadline !== Infinity || c.finWait2Deadline !== Infinity) {
    timer = { kind: 'keepalive', expiresMs: (Math.min(c.keepaliveDeadline, c.finWait2Deadline) - now) / 1000, retrans: c.probesOut };
  }
  const r3 = (x: number) => Math.round(x) / 1000;
  return {
    state: STATE_NAMES[c.state], stateNum: c.state,
    recvQ: c.state === TcpState.LISTEN ? 0 : c.rcvBuf.length,
    sendQ: (c.writeSeq - c.sndUna) >>> 0 > 0x7fffffff ? 0 : (c.writeSeq - c.sndUna) >>> 0,
    local: endpoint(c.localAddr, c.localPort), remote: endpoint(c.remoteAddr, c.remotePort), timer, orphan: c.orphan,
    rtoMs: r3(c.rto), rttMs: r3(c.srtt), rttvarMs: r3(c.mdev), mss: c.mssCache, cwnd: c.cwnd,
    ssthresh: c.ssthresh === 0x7fffffff ? undefined : c.ssthresh,
    wscale: c.wscaleOk ? `${c.sndWscale},${c.rcvWscale}` : undefined,
    retrans: `${c.retransmits}/${c.totalRetrans}`,
    bytesSent: c.bytesSent + c.bytesRetrans, bytesAcked: c.bytesAcked, bytesReceived: c.bytesReceived,
    lastsndMs: c.lastDataSent ? (now - c.lastDataSent) / 1000 : undefined,
    lastrcvMs: c.lastDataRecv ? (now - c.lastDataRecv) / 1000 : undefined,
    lastackMs: c.lastAckRecv ? (now - c.lastAckRecv) / 1000 : undefined,
  };
}
