import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Context } from 'hono';
import { newUuid } from '../crypto/index.js';
import type { AgentIdentity } from '../identity/index.js';
import { bearer, rpcError, UNAUTHORIZED } from './responses.js';
import type { Runtime } from './runtime.js';

interface Session {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: Server;
  /** The agent instance that opened the session; only it may use the session id. */
  readonly agentId: string;
  lastSeen: number;
}

const SESSION_IDLE_MS = 30 * 60_000;
const MAX_SESSIONS = 10_000;

function identityOf(extra: { authInfo?: { extra?: Record<string, unknown> } }): AgentIdentity {
  const identity = extra.authInfo?.extra?.identity as AgentIdentity | undefined;
  if (!identity) throw new McpError(UNAUTHORIZED, 'Unauthorized: no verified credential');
  return identity;
}

export interface McpRoute {
  handle(c: Context): Promise<Response>;
  sessionCount(): number;
  close(): Promise<void>;
}

/** MCP over Streamable HTTP: bearer agent credentials, sessions bound to the agent that opened them. */
export function mcpRoute(rt: Runtime): McpRoute {
  const sessions = new Map<string, Session>();
  const sweeper = setInterval(() => {
    const cutoff = Date.now() - SESSION_IDLE_MS;
    for (const [id, s] of sessions) {
      if (s.lastSeen < cutoff) {
        sessions.delete(id);
        void s.server.close().catch(() => undefined);
      }
    }
  }, 60_000);
  sweeper.unref();

  const handle = async (c: Context): Promise<Response> => {
    const token = bearer(c.req.header('authorization'));
    const challenge = (desc: string) => ({
      'WWW-Authenticate': `Bearer realm="gatehouse", error="invalid_token", error_description="${desc}"`,
    });
    if (!token) {
      return rpcError(
        401,
        UNAUTHORIZED,
        'Unauthorized: send an agent credential as "Authorization: Bearer <token>" (mint one with: gatehouse token mint)',
        challenge('missing credential'),
      );
    }
    let verified: Awaited<ReturnType<typeof rt.authority.verify>>;
    try {
      verified = await rt.authority.verify(token);
    } catch (err) {
      // Revocations live in the store: without it a revoked credential could pass, so refuse.
      rt.log.error({ err: (err as Error).message }, 'cannot verify credentials: store unavailable');
      return rpcError(
        503,
        ErrorCode.InternalError,
        'Gatehouse cannot check credentials right now (store unavailable); the call was refused',
      );
    }
    if (!verified.ok) {
      return rpcError(
        401,
        UNAUTHORIZED,
        `Unauthorized: ${verified.message} (${verified.code})`,
        challenge(verified.code),
      );
    }
    const agent = verified.identity;
    const authInfo = {
      token,
      clientId: agent.id,
      scopes: [...agent.scope],
      expiresAt: Math.floor(agent.expiresAt / 1000),
      extra: { identity: agent },
    };

    const sessionId = c.req.header('mcp-session-id');
    if (sessionId !== undefined) {
      const s = sessions.get(sessionId);
      if (!s)
        return rpcError(
          404,
          ErrorCode.InvalidRequest,
          'Session not found; start a new session with initialize',
        );
      if (s.agentId !== agent.id)
        return rpcError(
          403,
          ErrorCode.InvalidRequest,
          'Forbidden: this session belongs to another agent',
        );
      s.lastSeen = Date.now();
      return s.transport.handleRequest(c.req.raw, { authInfo });
    }
    if (c.req.method !== 'POST')
      return rpcError(
        400,
        ErrorCode.InvalidRequest,
        'Bad Request: Mcp-Session-Id header is required',
      );
    if (sessions.size >= MAX_SESSIONS)
      return rpcError(503, ErrorCode.InternalError, 'Too many open sessions; try again later');

    const server = rt.gateway.newSession((extra) => Promise.resolve(identityOf(extra)));
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: newUuid,
      maxRequestBodySize: rt.config.limits.max_body_bytes,
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, agentId: agent.id, lastSeen: Date.now() });
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    await server.connect(transport);
    const res = await transport.handleRequest(c.req.raw, { authInfo });
    // Anything but a successful initialize leaves no session behind.
    if (transport.sessionId === undefined) await server.close();
    return res;
  };

  return {
    handle,
    sessionCount: () => sessions.size,
    async close() {
      clearInterval(sweeper);
      await Promise.all([...sessions.values()].map((s) => s.server.close().catch(() => undefined)));
      sessions.clear();
    },
  };
}
