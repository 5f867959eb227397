// The reference of bench-tun's HTTP row: linger tun http's own app (src/link/apps.ts httpServer)
// on Node's node:http, i.e. on the kernel's TCP. Run in a namespace; prints `ready`; bounded.
//   ip netns exec NS node --import tsx scripts/bench-http-server.ts PORT
import http from 'node:http';
import { httpServer, type HttpModule } from '../src/link/apps.ts';

const port = Number(process.argv[2] ?? 80);
httpServer(http as unknown as HttpModule, port).http.on('listening', () => process.stdout.write('ready\n'));
setTimeout(() => process.exit(0), 120_000).unref(); // bounded: the bench kills it sooner
process.on('SIGTERM', () => process.exit(0));
