// The entries of a host's timer wheel that belong to TCP: each connection is its own entry
// (one per socket, as Linux's icsk timers share one socket), and so is each TIME_WAIT queue.

import { Timer } from '../time/wheel.ts';

/** A wheel entry whose payload is itself, so arming it allocates nothing. */
export abstract class TcpTimer extends Timer<TcpTimer> {
  constructor() {
    super(undefined as never); // replaced by the entry itself below, before anyone can read it
    this._payload = this;
  }
}

/**
 * What the retransmission timer is armed for (icsk_pending): ICSK_TIME_RETRANS for data, the
 * SYN or the SYN-ACK, ICSK_TIME_PROBE0 for zero-window probes, ICSK_TIME_LOSS_PROBE for the
 * tail loss probe and ICSK_TIME_REO_TIMEOUT for RACK's reordering timer.
 */
export type RtxKind = 'retransmit' | 'syn-retransmit' | 'synack-retransmit' | 'persist' | 'loss-probe' | 'rack-reorder';
