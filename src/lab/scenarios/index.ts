// The scenario catalogue.

import type { Scenario } from '../scenario.ts';
import { closeUnreadData, closeUnsentData, halfClose, handshakeClose, lingerZero, simultaneousClose } from './close.ts';
import { keepaliveAlivePeer, keepaliveDeadPeer, keepaliveRebootedPeer } from './keepalive.ts';
import { closeWaitLeak, shortConnectionsPortExhaustion } from './connections.ts';
import { proxyIdleTimeout } from './proxy.ts';

export const SCENARIOS: Scenario[] = [
  handshakeClose,
  simultaneousClose,
  closeUnsentData,
  closeUnreadData,
  lingerZero,
  halfClose,
  keepaliveDeadPeer,
  keepaliveAlivePeer,
  keepaliveRebootedPeer,
  shortConnectionsPortExhaustion,
  closeWaitLeak,
  proxyIdleTimeout,
];
