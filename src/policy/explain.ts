import * as cedar from './cedar.js';
import { toCedarValue } from './cedar-value.js';
import type { Decision, PolicyEngine } from './engine.js';
import type { PolicyInfo } from './loader.js';
import {
  commonContext,
  entitiesFor,
  FRESH_RUN,
  kindContext,
  requestUids,
  type DecisionRequest,
} from './request.js';
import { approverGroups } from './rules.js';

/** The parts of a policy's scope; a policy is out of scope when one of them does not match. */
export type ScopePart = 'principal' | 'action' | 'resource';

/** One policy and what it had to do with one request. */
export interface PolicyNote {
  readonly id: string;
  readonly effect: 'permit' | 'forbid';
  /** The file it came from (relative to the policy folder), or `(lockdown)`, `(shadow mode)`. */
  readonly file: string;
  /** 1-based line in `file`; 0 for policies Gatehouse makes itself. */
  readonly line: number;
  /** `file:line`, or `file` alone for policies Gatehouse makes itself. */
  readonly where: string;
  /** Its `@reason`, when it has one. */
  readonly reason?: string;
  /** An `@approval` forbid: a human may lift it. */
  readonly approval: boolean;
  /** Evaluated and recorded, not enforced (a shadowed file, or the whole set in shadow mode). */
  readonly shadow: boolean;
  /** Why it is in its list, in a few words. */
  readonly why: string;
  /** What Cedar reported, for a policy that errored. */
  readonly error?: string;
  /** For a policy out of scope: the parts of its scope that did not match. */
  readonly unmatched?: readonly ScopePart[];
}

/** Why one request got its decision, policy by policy. */
export interface Explanation {
  /** What the engine decided (exactly what the gate would enforce for this request). */
  readonly decision: Decision;
  /**
   * False when the call was refused before policy (arguments too large, too deep or not
   * representable); then no policy was evaluated and every list is empty.
   */
  readonly evaluated: boolean;
  /** The policies the decision names: the permits that allowed, or the forbids that denied. */
  readonly deciding: readonly PolicyNote[];
  /** Policies whose scope and condition held but that did not decide (overridden, lifted, shadowed). */
  readonly applied: readonly PolicyNote[];
  /** Policies in scope whose condition was false. */
  readonly notApplied: readonly PolicyNote[];
  /** Policies whose principal, action or resource scope did not match the request. */
  readonly outOfScope: readonly PolicyNote[];
  /**
   * Policies whose evaluation failed. An enforced policy that errors denies the call to fail
   * closed, so it is named in `deciding` too.
   */
  readonly errored: readonly PolicyNote[];
}

/** The engine's own wording for a call refused before any policy was evaluated (see engine.ts). */
const REFUSED_BEFORE_POLICY = 'arguments refused before policy';

/** Policies Gatehouse makes itself and that are not in `engine.policies`. */
const BUILT_IN: Record<string, string> = { 'gatehouse.shadow-mode': '(shadow mode)' };

type Evaluation = { satisfied: boolean } | { error: string };

const ALL = { op: 'All' } as const;

/**
 * Explains how `engine` decides `req`: the decision itself, and for every policy in force whether
 * it decided, applied without deciding, was in scope with a false condition, was out of scope, or
 * errored. Each policy is evaluated alone with the same entities and context as the engine, and
 * again without its conditions to tell "condition false" from "out of scope". Changes nothing.
 * @example const x = explain(engine, { agent, tool, args: { amount: 900 } }); x.deciding[0]?.where // 'payments.cedar:7'
 */
export function explain(engine: PolicyEngine, req: DecisionRequest): Explanation {
  // One clock for the decision and the per-policy evaluations: time-based conditions must agree.
  const fixed: DecisionRequest = { ...req, time: req.time ?? Date.now() };
  const decision = engine.decide(fixed);
  const empty = { deciding: [], applied: [], notApplied: [], outOfScope: [], errored: [] };
  const args = toCedarValue(fixed.args, Number.MAX_SAFE_INTEGER);
  if (
    !args.ok ||
    (decision.policies.length === 0 && decision.reason.startsWith(REFUSED_BEFORE_POLICY))
  ) {
    return { decision, evaluated: false, ...empty };
  }
  const base: Omit<cedar.AuthorizationCall, 'policies'> = {
    ...requestUids(fixed.agent, fixed.tool),
    context: {
      ...kindContext(fixed, args.value),
      ...commonContext(fixed.agent, fixed.run ?? FRESH_RUN, fixed.time ?? 0),
    },
    entities: entitiesFor(fixed.agent, fixed.tool),
  };
  const evaluate = (id: string, policy: cedar.Policy, effect: 'permit' | 'forbid'): Evaluation => {
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.isAuthorized({ ...base, policies: { staticPolicies: { [id]: policy } } });
    } catch (err) {
      return { error: `the policy engine failed: ${(err as Error).message}` };
    }
    if (answer.type === 'failure') return { error: answer.errors.map((e) => e.message).join('; ') };
    const { decision: d, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0)
      return { error: diagnostics.errors.map((e) => e.error.message).join('; ') };
    return { satisfied: effect === 'permit' ? d === 'allow' : diagnostics.reason.includes(id) };
  };

  const shadowMode = engine.mode === 'shadow';
  const results = new Map<string, Evaluation>();
  for (const p of engine.policies.values()) results.set(p.id, evaluate(p.id, p.text, p.effect));
  const errorOf = (id: string): string | undefined => {
    const r = results.get(id);
    return r && 'error' in r ? r.error : undefined;
  };
  const context: DecisionContext = {
    decision,
    failClosed: decision.policies.some((id) => errorOf(id) !== undefined),
    forbidDecided: decision.policies.some(
      (id) => engine.policies.get(id)?.effect === 'forbid' && errorOf(id) === undefined,
    ),
  };
  const decidingIds = new Set(decision.policies);
  const deciding: PolicyNote[] = [];
  const applied: PolicyNote[] = [];
  const notApplied: PolicyNote[] = [];
  const outOfScope: PolicyNote[] = [];
  const errored: PolicyNote[] = [];

  for (const p of engine.policies.values()) {
    const shadow = p.shadow || (shadowMode && p.file !== '(lockdown)');
    const result = results.get(p.id) ?? { satisfied: false };
    if ('error' in result) {
      errored.push(note(p, shadow, 'errored', { error: result.error }));
      continue;
    }
    if (decidingIds.has(p.id)) continue;
    if (result.satisfied) {
      applied.push(note(p, shadow, appliedWhy(p, shadow, context)));
      continue;
    }
    const unmatched = unmatchedScope(p, evaluate);
    if (unmatched === undefined) notApplied.push(note(p, shadow, 'condition false'));
    else
      outOfScope.push(
        note(
          p,
          shadow,
          unmatched.length > 0 ? `out of scope (${unmatched.join(', ')})` : 'out of scope',
          { unmatched },
        ),
      );
  }

  for (const id of decision.policies) {
    // Only enforced policies decide, so none of them is shadowed.
    const p: PolicyInfo = engine.policies.get(id) ?? builtIn(id);
    const error = errorOf(id);
    deciding.push(
      note(
        p,
        false,
        error !== undefined
          ? 'errored: the call is denied to fail closed'
          : decidingWhy(p, decision),
        error !== undefined ? { error } : {},
      ),
    );
  }
  return { decision, evaluated: true, deciding, applied, notApplied, outOfScope, errored };
}

function builtIn(id: string): PolicyInfo {
  return {
    id,
    file: BUILT_IN[id] ?? '(gatehouse)',
    line: 0,
    effect: 'permit',
    annotations: {},
    text: '',
    shadow: false,
  };
}

function note(
  p: PolicyInfo,
  shadow: boolean,
  why: string,
  extra: { error?: string; unmatched?: readonly ScopePart[] } = {},
): PolicyNote {
  const reason = p.annotations.reason;
  return {
    id: p.id,
    effect: p.effect,
    file: p.file,
    line: p.line,
    where: p.line > 0 ? `${p.file}:${p.line}` : p.file,
    ...(reason !== undefined ? { reason } : {}),
    approval: 'approval' in p.annotations,
    shadow,
    why,
    ...extra,
  };
}

function decidingWhy(p: PolicyInfo, decision: Decision): string {
  if (p.id in BUILT_IN) return 'shadow mode: only lockdowns are enforced';
  if (p.effect === 'permit') return 'permits';
  if (decision.outcome === 'approval_required') {
    const groups = approverGroups(p.annotations.approvers);
    return groups.length > 0
      ? `needs approval by ${groups.join(', ')}`
      : 'needs approval (any approver)';
  }
  return 'forbids';
}

/** What decided, for saying why a policy that held did not decide. */
interface DecisionContext {
  readonly decision: Decision;
  /** A deciding policy errored: the call is denied to fail closed. */
  readonly failClosed: boolean;
  /** A forbid (that did not error) decided. */
  readonly forbidDecided: boolean;
}

function appliedWhy(p: PolicyInfo, shadow: boolean, c: DecisionContext): string {
  if (shadow) return `shadowed: would ${p.effect}, not enforced`;
  if (c.failClosed) return 'held, but a policy errored and the call is denied to fail closed';
  const approval = 'approval' in p.annotations;
  if (p.effect === 'permit') {
    if (c.decision.outcome === 'approval_required') return 'permits once a human approves';
    return c.forbidDecided ? 'overridden by a forbid' : 'overridden: the call is denied';
  }
  if (approval && c.decision.outcome === 'deny') {
    return c.forbidDecided
      ? 'needs approval, but a forbid no human may lift decided'
      : 'needs approval, but nothing would permit the call once approved';
  }
  return 'held, but did not decide';
}

/**
 * Undefined when the policy's scope matches (so its condition was false); otherwise the parts of
 * the scope that do not match on their own (empty when only their combination fails).
 */
function unmatchedScope(
  p: PolicyInfo,
  evaluate: (id: string, policy: cedar.Policy, effect: 'permit' | 'forbid') => Evaluation,
): ScopePart[] | undefined {
  const parsed = cedar.policyToJson(p.text);
  if (parsed.type === 'failure') return undefined;
  const json = parsed.json;
  const holds = (policy: cedar.PolicyJson): boolean => {
    const r = evaluate(p.id, policy, p.effect);
    return 'satisfied' in r && r.satisfied;
  };
  if (holds({ ...json, conditions: [] })) return undefined;
  const only = (part: ScopePart): cedar.PolicyJson => ({
    ...json,
    principal: part === 'principal' ? json.principal : ALL,
    action: part === 'action' ? json.action : ALL,
    resource: part === 'resource' ? json.resource : ALL,
    conditions: [],
  });
  return (['principal', 'action', 'resource'] as const).filter((part) => !holds(only(part)));
}
