// The reference for the nginx cases: the plan of http-plan.ts on the kernel's own node:net, run
// in the peer namespace: `ip netns exec NS node --import tsx node-client.ts HOST PORT 'STEPS'`.
// Prints {"event":"mark","tag":...} at each mark and {"event":"results",...} at the end.
import { runPlan, type Step } from './http-plan.ts';

const [host, port, steps] = process.argv.slice(2);
setTimeout(() => process.exit(3), 60_000).unref(); // bounded: a plan takes seconds
const results = await runPlan(host!, Number(port), JSON.parse(steps!) as Step[], (tag) => process.stdout.write(JSON.stringify({ event: 'mark', tag }) + '\n'));
process.stdout.write(JSON.stringify({ event: 'results', results }) + '\n');
