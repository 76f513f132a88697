import assert from 'node:assert/strict';
import { LATEST_PROTOCOL_VERSION } from '@modelcontextprotocol/sdk/types.js';

/** An initialize request as a client sends it first. */
export const INIT = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: LATEST_PROTOCOL_VERSION,
    capabilities: {},
    clientInfo: { name: 'raw', version: '1' },
  },
};

export const ACCEPT = 'application/json, text/event-stream';

export const ping = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'ping' });

/** A JSON-RPC message as it comes back. */
export interface RpcBody {
  jsonrpc: string;
  id?: number | string | null;
  result?: unknown;
  error?: { code: number; message: string };
}

/** MCP over plain `fetch`, for what the SDK client would never send. */
export interface RawMcp {
  send(
    method: string,
    body?: unknown,
    headers?: Record<string, string>,
    signal?: AbortSignal,
  ): Promise<Response>;
  post(body: unknown, headers?: Record<string, string>, signal?: AbortSignal): Promise<Response>;
  /** Initializes a session and returns its id. */
  openSession(): Promise<string>;
}

/** Raw MCP requests to `url` with a bearer `token`; a string body is sent as it is. */
export function rawMcp(url: URL, token: string): RawMcp {
  const send = (
    method: string,
    body?: unknown,
    headers: Record<string, string> = {},
    signal?: AbortSignal,
  ) =>
    fetch(url, {
      signal,
      method,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        accept: ACCEPT,
        ...headers,
      },
      body: body === undefined || typeof body === 'string' ? body : JSON.stringify(body),
    });
  const post = (body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    send('POST', body, headers, signal);
  return {
    send,
    post,
    async openSession() {
      const res = await post(INIT);
      assert.equal(res.status, 200);
      await res.json();
      const id = res.headers.get('mcp-session-id');
      assert.ok(id);
      return id;
    },
  };
}
