/**
 * `linger inspect` as a library: reads a real Linux host's TCP sockets and counters from /proc,
 * attributes them to processes, and reports TIME_WAIT, CLOSE_WAIT, orphans and keepalive with
 * findings (what looks wrong, why, what to change), as text or JSON.
 * @packageDocumentation
 */

export { collect, hostInfo, type CollectOptions, type Snapshot, type InspectSocket, type Sysctls as InspectSysctls } from './collect.ts';
export { analyze, type AnalyzeOptions, type Report, type Finding } from './analyze.ts';
export { diagnose } from './rules.ts';
export { Sampler, viewFindings, viewJson, viewText, type View } from './views.ts';
export { parseProcNetTcp, parseSockstat, parseNstatFile, type RawTcpSocket } from './proc.ts';
export { buildRegistry } from './prometheus.ts';
