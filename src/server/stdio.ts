import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { GatehouseError } from '../errors/index.js';
import type { Runtime } from './runtime.js';

export type StdioErrorCode = 'STDIO_NO_TOKEN' | 'STDIO_BAD_TOKEN';
const UNAUTHORIZED = -32001;

/**
 * Serves the gateway over stdio for clients that launch servers as commands. The credential comes
 * from GATEHOUSE_TOKEN, is checked before serving, and again on every request (it expires).
 */
export async function serveStdio(
  rt: Runtime,
  token: string | undefined,
): Promise<{ closed: Promise<void> }> {
  if (!token) {
    throw new GatehouseError<StdioErrorCode>(
      'STDIO_NO_TOKEN',
      'set GATEHOUSE_TOKEN to an agent credential (mint one with: gatehouse token mint)',
    );
  }
  const first = await rt.authority.verify(token);
  if (!first.ok)
    throw new GatehouseError<StdioErrorCode>(
      'STDIO_BAD_TOKEN',
      `GATEHOUSE_TOKEN was refused: ${first.message}`,
    );
  // Clients list tools right after initialize; give upstreams their first connection attempt first.
  await rt.gateway.whenSettled();
  const server = rt.gateway.newSession(async () => {
    const res = await rt.authority.verify(token);
    if (!res.ok) throw new McpError(UNAUTHORIZED, `Unauthorized: ${res.message} (${res.code})`);
    return res.identity;
  });
  const closed = new Promise<void>((resolve) => {
    const previous = server.onclose;
    server.onclose = () => {
      previous?.();
      resolve();
    };
  });
  await server.connect(new StdioServerTransport());
  return { closed };
}
