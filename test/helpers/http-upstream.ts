/**
 * An MCP upstream over Streamable HTTP, in this process: the SDK's McpServer and
 * StreamableHTTPServerTransport (stateful sessions) on a real node:http server, answering in JSON or
 * in SSE, with hooks to misbehave (fail, forget its sessions, drop its connections).
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { InMemoryEventStore } from '@modelcontextprotocol/sdk/examples/shared/inMemoryEventStore.js';
import { CreateMessageResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

export interface SeenRequest {
  readonly method: string;
  readonly headers: IncomingHttpHeaders;
}

export interface HttpUpstream {
  readonly url: string;
  /** Every HTTP request received, in order. */
  readonly seen: SeenRequest[];
  /** How often reset() has run: a call must never run twice because its connection broke. */
  readonly resetRuns: () => number;
  /** How often echo() has run: whether a call reached the server at all. */
  readonly echoRuns: () => number;
  /** Runs `fn` each time echo() runs, and waits for it before answering (undefined: no more). */
  whenEcho(fn: (() => void | Promise<void>) | undefined): void;
  /** Answers the next POST with this status and body instead of handling it. */
  failNext(status: number, body: string): void;
  /** Forgets every session, as a restarted server would (they then get 404). */
  forgetSessions(): void;
  /** Adds a tool to every session (each is told with notifications/tools/list_changed). */
  addTool(name: string): void;
  /** Cuts every open GET stream. */
  dropStreams(): void;
  close(): Promise<void>;
}

interface Session {
  readonly server: McpServer;
  readonly transport: StreamableHTTPServerTransport;
}

/**
 * Tools: echo({text}), big({bytes}) (a text that long), wait({ms}) (answers after that long), ask({prompt}) (asks the client to sample,
 * on the call's own stream), hang() (until cancelled), die() (drops every connection mid-call),
 * reset() (drops the connection the call came on, after running).
 *
 * @example const up = await startHttpUpstream('sse'); // up.url is http://127.0.0.1:<port>/mcp
 */
export async function startHttpUpstream(
  mode: 'json' | 'sse' | 'resumable',
  /** Serve https with this key and certificate (PEM). */
  tls?: { readonly key: string; readonly cert: string },
): Promise<HttpUpstream> {
  const sessions = new Map<string, Session>();
  const streams = new Set<ServerResponse>();
  const seen: SeenRequest[] = [];
  let resetRuns = 0;
  let echoRuns = 0;
  let onEcho: (() => void | Promise<void>) | undefined;
  /** The connection of the last POST: the one a tool call being handled arrived on. */
  let lastPost: Socket | undefined;
  let failure: { status: number; body: string } | undefined;

  const newServer = (): McpServer => {
    const server = new McpServer({ name: `http-${mode}`, version: '1.0.0' });
    server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }) => {
      echoRuns += 1;
      await onEcho?.();
      return { content: [{ type: 'text', text }] };
    });
    server.registerTool('big', { inputSchema: { bytes: z.number() } }, ({ bytes }) => ({
      content: [{ type: 'text', text: 'x'.repeat(bytes) }],
    }));
    server.registerTool(
      'ask',
      { inputSchema: { prompt: z.string() } },
      async ({ prompt }, extra) => {
        const answer = await extra.sendRequest(
          {
            method: 'sampling/createMessage',
            params: {
              messages: [{ role: 'user', content: { type: 'text', text: prompt } }],
              maxTokens: 9,
            },
          },
          CreateMessageResultSchema,
        );
        const text = answer.content.type === 'text' ? answer.content.text : '?';
        return { content: [{ type: 'text', text: `sampled: ${text}` }] };
      },
    );
    // Its last progress goes out just before the result, so both reach the client in one chunk.
    server.registerTool(
      'steps',
      { inputSchema: { steps: z.number() } },
      async ({ steps }, extra) => {
        const token = extra._meta?.progressToken;
        if (token !== undefined)
          for (let progress = 1; progress <= steps; progress++)
            await extra.sendNotification({
              method: 'notifications/progress',
              params: { progressToken: token, progress, total: steps },
            });
        return { content: [{ type: 'text', text: `${steps} steps` }] };
      },
    );
    server.registerTool('wait', { inputSchema: { ms: z.number() } }, async ({ ms }) => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return { content: [{ type: 'text', text: `waited ${ms} ms` }] };
    });
    server.registerTool('hang', {}, (extra) => {
      return new Promise((resolve) =>
        extra.signal.addEventListener('abort', () => resolve({ content: [] })),
      );
    });
    // Closes its call's event stream, then answers: the client must resume it (spec 2025-11-25
    // polling). Only a resumable upstream can; elsewhere it just answers.
    server.registerTool('polled', {}, async (extra) => {
      extra.closeSSEStream?.();
      await new Promise((resolve) => setTimeout(resolve, 150));
      return { content: [{ type: 'text', text: 'after the poll' }] };
    });
    server.registerTool('reset', {}, () => {
      resetRuns += 1;
      lastPost?.destroy();
      return { content: [] };
    });
    server.registerTool('die', {}, () => {
      http.closeAllConnections();
      return { content: [] };
    });
    return server;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    seen.push({ method: req.method ?? '', headers: req.headers });
    if (req.method === 'POST') lastPost = req.socket;
    if (failure && req.method === 'POST') {
      const { status, body } = failure;
      failure = undefined;
      res.writeHead(status, { 'content-type': 'text/plain', 'x-secret-echo': 'upstream-secret' });
      res.end(body);
      return;
    }
    const sid = req.headers['mcp-session-id'];
    if (typeof sid === 'string') {
      const s = sessions.get(sid);
      if (!s) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            jsonrpc: '2.0',
            error: { code: -32001, message: 'Session not found' },
            id: null,
          }),
        );
        return;
      }
      if (req.method === 'GET') {
        streams.add(res);
        res.once('close', () => streams.delete(res));
      }
      return s.transport.handleRequest(req, res);
    }
    const server = newServer();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: randomUUID,
      enableJsonResponse: mode === 'json',
      ...(mode === 'resumable' ? { eventStore: new InMemoryEventStore(), retryInterval: 50 } : {}),
      onsessioninitialized: (id) => void sessions.set(id, { server, transport }),
      onsessionclosed: (id) => void sessions.delete(id),
    });
    await server.connect(transport);
    await transport.handleRequest(req, res);
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch(() => res.destroy());
  };
  const http = tls ? createHttpsServer(tls, listener) : createServer(listener);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;

  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}/mcp`,
    seen,
    resetRuns: () => resetRuns,
    echoRuns: () => echoRuns,
    whenEcho(fn) {
      onEcho = fn;
    },
    failNext(status, body) {
      failure = { status, body };
    },
    forgetSessions() {
      sessions.clear();
    },
    addTool(name) {
      for (const { server } of sessions.values())
        server.registerTool(name, {}, () => ({ content: [{ type: 'text', text: name }] }));
    },
    dropStreams() {
      for (const res of streams) res.destroy();
    },
    async close() {
      await Promise.all([...sessions.values()].map((s) => s.server.close().catch(() => undefined)));
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
