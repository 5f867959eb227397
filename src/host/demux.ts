// The established and TIME_WAIT hash (Linux's ehash, inet_ehash_insert and __inet_lookup_established).

import type { TcpConn } from '../tcp/conn.ts';
import { findKey, keyLocalAddrId, keyLocalPort, knownAddrId } from '../tcp/key.ts';
import type { TimeWaitEntry } from '../tcp/timewait.ts';

/**
 * The established and TIME_WAIT table (Linux's ehash), keyed by 4-tuple, which also counts the
 * entries per local port and per local address and port, so bind() can ask "is this local port
 * used by a connection?" without a scan.
 */
export class DemuxTable extends Map<string, TcpConn | TimeWaitEntry> {
  private readonly perPort = new PortCounts();
  /** By local address, with the address ids of the demux keys (key.ts). */
  private readonly perAddrPort = new Map<number, PortCounts>();

  override set(key: string, e: TcpConn | TimeWaitEntry): this {
    const prev = super.get(key);
    if (prev) this.count(prev, -1);
    this.count(e, 1);
    return super.set(key, e);
  }

  override delete(key: string): boolean {
    const prev = super.get(key);
    if (!prev) return false;
    this.count(prev, -1);
    return super.delete(key);
  }

  override clear(): void {
    this.perPort?.clear();
    this.perAddrPort?.clear();
    super.clear();
  }

  /** The connection or TIME_WAIT entry holding a 4-tuple (no key is made for unknown addresses). */
  find(laddr: string, lport: number, raddr: string, rport: number): TcpConn | TimeWaitEntry | undefined {
    // The keys of recent 4-tuples, cached by port pair: a packet builds no key string. A key
    // depends on the tuple alone (address ids never change), so a cached one never goes stale.
    const h = ((lport * 31) ^ rport) & (KEY_CACHE - 1);
    const kc = this.keyCache;
    if (kc !== null && kc.lport[h] === lport && kc.rport[h] === rport && kc.laddr[h] === laddr && kc.raddr[h] === raddr) return super.get(kc.key[h]!);
    const k = findKey(laddr, lport, raddr, rport);
    if (k === undefined) return undefined;
    const c = (this.keyCache ??= { laddr: [], lport: new Int32Array(KEY_CACHE).fill(-1), raddr: [], rport: new Int32Array(KEY_CACHE), key: [] });
    c.laddr[h] = laddr;
    c.lport[h] = lport;
    c.raddr[h] = raddr;
    c.rport[h] = rport;
    c.key[h] = k;
    return super.get(k);
  }
  private keyCache: { laddr: string[]; lport: Int32Array; raddr: string[]; rport: Int32Array; key: string[] } | null = null;

  localPortInUse(addr: string, port: number, anyAddr: boolean): boolean {
    if (anyAddr) return this.perPort.get(port) > 0;
    const a = knownAddrId(addr);
    return a !== undefined && (this.perAddrPort.get(a)?.get(port) ?? 0) > 0;
  }

  private count(e: TcpConn | TimeWaitEntry, d: number): void {
    const port = keyLocalPort(e.key);
    this.perPort.add(port, d);
    const a = keyLocalAddrId(e.key);
    let c = this.perAddrPort.get(a);
    if (!c) this.perAddrPort.set(a, (c = new PortCounts()));
    c.add(port, d);
  }
}

const KEY_CACHE = 64;

/** A count per port in pages of 256 allocated on first use: 4 bytes a port, not a Map entry. */
class PortCounts {
  private pages: Array<Int32Array | undefined> = [];
  get(port: number): number {
    const p = this.pages[port >>> 8];
    return p ? p[port & 255]! : 0;
  }
  add(port: number, d: number): void {
    let p = this.pages[port >>> 8];
    if (!p) this.pages[port >>> 8] = p = new Int32Array(256);
    p[port & 255]! += d;
  }
  clear(): void {
    this.pages = [];
  }
}
