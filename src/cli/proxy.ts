// `linger proxy`: the L4 relay with a load-balancer TCP profile, on the real kernel (node:net).

import net from 'node:net';
import type { Command } from 'commander';
import { StreamProxy } from '../proxy/stream.ts';

export class ProxyUsageError extends Error {}

function endpoint(v: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(v) ?? /^()()(\d+)$/.exec(v);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) throw new ProxyUsageError(`${what} takes [host:]port, got "${v}"`);
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

/** 300s, 5000ms, 2m -> milliseconds. */
export function duration(v: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
  if (!m) throw new ProxyUsageError(`${what} takes a duration like 300s, 5000ms or 2m, got "${v}"`);
  const n = Number(m[1]);
  const mult = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Math.round(n * mult);
}

export function registerProxy(program: Command): void {
  program
    .command('proxy')
    .description('relay TCP connections to an upstream with a load balancer\'s TCP profile (real kernel sockets)')
    .requiredOption('--listen <[host:]port>', 'where to accept connections (default host 127.0.0.1)')
    .requiredOption('--upstream <host:port>', 'where to relay them')
    .option('--idle-timeout <duration>', 'end connections idle this long (0 = never)', '300s')
    .option('--idle-action <rst|fin>', 'reset (F5 "Reset on Timeout") or close idle connections', 'rst')
    .option('--keepalive-interval <duration>', 'TCP keepalive idle and interval on both sides (0 = off)', '1800s')
    .option('--close-wait-timeout <duration>', 'after one side\'s FIN, close both if the other has not finished', '5s')
    .action(async (o: { listen: string; upstream: string; idleTimeout: string; idleAction: string; keepaliveInterval: string; closeWaitTimeout: string }) => {
      if (o.idleAction !== 'rst' && o.idleAction !== 'fin') throw new ProxyUsageError(`--idle-action takes rst or fin, got "${o.idleAction}"`);
      const listen = endpoint(o.listen, '--listen');
      const upstream = endpoint(o.upstream, '--upstream');
      const proxy = new StreamProxy(net, {
        listen,
        upstream,
        profile: {
          idleTimeoutMs: duration(o.idleTimeout, '--idle-timeout'),
          idleAction: o.idleAction,
          keepAliveIntervalMs: duration(o.keepaliveInterval, '--keepalive-interval'),
          closeWaitTimeoutMs: duration(o.closeWaitTimeout, '--close-wait-timeout'),
        },
      });
      proxy.on('event', (ev) => process.stdout.write(`${new Date().toISOString()} ${JSON.stringify(ev)}\n`));
      await proxy.listen();
      process.stdout.write(`linger proxy: ${listen.host}:${listen.port} -> ${upstream.host}:${upstream.port}\n`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          process.stdout.write(`linger proxy: stopping; ${JSON.stringify(proxy.stats)}\n`);
          proxy.server.close();
          resolve();
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });
}
