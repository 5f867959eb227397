// Backquoted shell commands. A userspace stack cannot run a shell on the kernel it does not
// have: the runner understands the commands Linux suites use to set sysctls (`sysctl -q
// net.ipv4.tcp_x=N`, `sysctl -w ...`, `echo N > /proc/sys/net/ipv4/tcp_x`) and applies the
// names linger's host config has (src/base/config.ts). Anything else is unsupported: the
// script is reported UNSUPPORTED, never silently passed.

import { ConfigError, FIXED_SYSCTLS, applySysctl, defaultConfig, knownSysctls } from '../base/config.ts';

export { FIXED_SYSCTLS, knownSysctls };

export interface SysctlWrite {
  name: string;
  value: string;
}

export type ShellPlan = { ok: true; writes: SysctlWrite[] } | { ok: false; reason: string };

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

function checkName(name: string, value?: string): string | null {
  const fixed = FIXED_SYSCTLS[name];
  if (fixed) return value !== undefined && value.trim() === fixed.value ? null : `sysctl ${name}=${value ?? ''}: only ${fixed.value} is supported (${fixed.why})`;
  if (!KNOWN.has(name)) return `sysctl ${name} is not modelled by linger`;
  return null;
}

/** What a backquoted command would do to linger, or why it cannot be run. */
export function planShell(command: string): ShellPlan {
  const writes: SysctlWrite[] = [];
  const parts = command.split(/\n|;|&&/).map((s) => s.trim()).filter((s) => s && !s.startsWith('#'));
  if (!parts.length) return { ok: true, writes };
  for (const part of parts) {
    const w = words(part);
    if (!w || !w.length) return { ok: false, reason: `cannot read shell command "${part}"` };
    if (w[0] === 'sysctl' || w[0] === '/sbin/sysctl' || w[0] === '/usr/sbin/sysctl') {
      const args = w.slice(1).filter((a) => !/^-[qwe]+$/.test(a));
      if (!args.length) return { ok: false, reason: `"${part}" only reads sysctls (linger applies writes only)` };
      for (const a of args) {
        const eq = a.indexOf('=');
        if (eq <= 0) return { ok: false, reason: `"${part}": only sysctl name=value writes are supported` };
        const name = a.slice(0, eq).replace(/\//g, '.');
        const bad = checkName(name, a.slice(eq + 1));
        if (bad) return { ok: false, reason: bad };
        if (!FIXED_SYSCTLS[name]) writes.push({ name, value: a.slice(eq + 1) });
      }
      continue;
    }
    // echo VALUE > /proc/sys/net/ipv4/NAME
    const m = /^echo\s+(?:-n\s+)?(.+?)\s*>\s*\/proc\/sys\/(\S+)$/.exec(part);
    if (m) {
      const v = words(m[1]!);
      const name = m[2]!.replace(/\//g, '.');
      const value = (v ?? [m[1]!]).join(' ');
      const bad = checkName(name, value);
      if (bad) return { ok: false, reason: bad };
      if (!FIXED_SYSCTLS[name]) writes.push({ name, value });
      continue;
    }
    return { ok: false, reason: `shell command "${part}" cannot be run against linger (only sysctl writes are)` };
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
  return { ok: true, writes };
}
