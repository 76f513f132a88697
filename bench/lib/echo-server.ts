/**
 * The benchmark upstream's MCP server: one tool, `echo({text})`, that returns its input. Served
 * over Streamable HTTP by upstream-server.ts and over stdio by upstream-stdio.ts.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';

/** A fresh server with the echo tool (one per session). */
export function echoServer(): McpServer {
  const server = new McpServer({ name: 'bench-upstream', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Returns the text it is given.', inputSchema: { text: z.string() } },
    ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}
