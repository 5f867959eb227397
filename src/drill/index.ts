// linger drill: a packetdrill-compatible script runner on a virtual clock.
export * from './ast.ts';
export { lex, DrillSyntaxError, type Token, type TokKind } from './lexer.ts';
export { parse, secondsToUs } from './parser.ts';
export { runDrill, DrillRun } from './runner.ts';
export { fmtTime, type DrillResult, type DrillStatus, type Failure, type RunOptions, type TraceLine } from './result.ts';
export { fmtPacketSpec } from './notation.ts';
export { defaultDrillConfig, applyDrillOption, DrillOptionError, type DrillConfig, type IpVersion } from './config.ts';
export { planShell, knownSysctls } from './shell.ts';
export { buildProgram, dedent, type CodeBlock, type PythonRunner } from './code.ts';
export { formatResult, formatSummary, summarize, toJson, toTap, type Summary } from './report.ts';
export { nodePython, runFiles, expandPaths } from './files.ts';
