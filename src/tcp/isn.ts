// Initial sequence numbers per RFC 6528 (Linux secure_tcp_seq): a keyed hash of the 4-tuple
// plus a clock ticking every 64 ns; timestamp offsets per address pair (secure_tcp_ts_off).
// The key comes from the host's seed, so simulated runs are reproducible; it is a keyed mix,
// not a cryptographic PRF (linger's simulated hosts face no off-path attacker).

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

export function keyedHash(key: number, ...parts: Array<string | number>): number {
  let h = mix32(key ^ 0x9e3779b9);
  for (const p of parts) {
    if (typeof p === 'number') h = mix32(h ^ mix32(p >>> 0));
    else for (let i = 0; i < p.length; i++) h = mix32(h ^ p.charCodeAt(i));
    h = mix32(h + 0x632be5ab);
  }
  return h >>> 0;
}

/** ISN = F(4-tuple, key) + M, M the clock in 64 ns ticks (RFC 6528 §3, Linux seq_scale). */
export function secureSeq(key: number, saddr: string, daddr: string, sport: number, dport: number, nowUs: number): number {
  const m = Math.floor((nowUs * 1000) / 64);
  return (keyedHash(key, saddr, daddr, sport, dport) + (m % 4294967296)) >>> 0;
}

export function secureTsOffset(key: number, saddr: string, daddr: string): number {
  return keyedHash(key ^ 0x5bd1e995, saddr, daddr);
}
