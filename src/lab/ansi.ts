// ANSI colour on a terminal: the colours of segments and states (the same as in the diagrams), for
// the text diagram and the timeline, and the colouring of a timeline line: the event's marker and
// the parts that matter (flags, the new state, errors). Browser-safe.

import type { LabEvent } from './scenario.ts';
import { arrowKind, type ArrowKind } from './view.ts';

/** An SGR parameter list (`1;31`), '' for none. */
export type Style = string;

export const ARROW_SGR: Record<ArrowKind, Style> = { syn: '32', fin: '34', rst: '1;31', data: '1', ack: '90' };
const STATE_SGR: Record<string, Style> = {
  LISTEN: '90', SYN_SENT: '36', SYN_RECV: '36', ESTABLISHED: '1;32', FIN_WAIT1: '34', FIN_WAIT2: '34',
  CLOSING: '35', TIME_WAIT: '1;33', CLOSE_WAIT: '1;31', LAST_ACK: '35', CLOSED: '90',
};
export const stateSgr = (s: string): Style => STATE_SGR[s] ?? '';

const sgr = (code: Style, s: string) => (code ? `\x1b[${code}m${s}\x1b[0m` : s);
/** The timeline's Flags [...]: as the arrows, but a bare ACK stays plain. */
const FLAG_SGR: Record<ArrowKind, Style> = { ...ARROW_SGR, ack: '' };

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
      r = r.replace(/Flags \[([^\]]*)\]/, (m) => sgr(FLAG_SGR[k], m));
      r = r.replace(/ {3}\(([^)]*)\)$/, (m) => sgr('3;90', m));
      return h + r;
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
