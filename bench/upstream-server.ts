/**
 * Benchmark upstream: a minimal MCP server over Streamable HTTP (stateful sessions) with a single
 * tool, `echo({text})`, that returns its input. Run as a child process by gateway.bench.ts.
 *
 * Listens on 127.0.0.1 on a free port (or BENCH_UPSTREAM_PORT) and prints one line to stdout:
 *   `UPSTREAM_READY http://127.0.0.1:<port>/mcp`
 * Exits on SIGTERM/SIGINT, or when its parent's IPC channel / stdin closes.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { echoServer } from './lib/echo-server.js';

const READY_PREFIX = 'UPSTREAM_READY ';

interface Session {
  readonly server: McpServer;
  readonly transport: StreamableHTTPServerTransport;
}

const sessions = new Map<string, Session>();
/** BENCH_UPSTREAM_JSON=1: answer POSTs with plain JSON instead of an SSE stream (SDK default). */
const JSON_RESPONSES = process.env.BENCH_UPSTREAM_JSON === '1';

function sendError(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/mcp') return sendError(res, 404, 'Not found: the MCP endpoint is /mcp');
  const sid = req.headers['mcp-session-id'];
  if (typeof sid === 'string') {
    const s = sessions.get(sid);
    if (!s) return sendError(res, 404, 'Session not found');
    return s.transport.handleRequest(req, res);
  }
  if (req.method !== 'POST') return sendError(res, 400, 'Mcp-Session-Id header is required');
  const server = echoServer();
  const transport = new StreamableHTTPServerTransport({
    sessionIdGenerator: randomUUID,
    enableJsonResponse: JSON_RESPONSES,
    onsessioninitialized: (id) => {
      sessions.set(id, { server, transport });
    },
    onsessionclosed: (id) => {
      sessions.delete(id);
    },
  });
  transport.onclose = () => {
    if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
  };
  await server.connect(transport);
  await transport.handleRequest(req, res);
  // Anything but a successful initialize leaves no session behind.
  if (transport.sessionId === undefined) await server.close();
}

const http = createServer((req, res) => {
  handle(req, res).catch((err: unknown) => {
    if (!res.headersSent) sendError(res, 500, `Internal error: ${String(err)}`);
    else res.end();
  });
});
http.keepAliveTimeout = 60_000;

function shutdown(): void {
  for (const s of sessions.values()) void s.server.close().catch(() => undefined);
  sessions.clear();
  http.closeAllConnections();
  http.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
}
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
// Never outlive the benchmark: when the parent goes away, so do we.
process.once('disconnect', shutdown);

const port = Number(process.env.BENCH_UPSTREAM_PORT ?? 0);
http.listen(port, '127.0.0.1', () => {
  const { port: actual } = http.address() as AddressInfo;
  process.stdout.write(`${READY_PREFIX}http://127.0.0.1:${actual}/mcp\n`);
});
