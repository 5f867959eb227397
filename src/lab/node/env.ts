// The Node-side run environment for scenarios that run Node's own code (node:http, node:http2)
// on the simulated hosts: a virtual-time Runtime and node:net bindings for both hosts.

import type { Host } from '../../host/host.ts';
import { bindNet, type LingerNet } from '../../net/index.ts';
import { Runtime } from '../../net/runtime.ts';
import type { RunEnv } from '../runner.ts';
import type { ScenarioContext } from '../scenario.ts';
import type { NetSocket } from '../../net/socket.ts';

export interface NodeExt {
  rt: Runtime;
  clientNet: LingerNet;
  serverNet: LingerNet;
}

/** Each Node-run scenario's runtime and node:net bindings, by its context (set in prepare). */
const EXT = new WeakMap<ScenarioContext, NodeExt>();

export function nodeExt(ctx: ScenarioContext): NodeExt {
  const ext = EXT.get(ctx);
  if (!ext) throw new Error('a Node-only scenario ran without nodeEnv() (src/lab/node/env.ts)');
  return ext;
}

export function nodeEnv(): RunEnv {
  return {
    async prepare(ctx) {
      const rt = new Runtime(ctx.net);
      for (const h of [ctx.client, ctx.server] as Host[]) rt.register(h);
      const ext: NodeExt = { rt, clientNet: bindNet(ctx.client, rt), serverNet: bindNet(ctx.server, rt) };
      EXT.set(ctx, ext);
      return {
        run: async (untilUs: number, observe?: () => void) => {
          await rt.runUntil(observe ? () => (observe(), false) : () => false, untilUs);
        },
        dispose: () => rt.dispose(),
      };
    },
  };
}

/** The connection label of a socket handed out by the node:net bindings. */
/**
 * The 4-tuple label of a node:net socket. http2 wraps a socket without a native stream handle in
 * a JSStreamSocket (lib/internal/js_stream_socket.js) whose `stream` is ours.
 */
export const connOf = (s: unknown): string | undefined => {
  const sock = s as (NetSocket & { stream?: NetSocket }) | null | undefined;
  return sock?.connection ?? sock?.stream?.connection;
};
