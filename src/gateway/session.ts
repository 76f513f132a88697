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
import type { UpstreamProgress } from './gate.js';
import type { CallOwner } from './routing.js';
import { setSessionLogLevel } from './server-requests.js';
import { serveContent, type ContentDeps } from './session-content.js';

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** Resolves the verified agent behind one request; throws an McpError when there is none. */
export type Identify = (extra: Extra) => Promise<AgentIdentity>;

const SERVER_INFO = { name: 'gatehouse', version: VERSION };

/** What an agent session serves: the gate's tools, and every upstream's resources and prompts. */
export type SessionDeps = ContentDeps;

/**
 * One MCP server session facing an agent. Identity is resolved per request, so an expired or
 * replaced credential takes effect on the next call, not the next session.
 */
export function createSessionServer(deps: SessionDeps, identify: Identify): Server {
  const { gate } = deps;
  const server = new Server(SERVER_INFO, {
    capabilities: {
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      completions: {},
      logging: {},
    },
    instructions: 'Gatehouse: every tool call is checked against policy and recorded.',
  });
  // Kept per session: upstream log messages relayed to it are filtered by it. Upstream connections
  // are shared by every agent, so one agent's level is not pushed upstream (it would change what
  // every other agent hears).
  server.setRequestHandler(SetLevelRequestSchema, async (req, extra) => {
    await identify(extra);
    setSessionLogLevel(server, req.params.level);
    return {};
  });
  serveContent(server, deps, identify);
  server.setRequestHandler(ListToolsRequestSchema, async (_req, extra) => {
    const agent = await identify(extra);
    return { tools: await gate.listTools(agent) };
  });
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const agent = await identify(extra);
    const owner: CallOwner = { session: server, agent, requestId: extra.requestId };
    const token = req.params._meta?.progressToken;
    if (token === undefined)
      return gate.callTool(
        agent,
        req.params.name,
        req.params.arguments,
        extra.signal,
        undefined,
        undefined,
        owner,
      );
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
      owner,
    );
  });
  return server;
}
