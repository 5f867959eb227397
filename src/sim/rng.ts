// Seeded PRNG: xoshiro128** with state from splitmix32. fork(label) derives a child stream from the
// parent's key and the label only, never from the parent's draws, so adding a consumer perturbs no other.

function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) | 0;
  let z = x;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function hashLabel(key: number, label: string): number {
  let h = (key ^ 0x811c9dc5) >>> 0; // FNV-1a over UTF-16 code units, keyed
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return splitmix32(splitmix32(h) ^ key);
}

export class Rng {
  /** The 32-bit key this stream was derived from (seed or fork path). */
  readonly key: number;
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Any safe integer seed; bits above 32 are mixed in. */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Rng: seed must be a safe integer, got ${seed}`);
    const hi = Math.floor(seed / 4294967296) | 0;
    this.key = hi === 0 ? seed >>> 0 : (splitmix32(hi) ^ seed) >>> 0;
    let x = this.key;
    this.s0 = x = splitmix32(x);
    this.s1 = x = splitmix32(x);
    this.s2 = x = splitmix32(x);
    this.s3 = splitmix32(x);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator with the given raw xoshiro128** state (not all zero); key = hash of the state. */
  static fromState(s0: number, s1: number, s2: number, s3: number): Rng {
    if (((s0 | s1 | s2 | s3) >>> 0) === 0) throw new RangeError('Rng.fromState: all-zero state');
    const r = new Rng(splitmix32(s0 ^ splitmix32(s1 ^ splitmix32(s2 ^ splitmix32(s3)))));
    r.s0 = s0 | 0;
    r.s1 = s1 | 0;
    r.s2 = s2 | 0;
    r.s3 = s3 | 0;
    return r;
  }

  /** Uniform uint32. */
  next(): number {
    const s1 = this.s1;
    const r = Math.imul(rotl(Math.imul(s1, 5), 7), 9);
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r >>> 0;
  }

  /** Uniform in [0, 1) with 53 bits (two draws). */
  float(): number {
    const a = this.next() >>> 5;
    const b = this.next() >>> 6;
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** Uniform integer in [lo, hi], both inclusive; unbiased. */
  int(lo: number, hi: number): number {
    if (!Number.isSafeInteger(lo) || !Number.isSafeInteger(hi) || hi < lo) throw new RangeError(`Rng.int: bad range [${lo}, ${hi}]`);
    const range = hi - lo + 1;
    if (range > 4294967296) return lo + Math.floor(this.float() * range);
    if (range === 4294967296) return lo + this.next();
    const limit = 4294967296 - (4294967296 % range); // reject the biased tail
    let x = this.next();
    while (x >= limit) x = this.next();
    return lo + (x % range);
  }

  /** True with probability p. p <= 0 and p >= 1 decide without drawing. */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.float() < p;
  }

  /** Independent stream named by label; the same label from the same parent gives the same stream. */
  fork(label: string): Rng {
    return new Rng(hashLabel(this.key, label));
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
