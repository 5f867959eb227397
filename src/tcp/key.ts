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

export const connKey = (la: string, lp: number, ra: string, rp: number): string => {
  const a = addrId(la);
  const b = addrId(ra);
  return String.fromCharCode(a & 0xffff, a >>> 16, lp, b & 0xffff, b >>> 16, rp);
};

export const keyLocalAddr = (k: string): string => addrs[k.charCodeAt(0) | (k.charCodeAt(1) << 16)]!;
export const keyLocalPort = (k: string): number => k.charCodeAt(2);
export const keyRemoteAddr = (k: string): string => addrs[k.charCodeAt(3) | (k.charCodeAt(4) << 16)]!;
export const keyRemotePort = (k: string): number => k.charCodeAt(5);
export const keyLocalAddrId = (k: string): number => k.charCodeAt(0) | (k.charCodeAt(1) << 16);
/** The id of an address seen in a key, or undefined (no key has it). */
export const knownAddrId = (a: string): number | undefined => addrIds.get(a);
