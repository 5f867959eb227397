// ANSI colour for the text timeline on a terminal: the event's marker and the parts that matter
// (flags, the new state, errors) coloured as in the diagrams. Browser-safe.

import type { LabEvent } from './scenario.ts';
import { stateSgr } from './ascii.ts';
import { arrowKind } from './view.ts';

const sgr = (code: string, s: string) => (code ? `\x1b[${code}m${s}\x1b[0m` : s);
const FLAG_SGR: Record<string, string> = { syn: '32', fin: '34', rst: '1;31', data: '1', ack: '' };

/** The timeline line of an event (eventLine's output), coloured. The head is time and host. */
export function colorEventLine(e: LabEvent, line: string): string {
  const headLen = 25; // fmtAt padded to 16, a space, the host padded to 7, a space
  const head = line.slice(0, headLen);
  const rest = line.slice(headLen);
  const h = sgr('90', head.slice(0, 17)) + sgr('1', head.slice(17));
  switch (e.kind) {
    case 'segment': {
      const k = arrowKind(e.flags, e.len);
      let r = rest.replace(/^([<>])/, (m) => sgr(e.dir === 'out' ? '32' : '36', m));
      r = r.replace(/Flags \[([^\]]*)\]/, (m) => sgr(FLAG_SGR[k] ?? '', m));
      r = r.replace(/ {3}\(([^)]*)\)$/, (m) => sgr('3;90', m));
      return h + (k === 'rst' ? r : r);
    }
    case 'state':
      return h + rest
        .replace(/^\*/, sgr('1;33', '*'))
        .replace(new RegExp(`-> ${e.to}`), `-> ${sgr(stateSgr(e.to) || '1', e.to)}`)
        .replace(/ {2}\[([^\]]*)\]$/, (m) => sgr('90', m));
    case 'call':
      return h + (e.call === 'note' ? sgr('1', rest) : sgr('36', rest));
    case 'error':
      return h + sgr('1;31', rest);
    case 'drop':
      return h + sgr('31', rest);
    case 'timer':
      return h + sgr('90', rest);
    case 'http':
      return h + sgr(e.phase === 'error' ? '1;31' : '35', rest);
    default:
      return h + sgr('90', rest);
  }
}

export const colorHeader = (line: string): string => sgr('90', line);
