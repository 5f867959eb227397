// Demux keys. A 4-tuple key is six UTF-16 units (each address as a small interned id in two
// units, each port in one): one flat 32-byte string per connection rather than the ~30-character
// text of the tuple, and the connection (or TIME_WAIT entry) can read its addresses back from it.

const addrIds = new Map<string, number>();
const addrs: string[] = [];

const addrId = (a: string): number => {
  let id = addrIds.get(a);
  if (id === undefined) {
    id = addrs.length;
    addrIds.set(a, id);
    addrs.push(a);
  }
  return id;
};

const pack = (a: number, lp: number, b: number, rp: number): string => String.fromCharCode(a & 0xffff, a >>> 16, lp, b & 0xffff, b >>> 16, rp);

export const connKey = (la: string, lp: number, ra: string, rp: number): string => pack(addrId(la), lp, addrId(ra), rp);

/**
 * The key of a 4-tuple for a lookup, or undefined when either address is in no key yet (so no
 * entry can match): looking up never adds an address to the table, so segments from addresses
 * that never had a connection (scans, spoofed sources answered with RST) cost no memory. The
 * table holds each address that ever had a connection or TIME_WAIT entry, a few dozen bytes each.
 */
export const findKey = (la: string, lp: number, ra: string, rp: number): string | undefined => {
  const a = addrIds.get(la);
  const b = addrIds.get(ra);
  return a === undefined || b === undefined ? undefined : pack(a, lp, b, rp);
};

export const keyLocalAddrId = (k: string): number => k.charCodeAt(0) | (k.charCodeAt(1) << 16);
export const keyLocalAddr = (k: string): string => addrs[keyLocalAddrId(k)]!;
export const keyLocalPort = (k: string): number => k.charCodeAt(2);
export const keyRemoteAddr = (k: string): string => addrs[k.charCodeAt(3) | (k.charCodeAt(4) << 16)]!;
export const keyRemotePort = (k: string): number => k.charCodeAt(5);
/** The id of an address seen in a key, or undefined (no key has it). */
export const knownAddrId = (a: string): number | undefined => addrIds.get(a);
/** How many addresses the key table holds (each one that ever had a connection). */
export const internedAddresses = (): number => addrs.length;
