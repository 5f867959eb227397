// SNMP/netstat counters with their exact nstat names (Tcp* from /proc/net/snmp, TcpExt*
// from /proc/net/netstat). Linux increments them at the same points; see each use site.

export const TCP_COUNTERS = [
  'ActiveOpens', 'PassiveOpens', 'AttemptFails', 'EstabResets', 'CurrEstab', 'InSegs', 'OutSegs',
  'RetransSegs', 'InErrs', 'OutRsts', 'InCsumErrors',
] as const;
export const TCPEXT_COUNTERS = [
  'TW', 'TWRecycled', 'TWKilled', 'PAWSEstab', 'DelayedACKs', 'ListenOverflows', 'ListenDrops',
  'SyncookiesSent', 'SyncookiesRecv', 'SyncookiesFailed', 'EmbryonicRsts', 'TCPAbortOnData',
  'TCPAbortOnClose', 'TCPAbortOnMemory', 'TCPAbortOnTimeout', 'TCPAbortOnLinger', 'TCPKeepAlive', 'TCPWinProbe',
  'TCPTimeWaitOverflow', 'TCPChallengeACK', 'TCPSYNChallenge', 'TCPTimeouts', 'TCPFastRetrans',
  'TCPOFOQueue', 'TCPOFODrop', 'TCPZeroWindowDrop', 'TCPToZeroWindowAdv', 'TCPFromZeroWindowAdv',
  'TCPWantZeroWindowAdv', 'TCPOrigDataSent', 'TCPLossProbes', 'TCPSACKReneging', 'TCPSackRecovery',
  'TCPRenoRecovery', 'TCPDSACKRecv', 'TCPPureAcks', 'TCPHPAcks', 'TCPSynRetrans',
  'TCPACKSkippedTimeWait', 'TCPACKSkippedChallenge', 'TCPRcvQDrop', 'TCPBacklogDrop',
  'TCPACKSkippedSeq', 'TCPACKSkippedSynRecv', 'DelayedACKLost', 'TCPDSACKOldSent', 'BeyondWindow',
  'TCPDSACKOfoSent', 'TCPOFOMerge',
  // Loss recovery (recovery.ts, rack.ts).
  'TCPSlowStartRetrans', 'TCPLostRetransmit', 'TCPDSACKOfoRecv', 'TCPDSACKRecvSegs', 'TCPSACKDiscard',
  'TCPTSReorder', 'TCPSACKReorder', 'TCPLossUndo', 'TCPFullUndo', 'TCPDSACKUndo', 'TCPSpuriousRTOs',
  'TCPPartialUndo', 'TCPLossProbeRecovery', 'TCPSackFailures', 'TCPRenoFailures', 'TCPSackRecoveryFail',
  'TCPRenoRecoveryFail', 'TCPLossFailures',
  'TCPHystartTrainDetect', 'TCPHystartTrainCwnd', 'TCPHystartDelayDetect',
  'TCPHystartDelayCwnd',
  // Memory bounds (memory.ts).
  'PruneCalled', 'RcvPruned', 'OfoPruned', 'TCPRcvCollapsed', 'TCPWqueueTooBig', 'TCPMemoryPressures',
  'TCPMemoryPressuresChrono',
  // The SYN queue overflowing (tcp_syn_flood_action).
  'TCPReqQFullDoCookies', 'TCPReqQFullDrop',
] as const;
/** IP-layer counters kept for malformed packets (Ip* in /proc/net/snmp). */
export const IP_COUNTERS = ['InReceives', 'InHdrErrors', 'InAddrErrors', 'InUnknownProtos', 'InDelivers', 'OutRequests'] as const;

export type TcpCounter = (typeof TCP_COUNTERS)[number];
export type TcpExtCounter = (typeof TCPEXT_COUNTERS)[number];
export type IpCounter = (typeof IP_COUNTERS)[number];
export type CounterName = TcpCounter | TcpExtCounter | IpCounter;

/** Flat counters object; `snapshot()` gives nstat-style names (TcpActiveOpens, TcpExtTW, IpInReceives). */
export class Counters {
  readonly v: Record<CounterName, number>;
  constructor() {
    const v = {} as Record<CounterName, number>;
    for (const n of TCP_COUNTERS) v[n] = 0;
    for (const n of TCPEXT_COUNTERS) v[n] = 0;
    for (const n of IP_COUNTERS) v[n] = 0;
    this.v = v;
  }
  inc(name: CounterName, by = 1): void {
    this.v[name] += by;
  }
  get(name: CounterName): number {
    return this.v[name];
  }
  /** nstat names: Tcp*, TcpExt*, Ip*. With nonZero, only counters that moved. */
  snapshot(nonZero = false): Record<string, number> {
    const out: Record<string, number> = {};
    const put = (prefix: string, names: readonly CounterName[]) => {
      for (const n of names) if (!nonZero || this.v[n] !== 0) out[prefix + n] = this.v[n];
    };
    put('Ip', IP_COUNTERS);
    put('Tcp', TCP_COUNTERS);
    put('TcpExt', TCPEXT_COUNTERS);
    return out;
  }
}
