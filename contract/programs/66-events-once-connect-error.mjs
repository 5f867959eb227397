import { once } from 'node:events';
export const title = 'events.once(socket, \'connect\') resolves with no arguments; events.once(socket, \'connect\') on a refused connect rejects with the error';
export default async function (t) {
  const server = t.serverNet.createServer((s) => s.end());
  const port = await t.listen(server);
  const c = t.net.connect(port, t.serverHost);
  const args = await once(c, 'connect');
  t.log('client', 'connect args', args.length, 'readyState', c.readyState);
  c.resume();
  await once(c, 'close');
  const closed = await t.closedPort();
  const d = t.net.connect(closed, t.serverHost);
  try {
    await once(d, 'connect');
    t.log('refused', 'connected?');
  } catch (e) {
    t.log('refused', 'rejected', e.code, e.syscall, 'destroyed', d.destroyed);
  }
  server.close();
}
