// The reference for the HTTP cases: linger's own HTTP servers (src/link/apps.ts) on the real
// kernel's node:net, run in the peer namespace: `ip netns exec NS node --import tsx node-server.ts`.
import net from 'node:net';
import { http2Server, httpServer } from '../../src/link/apps.ts';
import type { LingerNet } from '../../src/net/index.ts';

const n = net as unknown as LingerNet;
httpServer(n, 80);
http2Server(n, 8080);
setTimeout(() => process.stdout.write('ready\n'), 200);
setTimeout(() => process.exit(0), 60_000).unref(); // bounded: the test kills it sooner
process.on('SIGTERM', () => process.exit(0));
