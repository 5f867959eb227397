// The retransmission queue and the loss-recovery state that reads it (Linux tcp_rtx_queue with
// each skb's TCP_SKB_CB(skb)->sacked bits and skb_mstamp, and the tcp_sock fields of
// tcp_input.c's state machine and tcp_recovery.c's RACK). One entry per segment sent (skbs are
// MSS-sized: the kernel runner sets gso_max_segs 1), so every entry counts one packet, as
// tcp_skb_pcount() does there. Entries are kept in parallel typed arrays in a ring, so sending
// and acknowledging allocate nothing.

/** TCPCB_SACKED_ACKED: the peer SACKed it. */
export const SK_SACKED = 0x01;
/** TCPCB_SACKED_RETRANS: retransmitted, the retransmission still in flight. */
export const SK_RETRANS = 0x02;
/** TCPCB_LOST: marked lost, not yet retransmitted (or its retransmission lost too). */
export const SK_LOST = 0x04;
/** TCPCB_EVER_RETRANS: sent more than once (no RTT sample from it, Karn). */
export const SK_EVER_RETRANS = 0x08;
/** The segment carries our FIN (its end counts the FIN's sequence number). */
export const SK_FIN = 0x10;

export class RtxQueue {
  private seqs: Int32Array;
  private ends: Int32Array;
  private times: Float64Array;
  private bits: Uint8Array;
  private head = 0;
  private mask: number;
  /**
   * The last send time stamped, in a typed array: stamps within an instant are fractional, and a
   * fractional number stored in an object's field is a new heap number each time (16 bytes).
   */
  private readonly lastStamp = new Float64Array([-1]);
  /** Entries: tp->packets_out. */
  length = 0;
  /** tp->sacked_out, tp->lost_out, tp->retrans_out. */
  sackedOut = 0;
  lostOut = 0;
  retransOut = 0;

  constructor(capacity = 16) {
    this.seqs = new Int32Array(capacity);
    this.ends = new Int32Array(capacity);
    this.times = new Float64Array(capacity);
    this.bits = new Uint8Array(capacity);
    this.mask = capacity - 1;
  }

  /**
   * A send time for a segment going out at `now`: strictly after every earlier one. Linux's
   * skb_mstamp is a real clock, so segments sent one after the other carry increasing times and
   * RACK's tie-break on sequence numbers (tcp_rack_sent_after) only meets true ties; in virtual
   * time a whole burst shares one instant, and a retransmission sent after new data in the same
   * instant must still count as sent after it. Each send in an instant adds 1/1024 µs.
   */
  stamp(now: number): number {
    // The rule pushSent writes out too (there, inline: a double returned from a call is boxed).
    const t = Math.max(now, this.lastStamp[0]! + 1 / 1024);
    this.lastStamp[0] = t;
    return t;
  }

  /** push() of a segment sent at `now`, stamped (stamp()) here: no fractional time is returned boxed. */
  pushSent(seq: number, end: number, now: number, fin: boolean): void {
    // stamp()'s rule, inline. Math.max, not a conditional: a merge of the argument and a computed
    // double would be boxed. The same value as `now > last ? now : last + 1 / 1024` but when now
    // falls less than 1/1024 µs after the last stamp: never in virtual time (whole µs), under
    // 1 ns in real time.
    const t = Math.max(now, this.lastStamp[0]! + 1 / 1024);
    this.lastStamp[0] = t;
    // push()'s body, written out: a fractional time passed to a call is boxed (16 bytes).
    if (this.length > this.mask) this.grow();
    const j = (this.head + this.length++) & this.mask;
    this.seqs[j] = seq | 0;
    this.ends[j] = end | 0;
    this.times[j] = t;
    this.bits[j] = fin ? SK_FIN : 0;
  }

  private at(i: number): number {
    return (this.head + i) & this.mask;
  }
  seq(i: number): number { return this.seqs[this.at(i)]! >>> 0; }
  end(i: number): number { return this.ends[this.at(i)]! >>> 0; }
  /** When the entry was last sent (skb_mstamp), µs. */
  time(i: number): number { return this.times[this.at(i)]!; }
  flags(i: number): number { return this.bits[this.at(i)]!; }

  setSeq(i: number, v: number): void { this.seqs[this.at(i)] = v | 0; }
  setTime(i: number, v: number): void { this.times[this.at(i)] = v; }
  /** Sets the flag bits and keeps sackedOut, lostOut and retransOut in step. */
  setFlags(i: number, f: number): void {
    const j = this.at(i);
    const old = this.bits[j]!;
    if ((old ^ f) & SK_SACKED) this.sackedOut += f & SK_SACKED ? 1 : -1;
    if ((old ^ f) & SK_LOST) this.lostOut += f & SK_LOST ? 1 : -1;
    if ((old ^ f) & SK_RETRANS) this.retransOut += f & SK_RETRANS ? 1 : -1;
    this.bits[j] = f;
  }

  private grow(): void {
    const cap = (this.mask + 1) * 2;
    const seqs = new Int32Array(cap), ends = new Int32Array(cap), times = new Float64Array(cap), bits = new Uint8Array(cap);
    for (let i = 0; i < this.length; i++) {
      const j = this.at(i);
      seqs[i] = this.seqs[j]!;
      ends[i] = this.ends[j]!;
      times[i] = this.times[j]!;
      bits[i] = this.bits[j]!;
    }
    this.seqs = seqs; this.ends = ends; this.times = times; this.bits = bits;
    this.head = 0;
    this.mask = cap - 1;
  }

  /** A segment sent for the first time (tcp_event_new_data_sent). */
  push(seq: number, end: number, time: number, fin: boolean): void {
    if (this.length > this.mask) this.grow();
    const j = this.at(this.length++);
    this.seqs[j] = seq | 0;
    this.ends[j] = end | 0;
    this.times[j] = time;
    this.bits[j] = fin ? SK_FIN : 0;
  }

  /** Drops the head entry (acknowledged), keeping the counts. */
  shift(): void {
    this.setFlags(0, this.flags(0) & SK_FIN);
    this.head = (this.head + 1) & this.mask;
    this.length--;
  }

  /**
   * tcp_fragment: entry i becomes [seq, at) and a new entry [at, end) follows it with the same
   * time and bits (a split entry counts two packets, as tcp_fragment's pcount adjustment does).
   */
  split(i: number, at: number): void {
    if (this.length > this.mask) this.grow();
    for (let k = this.length; k > i + 1; k--) {
      const to = this.at(k), from = this.at(k - 1);
      this.seqs[to] = this.seqs[from]!;
      this.ends[to] = this.ends[from]!;
      this.times[to] = this.times[from]!;
      this.bits[to] = this.bits[from]!;
    }
    this.length++;
    const a = this.at(i), b = this.at(i + 1);
    const f = this.bits[a]!;
    this.seqs[b] = at | 0;
    this.ends[b] = this.ends[a]!;
    this.times[b] = this.times[a]!;
    this.bits[b] = f;
    this.ends[a] = at | 0;
    this.bits[a] = f & ~SK_FIN;
    if (f & SK_SACKED) this.sackedOut++;
    if (f & SK_LOST) this.lostOut++;
    if (f & SK_RETRANS) this.retransOut++;
  }

  /** The index of the entry holding sequence number `seq`, or -1. */
  find(seq: number): number {
    let lo = 0, hi = this.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (((seq - this.seq(mid)) | 0) < 0) hi = mid - 1;
      else if (((seq - this.end(mid)) | 0) >= 0) lo = mid + 1;
      else return mid;
    }
    return -1;
  }

  /** Every entry dropped (the connection is gone, or its sequence space reset). */
  clear(): void {
    this.length = 0;
    this.head = 0;
    this.sackedOut = this.lostOut = this.retransOut = 0;
  }
}

/** icsk_ca_state (enum tcp_ca_state). */
export const CaState = { Open: 0, Disorder: 1, CWR: 2, Recovery: 3, Loss: 4 } as const;
export type CaState = (typeof CaState)[keyof typeof CaState];

/**
 * The loss-recovery fields of tcp_sock, allocated with the connection's first data segment
 * (an idle or handshaking connection has none): the queue, the CA state machine, undo, PRR,
 * RACK and the tail loss probe.
 */
export class LossState {
  readonly q = new RtxQueue();
  caState: CaState = CaState.Open;
  /** tp->high_seq: snd_nxt when the reduction or recovery began. */
  highSeq = 0;
  /** tp->undo_marker (0 = no undo possible) and tp->undo_retrans. */
  undoMarker = 0;
  undoRetrans = 0;
  priorSsthresh = 0;
  priorCwnd = 0;
  /** PRR (RFC 6937): tp->prr_delivered, tp->prr_out. */
  prrDelivered = 0;
  prrOut = 0;
  /** tp->delivered and tp->lost: packets delivered (acked or SACKed) and marked lost, ever. */
  delivered = 0;
  lost = 0;
  /** tp->reordering (starts at net.ipv4.tcp_reordering) and tp->reord_seen. */
  reordering = 3;
  reordSeen = 0;
  /** Without SACK, duplicate ACKs counted as SACKed packets (tcp_add_reno_sack's sacked_out). */
  renoSacked = 0;
  /** tp->frto: F-RTO (RFC 5682) is running for this RTO. */
  frto = false;
  /** tp->tlp_high_seq (0 = no probe outstanding) and tp->tlp_retrans. */
  tlpHighSeq = 0;
  tlpRetrans = false;
  /** tp->rack. */
  rackMstamp = 0;
  rackEndSeq = 0;
  rackRttUs = 0;
  rackAdvanced = false;
  rackReoWndSteps = 1;
  rackReoWndPersist = 0;
  rackDsackSeen = false;
  rackLastDelivered = 0;
  /** tp->dsack_dups. */
  dsackDups = 0;
  /** tp->rtt_min, a windowed minimum (tcp_min_rtt_wlen, 300 s): µs and when it was taken. */
  minRtt = 0;
  minRttStamp = 0;
}
