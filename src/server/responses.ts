import type { ServerResponse } from 'node:http';

/** JSON-RPC error code for authentication failures (server-defined range). */
export const UNAUTHORIZED = -32001;

export type HttpStatus = 400 | 401 | 403 | 404 | 405 | 406 | 409 | 413 | 415 | 500 | 503;

function rpcErrorText(code: number, message: string): string {
  return JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null });
}

/** A JSON-RPC error response, for the MCP endpoint. */
export function rpcError(
  status: HttpStatus,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(rpcErrorText(code, message), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/**
 * Writes a JSON body as the whole answer, with its length: one write on the socket.
 * @example writeJson(res, 200, JSON.stringify({ jsonrpc: '2.0', id: 1, result: {} }));
 */
export function writeJson(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  // Encoded once: a large tool result is not scanned twice (for its length, then to send it).
  const body = Buffer.from(text);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': body.length,
    ...headers,
  });
  res.end(body);
}

/**
 * Writes a JSON-RPC error as the whole answer, for the node-native MCP endpoint.
 * @example writeRpcError(res, 404, ErrorCode.InvalidRequest, 'Session not found');
 */
export function writeRpcError(
  res: ServerResponse,
  status: HttpStatus,
  code: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  writeJson(res, status, rpcErrorText(code, message), headers);
}

/** An OAuth-style error (`error`, `error_description`), for the control plane. */
export function apiError(
  status: HttpStatus,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): Response {
  return new Response(JSON.stringify({ error, error_description: description }), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
  });
}

/** The bearer value of an Authorization header, if any. */
export function bearer(header: string | undefined): string | undefined {
  if (!header?.startsWith('Bearer ')) return undefined;
  const v = header.slice(7).trim();
  return v.length > 0 ? v : undefined;
}
