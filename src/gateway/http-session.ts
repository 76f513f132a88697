/**
 * What one Streamable HTTP client connection keeps between messages: the endpoint and its
 * keep-alive agent, the session id and protocol version sent with every request, and every
 * exchange in flight (so that close or a cancellation can abort it).
 */
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import type { RequestId } from '@modelcontextprotocol/sdk/types.js';
import { endpoint, Exchange, type Endpoint } from './http-exchange.js';

/** What the spec allows in a session id (visible ASCII), at a sane length. */
const SESSION_ID = /^[\x21-\x7e]{1,1024}$/;
/** An event id is sent back as a header: only printable ASCII ones can resume a stream. */
export const RESUMABLE_ID = /^[\x20-\x7e]{1,1024}$/;
const DELETE_TIMEOUT_MS = 1000;
/** Bounds of any wait before reopening a stream, whatever the server's `retry:` says. */
const RECONNECT_MIN_MS = 100;
export const RECONNECT_MAX_MS = 30_000;

/** An abort on purpose (close, cancellation): the caller is told, onerror is not. */
export class Stopped extends Error {}

/**
 * The state of one client connection to an upstream.
 *
 * @example const s = new HttpSession(new URL('http://127.0.0.1:3001/mcp'), {}); const ex = s.begin();
 */
export class HttpSession {
  /** Set from the answer to initialize. */
  id: string | undefined;
  /** Set once initialize negotiated it. */
  version: string | undefined;
  private readonly ep: Endpoint;
  private readonly flights = new Set<Exchange>();
  private readonly requests = new Map<RequestId, Exchange>();
  /** Requests cancelled while their stream had ended and waited to be resumed. */
  private readonly cancelled = new Set<RequestId>();
  /** Ends the waits before reopening a stream (closing must not wait for them). */
  private readonly waits = new Set<() => void>();

  constructor(
    url: URL,
    private readonly extra: Readonly<Record<string, string>>,
    ca?: string,
  ) {
    this.ep = endpoint(url, ca);
  }

  /** A new exchange in flight; `request` names the JSON-RPC request whose answer it carries. */
  begin(request?: RequestId): Exchange {
    const ex = new Exchange(this.ep);
    this.flights.add(ex);
    if (request !== undefined) this.requests.set(request, ex);
    return ex;
  }

  /** An exchange is over; with `request`, so is the request (with every stream it resumed). */
  end(ex: Exchange, request?: RequestId): void {
    this.flights.delete(ex);
    if (request === undefined) return;
    this.requests.delete(request);
    this.cancelled.delete(request);
  }

  /** Stops reading the answer to `request` (it was cancelled), and keeps it from being resumed. */
  abortRequest(request: RequestId): void {
    const ex = this.requests.get(request);
    if (!ex) return;
    ex.abort(new Stopped('the request was cancelled'));
    // Its stream may have ended already, waiting to be resumed: aborting that exchange does nothing.
    this.cancelled.add(request);
  }

  /** Whether `request` was cancelled: then its stream must not be reopened. */
  wasCancelled(request: RequestId): boolean {
    return this.cancelled.has(request);
  }

  /** Aborts everything in flight and every wait. */
  abortAll(reason: Stopped): void {
    for (const wake of this.waits) wake();
    for (const ex of this.flights) ex.abort(reason);
  }

  /** Headers of a request; ours come last, so the configuration cannot replace them. */
  headers(accept: string, length?: number, lastEventId?: string): OutgoingHttpHeaders {
    const h: OutgoingHttpHeaders = { ...this.extra, accept };
    if (length !== undefined) {
      h['content-type'] = 'application/json';
      h['content-length'] = length;
    }
    if (this.id !== undefined) h['mcp-session-id'] = this.id;
    if (this.version !== undefined) h['mcp-protocol-version'] = this.version;
    if (lastEventId) h['last-event-id'] = lastEventId;
    return h;
  }

  /** Takes the session id from a response (the answer to initialize); once set, it stays. */
  take(res: IncomingMessage): void {
    const sid = res.headers['mcp-session-id'];
    if (typeof sid !== 'string' || this.id !== undefined) return;
    if (!SESSION_ID.test(sid)) throw new Error('the upstream sent an invalid session id');
    this.id = sid;
  }

  /** Waits `ms` (bounded), or less if everything is aborted meanwhile. */
  pause(ms: number): Promise<void> {
    const wait = Math.min(Math.max(ms, RECONNECT_MIN_MS), RECONNECT_MAX_MS);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waits.delete(done);
        resolve();
      };
      const timer = setTimeout(done, wait);
      timer.unref();
      this.waits.add(done);
    });
  }

  /** Ends the session upstream with DELETE when there is one (best effort), then the agent. */
  async close(terminate: boolean): Promise<void> {
    if (terminate && this.id !== undefined) {
      const ex = new Exchange(this.ep);
      const timer = setTimeout(() => ex.abort(new Stopped('DELETE timed out')), DELETE_TIMEOUT_MS);
      try {
        await ex.start(
          'DELETE',
          this.headers('application/json, text/event-stream'),
          undefined,
          true,
        );
        ex.discard();
      } catch {
        // The upstream may be gone already, and then so is the session.
      } finally {
        clearTimeout(timer);
      }
    }
    this.ep.agent.destroy();
  }
}
