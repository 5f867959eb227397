// What a script uses that linger does not have, found before it runs: such a script is
// reported UNSUPPORTED, never run to a misleading FAIL.

import type { Expr, Script, SyscallSpec, TcpPacketSpec, UntimedCommand } from './ast.ts';
import { describeExpr, field } from './args.ts';
import { SYSCALL_NAMES } from './calls.ts';
import { parseShell, planShell, type ScriptReader } from './shell.ts';
import { symbolValue } from './symbols.ts';

const NO_PYTHON = '%{ }% python blocks (python3 is not available)';
/** The functions an argument may call. */
const ARG_FUNCTIONS = ['htons', 'htonl', 'ntohs', 'ntohl', 'inet_addr', 'inet6_addr', 'sizeof'];

/**
 * Features the run cannot have (empty: the script can run), in script order. Shell commands are
 * checked for what they mean to linger, or, on the kernel, only for being ones the runner knows.
 */
export function unsupportedFeatures(s: Script, python: boolean, readFile?: ScriptReader, target: 'linger' | 'kernel' = 'linger'): string[] {
  const why = new Set<string>();
  if (target === 'kernel') {
    const only = lingerOnly(s);
    if (only) return [`linger-only: ${only} (the script's first line)`];
  }
  const shell = (command: string): { ok: true } | { ok: false; reason: string } => (target === 'kernel' ? parseShell(command, readFile) : planShell(command, readFile));
  for (const c of [...s.init, ...s.cleanup]) untimed(c, python, why, shell);
  for (const ev of s.events) {
    const b = ev.body;
    const at = `line ${ev.line}`;
    if (b.kind === 'shell') {
      const p = shell(b.command);
      if (!p.ok) why.add(`${at}: ${p.reason}`);
    } else if (b.kind === 'code') {
      if (!python) why.add(`${at}: ${NO_PYTHON}`);
    } else if (b.kind === 'packet') {
      const p = b.packet;
      if (p.proto !== 'tcp') why.add(`${at}: ${p.proto.toUpperCase()} packets (linger is TCP only)`);
      else packet(p, at, why);
    } else call(b.call, at, why);
  }
  return [...why];
}

/**
 * A corpus script that cannot run on the kernel says why on its first line:
 * `// linger-only: <reason>` (timers of hours, state no system call can read on Linux).
 */
export function lingerOnly(s: Script): string | null {
  const m = /^\/\/\s*linger-only:\s*(.+?)\s*$/.exec(s.lines[0] ?? '');
  return m ? m[1]! : null;
}

function untimed(c: UntimedCommand, python: boolean, why: Set<string>, shell: (command: string) => { ok: true } | { ok: false; reason: string }): void {
  if (c.kind === 'shell') {
    const p = shell(c.text);
    if (!p.ok) why.add(`line ${c.line}: ${p.reason}`);
  } else if (!python) why.add(`line ${c.line}: ${NO_PYTHON}`);
}

function packet(p: TcpPacketSpec, at: string, why: Set<string>): void {
  if (p.ip.ecn && p.ip.ecn !== 'noect') why.add(`${at}: ECN codepoint [${p.ip.ecn}] (linger does not implement ECN)`);
  if (/[EW]/.test(p.flags)) why.add(`${at}: ECN flags E/W (linger does not implement ECN)`);
  if (p.flags.includes('U') || p.urg !== undefined) why.add(`${at}: urgent data (linger does not implement URG)`);
  if (!p.options || p.options === 'any') return;
  for (const o of p.options) {
    if (o.kind === 'md5') why.add(`${at}: TCP MD5 signatures (RFC 2385)`);
    else if (o.kind === 'FO' || o.kind === 'FOEXP') why.add(`${at}: TCP Fast Open`);
    else if (o.kind === 'unknown') why.add(`${at}: TCP option "${o.name}"`);
  }
}

function call(c: SyscallSpec, at: string, why: Set<string>): void {
  if (!SYSCALL_NAMES.has(c.name)) why.add(`${at}: system call ${c.name}()`);
  const walk = (e: Expr): void => {
    switch (e.kind) {
      case 'sym':
        if (symbolValue(e.name) === undefined) why.add(`${at}: symbol ${e.name} (not known to linger)`);
        break;
      case 'or': e.parts.forEach(walk); break;
      case 'neg': walk(e.e); break;
      case 'list': e.items.forEach(walk); break;
      case 'struct': for (const f of e.fields) if (f.name !== 'msg_name') walk(f.value); break;
      case 'call':
        if (!ARG_FUNCTIONS.includes(e.name)) why.add(`${at}: ${e.name}() in an argument`);
        break;
      default: break;
    }
  };
  c.args.forEach(walk);
  if (c.ret.kind !== 'ellipsis') walk(c.ret);
  const control = c.name.endsWith('msg') && c.args[1] ? field(c.args[1], 'msg_control') : undefined;
  if (control && control.kind !== 'ellipsis') {
    // Control messages: recvmsg()'s TCP_CM_INQ is all linger has (no SCM_TIMESTAMPING, no
    // TCP_CM_INQ on send).
    const items = control.kind === 'list' ? control.items : [control];
    for (const it of items) {
      const type = field(it, 'cmsg_type');
      const level = field(it, 'cmsg_level');
      const inq = c.name === 'recvmsg' && type?.kind === 'sym' && type.name === 'TCP_CM_INQ' && level?.kind === 'sym' && (level.name === 'SOL_TCP' || level.name === 'IPPROTO_TCP');
      if (!inq) why.add(`${at}: ${c.name}() control message ${describeExpr(it)} (linger has only recvmsg()'s TCP_CM_INQ)`);
    }
  }
  if (/^(send|recv|sendto|recvfrom|sendmsg|recvmsg)$/.test(c.name)) {
    const flagsArg = c.args[c.name.endsWith('msg') ? 2 : 3];
    if (flagsArg && mentions(flagsArg, 'MSG_OOB')) why.add(`${at}: MSG_OOB (linger does not implement urgent data)`);
  }
}

function mentions(e: Expr, name: string): boolean {
  if (e.kind === 'sym') return e.name === name;
  if (e.kind === 'or') return e.parts.some((p) => mentions(p, name));
  return false;
}
