import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import {
  MAX_BATCH_SIZE,
  requestBodyTooLargeMessage,
} from '@modelcontextprotocol/sdk/server/requestBody.js';
import { isJsonContentType } from '@modelcontextprotocol/sdk/shared/mediaType.js';
import {
  ErrorCode,
  isInitializeRequest,
  JSONRPCMessageSchema,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
  type JSONRPCRequest,
} from '@modelcontextprotocol/sdk/types.js';
import type { HttpStatus } from './responses.js';

/** Why an MCP request is refused: the HTTP status and the JSON-RPC error to answer with. */
export interface Refusal {
  readonly status: HttpStatus;
  readonly code: number;
  readonly message: string;
  readonly headers?: Record<string, string>;
}

/** The JSON-RPC messages of a valid POST. */
export interface McpPost {
  readonly messages: readonly JSONRPCMessage[];
  /** The requests among them (each needs an answer). */
  readonly requests: readonly JSONRPCRequest[];
  /** Sent as a JSON array: the answer is an array too. */
  readonly batch: boolean;
  /** The initialize request, when the POST opens a session. */
  readonly initialize: JSONRPCRequest | undefined;
}

// The SDK transport's codes, so clients see the same answers as from any SDK server.
export const SERVER_ERROR = -32000;
export const refusal = (status: HttpStatus, code: number, message: string): Refusal => ({
  status,
  code,
  message,
});

/** The answer for a session id that is not (or no longer) open. */
export const SESSION_NOT_FOUND: Refusal = refusal(
  404,
  ErrorCode.InvalidRequest,
  'Session not found; start a new session with initialize',
);

/** A JSON-RPC request (has a method and an id); only for messages the schema has accepted. */
function isRequest(m: JSONRPCMessage): m is JSONRPCRequest {
  return 'method' in m && 'id' in m;
}

/** The refusal for an `mcp-protocol-version` header this server does not speak, if any. */
export function protocolRefusal(headers: IncomingHttpHeaders): Refusal | undefined {
  const version = headers['mcp-protocol-version'];
  if (version === undefined || SUPPORTED_PROTOCOL_VERSIONS.includes(version as string))
    return undefined;
  const supported = SUPPORTED_PROTOCOL_VERSIONS.join(', ');
  return refusal(
    400,
    SERVER_ERROR,
    `Bad Request: Unsupported protocol version: ${String(version)} (supported versions: ${supported})`,
  );
}

/** The refusal for a GET that cannot take an event stream, if any. */
export function getAcceptRefusal(headers: IncomingHttpHeaders): Refusal | undefined {
  if (headers.accept?.includes('text/event-stream')) return undefined;
  return refusal(406, SERVER_ERROR, 'Not Acceptable: Client must accept text/event-stream');
}

type Body = { readonly text: string } | { readonly tooLarge: true };
const TOO_LARGE: Body = { tooLarge: true };

/**
 * Reads a request body of at most `max` bytes, counted as it arrives. Over the limit, reading stops
 * (the request is paused, so nothing more is taken from the socket) and the answer is `tooLarge`.
 * @example const body = await readBody(req, 1 << 20); if ('text' in body) JSON.parse(body.text);
 */
function readBody(req: IncomingMessage, max: number): Promise<Body> {
  if (Number(req.headers['content-length']) > max) return Promise.resolve(TOO_LARGE);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (): void => {
      req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      settle();
      req.pause();
      resolve(TOO_LARGE);
    };
    const onEnd = (): void => {
      settle();
      resolve({ text: Buffer.concat(chunks, size).toString('utf8') });
    };
    const onError = (err: Error): void => {
      settle();
      reject(err);
    };
    // A client that goes away mid-body ends the request without 'end'.
    const onClose = (): void => onError(new Error('the client closed the request mid-body'));
    req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/**
 * Reads and checks a POST to the MCP endpoint the way the SDK's Streamable HTTP transport does
 * (same statuses and JSON-RPC codes): Accept, Content-Type, size, JSON, every message against the
 * JSON-RPC schema, batch size, and the initialize rules. Nothing is delivered when it is refused.
 * @example const post = await readPost(req, rt.config.limits.max_body_bytes); if ('status' in post) refuse(post);
 */
export async function readPost(req: IncomingMessage, maxBytes: number): Promise<McpPost | Refusal> {
  const accept = req.headers.accept;
  // Accept is a list: a substring check is the intended reading (the SDK's too).
  if (!accept?.includes('application/json') || !accept.includes('text/event-stream'))
    return refusal(
      406,
      SERVER_ERROR,
      'Not Acceptable: Client must accept both application/json and text/event-stream',
    );
  if (!isJsonContentType(req.headers['content-type']))
    return refusal(
      415,
      SERVER_ERROR,
      'Unsupported Media Type: Content-Type must be application/json',
    );
  let body: Body;
  try {
    body = await readBody(req, maxBytes);
  } catch {
    return refusal(400, SERVER_ERROR, 'Bad Request: the request body could not be read');
  }
  if (!('text' in body))
    return {
      ...refusal(413, SERVER_ERROR, requestBodyTooLargeMessage(maxBytes)),
      // The rest of the body is never read: the connection ends with this answer.
      headers: { connection: 'close' },
    };
  let raw: unknown;
  try {
    raw = JSON.parse(body.text);
  } catch {
    return refusal(400, ErrorCode.ParseError, 'Parse error: Invalid JSON');
  }
  return checkMessages(raw);
}

function checkMessages(raw: unknown): McpPost | Refusal {
  const batch = Array.isArray(raw);
  const items: unknown[] = batch ? raw : [raw];
  if (items.length === 0)
    return refusal(400, ErrorCode.InvalidRequest, 'Invalid Request: empty batch');
  if (items.length > MAX_BATCH_SIZE)
    return refusal(
      400,
      ErrorCode.InvalidRequest,
      `Invalid Request: Batch must not exceed ${MAX_BATCH_SIZE} messages`,
    );
  const messages: JSONRPCMessage[] = [];
  for (const item of items) {
    const parsed = JSONRPCMessageSchema.safeParse(item);
    if (!parsed.success)
      return refusal(400, ErrorCode.ParseError, 'Parse error: Invalid JSON-RPC message');
    messages.push(parsed.data);
  }
  const requests = messages.filter(isRequest);
  // Answers are matched to requests by id: two alike in one POST could not both be answered.
  if (new Set(requests.map((r) => r.id)).size !== requests.length)
    return refusal(400, ErrorCode.InvalidRequest, 'Invalid Request: duplicate request id in batch');
  const init = requests.find((r) => r.method === 'initialize');
  if (init === undefined) return { messages, requests, batch, initialize: undefined };
  if (messages.length > 1)
    return refusal(
      400,
      ErrorCode.InvalidRequest,
      'Invalid Request: Only one initialization request is allowed',
    );
  if (!isInitializeRequest(init))
    return refusal(
      400,
      ErrorCode.InvalidParams,
      'Invalid params: initialize needs protocolVersion, capabilities and clientInfo',
    );
  return { messages, requests, batch, initialize: init };
}
