/**
 * The client side of MCP Streamable HTTP (spec 2025-06-18 and 2025-11-25) over node:http(s), for
 * the gateway's HTTP upstreams. It replaces the SDK's fetch-based transport, whose web streams and
 * per-request AbortSignal plumbing cost more per call than the rest of the gateway together.
 *
 * Choices, where the spec leaves them to the client:
 * - Limits: one message (a JSON body, or one SSE event or line) is at most
 *   MAX_UPSTREAM_MESSAGE_BYTES; more fails the request and drops its connection.
 * - send() of a request settles when its response has arrived (or its stream failed before it), so
 *   an upstream that dies mid-call fails that call at once instead of at the timeout.
 * - Redirects are not followed: an upstream's URL is configuration, not something it may change.
 * - close() sends DELETE for the session (at most DELETE_TIMEOUT_MS, errors ignored): the gateway
 *   closes a connection only when it is done with it, and an upstream keeps a session it is not told
 *   about. A 404 on a session means the upstream forgot it: the transport closes without DELETE, so
 *   the gateway reconnects with a new session.
 * - The standalone GET stream is reopened after it drops, with backoff from RECONNECT_FIRST_MS
 *   doubling up to RECONNECT_MAX_MS (or the server's `retry:`, within those bounds); 405 means the
 *   server has none, and any other 4xx stops it too (asking again would not change the answer).
 */
import type { IncomingMessage } from 'node:http';
import type {
  Transport,
  TransportSendOptions,
} from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  JSONRPCMessageSchema,
  type JSONRPCMessage,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { mediaType, type Exchange } from './http-exchange.js';
import { HttpSession, RECONNECT_MAX_MS, RESUMABLE_ID, Stopped } from './http-session.js';
import { SseParser, type SseEvent } from './sse.js';

/** Largest JSON body, SSE event or SSE line accepted from an upstream (16 MiB). */
export const MAX_UPSTREAM_MESSAGE_BYTES = 16 * 1024 * 1024;
/** A notification or response the upstream does not accept within this is given up. */
const ACCEPT_TIMEOUT_MS = 30_000;
const unaccepted = () => new Error('the upstream did not accept a message in time');
/** A response stream should end once it answered; one that lingers longer is dropped. */
const ANSWERED_LINGER_MS = 5_000;
const RECONNECT_FIRST_MS = 1000;
/** How often a request's stream, closed by the server before it answered, is resumed by GET. */
const MAX_RESUMES = 3;
const POST_ACCEPT = 'application/json, text/event-stream';
const EVENT_STREAM = 'text/event-stream';

export interface HttpTransportOptions {
  /** Extra headers on every request (an upstream's `headers` in the configuration). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Overrides MAX_UPSTREAM_MESSAGE_BYTES. */
  readonly maxMessageBytes?: number;
  /** PEM certificate authorities of an https upstream, in place of Node's default roots. */
  readonly ca?: string;
}

/**
 * An MCP client transport over Streamable HTTP with keep-alive connections.
 *
 * @example await new Client(info).connect(new HttpClientTransport(new URL('http://127.0.0.1:3001/mcp')));
 */
export class HttpClientTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  private state: 'new' | 'open' | 'closed' = 'new';
  private listening = false;
  private readonly s: HttpSession;
  private readonly max: number;

  constructor(url: URL, options: HttpTransportOptions = {}) {
    this.s = new HttpSession(url, options.headers ?? {}, options.ca);
    this.max = options.maxMessageBytes ?? MAX_UPSTREAM_MESSAGE_BYTES;
  }

  get sessionId(): string | undefined {
    return this.s.id;
  }

  setProtocolVersion(version: string): void {
    this.s.version = version;
  }

  start(): Promise<void> {
    if (this.state !== 'new') return Promise.reject(new Error('the transport was started before'));
    this.state = 'open';
    return Promise.resolve();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (options?.resumptionToken !== undefined)
      throw new Error('resuming a request by token is not supported');
    if (this.state !== 'open') throw new Error('the upstream connection is closed');
    this.cancelled(message);
    // The SDK's is*() guards each run a zod parse; these messages are the Protocol layer's own.
    const id = 'method' in message && 'id' in message ? message.id : undefined;
    const ex = this.s.begin(id);
    // A request is bounded by its own timeout upstream of here; anything else by this one.
    const timer =
      id === undefined ? setTimeout(() => ex.abort(unaccepted()), ACCEPT_TIMEOUT_MS) : undefined;
    try {
      const body = Buffer.from(JSON.stringify(message));
      // A notification or response may arrive twice without harm; a request may not.
      const res = await ex.start(
        'POST',
        this.s.headers(POST_ACCEPT, body.length),
        body,
        id === undefined,
      );
      await this.answer(ex, res, id);
      if (id === undefined && method(message) === 'notifications/initialized')
        this.listen().catch((err: unknown) => this.onerror?.(err as Error));
    } catch (err) {
      if (!(err instanceof Stopped)) this.onerror?.(err as Error);
      throw err;
    } finally {
      clearTimeout(timer);
      this.s.end(ex, id);
    }
  }

  /** Aborts everything in flight, ends the session upstream (DELETE), then calls onclose once. */
  close(): Promise<void> {
    return this.shut(true);
  }

  private async shut(terminate: boolean): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.s.abortAll(new Stopped('the upstream connection was closed'));
    await this.s.close(terminate);
    this.onclose?.();
  }

  /** Handles the response to a POST: nothing for a notification, the answer for a request. */
  private async answer(ex: Exchange, res: IncomingMessage, id: RequestId | undefined) {
    this.s.take(res);
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) throw await this.failure(ex, status);
    if (id === undefined) return ex.discard();
    if (status === 202) throw new Error('the upstream accepted a request without answering it');
    const type = mediaType(res.headers['content-type']);
    if (type === EVENT_STREAM) return this.events(ex, id);
    if (type !== 'application/json') {
      ex.abort(new Stopped('unexpected content type'));
      throw new Error('the upstream answered with neither JSON nor an event stream');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse((await ex.body(this.max)).toString('utf8'));
    } catch (err) {
      if (err instanceof SyntaxError) throw new Error('the upstream answered with invalid JSON');
      throw err;
    }
    let answered = false;
    for (const m of Array.isArray(parsed) ? (parsed as unknown[]) : [parsed])
      if (this.deliver(m, id)) answered = true;
    if (!answered) throw new Error('the upstream answered without a response to the request');
  }

  /**
   * Reads a request's event stream until its response; a stream the server closes before that,
   * after giving event ids, is resumed by GET with `last-event-id` (spec 2025-11-25 polling).
   */
  private async events(first: Exchange, id: RequestId): Promise<void> {
    let answered = false;
    let ex = first;
    let linger: NodeJS.Timeout | undefined;
    const parser = new SseParser((e) => {
      if (!this.event(e, id) || answered) return;
      answered = true;
      const current = ex;
      linger = setTimeout(() => current.abort(new Stopped('answered')), ANSWERED_LINGER_MS);
    }, this.max);
    for (let resumes = 0; ; resumes++) {
      let failure: Error | undefined;
      try {
        await ex.stream((chunk) => parser.push(chunk));
      } catch (err) {
        failure = err as Error;
      } finally {
        clearTimeout(linger);
        // The request itself (and its mark if cancelled) ends with send(), after the last stream.
        if (ex !== first) this.s.end(ex);
      }
      parser.end();
      if (answered) return;
      if (failure instanceof Stopped) throw failure;
      if (this.state !== 'open') throw new Stopped('the upstream connection was closed');
      const from = parser.lastEventId;
      if (failure !== undefined || !RESUMABLE_ID.test(from) || resumes >= MAX_RESUMES)
        throw failure ?? new Error('the upstream ended the event stream before answering');
      await this.s.pause(parser.retryMs ?? RECONNECT_FIRST_MS);
      if (this.s.wasCancelled(id)) throw new Stopped('the request was cancelled');
      ex = await this.resume(id, from);
    }
  }

  /** Reopens a request's stream by GET, from the last event it sent. */
  private async resume(id: RequestId, from: string): Promise<Exchange> {
    if (this.state !== 'open') throw new Stopped('the upstream connection was closed');
    const ex = this.s.begin(id);
    try {
      const res = await this.openStream(ex, from);
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) throw await this.failure(ex, status);
      if (mediaType(res.headers['content-type']) !== EVENT_STREAM)
        throw new Error('the upstream resumed a stream with no event stream');
      return ex;
    } catch (err) {
      ex.abort(err as Error);
      this.s.end(ex);
      throw err;
    }
  }

  /** The standalone GET stream: the server's own messages, for as long as the transport is open. */
  private async listen(): Promise<void> {
    if (this.listening) return;
    this.listening = true;
    let delay = RECONNECT_FIRST_MS;
    let from = '';
    while (this.state === 'open') {
      const ex = this.s.begin();
      const parser = new SseParser((e) => void this.event(e, undefined), this.max);
      try {
        const res = await this.openStream(ex, from);
        const status = res.statusCode ?? 0;
        if (status === 405) return ex.discard(); // the server has no stream to offer
        if (status < 200 || status > 299) {
          const err = await this.failure(ex, status);
          if (status >= 500) throw err;
          // Asking again would get the same answer.
          this.onerror?.(err);
          return;
        }
        if (mediaType(res.headers['content-type']) !== EVENT_STREAM) {
          ex.abort(new Stopped('not an event stream'));
          this.onerror?.(new Error('the upstream answered GET with no event stream'));
          return;
        }
        delay = RECONNECT_FIRST_MS;
        await ex.stream((chunk) => parser.push(chunk));
      } catch (err) {
        if (!(err instanceof Stopped) && this.state === 'open') this.onerror?.(err as Error);
      } finally {
        this.s.end(ex);
        if (RESUMABLE_ID.test(parser.lastEventId)) from = parser.lastEventId;
      }
      await this.s.pause(parser.retryMs ?? delay);
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    }
  }

  /** Asks for an event stream by GET, from event `from` ('' for its start); safe to resend. */
  private openStream(ex: Exchange, from: string): Promise<IncomingMessage> {
    return ex.start('GET', this.s.headers(EVENT_STREAM, undefined, from), undefined, true);
  }

  /** Delivers one SSE event's message; true when it is the response to request `id`. */
  private event(e: SseEvent, id: RequestId | undefined): boolean {
    // Events without data are priming events and keep-alives; other types are not MCP messages.
    if (e.type !== 'message' || e.data === '') return false;
    let raw: unknown;
    try {
      raw = JSON.parse(e.data);
    } catch {
      this.onerror?.(new Error('the upstream sent an event that is not JSON'));
      return false;
    }
    return this.deliver(raw, id);
  }

  /** Validates and delivers one message; true when it is the response to request `id`. */
  private deliver(raw: unknown, id: RequestId | undefined): boolean {
    if (this.state !== 'open') return false;
    const parsed = JSONRPCMessageSchema.safeParse(raw);
    if (!parsed.success) {
      this.onerror?.(new Error('the upstream sent a message that is not valid JSON-RPC'));
      return false;
    }
    const m = parsed.data;
    if ('method' in m) {
      this.onmessage?.(m);
      return false;
    }
    // The Protocol layer runs notification handlers a microtask later but settles a response at
    // once, dropping its progress handler: a progress notification read in the same chunk as the
    // response would be lost. Delivered one microtask later, the response comes after it.
    queueMicrotask(() => {
      if (this.state === 'open') this.onmessage?.(m);
    });
    return id !== undefined && 'id' in m && m.id === id;
  }

  /** A clear error for a non-2xx answer; a 404 on a session means the upstream forgot it. */
  private async failure(ex: Exchange, status: number): Promise<Error> {
    const text = await ex.errorText();
    const detail = text ? `: ${text}` : '';
    if (status === 404 && this.s.id !== undefined) {
      // After the caller has its error: the Protocol layer's "connection closed" says less.
      setImmediate(() => void this.shut(false));
      return new Error(`the upstream no longer knows the session (HTTP 404)${detail}`);
    }
    const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
    return new Error(`the upstream answered HTTP ${status}${redirect}${detail}`);
  }

  /** Stops reading the response of a request the Protocol layer has just cancelled. */
  private cancelled(message: JSONRPCMessage): void {
    if (!('method' in message) || message.method !== 'notifications/cancelled') return;
    const target = (message.params as { requestId?: RequestId } | undefined)?.requestId;
    if (target !== undefined) this.s.abortRequest(target);
  }
}

function method(message: JSONRPCMessage): string | undefined {
  return 'method' in message ? message.method : undefined;
}
