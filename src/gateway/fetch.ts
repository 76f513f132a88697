/**
 * A `fetch` for upstream MCP clients that gives every request its own AbortSignal.
 *
 * The SDK's Streamable HTTP client passes one long-lived signal to every fetch; undici adds an abort
 * listener to it per request and drops them only after garbage collection, so a busy upstream
 * accumulates thousands of listeners (MaxListenersExceededWarning, and O(n) work per request;
 * nodejs/undici#3157). Here undici listens on a short-lived signal, and our one listener on the
 * long-lived signal is removed when the response body ends.
 */
import { getMaxListeners, setMaxListeners } from 'node:events';

/**
 * One listener per request in flight is expected: a busy upstream legitimately has dozens at once,
 * so the default limit of 10 would warn about concurrency, not a leak.
 */
const MAX_IN_FLIGHT_LISTENERS = 4096;

export const fetchWithOwnSignal: typeof fetch = async (input, init) => {
  const outer = init?.signal;
  if (!outer) return fetch(input, init);
  const inner = new AbortController();
  const relay = () => inner.abort(outer.reason);
  if (outer.aborted) inner.abort(outer.reason);
  else {
    if (getMaxListeners(outer) < MAX_IN_FLIGHT_LISTENERS) {
      setMaxListeners(MAX_IN_FLIGHT_LISTENERS, outer);
    }
    outer.addEventListener('abort', relay, { once: true });
  }
  const release = () => outer.removeEventListener('abort', relay);
  let res: Response;
  try {
    res = await fetch(input, { ...init, signal: inner.signal });
  } catch (err) {
    release();
    throw err;
  }
  if (!res.body) {
    release();
    return res;
  }
  const body = res.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      flush: release,
    }),
  );
  // A consumer that stops reading early (a closed SSE stream) aborts the request, which releases too.
  inner.signal.addEventListener('abort', release, { once: true });
  return new Response(body, {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
};
