/**
 * One HTTP request to an upstream and its response, over node:http(s) with a keep-alive agent:
 * abortable at any point, with its body read under a byte limit. No AbortSignal is involved, so no
 * long-lived emitter gathers a listener per request; every listener lives on this request's own
 * ClientRequest and IncomingMessage and goes away with them.
 */
import {
  Agent as HttpAgent,
  request as httpRequest,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type RequestOptions,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';

/** Where requests go: the URL's parts, parsed once, and the connections kept open to it. */
export interface Endpoint {
  readonly options: RequestOptions;
  readonly agent: HttpAgent;
  readonly send: typeof httpRequest;
}

/**
 * An idle kept-alive connection is closed after this, before a server with the common 5 s idle
 * timeout (Node, uvicorn) closes it: reusing a connection the server is closing fails the request.
 */
const IDLE_SOCKET_MS = 4000;

/**
 * An endpoint with its own keep-alive agent (Nagle off: every message is one small write); for
 * https, `ca` replaces the default roots.
 *
 * @example const ep = endpoint(new URL('https://mcp.example.com/mcp'));
 */
export function endpoint(url: URL, ca?: string): Endpoint {
  const secure = url.protocol === 'https:';
  const common = { keepAlive: true, noDelay: true, timeout: IDLE_SOCKET_MS };
  const agent = secure
    ? new HttpsAgent({ ...common, ...(ca ? { ca } : {}) })
    : new HttpAgent(common);
  const { protocol, hostname, port, path, auth } = urlToHttpOptions(url);
  return {
    options: { protocol, hostname, port, path, agent, ...(auth ? { auth } : {}) },
    agent,
    send: secure ? httpsRequest : httpRequest,
  };
}

/** The media type of a content-type header without its parameters, lower case. */
export function mediaType(header: string | undefined): string {
  return (header ?? '').split(';', 1)[0]!.trim().toLowerCase();
}

/** Errors that mean a kept-alive connection was closed by the server just as it was reused. */
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE']);
/** How much of an error response's body is read for its message. */
const ERROR_BODY_BYTES = 512;
/** How long an error answer's body is waited for before the excerpt is taken as it is. */
const ERROR_BODY_WAIT_MS = 2_000;
/** How much of a body nobody needs is read to keep its connection, rather than dropping it. */
const DISCARD_BYTES = 64 * 1024;
/** How much of an error response is shown. */
const ERROR_EXCERPT_CHARS = 200;

/** One request and its response. */
export class Exchange {
  private req: ClientRequest | undefined;
  private res: IncomingMessage | undefined;
  private why: Error | undefined;

  constructor(private readonly ep: Endpoint) {}

  /** Drops the request and its connection; whatever awaits it rejects with `reason`. */
  abort(reason: Error): void {
    if (this.why) return;
    this.why = reason;
    this.req?.destroy(reason);
    this.res?.destroy();
  }

  /**
   * Sends the request (one write with content-length, never chunked) and resolves with the
   * response head. A `repeatable` request that fails on a reused keep-alive connection (the server
   * was closing it) is sent once more on a fresh one. Nothing else is: a reset connection does not
   * say whether the server received the request, and a tool call must never run twice.
   */
  start(
    method: string,
    headers: OutgoingHttpHeaders,
    body: Buffer | undefined,
    repeatable: boolean,
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      if (this.why) return reject(this.why);
      let req: ClientRequest;
      try {
        req = this.ep.send({ ...this.ep.options, method, headers });
      } catch (err) {
        // Invalid header characters in the configuration: name the problem, never the value.
        return reject(new Error(`cannot send to the upstream: ${(err as { code?: string }).code}`));
      }
      this.req = req;
      req.once('response', (res) => {
        this.res = res;
        // Reading starts after an await; a connection dropped meanwhile must not throw unheard.
        res.on('error', () => undefined);
        if (this.why) res.destroy();
        resolve(res);
      });
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (this.res) return; // the response's own listeners report it
        if (this.why) return reject(this.why);
        if (repeatable && req.reusedSocket && STALE_SOCKET.has(err.code ?? '')) {
          this.start(method, headers, body, false).then(resolve, reject);
          return;
        }
        // Node's own words name the cause (refused, reset, a certificate it cannot verify), never
        // a header value.
        reject(new Error(`cannot reach the upstream: ${err.message}`));
      });
      req.end(body);
    });
  }

  /** Reads the whole body into one Buffer; more than `max` bytes aborts the exchange. */
  body(max: number): Promise<Buffer> {
    const res = this.response();
    if (Number(res.headers['content-length']) > max) {
      const err = tooLarge(max);
      this.abort(err);
      return Promise.reject(err);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    return this.read(
      (chunk) => {
        size += chunk.length;
        if (size > max) throw tooLarge(max);
        chunks.push(chunk);
      },
      () => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)),
    );
  }

  /** Feeds the body to `onChunk` until it ends; an exception from `onChunk` aborts with it. */
  stream(onChunk: (chunk: Buffer) => void): Promise<void> {
    return this.read(onChunk, () => undefined);
  }

  /** Reads an error response's message: its first bytes, printable, short, or '' when it has none. */
  async errorText(): Promise<string> {
    const res = this.response();
    let text = '';
    await new Promise<void>((resolve) => {
      // An upstream that sends an error's headers and then stalls must not hold its caller (the
      // GET stream's loop has nothing else to end the wait): what came by then is enough.
      const timer = setTimeout(resolve, ERROR_BODY_WAIT_MS);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (text.length >= ERROR_BODY_BYTES) done();
      });
      res.on('close', done);
    });
    this.abort(new Error('error response read'));
    return excerpt(text);
  }

  /** Reads and drops a body nobody needs (keeping the connection); a large one aborts instead. */
  discard(): void {
    let size = 0;
    this.read(
      (chunk) => {
        size += chunk.length;
        if (size > DISCARD_BYTES) throw new Error('unneeded response body too large');
      },
      () => undefined,
    ).catch(() => undefined);
  }

  private response(): IncomingMessage {
    if (!this.res) throw new Error('no response yet');
    return this.res;
  }

  private read<T>(onChunk: (chunk: Buffer) => void, done: () => T): Promise<T> {
    const res = this.response();
    return new Promise<T>((resolve, reject) => {
      res.on('data', (chunk: Buffer) => {
        try {
          onChunk(chunk);
        } catch (err) {
          this.abort(err as Error);
        }
      });
      // An abort from within onChunk may come with the last chunk: 'end' can still follow it.
      res.on('end', () => (this.why ? reject(this.why) : resolve(done())));
      // After an abort or a dropped connection: 'close' without the body complete.
      res.on('close', () => {
        if (!res.complete || this.why)
          reject(
            this.why ?? new Error('the upstream closed the connection before its response ended'),
          );
      });
    });
  }
}

function tooLarge(max: number): Error {
  return new Error(`the upstream's response is larger than ${max} bytes`);
}

/** A JSON-RPC error's message if the body is one, else the text; control characters removed. */
function excerpt(text: string): string {
  let message = text;
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } };
    if (typeof parsed.error?.message === 'string') message = parsed.error.message;
  } catch {
    // not JSON (or cut short): the text itself
  }
  // eslint-disable-next-line no-control-regex
  const clean = message.replace(/[\s\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return clean.length > ERROR_EXCERPT_CHARS ? `${clean.slice(0, ERROR_EXCERPT_CHARS)}…` : clean;
}
