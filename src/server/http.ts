import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { Hono } from 'hono';
import { listenUrl } from '../config/index.js';
import { GatehouseError } from '../errors/index.js';
import { registerControlRoutes } from './control.js';
import { registerApprovalRoutes } from './approval-routes.js';
import { registerAuditRoutes } from './audit-routes.js';
import { registerConsoleRoutes } from './console.js';
import { mcpRoute, type McpRouteOptions } from './mcp-route.js';
import { registerPolicyRoutes } from './policy-routes.js';
import { registerResultRoutes } from './result-routes.js';
import { registerRunRoutes } from './run-routes.js';
import { registerToolRoutes } from './tool-routes.js';
import { allowedHosts, hostRefusal } from './hosts.js';
import { rpcError, writeRpcError } from './responses.js';
import type { Runtime } from './runtime.js';

export type HttpErrorCode = 'LISTEN_FAILED';

export interface HttpServer {
  readonly url: string;
  /** The listener's base URL, e.g. `http://127.0.0.1:4100`. */
  readonly baseUrl: string;
  readonly port: number;
  sessionCount(): number;
  close(): Promise<void>;
}

/**
 * The control plane on one Hono app: `/v1`, `/.well-known`, `/healthz` and the console. `hosts` are
 * the Host header values accepted (DNS-rebinding protection), read on every request. MCP is not
 * here: `/mcp` is served on `node:http` by startHttpServer (see mcp-route.ts), and only there.
 * @example const app = createApp(rt, () => new Set(['localhost'])); await app.request('/healthz', { headers: { host: 'localhost' } });
 */
export function createApp(rt: Runtime, hosts: () => ReadonlySet<string>): Hono {
  const app = new Hono();

  app.use('*', async (c, next) => {
    const refused = hostRefusal(hosts(), c.req.header('host'), c.req.header('origin'));
    if (refused) return rpcError(403, ErrorCode.InvalidRequest, refused);
    await next();
  });

  // A store that can no longer record refuses every call until restart: report it so that a
  // supervisor restarts the process. The cause stays in the logs, not on this open endpoint.
  app.get('/healthz', (c) =>
    rt.store.failure() === undefined
      ? c.json({ status: 'ok' })
      : c.json({ status: 'failing', failing: ['audit log'] }, 503),
  );
  // Reached only without a listener (openInProcess, for the hook's decision API): say so plainly.
  app.all('/mcp', () =>
    rpcError(404, ErrorCode.InvalidRequest, 'Not found: MCP is served by the HTTP listener only'),
  );
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
  return app;
}

/** `/mcp`, with or without a query: the one path served by the node-native MCP route. */
function isMcpPath(url: string | undefined): boolean {
  return url === '/mcp' || (url?.startsWith('/mcp?') ?? false);
}

/**
 * The HTTP listener: MCP over Streamable HTTP at `/mcp` (agent credentials), on `node:http` for
 * speed, and the control plane under `/v1` and `/.well-known` (token exchange; people's keys for
 * administration) on Hono. Both pass the same Host and Origin check first.
 * @example const http = await startHttpServer(runtime); console.log(http.url);
 */
export async function startHttpServer(
  rt: Runtime,
  opts: { port?: number } & McpRouteOptions = {},
): Promise<HttpServer> {
  let hosts: ReadonlySet<string> = new Set<string>();
  const app = createApp(rt, () => hosts);
  const control = getRequestListener(app.fetch, { hostname: rt.config.listen.host });
  const mcp = mcpRoute(rt, opts);
  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (!isMcpPath(req.url)) {
      void control(req, res);
      return;
    }
    const refused = hostRefusal(hosts, req.headers.host, req.headers.origin);
    if (refused) writeRpcError(res, 403, ErrorCode.InvalidRequest, refused);
    else mcp.handle(req, res);
  };
  // An answer is often one small write: Nagle's algorithm would hold it back for the client's ACK.
  const httpServer = createServer({ noDelay: true }, listener);
  // Idle connections outlive the clients' own keep-alive (undici: 4 s, proxies: up to 60 s), so
  // a client never sends a request on a socket the server is closing at that very moment.
  httpServer.keepAliveTimeout = 65_000;
  httpServer.headersTimeout = 66_000;

  const { host } = rt.config.listen;
  const port = opts.port ?? rt.config.listen.port;
  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', (err: NodeJS.ErrnoException) => {
      void mcp.close();
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.message;
      reject(
        new GatehouseError<HttpErrorCode>(
          'LISTEN_FAILED',
          `cannot listen on ${host}:${port}: ${why} (set listen.port)`,
          { cause: err },
        ),
      );
    });
    httpServer.listen(port, host, () => resolve());
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
        httpServer.closeAllConnections();
      });
    },
  };
}
