// The scenario catalogue.

import type { Scenario } from '../scenario.ts';
import { closeUnreadData, closeUnsentData, halfClose, handshakeClose, lingerZero, simultaneousClose } from './fin-or-rst.ts';
import { keepaliveAlivePeer, keepaliveDeadPeer, keepaliveRebootedPeer } from './keepalive.ts';
import { closeWaitLeak, shortConnectionsPortExhaustion } from './connections.ts';
import { lbTcpProfile, proxyIdleTimeout } from './proxy.ts';
import { heartbeatVsKeepalive, longVsShortConnections, natIdleTimeout } from './middlebox.ts';
import { connectRefused, simultaneousOpen, synToDeadHost } from './open.ts';
import { tailLossProbe } from './recovery.ts';
import { blindDataInjection, blindRst } from './attacks.ts';
import { synFlood } from './syn-flood.ts';
import { ofoFlood, orphanFlood, sackAbuse } from './memory.ts';
import { connectionStatistics, finWait2Orphan, oldDuplicateNoTimeWait, timeWaitLastAckLost, timeWaitPileup } from './timewait.ts';
import { abnormalClose, closeBehindZeroWindow, closeVsShutdown, lingerN, listenerClosePending, peerProcessKilled, sharedSocket } from './close-calls.ts';

export const SCENARIOS: Scenario[] = [
  handshakeClose,
  simultaneousOpen,
  connectRefused,
  synToDeadHost,
  tailLossProbe,
  simultaneousClose,
  closeUnsentData,
  closeUnreadData,
  lingerZero,
  halfClose,
  closeVsShutdown,
  sharedSocket,
  closeBehindZeroWindow,
  lingerN,
  listenerClosePending,
  abnormalClose,
  peerProcessKilled,
  keepaliveDeadPeer,
  keepaliveAlivePeer,
  keepaliveRebootedPeer,
  natIdleTimeout,
  heartbeatVsKeepalive,
  timeWaitLastAckLost,
  oldDuplicateNoTimeWait,
  timeWaitPileup,
  shortConnectionsPortExhaustion,
  closeWaitLeak,
  finWait2Orphan,
  connectionStatistics,
  proxyIdleTimeout,
  lbTcpProfile,
  longVsShortConnections,
  synFlood,
  blindRst,
  blindDataInjection,
  ofoFlood,
  orphanFlood,
  sackAbuse,
];
