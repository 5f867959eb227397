// UI text in English, and the machinery to show it in another language. Translations live in
// ./i18n/<lang>.ts (see zh-CN.ts): UI strings by key, and per scenario its title, explanation,
// question, "what to notice" and parameter descriptions. Anything missing falls back to English.

import type { ScenarioMeta } from '../../src/lab/record.ts';
import { zhCN } from './i18n/zh-CN.ts';
import type { ScenarioText } from './i18n/types.ts';

export type { ScenarioText };

export const EN = {
  appName: 'linger lab',
  tagline: "Linux's TCP connection lifecycle, simulated in virtual time and drawn segment by segment.",
  intro: 'Each scenario runs the linger TCP stack on simulated hosts. Pick one to see its sequence diagram, the states each socket passes through, the counters, and the socket table at any moment. Engine scenarios run here in your browser; change a parameter and run them again.',
  catalogue: 'Catalogue',
  scenarios: 'scenarios',
  topic: 'Topic',
  question: 'Question',
  whatToNotice: 'What to notice',
  parameters: 'Parameters',
  seed: 'seed',
  seedHelp: 'seed of the simulated network and hosts',
  run: 'Run',
  running: 'Running…',
  reset: 'Defaults',
  ran: 'Ran in {ms} ms of real time; {virtual} of virtual time; {events} events.',
  precomputed: 'Precomputed at build time with the default parameters; {virtual} of virtual time; {events} events.',
  nodeNote: 'This scenario runs Node’s own http/http2 code, which cannot run in a browser: the page shows a run precomputed with the default parameters. To change them, use the command line:',
  downloadPcap: 'Download pcap',
  downloadJson: 'Download JSON',
  permalink: 'Copy permalink',
  copied: 'Link copied',
  sequenceDiagram: 'Sequence diagram',
  diagramHelp: 'Time flows down. Each arrow is a segment, from when it was sent to when it arrived, labelled as tcpdump prints it (relative sequence numbers). Coloured bands beside each host are its sockets’ states; the label at each change gives the new state and its cause. Long idle gaps are compressed and labelled. Click the diagram to move the time cursor.',
  prevPage: '◀ Earlier segments',
  nextPage: 'Later segments ▶',
  pageInfo: 'Segments {from}–{to} of {total}',
  timeCursor: 'Time cursor',
  socketTable: 'Socket table at {t}',
  socketTableHelp: 'As `ss -tano` would print it on each host, after everything at that instant happened.',
  noSockets: '(no sockets)',
  moreRows: '… and {n} more',
  sampleNote: 'sampled at {t}',
  stateTimelines: 'Socket states over time',
  stateTimelinesHelp: 'One row per socket, coloured by TCP state. The time axis is compressed like the diagram’s: // marks a long gap.',
  moreSockets: '{n} more sockets not shown',
  counters: 'Counters over time',
  countersHelp: 'Sockets per state on each host (the “connection statistics” view), and every nstat counter that moved, as it grew during the run.',
  socketsByState: 'sockets by state',
  finalValue: 'end',
  stateKey: 'The states in this run',
  timeline: 'Event timeline (text)',
  timelineHelp: '> sent  < received  * state change  $ call  ! error  ~ timer  x drop  H http',
  timelineCut: '… {n} more events (download the JSON for all)',
  loading: 'Loading…',
  error: 'Error',
  notFound: 'No scenario with the id “{id}”.',
  back: '← All scenarios',
  nodeBadge: 'Node http',
  language: 'Language',
  host: 'Host',
  cliHint: 'Same run on the command line:',
  param_ipv6: 'run over IPv6 (client fd00::1, server fd00::2) instead of IPv4',
  topic_A: 'Establishing a connection and the state machine',
  topic_B: 'Closing a connection',
  topic_C: 'TIME_WAIT and CLOSE_WAIT',
  topic_D: 'Keepalive',
  topic_E: 'HTTP persistent connections',
  topicDesc_A: 'Three-way handshake, the eleven states, who passes through which.',
  topicDesc_B: 'close() vs shutdown(), half-close, RST instead of FIN, SO_LINGER, errors applications see.',
  topicDesc_C: 'Why TIME_WAIT exists, pile-ups of TIME_WAIT and CLOSE_WAIT, and the usual fixes.',
  topicDesc_D: 'Probes, dead and rebooted peers, middleboxes that forget, load balancer profiles.',
  topicDesc_E: 'HTTP/1.0, 1.1 and 2 on the wire: who closes, where TIME_WAIT lands, the keep-alive race.',
  legend_syn: 'SYN',
  legend_fin: 'FIN',
  legend_rst: 'RST',
  legend_data: 'data',
  legend_ack: 'ACK',
  legend_lost: 'lost',
  svgGap: '{d} later',
  svgEnd: 'end of run at {t}',
  svgCut: 'segments shown: {shown} of {total}',
  svgHidden: '{n} more sockets not drawn as bands',
  state_LISTEN: 'waiting for connections (a listening socket)',
  state_SYN_SENT: 'SYN sent, waiting for the SYN-ACK (active opener)',
  state_SYN_RECV: 'SYN received and SYN-ACK sent, waiting for the final ACK (passive opener)',
  state_ESTABLISHED: 'open: data flows both ways',
  state_FIN_WAIT1: 'we closed and sent FIN, waiting for its ACK (active closer)',
  state_FIN_WAIT2: 'our FIN is acknowledged, waiting for the peer’s FIN',
  state_CLOSING: 'both sides sent FIN at once; waiting for the ACK of ours',
  state_TIME_WAIT: 'both FINs done; the active closer keeps the 4-tuple for 60 s (2·MSL on Linux)',
  state_CLOSE_WAIT: 'the peer sent FIN; waiting for our application to close()',
  state_LAST_ACK: 'we closed after the peer; waiting for the ACK of our FIN',
  state_CLOSED: 'no connection',
};

export type Key = keyof typeof EN;

export interface Translation {
  /** The name shown on the language switch. */
  name: string;
  ui: Partial<Record<Key, string>>;
  scenarios: Record<string, ScenarioText>;
}

export const LANGS: Record<string, Translation> = {
  en: { name: 'English', ui: {}, scenarios: {} },
  zh: zhCN,
};

let lang = 'en';

export function setLang(l: string): void {
  lang = LANGS[l] ? l : 'en';
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

export const getLang = (): string => lang;

/** A UI string in the current language (English when missing), with {name} placeholders filled. */
export function t(key: Key, vars: Record<string, string | number> = {}): string {
  const s = LANGS[lang]?.ui[key] ?? EN[key];
  return s.replace(/\{(\w+)\}/g, (m, k: string) => (k in vars ? String(vars[k]) : m));
}

/** A scenario's texts in the current language, each falling back to the English of the catalogue. */
export function scenarioText(s: ScenarioMeta): Required<Omit<ScenarioText, 'params'>> & { param: (name: string, en: string) => string } {
  const tr = LANGS[lang]?.scenarios[s.id] ?? {};
  return {
    title: tr.title ?? s.title,
    explain: tr.explain ?? s.explain,
    question: tr.question ?? s.question,
    notice: tr.notice && tr.notice.length === s.notice.length ? tr.notice : s.notice,
    param: (name, en) => tr.params?.[name] ?? (name === 'ipv6' ? t('param_ipv6') : en),
  };
}
