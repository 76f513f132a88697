import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { Hono } from 'hono';
import { listenUrl } from '../config/index.js';
import { GatehouseError } from '../errors/index.js';
import { registerControlRoutes } from './control.js';
import { registerApprovalRoutes } from './approval-routes.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerConsoleRoutes } from './console.js';
import { mcpRoute } from './mcp-route.js';
import { registerPolicyRoutes } from './policy-routes.js';
import { registerResultRoutes } from './result-routes.js';
import { registerRunRoutes } from './run-routes.js';
import { registerToolRoutes } from './tool-routes.js';
import { rpcError } from './responses.js';
import type { Runtime } from './runtime.js';

export type HttpErrorCode = 'LISTEN_FAILED';

/** Host header values that reach this listener legitimately (DNS-rebinding protection). */
export function allowedHosts(rt: Runtime, port: number): Set<string> {
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
  /** The listener's base URL, e.g. `http://127.0.0.1:4100`. */
  readonly baseUrl: string;
  readonly port: number;
  sessionCount(): number;
  close(): Promise<void>;
}

/** The Hono app of the control plane and MCP endpoint, and what closing it involves. */
export interface GatehouseApp {
  readonly app: Hono;
  /** Ends the MCP sessions it holds. */
  close(): Promise<void>;
  sessionCount(): number;
}

/**
 * Every route Gatehouse serves, on one Hono app: MCP over Streamable HTTP at `/mcp` (agent
 * credentials) and the control plane under `/v1` and `/.well-known`. `hosts` are the Host header
 * values accepted (DNS-rebinding protection), read on every request.
 * @example const { app } = createApp(rt, () => new Set(['localhost'])); await app.request('/healthz', { headers: { host: 'localhost' } });
 */
export function createApp(rt: Runtime, hosts: () => ReadonlySet<string>): GatehouseApp {
  const app = new Hono();
  const mcp = mcpRoute(rt);

  app.use('*', async (c, next) => {
    const allowed = hosts();
    const host = c.req.header('host');
    if (!host || !allowed.has(host))
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
      if (!allowed.has(originHost))
        return rpcError(403, ErrorCode.InvalidRequest, 'Forbidden: cross-origin request');
    }
    await next();
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.all('/mcp', (c) => mcp.handle(c));
  registerControlRoutes(app, rt);
  registerPolicyRoutes(app, rt);
  registerApprovalRoutes(app, rt);
  registerAuditRoutes(app, rt);
  registerRunRoutes(app, rt);
  registerResultRoutes(app, rt);
  registerToolRoutes(app, rt);
  registerConsoleRoutes(app, rt);
  app.notFound(() =>
    rpcError(404, ErrorCode.InvalidRequest, 'Not found: the MCP endpoint is /mcp'),
  );
  app.onError((err) => {
    rt.log.error({ err: err.message }, 'http handler failed');
    return rpcError(500, ErrorCode.InternalError, 'Internal error');
  });
  return { app, close: () => mcp.close(), sessionCount: () => mcp.sessionCount() };
}

/**
 * The HTTP listener: MCP over Streamable HTTP at `/mcp` (agent credentials) and the control plane
 * under `/v1` and `/.well-known` (token exchange; people's keys for administration).
 * @example const http = await startHttpServer(runtime); console.log(http.url);
 */
export async function startHttpServer(
  rt: Runtime,
  opts: { port?: number } = {},
): Promise<HttpServer> {
  let hosts = new Set<string>();
  const created = createApp(rt, () => hosts);
  const { app } = created;
  const mcp = { close: () => created.close(), sessionCount: () => created.sessionCount() };

  const { host } = rt.config.listen;
  const port = opts.port ?? rt.config.listen.port;
  const httpServer: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    // Idle connections outlive the clients' own keep-alive (undici: 4 s, proxies: up to 60 s), so
    // a client never sends a request on a socket the server is closing at that very moment.
    const node = s as unknown as { keepAliveTimeout: number; headersTimeout: number };
    node.keepAliveTimeout = 65_000;
    node.headersTimeout = 66_000;
    s.once('error', (err: NodeJS.ErrnoException) => {
      void mcp.close();
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
  const baseUrl = listenUrl(host, actualPort);
  return {
    url: `${baseUrl}/mcp`,
    baseUrl,
    port: actualPort,
    sessionCount: () => mcp.sessionCount(),
    async close() {
      await mcp.close();
      await new Promise<void>((resolve) => {
        httpServer.close(() => resolve());
        if ('closeAllConnections' in httpServer) httpServer.closeAllConnections();
      });
    },
  };
}
