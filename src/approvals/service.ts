import type { Logger } from 'pino';
import { newId } from '../crypto/index.js';
import type { Decision, ToolRef } from '../policy/index.js';
import type { AdminKeyRecord, AgentRef, ApprovalRecord, Store } from '../store/index.js';

export interface ApprovalsOptions {
  readonly store: Store;
  readonly log: Logger;
  readonly now: () => number;
  /** How long a request stays open and an approval usable. */
  readonly ttlMs: number;
  /** How long a call is held open waiting for a person. */
  readonly waitMs: number;
  /** Announces a new request (the webhook); must not throw. */
  readonly announce?: (a: ApprovalRecord) => unknown;
  /** How often a waiting call looks at the store (another process may answer). */
  readonly pollMs?: number;
}

/** A call that needs approval, as the gate holds it. */
export interface HeldCall {
  readonly agent: AgentRef;
  readonly tool: ToolRef;
  readonly args: unknown;
  readonly argsDigest: string;
  readonly decision: Decision;
}

export interface HoldOptions {
  /** Wait this long instead of the configured wait (0: do not wait). */
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
  /** Called while waiting (MCP progress notifications). */
  readonly progress?: (elapsedMs: number, message: string) => void;
}

/** Whether a held call may go ahead: only with an approval used for it, now. */
export type HoldResult =
  | { readonly kind: 'approved'; readonly approval: ApprovalRecord }
  | { readonly kind: 'refused'; readonly message: string; readonly approval?: ApprovalRecord };

export type AnswerResult =
  | { readonly ok: true; readonly approval: ApprovalRecord }
  | {
      readonly ok: false;
      readonly code: 'not_found' | 'not_pending' | 'forbidden' | 'invalid';
      readonly message: string;
    };

const PROGRESS_EVERY_MS = 5000;

/** Whether a person may answer a request: any approver, or one in a group the policy named. */
export function mayAnswer(
  a: Pick<ApprovalRecord, 'approvers'>,
  person: Pick<AdminKeyRecord, 'groups'>,
): boolean {
  return a.approvers.length === 0 || a.approvers.some((g) => person.groups.includes(g));
}

function sameGroups(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');
}

/**
 * Human approval as part of the gate: a request bound to one (run, tool, argument digest), held
 * open while a person decides, used at most once, expiring. Requests live in the store, so they
 * survive a restart and can be answered from any process.
 */
export class Approvals {
  private readonly wakers = new Map<string, Set<() => void>>();
  private closing = false;
  private sweeper: NodeJS.Timeout | undefined;

  constructor(private readonly opts: ApprovalsOptions) {}

  /** Expires due requests now and then (recorded as events). */
  startSweeper(everyMs = 10_000): void {
    this.sweeper ??= setInterval(() => void this.expireDue().catch(() => undefined), everyMs);
    this.sweeper.unref();
  }

  expireDue(): Promise<string[]> {
    return this.opts.store.expireApprovals(this.opts.now());
  }

  /**
   * Holds a call that policy says needs a human: uses an approval already given for exactly this
   * call, or waits on the open request for it (creating one), up to the wait.
   * @example const r = await approvals.hold(call, { signal }); if (r.kind === 'approved') forward();
   */
  async hold(call: HeldCall, o: HoldOptions = {}): Promise<HoldResult> {
    const { store, now } = this.opts;
    const t = now();
    // Bound to this agent and to the approvers this decision asks for, as well as to the run, tool
    // and arguments: a subagent sharing the run, or a stricter policy since, needs its own request.
    let a = (await store.findApprovals(call.agent.run, call.tool.id, call.argsDigest)).find(
      (r) =>
        r.expiresAt > t &&
        r.agent.id === call.agent.id &&
        sameGroups(r.approvers, call.decision.approvers),
    );
    if (a?.status === 'approved') return this.use(a, call.decision);
    if (!a) a = await this.create(call);
    const settled = await this.wait(a, o);
    switch (settled.status) {
      case 'approved':
        return this.use(settled, call.decision);
      case 'denied':
        return {
          kind: 'refused',
          approval: settled,
          message: `Approval ${settled.id} was denied by ${settled.decidedBy ?? 'an approver'}: ${settled.decisionReason ?? 'no reason given'}. The call was not forwarded.`,
        };
      case 'expired':
        return {
          kind: 'refused',
          approval: settled,
          message: `Approval ${settled.id} expired before anyone approved it. The call was not forwarded; calling again asks again.`,
        };
      case 'pending':
        return {
          kind: 'refused',
          approval: settled,
          message: this.closing
            ? `Gatehouse is shutting down; approval ${settled.id} is still pending (${settled.reason}). Retry the same call once it is approved.`
            : `Waiting for a human: approval ${settled.id} is pending (${settled.reason}). The call was not forwarded; retry the same call, with the same arguments, once it is approved.`,
        };
    }
  }

  /** Approves or denies a pending request as `person`, who must be in a group the policy named. */
  async answer(
    id: string,
    person: AdminKeyRecord,
    verdict: 'approve' | 'deny',
    reason: string | undefined,
  ): Promise<AnswerResult> {
    const { store, now } = this.opts;
    const text = (reason ?? '').trim();
    if (verdict === 'deny' && text.length === 0)
      return {
        ok: false,
        code: 'invalid',
        message: 'a denial needs a reason; the agent is told it',
      };
    const a = await store.getApproval(id);
    if (!a) return { ok: false, code: 'not_found', message: `no approval request ${id}` };
    if (!mayAnswer(a, person)) {
      return {
        ok: false,
        code: 'forbidden',
        message: `this request needs an approver from ${a.approvers.join(' or ')}`,
      };
    }
    const answered = await store.answerApproval(id, {
      status: verdict === 'approve' ? 'approved' : 'denied',
      by: person.name,
      reason: text,
      time: now(),
    });
    if (!answered) {
      const current = await store.getApproval(id);
      const state =
        current && current.status === 'pending' ? 'expired' : (current?.status ?? 'gone');
      return { ok: false, code: 'not_pending', message: `approval ${id} is ${state}, not pending` };
    }
    this.opts.log.warn(
      { approval: id, by: person.name, status: answered.status },
      'approval answered',
    );
    this.wake(id);
    return { ok: true, approval: answered };
  }

  /** Releases every waiting call (they fail cleanly and may be retried once approved). */
  close(): void {
    this.closing = true;
    clearInterval(this.sweeper);
    for (const id of [...this.wakers.keys()]) this.wake(id);
  }

  private async create(call: HeldCall): Promise<ApprovalRecord> {
    const t = this.opts.now();
    const a: ApprovalRecord = {
      id: newId('apr'),
      decisionId: call.decision.id,
      createdAt: t,
      expiresAt: t + this.opts.ttlMs,
      status: 'pending',
      agent: call.agent,
      tool: call.tool.id,
      server: call.tool.server,
      args: call.args,
      argsDigest: call.argsDigest,
      policies: call.decision.policies,
      reason: call.decision.reason,
      approvers: call.decision.approvers,
    };
    await this.opts.store.createApproval(a);
    this.opts.log.warn({ approval: a.id, tool: a.tool, agent: a.agent.name }, 'approval requested');
    try {
      void Promise.resolve(this.opts.announce?.(a)).catch(() => undefined);
    } catch {
      /* announcing never blocks the gate */
    }
    return a;
  }

  private async use(a: ApprovalRecord, decision: Decision): Promise<HoldResult> {
    if (await this.opts.store.consumeApproval(a.id, decision.id, this.opts.now())) {
      return { kind: 'approved', approval: a };
    }
    return {
      kind: 'refused',
      approval: a,
      message: `Approval ${a.id} was already used or has expired; an approval covers one call. Calling again asks again.`,
    };
  }

  /** Waits until the request is answered or expires, the wait ends, the caller gives up, or we close. */
  private async wait(a: ApprovalRecord, o: HoldOptions): Promise<ApprovalRecord> {
    const { store, now } = this.opts;
    const start = now();
    const until = Math.min(start + (o.waitMs ?? this.opts.waitMs), a.expiresAt);
    let current = a;
    let lastProgress = -Infinity;
    while (current.status === 'pending' && !this.closing && !o.signal?.aborted) {
      const t = now();
      if (t >= a.expiresAt) {
        await this.expireDue();
        current = (await store.getApproval(a.id)) ?? current;
        break;
      }
      if (t >= until) break;
      if (o.progress && t - lastProgress >= PROGRESS_EVERY_MS) {
        lastProgress = t;
        o.progress(t - start, `waiting for a human to approve ${a.id}: ${a.reason}`);
      }
      await this.sleep(a.id, Math.min(this.opts.pollMs ?? 250, until - t), o.signal);
      current = (await store.getApproval(a.id)) ?? current;
    }
    return current;
  }

  private sleep(id: string, ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const set = this.wakers.get(id) ?? new Set();
      this.wakers.set(id, set);
      const done = () => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0) this.wakers.delete(id);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      set.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private wake(id: string): void {
    for (const w of [...(this.wakers.get(id) ?? [])]) w();
  }
}
