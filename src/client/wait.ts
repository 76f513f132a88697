import type { DecisionAnswer } from './answers.js';
import type { DecideRequest, GatehouseClient } from './client.js';

export interface WaitOptions {
  /** How long to wait for a person to approve, in ms. */
  readonly waitMs: number;
  /** How often to ask again while the request is pending (default 2 s). */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Decides a call and, while it needs an approval that is still pending, asks again until a person
 * approves it (the answer is then `allow`, the approval used for exactly this call), denies it, it
 * expires, or the wait ends. Every ask is a recorded decision, decided with the run as it is then.
 * @example const d = await decideWaitingForApproval(client, { tool: 'payments__refund', arguments: a }, { waitMs: 60_000 });
 */
export async function decideWaitingForApproval(
  client: GatehouseClient,
  req: DecideRequest,
  opts: WaitOptions,
): Promise<DecisionAnswer> {
  const until = Date.now() + Math.max(0, opts.waitMs);
  const poll = Math.max(50, opts.pollMs ?? 2000);
  let d = await client.decide(req, opts.signal);
  while (
    d.outcome === 'approval_required' &&
    d.approval?.status === 'pending' &&
    Date.now() < until &&
    !opts.signal?.aborted
  ) {
    await sleep(Math.min(poll, until - Date.now()), opts.signal);
    if (opts.signal?.aborted) break;
    d = await client.decide(req, opts.signal);
  }
  return d;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}
