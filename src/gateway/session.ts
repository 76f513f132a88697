import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  SetLevelRequestSchema,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { AgentIdentity } from '../identity/index.js';
import { VERSION } from '../version.js';
import type { Gate, UpstreamProgress } from './gate.js';

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Resolves the verified agent behind one request; throws an McpError when there is none. */
export type Identify = (extra: Extra) => Promise<AgentIdentity>;

const SERVER_INFO = { name: 'gatehouse', version: VERSION };

/**
 * One MCP server session facing an agent. Identity is resolved per request, so an expired or
 * replaced credential takes effect on the next call, not the next session.
 */
export function createSessionServer(gate: Gate, identify: Identify): Server {
  const server = new Server(SERVER_INFO, {
    capabilities: { tools: { listChanged: true }, logging: {} },
    instructions: 'Gatehouse: every tool call is checked against policy and recorded.',
  });
  // Accepted and kept per session. Upstream connections are shared by every agent, so one agent's
  // level is not pushed upstream (it would change what every other agent hears).
  server.setRequestHandler(SetLevelRequestSchema, async (_req, extra) => {
    await identify(extra);
    return {};
  });
  server.setRequestHandler(ListToolsRequestSchema, async (_req, extra) => {
    const agent = await identify(extra);
    return { tools: await gate.listTools(agent) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const agent = await identify(extra);
    const token = req.params._meta?.progressToken;
    if (token === undefined)
      return gate.callTool(agent, req.params.name, req.params.arguments, extra.signal);
    // Progress must only increase for one token: the approval wait counts first, then what the
    // upstream reports is shifted past it.
    let sent = 0;
    let base = 0;
    const send = (progress: number, total?: number, message?: string) => {
      if (!(progress > sent)) return;
      sent = progress;
      void extra
        .sendNotification({
          method: 'notifications/progress',
          params: {
            progressToken: token,
            progress,
            ...(total !== undefined ? { total } : {}),
            ...(message !== undefined ? { message } : {}),
          },
        })
        .catch(() => undefined);
    };
    // A call held for approval tells a client that asked for progress that it is still waiting.
    const waiting = (_elapsedMs: number, message: string) => {
      send(sent + 1, undefined, message);
      base = sent;
    };
    const relay: UpstreamProgress = (p) =>
      send(base + p.progress, p.total === undefined ? undefined : base + p.total, p.message);
    return gate.callTool(
      agent,
      req.params.name,
      req.params.arguments,
      extra.signal,
      waiting,
      relay,
    );
  });
  return server;
}
