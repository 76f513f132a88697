import type { Logger } from 'pino';
import type { ApprovalRecord } from '../store/index.js';

export interface WebhookOptions {
  readonly url: string;
  /** Where approvers open a request; the id is appended as a fragment. */
  readonly inboxUrl: string;
  readonly log: Logger;
  /** Delays before each retry, ms. */
  readonly retryDelaysMs?: readonly number[];
  readonly timeoutMs?: number;
}

/** The JSON a webhook receives for a new request. Arguments stay out: they may be sensitive. */
export function webhookBody(a: ApprovalRecord, inboxUrl: string): Record<string, unknown> {
  return {
    id: a.id,
    agent: {
      id: a.agent.id,
      name: a.agent.name,
      version: a.agent.version,
      principal: a.agent.principal,
      run: a.agent.run,
      depth: a.agent.depth,
      ancestors: a.agent.ancestors,
    },
    tool: a.tool,
    reason: a.reason,
    approvers: a.approvers,
    expires_at: new Date(a.expiresAt).toISOString(),
    link: `${inboxUrl}#${a.id}`,
  };
}

/**
 * Announces new approval requests by POSTing JSON, retrying with backoff. It runs beside the
 * gate: a slow or failing webhook is logged and never delays or blocks a call.
 * @example const announce = webhookAnnouncer({ url, inboxUrl, log }); announce(approval);
 */
export function webhookAnnouncer(opts: WebhookOptions): (a: ApprovalRecord) => Promise<boolean> {
  const delays = opts.retryDelaysMs ?? [1000, 5000, 15_000];
  const timeoutMs = opts.timeoutMs ?? 5000;
  return async (a) => {
    const body = JSON.stringify(webhookBody(a, opts.inboxUrl));
    for (let attempt = 0; attempt <= delays.length; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, delays[attempt - 1]).unref());
      try {
        const res = await fetch(opts.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'gatehouse-webhook' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
        await res.body?.cancel();
        if (res.ok) return true;
        opts.log.warn({ approval: a.id, status: res.status, attempt }, 'approval webhook refused');
      } catch (err) {
        opts.log.warn(
          { approval: a.id, err: (err as Error).message, attempt },
          'approval webhook failed',
        );
      }
    }
    opts.log.error({ approval: a.id }, 'approval webhook gave up; approvers must check the inbox');
    return false;
  };
}
