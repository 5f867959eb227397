// The reference for the HTTP cases: linger's own HTTP servers (src/link/apps.ts) on the real
// kernel's node:net, run in the peer namespace: `ip netns exec NS node --import tsx node-server.ts`.
import http from 'node:http';
import http2 from 'node:http2';
import { http2Server, httpServer, type Http2Module, type HttpModule } from '../../src/link/apps.ts';

httpServer(http as unknown as HttpModule, 80);
http2Server(http2 as unknown as Http2Module, 8080);
setTimeout(() => process.stdout.write('ready\n'), 200);
setTimeout(() => process.exit(0), 60_000).unref(); // bounded: the test kills it sooner
process.on('SIGTERM', () => process.exit(0));
