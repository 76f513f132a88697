import * as cedar from './cedar.js';
import type { PolicyInfo } from './loader.js';
import { policySetHash } from './loader.js';
import { approverGroups } from './rules.js';

export type Outcome = 'allow' | 'deny' | 'approval_required';

/** What one set of policies says about one request. */
export interface Verdict {
  readonly outcome: Outcome;
  /** Stable ids of the deciding policies: the permits that allowed, or the forbids that denied. */
  readonly policies: readonly string[];
  readonly reason: string;
  /** For `approval_required`: the groups that may approve (empty: any approver). */
  readonly approvers: readonly string[];
}

/** A request in cedar-wasm's terms, minus the policy set. */
export type CedarRequest = Omit<cedar.StatefulAuthorizationCall, 'preparsedPolicySetId'>;

function quoteList(ids: readonly string[]): string {
  return ids.map((id) => `"${id}"`).join(', ');
}

/** A verdict that fails closed, naming why. */
export function denyVerdict(policies: readonly string[], reason: string): Verdict {
  return { outcome: 'deny', policies, reason, approvers: [] };
}

type Answer = { allow: boolean; reason: string[] } | { failed: Verdict };

/**
 * One preparsed policy set and, when it has `@approval` forbids, the same set without them: a
 * call denied only by liftable forbids needs a human exactly when the rest of the set permits it.
 */
export class PolicyVariant {
  readonly hash: string;
  private readonly liftedId: string | undefined;

  constructor(readonly policies: ReadonlyMap<string, PolicyInfo>) {
    this.hash = policySetHash(policies.values());
    preparse(this.hash, policies.values());
    const kept = [...policies.values()].filter((p) => !isLiftable(p));
    if (kept.length < policies.size) {
      const lifted = new Map(kept.map((p) => [p.id, p]));
      this.liftedId = `${policySetHash(lifted.values())}:lifted`;
      preparse(this.liftedId, lifted.values());
    }
  }

  /** Texts of the policies that decide once every liftable forbid is lifted (for visibility). */
  liftedTexts(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of this.policies.values()) if (!isLiftable(p)) out[p.id] = p.text;
    return out;
  }

  verdict(req: CedarRequest, describeDefaultDeny: () => string): Verdict {
    const first = this.run(this.hash, req);
    if ('failed' in first) return first.failed;
    if (first.allow) {
      return {
        outcome: 'allow',
        policies: first.reason,
        reason: `permitted by ${quoteList(first.reason)}`,
        approvers: [],
      };
    }
    if (first.reason.length === 0) return denyVerdict([], describeDefaultDeny());
    const forbids = first.reason.map((id) => this.policies.get(id));
    const hard = first.reason.filter((_, i) => !isLiftable(forbids[i]));
    // A forbid no human may lift wins over every approval.
    if (hard.length > 0 || !this.liftedId) return denyVerdict(hard, this.reasonText(hard));
    const second = this.run(this.liftedId, req);
    if ('failed' in second) return second.failed;
    if (!second.allow) return denyVerdict([], describeDefaultDeny());
    const approvers = new Set<string>();
    for (const p of forbids)
      for (const g of approverGroups(p?.annotations.approvers)) approvers.add(g);
    return {
      outcome: 'approval_required',
      policies: first.reason,
      reason: this.reasonText(first.reason),
      approvers: [...approvers].sort(),
    };
  }

  private reasonText(ids: readonly string[]): string {
    const reasons = ids
      .map((id) => this.policies.get(id)?.annotations.reason)
      .filter((r): r is string => !!r);
    return reasons.length > 0 ? reasons.join('; ') : `forbidden by ${quoteList(ids)}`;
  }

  private run(psetId: string, req: CedarRequest): Answer {
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized({ ...req, preparsedPolicySetId: psetId });
    } catch (err) {
      return {
        failed: denyVerdict(
          [],
          `the policy engine failed (${(err as Error).message}); denied to fail closed`,
        ),
      };
    }
    if (answer.type === 'failure') {
      const why = answer.errors.map((e) => e.message).join('; ');
      return {
        failed: denyVerdict([], `the policy request was invalid (${why}); denied to fail closed`),
      };
    }
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) {
      // Cedar skips an erroring policy; a skipped forbid would let the call through, so any error denies.
      const failed = diagnostics.errors.map((e) => e.policyId);
      const detail = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).join('; ');
      return {
        failed: denyVerdict(failed, `policy evaluation failed (${detail}); denied to fail closed`),
      };
    }
    return { allow: decision === 'allow', reason: diagnostics.reason };
  }
}

function isLiftable(p: PolicyInfo | undefined): boolean {
  return p !== undefined && p.effect === 'forbid' && 'approval' in p.annotations;
}

function preparse(id: string, policies: Iterable<PolicyInfo>): void {
  const staticPolicies = Object.fromEntries([...policies].map((p) => [p.id, p.text]));
  const res = cedar.preparsePolicySet(id, { staticPolicies });
  if (res.type === 'failure') {
    throw new Error(
      `policy set could not be prepared: ${res.errors.map((e) => e.message).join('; ')}`,
    );
  }
}
