import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { newUuid } from '../crypto/index.js';
import { describeError } from '../errors/index.js';
import type { AgentIdentity } from '../identity/index.js';
import {
  getAcceptRefusal,
  protocolRefusal,
  readPost,
  refusal,
  SERVER_ERROR,
  SESSION_NOT_FOUND,
  type Refusal,
} from './mcp-request.js';
import { challenge, verifyAgent, type AgentRefusal } from './auth.js';
import { McpHttpTransport } from './mcp-transport.js';
import { UNAUTHORIZED, writeRpcError } from './responses.js';
import type { Runtime } from './runtime.js';

interface Session {
  readonly transport: McpHttpTransport;
  readonly server: Server;
  /** The agent instance that opened the session; only it may use the session id. */
  readonly agentId: string;
  lastSeen: number;
}

const SESSION_IDLE_MS = 30 * 60_000;
/** How often idle sessions are looked for, at most. */
const SWEEP_EVERY_MS = 60_000;

export interface McpRouteOptions {
  /** Open sessions at most (default 10,000); an initialize beyond them gets 503. */
  readonly maxSessions?: number;
  /**
   * A session the client has not used for this long is closed (default 30 minutes); its id then
   * gets 404, and the client starts a new session. A session with a request or its GET stream open
   * is in use, however long that takes (a call held for approval, say).
   */
  readonly sessionIdleMs?: number;
  /** How often idle sessions are looked for (default: half the idle time, at most a minute). */
  readonly sweepEveryMs?: number;
}

function identityOf(extra: { authInfo?: { extra?: Record<string, unknown> } }): AgentIdentity {
  const identity = extra.authInfo?.extra?.identity as AgentIdentity | undefined;
  if (!identity) throw new McpError(UNAUTHORIZED, 'Unauthorized: no verified credential');
  return identity;
}

function refuse(res: ServerResponse, r: Refusal): void {
  writeRpcError(res, r.status, r.code, r.message, r.headers);
}

/** The verified agent of a request (verifyAgent), or why it is refused, as MCP answers it. */
async function authenticate(
  rt: Runtime,
  header: string | undefined,
): Promise<{ agent: AgentIdentity; authInfo: AuthInfo } | Refusal> {
  const v = await verifyAgent(rt, header);
  if (!v.ok) return mcpRefusal(v);
  const { agent, token } = v;
  const authInfo: AuthInfo = {
    token,
    clientId: agent.id,
    scopes: [...agent.scope],
    expiresAt: Math.floor(agent.expiresAt / 1000),
    extra: { identity: agent },
  };
  return { agent, authInfo };
}

function mcpRefusal(r: AgentRefusal): Refusal {
  switch (r.why) {
    case 'missing':
      return {
        status: 401,
        code: UNAUTHORIZED,
        message:
          'Unauthorized: send an agent credential as "Authorization: Bearer <token>" (mint one with: gatehouse token mint)',
        headers: challenge('missing credential'),
      };
    case 'person_key':
      return {
        status: 403,
        code: UNAUTHORIZED,
        message: 'Forbidden: a person key is not an agent credential; MCP sessions are for agents',
      };
    case 'invalid':
      return {
        status: 401,
        code: UNAUTHORIZED,
        message: `Unauthorized: ${r.message} (${r.code})`,
        headers: challenge(r.code),
      };
    case 'unavailable':
      return {
        status: 503,
        code: ErrorCode.InternalError,
        message:
          'Gatehouse cannot check credentials right now (store unavailable); the call was refused',
      };
  }
}

export interface McpRoute {
  /** Serves one request to `/mcp` (its Host and Origin already checked); never rejects. */
  handle(req: IncomingMessage, res: ServerResponse): void;
  sessionCount(): number;
  close(): Promise<void>;
}

/**
 * MCP over Streamable HTTP on `node:http`: a bearer agent credential verified on every request,
 * sessions bound to the agent that opened them, at most `maxSessions`, idle ones swept.
 * @example const mcp = mcpRoute(rt); createServer((req, res) => mcp.handle(req, res));
 */
export function mcpRoute(rt: Runtime, opts: McpRouteOptions = {}): McpRoute {
  const maxSessions = opts.maxSessions ?? 10_000;
  const sessions = new Map<string, Session>();
  const maxBytes = rt.config.limits.max_body_bytes;
  const { now } = rt;
  const idleMs = opts.sessionIdleMs ?? SESSION_IDLE_MS;
  const sweeper = setInterval(
    () => {
      const t = now();
      for (const [id, s] of sessions) {
        // In use now: idle time counts from when its last request or stream ends.
        if (s.transport.busy) s.lastSeen = t;
        else if (t - s.lastSeen > idleMs) {
          sessions.delete(id);
          void s.server.close().catch(() => undefined);
        }
      }
    },
    opts.sweepEveryMs ?? Math.min(SWEEP_EVERY_MS, Math.max(10, idleMs / 2)),
  );
  sweeper.unref();

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const auth = await authenticate(rt, req.headers.authorization);
    if ('status' in auth) return refuse(res, auth);
    const method = req.method ?? '';
    if (method !== 'POST' && method !== 'GET' && method !== 'DELETE')
      return refuse(res, {
        ...refusal(405, SERVER_ERROR, 'Method not allowed.'),
        headers: { allow: 'GET, POST, DELETE' },
      });
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId !== 'string') {
      if (method === 'POST') return open(req, res, auth.agent, auth.authInfo);
      return refuse(res, SESSION_REQUIRED);
    }
    const s = sessions.get(sessionId);
    if (!s) return refuse(res, SESSION_NOT_FOUND);
    if (s.agentId !== auth.agent.id)
      return refuse(res, {
        status: 403,
        code: ErrorCode.InvalidRequest,
        message: 'Forbidden: this session belongs to another agent',
      });
    s.lastSeen = now();
    const unspoken = protocolRefusal(req.headers);
    if (unspoken) return refuse(res, unspoken);
    if (method === 'DELETE') return s.transport.handleDelete(res);
    let refused: Refusal | undefined;
    if (method === 'GET') {
      refused = getAcceptRefusal(req.headers) ?? s.transport.handleGet(res);
    } else {
      const post = await readPost(req, maxBytes);
      refused = 'status' in post ? post : s.transport.handlePost(res, post, auth.authInfo);
    }
    if (refused) refuse(res, refused);
  };

  /** A POST without a session: only an initialize may come so, and it opens one. */
  const open = async (
    req: IncomingMessage,
    res: ServerResponse,
    agent: AgentIdentity,
    authInfo: AuthInfo,
  ): Promise<void> => {
    const post = await readPost(req, maxBytes);
    if ('status' in post) return refuse(res, post);
    if (!post.initialize) return refuse(res, SESSION_REQUIRED);
    if (sessions.size >= maxSessions)
      return refuse(res, {
        status: 503,
        code: ErrorCode.InternalError,
        message: 'Too many open sessions; try again later',
      });
    const server = rt.gateway.newSession((extra) => Promise.resolve(identityOf(extra)));
    const id = newUuid();
    const transport = new McpHttpTransport({ sessionId: id, onclosed: () => sessions.delete(id) });
    // Counted before the first await, so concurrent initializes cannot pass maxSessions together.
    sessions.set(id, { transport, server, agentId: agent.id, lastSeen: now() });
    await server.connect(transport).catch((err: unknown) => {
      sessions.delete(id);
      throw err;
    });
    const refused = transport.handlePost(res, post, authInfo);
    if (refused) refuse(res, refused);
  };

  return {
    handle(req, res) {
      serve(req, res).catch((err: unknown) => {
        rt.log.error({ err: describeError(err) }, 'MCP request failed');
        if (res.headersSent) res.destroy();
        else refuse(res, { status: 500, code: ErrorCode.InternalError, message: 'Internal error' });
      });
    },
    sessionCount: () => sessions.size,
    async close() {
      clearInterval(sweeper);
      await Promise.all([...sessions.values()].map((s) => s.server.close().catch(() => undefined)));
      sessions.clear();
    },
  };
}

const SESSION_REQUIRED = refusal(
  400,
  SERVER_ERROR,
  'Bad Request: Mcp-Session-Id header is required',
);
