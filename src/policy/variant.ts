import * as cedar from './cedar.js';
import type { PolicyInfo } from './loader.js';
import { policySetHash } from './loader.js';
import { actionOf, type ToolRef } from './request.js';
import { approverGroups } from './rules.js';
import { namesAction, scopeCanMatch } from './scope.js';

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

type Answer = { allow: boolean; reason: readonly string[] } | { failed: Verdict };

/** A preparsed subset, and the same subset without its liftable forbids (when it has any). */
interface Prepared {
  readonly id: string;
  readonly liftedId: string | undefined;
  /** Whether a policy of the subset can observe `context.time.now` (see context-use.ts). */
  readonly needsNow: boolean;
  /** Whether every policy of the subset is scope-only: Cedar then needs no attributes or context. */
  readonly scopeOnly: boolean;
}

/** Distinct tool names remembered per variant; beyond it, subsets are looked up again (still cached). */
const MAX_TOOLS_CACHED = 10_000;

/**
 * Cedar answers remembered per variant for slim requests; beyond it the oldest is dropped. The
 * decision API takes any tool name, so without a bound a caller could grow the cache at will.
 */
export const MAX_ANSWERS_CACHED = 4096;

/**
 * One policy set, handed to Cedar per tool: only the policies whose action scope can match the
 * tool's action (Cedar itself evaluates every policy it is given). When a call is denied only by
 * `@approval` forbids, the same subset without them decides whether a human may lift them.
 */
export class PolicyVariant {
  readonly hash: string;
  /** Prepared subsets by their policy ids: tools that the same policies can match share one. */
  private readonly subsets = new Map<string, Prepared>();
  private readonly byTool = new Map<string, Prepared>();
  /** Cedar's answers to slim requests, by policy set and request (see `runSlim`). */
  private readonly answers = new Map<string, Answer>();

  constructor(readonly policies: ReadonlyMap<string, PolicyInfo>) {
    this.hash = policySetHash(policies.values());
    // The whole set is prepared once up front, so a set Cedar refuses fails here, not mid-call.
    preparse(this.hash, policies.values());
  }

  /** How many of Cedar's answers to slim requests are remembered now (see `runSlim`). */
  get rememberedAnswers(): number {
    return this.answers.size;
  }

  /** Texts of the policies that decide once every liftable forbid is lifted (for visibility). */
  liftedTexts(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const p of this.policies.values()) if (!isLiftable(p)) out[p.id] = p.text;
    return out;
  }

  verdict(tool: ToolRef, req: CedarRequest, describeDefaultDeny: () => string): Verdict {
    let prepared: Prepared;
    try {
      prepared = this.preparedFor(tool);
    } catch (err) {
      return denyVerdict(
        [],
        `the policy engine failed (${(err as Error).message}); denied to fail closed`,
      );
    }
    const slim = prepared.scopeOnly;
    if (slim) req = scopeOnly(req);
    else if (!prepared.needsNow) req = withoutNow(req);
    const ask = (psetId: string) => (slim ? this.runSlim(psetId, req) : this.run(psetId, req));
    const first = ask(prepared.id);
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
    if (hard.length > 0 || !prepared.liftedId) return denyVerdict(hard, this.reasonText(hard));
    const second = ask(prepared.liftedId);
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

  /** The prepared subset for one tool: the policies whose scope can match a call to it. */
  private preparedFor(tool: ToolRef): Prepared {
    const toolKey = JSON.stringify([tool.kind ?? 'tool', tool.id, tool.server, tool.labels]);
    const cached = this.byTool.get(toolKey);
    if (cached) return cached;
    const kind = tool.kind ?? 'tool';
    const action = actionOf(tool);
    const subset = [...this.policies.values()].filter((p) => {
      if (kind === 'tool') return scopeCanMatch(p.scope, tool);
      // A server asking back through the agent is authority coming the other way: only a permit
      // that names the action grants it, never one written for "everything" (every forbid counts).
      if (kind === 'sampling' || kind === 'elicitation')
        return p.effect === 'forbid' || namesAction(p.scope, action);
      // Reads and prompts are handed the whole set; Cedar matches scopes itself.
      return true;
    });
    // Keyed by content, so unknown tool names (the decision API) share subsets and add nothing.
    const key = subset.map((p) => p.id).join('\n');
    let prepared = this.subsets.get(key);
    if (!prepared) {
      const id = policySetHash(subset);
      preparse(id, subset);
      const kept = subset.filter((p) => !isLiftable(p));
      let liftedId: string | undefined;
      if (kept.length < subset.length) {
        liftedId = `${id}:lifted`;
        preparse(liftedId, kept);
      }
      const needsNow = subset.some((p) => p.readsNow !== false);
      const scopeOnly = subset.every((p) => p.scopeOnly === true);
      prepared = { id, liftedId, needsNow, scopeOnly };
      this.subsets.set(key, prepared);
    }
    if (this.byTool.size < MAX_TOOLS_CACHED) this.byTool.set(toolKey, prepared);
    return prepared;
  }

  private reasonText(ids: readonly string[]): string {
    const reasons = ids
      .map((id) => this.policies.get(id)?.annotations.reason)
      .filter((r): r is string => !!r);
    return reasons.length > 0 ? reasons.join('; ') : `forbidden by ${quoteList(ids)}`;
  }

  /**
   * `run` for a slim request, remembered. A slim request holds nothing but the UIDs and parents of
   * the agent, its human, the tool and the action, so Cedar's answer is a function of the set and
   * that text alone, and an agent calling one tool asks the same question on every call. Keyed by
   * the exact text Cedar would be given; a failure is never remembered (it is asked again).
   */
  private runSlim(psetId: string, req: CedarRequest): Answer {
    const key = `${psetId}\n${JSON.stringify(req)}`;
    const known = this.answers.get(key);
    if (known) return known;
    const answer = this.run(psetId, req);
    if ('failed' in answer) return answer;
    if (this.answers.size >= MAX_ANSWERS_CACHED) {
      const oldest = this.answers.keys().next();
      if (!oldest.done) this.answers.delete(oldest.value);
    }
    // Frozen: every decision it answers shares the policy ids.
    const kept: Answer = { allow: answer.allow, reason: Object.freeze([...answer.reason]) };
    this.answers.set(key, kept);
    return kept;
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

/**
 * The request as a subset of scope-only policies sees it: each entity's UID and parents, no
 * attributes, tags or context. Scope constraints (`==`, `in`, `is`) read nothing else, so Cedar
 * decides the same, and taking in the request is most of what a decision costs. The arguments
 * were still checked (toCedarValue) before: what is refused before policy stays refused.
 */
function scopeOnly(req: CedarRequest): CedarRequest {
  return {
    ...req,
    context: {},
    entities: req.entities.map((e) => ({ uid: e.uid, attrs: {}, parents: e.parents })),
  };
}

/** The request without `context.time.now`, for a subset no policy of which can observe it. */
function withoutNow(req: CedarRequest): CedarRequest {
  const context = req.context as Record<string, cedar.CedarValueJson>;
  const time = context.time;
  if (time === null || typeof time !== 'object' || Array.isArray(time) || !('now' in time))
    return req;
  const { now: _now, ...rest } = time as Record<string, cedar.CedarValueJson>;
  return { ...req, context: { ...context, time: rest } };
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
