/**
 * The lab: lifecycle scenarios (handshakes, closes, TIME_WAIT, CLOSE_WAIT, keepalive, HTTP
 * persistent connections) run on a fresh simulated network, with their traces as JSON, pcap,
 * a text timeline, an ASCII or SVG sequence diagram. The scenarios that run Node's own HTTP code
 * are in the catalogue too; pass `env: nodeEnv()` to run them, as `linger lab run` does.
 * @packageDocumentation
 */

import './node/index.ts';

export { CATALOGUE, COMMON_PARAMS, LabError, findScenario, registerScenarios, runScenario, type LabRun, type RunEnv } from './runner.ts';
export { nodeEnv } from './node/index.ts';
export type { Scenario, ScenarioContext, ParamSpec, Topic, LabEvent, HttpEvent, StatsEvent } from './scenario.ts';
export { toJson, toPcap, type LabJson, type JsonEvent } from './export.ts';
export { toTimeline } from './render.ts';
export { viewOfRun, type TraceView } from './view.ts';
export { renderAscii, type AsciiOptions } from './ascii.ts';
export { renderSvg, type SvgOptions, type SvgResult } from './svg.ts';
