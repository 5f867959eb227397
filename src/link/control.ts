// The control socket of a running `linger tun` process: `linger tun ss` and `linger tun nstat`
// ask it for the host's socket table and counters, as ss asks the kernel over netlink
// (inet_diag) and nstat reads /proc/net/snmp: at the moment of the call, from the live stack.
//
// A unix stream socket beside the pid file (/run/linger/NS.sock), one JSON request line, one
// JSON answer, then close. Chosen over a signal plus a dump file: nothing is written unless
// asked, two callers at once cannot read each other's half-written file, and a process that
// died without cleaning up shows as ECONNREFUSED on the socket (no one listens), which the
// client reports as "no linger process", instead of a stale file read as current.

import { createConnection, createServer, type Server } from 'node:net';
import { chmodSync, rmSync } from 'node:fs';
import type { SocketRow } from '../host/ss.ts';

export type ControlRequest = { q: 'ss' } | { q: 'nstat' };

export interface ControlAnswer {
  pid: number;
  ns: string;
  /** `up`, `http` or `echo`. */
  mode: string;
  /** Wall-clock time the process started (ms since the epoch): nstat's history is per process. */
  started: number;
  sockets?: SocketRow[];
  /** nstat names (IpInReceives, TcpActiveOpens, TcpExtTW), every counter linger keeps. */
  counters?: Record<string, number>;
}

export class ControlError extends Error {}

/** Listens on path (replacing a socket file left by a dead process) and answers each request. */
export function serveControl(path: string, answer: (req: ControlRequest) => ControlAnswer): Promise<Server> {
  rmSync(path, { force: true });
  const srv = createServer((c) => {
    let buf = '';
    c.setEncoding('utf8');
    c.on('error', () => undefined);
    c.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > 4096) c.destroy();
        return;
      }
      let req: ControlRequest;
      try {
        req = JSON.parse(buf.slice(0, nl)) as ControlRequest;
      } catch {
        c.end(JSON.stringify({ error: 'bad request' }) + '\n');
        return;
      }
      c.end(JSON.stringify(answer(req)) + '\n');
    });
  });
  return new Promise((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(path, () => {
      chmodSync(path, 0o600); // root's, as the namespace and the TUN device
      resolve(srv);
    });
  });
}

/** Asks the process listening on path; ControlError when none does. */
export function queryControl(path: string, req: ControlRequest, timeoutMs = 5000): Promise<ControlAnswer> {
  return new Promise((resolve, reject) => {
    const c = createConnection(path);
    let buf = '';
    c.setEncoding('utf8');
    const timer = setTimeout(() => {
      c.destroy();
      reject(new ControlError(`${path}: no answer in ${timeoutMs} ms`));
    }, timeoutMs);
    c.on('connect', () => c.write(JSON.stringify(req) + '\n'));
    c.on('data', (d: string) => (buf += d));
    c.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? new ControlError(`${path}: ${e.code}`) : e);
    });
    c.on('end', () => {
      clearTimeout(timer);
      try {
        const a = JSON.parse(buf) as ControlAnswer & { error?: string };
        if (a.error) reject(new ControlError(`${path}: ${a.error}`));
        else resolve(a);
      } catch {
        reject(new ControlError(`${path}: a truncated answer (${buf.length} bytes)`));
      }
    });
  });
}
