// Backquoted shell commands. A userspace stack cannot run a shell on the kernel it does not
// have: the runner understands what Linux's suites run before a script and gives each command
// the meaning it has for Linux. A command naming a shell script (`../common/defaults.sh`,
// relative to the script's folder) is read and each of its lines planned. Sysctl writes
// (`sysctl -q a=b c=d`, `echo N > /proc/sys/...`, with `$((...))` arithmetic and quoting) are
// applied to the host's config (src/base/config.ts), accepted at the value linger behaves as
// (FIXED_SYSCTLS), or accepted with a warning that says what linger does instead
// (APPROXIMATED_SYSCTLS); `ip tcp_metrics flush`, a pfifo root qdisc and `ethtool -K ... off`
// are no-ops because linger has no metrics cache, no qdisc and no segmentation offload.
// Anything else is unsupported: the script is reported UNSUPPORTED, never silently passed.

import { APPROXIMATED_SYSCTLS, ConfigError, FIXED_SYSCTLS, NOOP_SYSCTLS, SYSCTL_RANGES, applySysctl, defaultConfig, knownSysctls, type SysctlName } from '../base/config.ts';

export { FIXED_SYSCTLS, knownSysctls };

export interface SysctlWrite {
  name: string;
  value: string;
}

export type ShellPlan =
  | { ok: true; writes: SysctlWrite[]; routes: Array<{ mtu?: number; advmss?: number }>; warnings: string[] }
  | { ok: false; reason: string };

/** Reads a file named by a command, relative to the script's folder (undefined: unreadable). */
export type ScriptReader = (path: string) => string | undefined;

const KNOWN = new Set(knownSysctls());

/** Shell words of one simple command, with '...' and "..." quoting. */
function words(cmd: string): string[] | null {
  const out: string[] = [];
  let cur = '';
  let have = false;
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (c === "'" || c === '"') {
      const end = cmd.indexOf(c, i + 1);
      if (end < 0) return null;
      cur += cmd.slice(i + 1, end);
      have = true;
      i = end;
    } else if (/\s/.test(c)) {
      if (have) out.push(cur);
      cur = '';
      have = false;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i];
      have = true;
    } else {
      cur += c;
      have = true;
    }
  }
  if (have) out.push(cur);
  return out;
}

/** Why a sysctl write cannot be run (null: it can), and the warning it carries if any. */
function checkWrite(name: string, value: string, warnings: string[]): string | null {
  const v = value.trim();
  const fixed = FIXED_SYSCTLS[name];
  if (fixed) return v === fixed.value ? null : `sysctl ${name}=${value}: only ${fixed.value} is supported (${fixed.why})`;
  const noop = NOOP_SYSCTLS[name];
  if (noop) return noop.valid.test(v) ? null : `sysctl ${name}=${value}: not a value Linux accepts`;
  const approx = APPROXIMATED_SYSCTLS[name];
  if (approx) {
    if (!approx.valid.test(v)) return `sysctl ${name}=${value}: not a value Linux accepts`;
    if (v !== approx.value) warnings.push(`sysctl ${name}=${v}: linger behaves as with ${approx.value} (${approx.instead})`);
    return null;
  }
  if (!KNOWN.has(name)) return `sysctl ${name} is not modelled by linger`;
  const range = SYSCTL_RANGES[name.replace(/^net\.(ipv4|core)\./, '') as SysctlName];
  if (range && !(/^-?\d+$/.test(v) && Number(v) >= range[0] && Number(v) <= range[1])) return `sysctl ${name}=${value}: not a value Linux accepts`;
  return null;
}

/** Applied to the host's config (the fixed and approximated ones change nothing). */
const applied = (name: string): boolean => !FIXED_SYSCTLS[name] && !APPROXIMATED_SYSCTLS[name] && !NOOP_SYSCTLS[name];

/** `$((expr))` with integers, + - * / % and parentheses, as the shell computes it. */
function arithmetic(text: string): string | null {
  let bad = false;
  const out = text.replace(/\$\(\(([^()]*(?:\([^()]*\)[^()]*)*)\)\)/g, (_m, expr: string) => {
    const n = evalInt(expr);
    if (n === null) bad = true;
    return String(n ?? 0);
  });
  return bad ? null : out;
}

/** A shell integer expression (bash: 64-bit, division truncates); null if it is not one. */
function evalInt(expr: string): number | null {
  const toks = expr.match(/\d+|[+\-*/%()]|\S/g) ?? [];
  let i = 0;
  const primary = (): number | null => {
    const t = toks[i++];
    if (t === '(') {
      const v = sum();
      return toks[i++] === ')' ? v : null;
    }
    if (t === '-' || t === '+') {
      const v = primary();
      return v === null ? null : t === '-' ? -v : v;
    }
    return t !== undefined && /^\d+$/.test(t) ? Number(t) : null;
  };
  const product = (): number | null => {
    let v = primary();
    while (v !== null && (toks[i] === '*' || toks[i] === '/' || toks[i] === '%')) {
      const op = toks[i++];
      const r = primary();
      if (r === null || (op !== '*' && r === 0)) return null;
      v = op === '*' ? v * r : op === '/' ? Math.trunc(v / r) : v % r;
    }
    return v;
  };
  const sum = (): number | null => {
    let v = product();
    while (v !== null && (toks[i] === '+' || toks[i] === '-')) {
      const op = toks[i++];
      const r = product();
      if (r === null) return null;
      v = op === '+' ? v + r : v - r;
    }
    return v;
  };
  const v = sum();
  return v !== null && i === toks.length && Number.isSafeInteger(v) ? v : null;
}

/** Output redirections to /dev/null, which change nothing here. */
const withoutNullRedirects = (part: string): string =>
  part.replace(/\s*(?:&>|[12]?>)\s*\/dev\/null/g, '').replace(/\s*2>&1/g, '').trim();

const SCRIPT = /^(?:\.{1,2}\/|\/)\S*$/;

/** One step of a backquoted command: a sysctl write, or one of the set-up commands suites run. */
export type ShellStep =
  | { kind: 'sysctl'; name: string; value: string; raw: string }
  | { kind: 'route'; mtu?: number; advmss?: number; argv: string[]; raw: string }
  | { kind: 'command'; argv: string[]; raw: string };

/**
 * `ip route add|change|replace DST ... [mtu [lock] N] [advmss M]`: the route's metrics that shape
 * a connection (the MTU, the MSS offered); null if the command is not that, or sets other metrics.
 */
function routeMetrics(w: string[]): { mtu?: number; advmss?: number } | null {
  if (!(w[0] === 'ip' && w[1] === 'route' && ['add', 'change', 'replace'].includes(w[2] ?? '') && w[3])) return null;
  const out: { mtu?: number; advmss?: number } = {};
  for (let i = 4; i < w.length; i++) {
    const k = w[i]!;
    if (k === 'dev' || k === 'via' || k === 'src' || k === 'proto' || k === 'scope') i++;
    else if (k === 'mtu' || k === 'advmss') {
      if (w[i + 1] === 'lock') i++;
      const n = Number(w[++i]);
      if (!Number.isInteger(n) || n <= 0) return null;
      if (k === 'mtu') out.mtu = n;
      else out.advmss = n;
    } else return null;
  }
  return out.mtu || out.advmss ? out : null;
}

export type ShellParse = { ok: true; steps: ShellStep[] } | { ok: false; reason: string };

/**
 * A backquoted command read into steps, the init scripts it names read in place. Anything but
 * sysctl writes and the set-up commands Linux's suites run (isSetupCommand) is refused: the
 * runner never runs a shell on what it does not understand, on linger or on the kernel.
 */
export function parseShell(command: string, readFile?: ScriptReader, depth = 0): ShellParse {
  const steps: ShellStep[] = [];
  const parts = command.split(/\n|;|&&/).map((x) => x.trim()).filter((x) => x && !x.startsWith('#'));
  for (const raw of parts) {
    const part = arithmetic(withoutNullRedirects(raw));
    if (part === null) return { ok: false, reason: `cannot compute the arithmetic in "${raw}"` };
    const w = words(part);
    if (!w || !w.length) return { ok: false, reason: `cannot read shell command "${raw}"` };
    const cmd = w[0]!.replace(/^\/(?:usr\/)?s?bin\//, '');
    if (w.length === 1 && SCRIPT.test(w[0]!)) {
      // A suite's init script: its lines, read one by one.
      if (depth >= 4) return { ok: false, reason: `${w[0]}: scripts nested too deep` };
      const text = readFile?.(w[0]!);
      if (text === undefined) return { ok: false, reason: `cannot read the shell script ${w[0]}${readFile ? '' : ' (no script folder)'}` };
      const sub = parseShell(text, readFile, depth + 1);
      if (!sub.ok) return { ok: false, reason: `${w[0]}: ${sub.reason}` };
      steps.push(...sub.steps);
      continue;
    }
    // Linux's suites' set_sysctls.py: each argument /proc/sys/net/ipv4/NAME=VALUE is a write.
    if (/(^|\/)set_sysctls\.py$/.test(w[0]!) || (/^python3?$/.test(cmd) && /(^|\/)set_sysctls\.py$/.test(w[1] ?? ''))) {
      for (const arg of w.slice(w[0]!.endsWith('.py') ? 1 : 2)) {
        const m = /^\/proc\/sys\/([^=]+)=(.*)$/s.exec(arg);
        if (!m) return { ok: false, reason: `"${raw}": set_sysctls.py takes /proc/sys/NAME=VALUE arguments, not "${arg}"` };
        steps.push({ kind: 'sysctl', name: m[1]!.replace(/\//g, '.'), value: m[2]!, raw });
      }
      continue;
    }
    const route = routeMetrics([cmd, ...w.slice(1)]);
    if (route) {
      steps.push({ kind: 'route', ...route, argv: [cmd, ...w.slice(1)], raw });
      continue;
    }
    if (cmd === 'sysctl') {
      const args = w.slice(1).filter((x) => !/^-[qwe]+$/.test(x));
      if (!args.length) return { ok: false, reason: `"${raw}" only reads sysctls (the runner applies writes only)` };
      for (const arg of args) {
        const eq = arg.indexOf('=');
        if (eq <= 0) return { ok: false, reason: `"${raw}": only sysctl name=value writes are supported` };
        steps.push({ kind: 'sysctl', name: arg.slice(0, eq).replace(/\//g, '.'), value: arg.slice(eq + 1), raw });
      }
      continue;
    }
    // echo VALUE > /proc/sys/net/ipv4/NAME
    const m = /^echo\s+(?:-n\s+)?(.+?)\s*>\s*\/proc\/sys\/(\S+)$/.exec(part);
    if (m) {
      const v = words(m[1]!);
      steps.push({ kind: 'sysctl', name: m[2]!.replace(/\//g, '.'), value: (v ?? [m[1]!]).join(' '), raw });
      continue;
    }
    if (setupMeaning([cmd, ...w.slice(1)]) === null) {
      return { ok: false, reason: `shell command "${raw}" is not one the runner knows (only sysctl writes, set_sysctls.py, ip tcp_metrics flush, ip route ... mtu/advmss, tc qdisc and ethtool -K are)` };
    }
    steps.push({ kind: 'command', argv: [cmd, ...w.slice(1)], raw });
  }
  return { ok: true, steps };
}

/** What a backquoted command would do to linger, or why it cannot be run. */
export function planShell(command: string, readFile?: ScriptReader): ShellPlan {
  const parsed = parseShell(command, readFile);
  if (!parsed.ok) return parsed;
  const writes: SysctlWrite[] = [];
  const routes: Array<{ mtu?: number; advmss?: number }> = [];
  const warnings: string[] = [];
  for (const st of parsed.steps) {
    if (st.kind === 'route') {
      routes.push({ ...(st.mtu ? { mtu: st.mtu } : {}), ...(st.advmss ? { advmss: st.advmss } : {}) });
      continue;
    }
    if (st.kind === 'command') {
      const meaning = setupMeaning(st.argv);
      if (typeof meaning === 'string') warnings.push(meaning);
      continue;
    }
    const bad = checkWrite(st.name, st.value, warnings);
    if (bad) return { ok: false, reason: bad };
    if (applied(st.name)) writes.push({ name: st.name, value: st.value });
  }
  // Values must parse as the config expects.
  const probe = defaultConfig();
  for (const wr of writes) {
    try {
      applySysctl(probe, wr.name, wr.value);
    } catch (e) {
      if (e instanceof ConfigError) return { ok: false, reason: e.message };
      throw e;
    }
  }
  return { ok: true, writes, routes, warnings };
}

/**
 * The set-up commands Linux's suites run, for linger: true when linger already behaves as the
 * command makes Linux behave, a warning when it does not, null when the command is not one of them.
 */
function setupMeaning(w: string[]): true | string | null {
  const [cmd, ...a] = w;
  // ip tcp_metrics flush [all]: linger keeps no per-destination metrics.
  if ((cmd === 'ip' || cmd?.endsWith('/ip')) && a[0] === 'tcp_metrics' && (a[1] === 'flush' || a[1] === 'delete')) return true;
  // tc qdisc add|replace|change dev D root pfifo|pfifo_fast|fq, or delete: linger sends each
  // segment at once, as a FIFO does; fq's pacing it does not have.
  if (cmd === 'tc' && a[0] === 'qdisc' && a[2] === 'dev') {
    if (a[1] === 'del' || a[1] === 'delete') return true;
    if (['add', 'replace', 'change'].includes(a[1]!) && a[4] === 'root') {
      if (a[5] === 'pfifo' || a[5] === 'pfifo_fast') return true;
      if (a[5] === 'fq') return 'tc qdisc fq accepted, but linger has no pacing (segments leave at once, as with pfifo)';
    }
    return null;
  }
  // ethtool -K D tso|gso|gro|lro on|off ...: linger never builds or merges super-packets.
  if (cmd === 'ethtool' && (a[0] === '-K' || a[0] === '--offload') && a.length >= 4 && (a.length - 2) % 2 === 0) {
    for (let i = 2; i < a.length; i += 2) {
      if (!['tso', 'gso', 'gro', 'lro', 'sg', 'tx', 'rx'].includes(a[i]!) || !['on', 'off'].includes(a[i + 1]!)) return null;
    }
    return a.slice(2).some((x) => x === 'on') ? 'ethtool -K ... on accepted, but linger never builds or merges super-packets (MSS-sized segments)' : true;
  }
  return null;
}
