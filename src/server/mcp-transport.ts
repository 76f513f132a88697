import type { ServerResponse } from 'node:http';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type {
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  ErrorCode,
  type JSONRPCMessage,
  type MessageExtraInfo,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import {
  armSseKeepAlive,
  DEFAULT_SSE_KEEP_ALIVE_MS,
} from '@modelcontextprotocol/sdk/server/sseKeepAlive.js';
import { GatehouseError } from '../errors/index.js';
import { refusal, SESSION_NOT_FOUND, type McpPost, type Refusal } from './mcp-request.js';
import { writeJson } from './responses.js';

export type McpTransportErrorCode = 'MCP_NO_STREAM';

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
};

/** Where the messages about one POST's requests go. */
interface Answer {
  readonly res: ServerResponse;
  /** The POST was a JSON array: a JSON answer is an array too. */
  readonly batch: boolean;
  readonly unanswered: Set<RequestId>;
  /** Responses held back while the answer can still be one JSON body. */
  readonly held: JSONRPCMessage[];
  streaming: boolean;
  /** The client went away before every request was answered. */
  gone: boolean;
  keepAlive: NodeJS.Timeout | undefined;
}

interface Stream {
  readonly res: ServerResponse;
  readonly keepAlive: NodeJS.Timeout | undefined;
}

const event = (m: JSONRPCMessage): string => `event: message\ndata: ${JSON.stringify(m)}\n\n`;

/** Comment frames keep an idle event stream open through proxies, as the SDK's transport does. */
const keepAlive = (res: ServerResponse) =>
  armSseKeepAlive(DEFAULT_SSE_KEEP_ALIVE_MS, () => res.write(': keepalive\n\n'));

const noStream = (id: RequestId | undefined): GatehouseError<McpTransportErrorCode> =>
  new GatehouseError<McpTransportErrorCode>(
    'MCP_NO_STREAM',
    `no open HTTP request to carry a message about request ${JSON.stringify(id)}`,
  );

/**
 * The server side of MCP Streamable HTTP for one session, over `node:http` (spec 2025-06-18 and
 * 2025-11-25), for the SDK's `Server`. A POST is answered lazily: when the first message for it is
 * its last response, the answer is one `application/json` body written at once; only when something
 * else must go first (progress, a log message, a request to the client) does that POST become an
 * event stream. Messages about no request go to the session's GET stream, if one is open.
 * @example const t = new McpHttpTransport({ sessionId: newUuid(), onclosed }); await server.connect(t); t.handlePost(res, post, authInfo);
 */
export class McpHttpTransport implements Transport {
  onmessage?: Transport['onmessage'];
  onerror?: Transport['onerror'];
  onclose?: Transport['onclose'];
  readonly sessionId: string;
  /** Open requests of the client, by id, with where their messages go. */
  private readonly answers = new Map<RequestId, Answer>();
  private standalone: Stream | undefined;
  private initialized = false;
  private initializeId: RequestId | undefined;
  private closed = false;
  private readonly onclosed: () => void;

  constructor(opts: { sessionId: string; onclosed: () => void }) {
    this.sessionId = opts.sessionId;
    this.onclosed = opts.onclosed;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Whether the client is using the session now: a request of it is open, or its GET stream. */
  get busy(): boolean {
    return this.answers.size > 0 || this.standalone !== undefined;
  }

  /** Delivers a checked POST to the server; a refusal when this session cannot take it. */
  handlePost(res: ServerResponse, post: McpPost, authInfo: AuthInfo): Refusal | undefined {
    if (this.closed) return SESSION_NOT_FOUND;
    if (post.initialize) {
      if (this.initialized)
        return refusal(
          400,
          ErrorCode.InvalidRequest,
          'Invalid Request: Server already initialized',
        );
      this.initialized = true;
      this.initializeId = post.initialize.id;
    }
    for (const r of post.requests) {
      // Answers find their POST by id: a second request under an open id would take the other's.
      if (this.answers.has(r.id))
        return refusal(
          400,
          ErrorCode.InvalidRequest,
          `Invalid Request: request id ${JSON.stringify(r.id)} is already in progress`,
        );
    }
    // No requestInfo: nothing downstream reads it, and it would carry the bearer header around.
    const extra: MessageExtraInfo = { authInfo };
    if (post.requests.length === 0) {
      res.writeHead(202).end();
    } else {
      const answer: Answer = {
        res,
        batch: post.batch,
        unanswered: new Set(post.requests.map((r) => r.id)),
        held: [],
        streaming: false,
        gone: false,
        keepAlive: undefined,
      };
      for (const id of answer.unanswered) this.answers.set(id, answer);
      res.once('close', () => this.ended(answer));
    }
    for (const m of post.messages) {
      this.onmessage?.(m, extra);
      if ('method' in m && m.method === 'notifications/cancelled')
        this.cancelled(m.params?.requestId);
    }
    return undefined;
  }

  /** Opens the session's stream for messages about no request; 409 when one is open already. */
  handleGet(res: ServerResponse): Refusal | undefined {
    if (this.closed) return SESSION_NOT_FOUND;
    if (this.standalone)
      return refusal(409, -32000, 'Conflict: Only one SSE stream is allowed per session');
    res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
    res.flushHeaders();
    const stream: Stream = { res, keepAlive: keepAlive(res) };
    this.standalone = stream;
    res.once('close', () => {
      clearInterval(stream.keepAlive);
      if (this.standalone === stream) this.standalone = undefined;
    });
    return undefined;
  }

  /** Ends the session at the client's request. */
  async handleDelete(res: ServerResponse): Promise<void> {
    await this.close();
    res.writeHead(200).end();
  }

  send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    const failed = this.route(message, options?.relatedRequestId);
    return failed ? Promise.reject(failed) : Promise.resolve();
  }

  /** Ends every stream; requests still open are answered with a "session closed" error. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    const open = new Set(this.answers.values());
    this.answers.clear();
    for (const answer of open) this.answerClosed(answer);
    if (this.standalone) {
      clearInterval(this.standalone.keepAlive);
      this.standalone.res.end();
      this.standalone = undefined;
    }
    this.onclosed();
    this.onclose?.();
    return Promise.resolve();
  }

  /** Writes a message where it belongs; the error when it has nowhere to go. */
  private route(message: JSONRPCMessage, related: RequestId | undefined): Error | undefined {
    if ('result' in message || 'error' in message) return this.respond(message);
    if (related === undefined) {
      // Without a GET stream it is dropped, as the SDK does when it keeps no event store.
      this.standalone?.res.write(event(message));
      return undefined;
    }
    const answer = this.answers.get(related);
    // A request to a client that went away fails at once instead of waiting for its timeout.
    if (!answer || answer.gone) return noStream(related);
    this.stream(answer, event(message), false);
    return undefined;
  }

  private respond(message: JSONRPCMessage & { id?: RequestId }): Error | undefined {
    const { id } = message;
    const answer = id === undefined ? undefined : this.answers.get(id);
    if (id === undefined || !answer) return noStream(id);
    this.answers.delete(id);
    answer.unanswered.delete(id);
    const last = answer.unanswered.size === 0;
    if (answer.gone) {
      // The client went away; the request ran to its end all the same (a disconnect is not a
      // cancellation in MCP) and its answer has nowhere to go.
    } else if (answer.streaming) {
      this.stream(answer, event(message), last);
    } else {
      answer.held.push(message);
      if (last) this.writeAnswer(answer);
    }
    if (id === this.initializeId) {
      this.initializeId = undefined;
      // A failed initialize leaves no session behind.
      if ('error' in message) queueMicrotask(() => void this.close());
    }
    return undefined;
  }

  private writeAnswer(answer: Answer): void {
    const body = answer.batch ? answer.held : answer.held[0];
    writeJson(answer.res, 200, JSON.stringify(body), { 'mcp-session-id': this.sessionId });
  }

  /** Writes events on the POST's stream, turning its answer into one first; `last` ends it. */
  private stream(answer: Answer, text: string, last: boolean): void {
    const { res } = answer;
    if (!answer.streaming) {
      answer.streaming = true;
      res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId });
      text = answer.held.map(event).join('') + text;
      answer.held.length = 0;
      if (!last) answer.keepAlive = keepAlive(res);
    }
    if (!last) {
      res.write(text);
      return;
    }
    clearInterval(answer.keepAlive);
    res.end(text);
  }

  /** The POST's HTTP exchange is over: finished, or the client went away first. */
  private ended(answer: Answer): void {
    clearInterval(answer.keepAlive);
    // Ids stay taken until their requests end, so a reused id cannot receive another's answer.
    if (answer.unanswered.size > 0) answer.gone = true;
  }

  /** A cancelled request gets no response (MCP): its POST must not wait for one. */
  private cancelled(id: unknown): void {
    if (typeof id !== 'string' && typeof id !== 'number') return;
    const answer = this.answers.get(id);
    if (!answer) return;
    this.answers.delete(id);
    answer.unanswered.delete(id);
    if (answer.gone || answer.unanswered.size > 0) return;
    if (answer.streaming) {
      clearInterval(answer.keepAlive);
      answer.res.end();
    } else if (answer.held.length > 0) {
      this.writeAnswer(answer);
    } else {
      // Nothing to say: an event stream with no events, as the SDK's transport ends such a POST.
      answer.res.writeHead(200, { ...SSE_HEADERS, 'mcp-session-id': this.sessionId }).end();
    }
  }

  private answerClosed(answer: Answer): void {
    if (answer.gone || answer.unanswered.size === 0) return;
    const errors = [...answer.unanswered].map((id): JSONRPCMessage => ({
      jsonrpc: '2.0',
      id,
      error: { code: ErrorCode.ConnectionClosed, message: 'Session closed' },
    }));
    answer.unanswered.clear();
    if (answer.streaming) {
      this.stream(answer, errors.map(event).join(''), true);
    } else {
      answer.held.push(...errors);
      this.writeAnswer(answer);
    }
  }
}
