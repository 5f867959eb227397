// A byte ring: the send queue (bytes from SND.UNA on) and the receive queue (in-order bytes
// not yet read). Capacity grows on demand up to a limit (SO_SNDBUF / SO_RCVBUF style).

export class ByteRing {
  private buf: Uint8Array;
  private head = 0; // index of the first byte
  private len = 0;

  constructor(initial = 4096, public limit = 1 << 22) {
    this.buf = new Uint8Array(Math.max(16, Math.min(initial, limit)));
  }

  get length(): number {
    return this.len;
  }
  get free(): number {
    return this.limit - this.len;
  }

  private grow(need: number): void {
    let cap = this.buf.length;
    while (cap < need) cap *= 2;
    const nb = new Uint8Array(cap);
    this.copyOut(0, this.len, nb, 0);
    this.buf = nb;
    this.head = 0;
  }

  /** Appends up to `free` bytes of src; returns how many were taken. */
  push(src: Uint8Array, start = 0, end = src.length): number {
    const n = Math.min(end - start, this.limit - this.len);
    if (n <= 0) return 0;
    if (this.len + n > this.buf.length) this.grow(this.len + n);
    const cap = this.buf.length;
    const tail = (this.head + this.len) % cap;
    const first = Math.min(n, cap - tail);
    if (n <= 32 && first === n) {
      // Small writes: a byte loop beats making a subarray view to copy from.
      const b = this.buf;
      for (let k = 0; k < n; k++) b[tail + k] = src[start + k]!;
    } else {
      this.buf.set(src.subarray(start, start + first), tail);
      if (first < n) this.buf.set(src.subarray(start + first, start + n), 0);
    }
    this.len += n;
    return n;
  }

  /** Copies bytes [offset, offset+n) of the queue into dst at dstOff. */
  copyOut(offset: number, n: number, dst: Uint8Array, dstOff: number): void {
    const cap = this.buf.length;
    const s = (this.head + offset) % cap;
    const first = Math.min(n, cap - s);
    dst.set(this.buf.subarray(s, s + first), dstOff);
    if (first < n) dst.set(this.buf.subarray(0, n - first), dstOff + first);
  }

  /** A fresh copy of bytes [offset, offset+n). */
  slice(offset: number, n: number): Uint8Array {
    const out = new Uint8Array(n);
    this.copyOut(offset, n, out, 0);
    return out;
  }

  /**
   * Bytes [offset, offset+n) without a copy when they are contiguous in the ring (a copy when they
   * wrap). Valid only until the ring next changes: for a segment encoded at once.
   */
  view(offset: number, n: number): Uint8Array {
    const cap = this.buf.length;
    const s = (this.head + offset) % cap;
    if (s + n <= cap) return this.buf.subarray(s, s + n);
    return this.slice(offset, n);
  }

  /** Drops n bytes from the front. */
  consume(n: number): void {
    if (n > this.len) n = this.len;
    this.head = (this.head + n) % this.buf.length;
    this.len -= n;
    if (this.len === 0) this.head = 0;
  }

  clear(): void {
    this.head = 0;
    this.len = 0;
  }
}
