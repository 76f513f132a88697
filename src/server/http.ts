import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { Hono } from 'hono';
import { newUuid } from '../crypto/index.js';
import { GatehouseError } from '../errors/index.js';
import type { AgentIdentity } from '../identity/index.js';
import type { Runtime } from './runtime.js';

export type HttpErrorCode = 'LISTEN_FAILED';

interface Session {
  readonly transport: WebStandardStreamableHTTPServerTransport;
  readonly server: Server;
  /** The agent instance that opened the session; only it may use the session id. */
  readonly agentId: string;
  lastSeen: number;
}

/** JSON-RPC error code for authentication failures (server-defined range). */
const UNAUTHORIZED = -32001;
const SESSION_IDLE_MS = 30 * 60_000;
const MAX_SESSIONS = 10_000;

function rpcError(
  status: 400 | 401 | 403 | 404 | 413 | 500 | 503,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function identityOf(extra: { authInfo?: { extra?: Record<string, unknown> } }): AgentIdentity {
  const identity = extra.authInfo?.extra?.identity as AgentIdentity | undefined;
  if (!identity) throw new McpError(UNAUTHORIZED, 'Unauthorized: no verified credential');
  return identity;
}

/** Host header values that reach this listener legitimately (DNS-rebinding protection). */
function allowedHosts(rt: Runtime, port: number): Set<string> {
  const { host, allowed_hosts } = rt.config.listen;
  const names = new Set([host, 'localhost', '127.0.0.1', '[::1]', ...allowed_hosts]);
  const out = new Set<string>();
  for (const n of names) {
    out.add(n);
    out.add(`${n}:${port}`);
  }
  return out;
}

export interface HttpServer {
  readonly url: string;
  readonly port: number;
  sessionCount(): number;
  close(): Promise<void>;
}

/**
 * The agent-facing HTTP endpoint: MCP over Streamable HTTP at `/mcp`, bearer credentials required.
 * @example const http = await startHttpServer(runtime); console.log(http.url);
 */
export async function startHttpServer(
  rt: Runtime,
  opts: { port?: number } = {},
): Promise<HttpServer> {
  const sessions = new Map<string, Session>();
  const app = new Hono();
  let hosts = new Set<string>();

  app.use('*', async (c, next) => {
    const host = c.req.header('host');
    if (!host || !hosts.has(host))
      return rpcError(403, ErrorCode.InvalidRequest, 'Forbidden: unexpected Host header');
    const origin = c.req.header('origin');
    // Browsers send Origin; a page on another site must not drive the gateway (A6).
    if (origin !== undefined) {
      let originHost = '';
      try {
        originHost = new URL(origin).host;
      } catch {
        /* an unparsable Origin is refused below */
      }
      if (!hosts.has(originHost))
        return rpcError(403, ErrorCode.InvalidRequest, 'Forbidden: cross-origin request');
    }
    await next();
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.all('/mcp', async (c) => {
    const auth = c.req.header('authorization');
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
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
    const verified = await rt.verify(token);
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

    const server = rt.gateway.newSession(async (extra) => Promise.resolve(identityOf(extra)));
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
  });

  app.notFound(() =>
    rpcError(404, ErrorCode.InvalidRequest, 'Not found: the MCP endpoint is /mcp'),
  );
  app.onError((err) => {
    rt.log.error({ err: err.message }, 'http handler failed');
    return rpcError(500, ErrorCode.InternalError, 'Internal error');
  });

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

  const { host } = rt.config.listen;
  const port = opts.port ?? rt.config.listen.port;
  const httpServer: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    s.once('error', (err: NodeJS.ErrnoException) => {
      clearInterval(sweeper);
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message;
      reject(
        new GatehouseError<HttpErrorCode>(
          'LISTEN_FAILED',
          `cannot listen on ${host}:${port}: ${why} (set listen.port)`,
          {
            cause: err,
          },
        ),
      );
    });
  });
  const actualPort = (httpServer.address() as AddressInfo).port;
  hosts = allowedHosts(rt, actualPort);
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${actualPort}/mcp`,
    port: actualPort,
    sessionCount: () => sessions.size,
    async close() {
      clearInterval(sweeper);
      await Promise.all([...sessions.values()].map((s) => s.server.close().catch(() => undefined)));
      sessions.clear();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        if ('closeAllConnections' in httpServer) httpServer.closeAllConnections();
      });
    },
  };
}
