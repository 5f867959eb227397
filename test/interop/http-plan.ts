// An HTTP client's plan for the nginx cases: GETs on one keep-alive http.Agent, sleeps, and
// marks (points where the harness changes the link). The same code runs in the test process
// over linger's node:net and, for the reference, in the peer namespace over the kernel's
// (node-client.ts), so both clients do exactly the same.
import http from 'node:http';
import type { Socket } from 'node:net';

export type Step = { get: string } | { sleep: number } | { mark: string };
export interface GetResult {
  path: string;
  status?: number;
  reused: boolean;
  error?: string;
}

export async function runPlan(
  host: string,
  port: number,
  steps: Step[],
  onMark: (tag: string) => void,
  createConnection?: (o: { port: number; host: string }) => Socket,
): Promise<GetResult[]> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  if (createConnection) (agent as unknown as { createConnection: typeof createConnection }).createConnection = createConnection;
  const out: GetResult[] = [];
  try {
    for (const s of steps) {
      if ('sleep' in s) await new Promise((r) => setTimeout(r, s.sleep));
      else if ('mark' in s) onMark(s.mark);
      else out.push(await get(agent, host, port, s.get));
    }
  } finally {
    agent.destroy();
  }
  return out;
}

function get(agent: http.Agent, host: string, port: number, path: string): Promise<GetResult> {
  return new Promise((resolve) => {
    const req = http.request({ host, port, path, agent });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => resolve({ path, status: res.statusCode, reused: req.reusedSocket }));
    });
    req.on('error', (e: Error & { code?: string }) => resolve({ path, error: e.code ?? e.message, reused: req.reusedSocket }));
    req.end();
  });
}
