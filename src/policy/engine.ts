import * as cedar from './cedar.js';
import { newId } from '../crypto/index.js';
import type { AgentIdentity } from '../identity/index.js';
import { toCedarValue } from './cedar-value.js';
import type { PolicyInfo, PolicySet } from './loader.js';

/** A tool as policy sees it. */
export interface ToolRef {
  /** Exposed name, `<server>__<tool>`. */
  readonly id: string;
  readonly server: string;
  /** The upstream's own tool name. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface DecisionRequest {
  readonly agent: AgentIdentity;
  readonly tool: ToolRef;
  /** Attacker-controlled: the tool arguments exactly as the agent sent them. */
  readonly args: unknown;
}

export interface Decision {
  readonly id: string;
  readonly outcome: 'allow' | 'deny';
  /** Stable ids of the policies that decided (the permits that allowed, or the forbids that denied). */
  readonly policies: readonly string[];
  readonly reason: string;
  /** Hash of the policy set that decided; `none` when no valid set is loaded. */
  readonly policySetHash: string;
}

export const CALL_TOOL = 'call_tool';

export interface PolicyEngine {
  /** Decides one call. Never throws for bad input: anything that cannot be decided is denied. */
  decide(req: DecisionRequest): Decision;
  /** Whether some arguments could let this agent call this tool (for `tools/list`). */
  couldAllow(agent: AgentIdentity, tool: ToolRef): boolean;
  readonly policySetHash: string;
}

function userUid(principal: string): cedar.TypeAndId {
  return { type: 'User', id: principal.replace(/^user:/, '') };
}

function entitiesFor(agent: AgentIdentity, tool: ToolRef): cedar.EntityJson[] {
  const user = userUid(agent.principal);
  return [
    {
      uid: { type: 'Agent', id: agent.id },
      attrs: {
        name: agent.name,
        version: agent.version,
        principal: { __entity: user },
        run: agent.run,
        depth: agent.depth,
      },
      // Every ancestor is a parent, so `principal in Agent::"<orchestrator>"` holds for a whole tree.
      parents: agent.ancestors.map((id) => ({ type: 'Agent', id })),
    },
    { uid: user, attrs: {}, parents: [] },
    {
      uid: { type: 'Tool', id: tool.id },
      attrs: { name: tool.name, server: tool.server, labels: { ...tool.labels } },
      // Grouping by server and label lets one rule cover a class of tools: `resource in Label::"blast_radius:high"`.
      parents: [
        { type: 'Server', id: tool.server },
        ...Object.entries(tool.labels).map(([k, v]) => ({ type: 'Label', id: `${k}:${v}` })),
      ],
    },
  ];
}

function quoteList(ids: readonly string[]): string {
  return ids.map((id) => `"${id}"`).join(', ');
}

/**
 * The Cedar engine over one preparsed policy set. With no valid set (`set` undefined) every call
 * is denied, naming `loadErrors`: failing to load policy must never open the gate.
 * @example const engine = createEngine(loadResult.ok ? loadResult.set : undefined, { maxArgDepth: 16 });
 */
export function createEngine(
  set: PolicySet | undefined,
  opts: { maxArgDepth: number; loadErrors?: readonly string[] },
): PolicyEngine {
  const psetId = set ? `pset-${set.hash}` : undefined;
  if (set && psetId) {
    const staticPolicies = Object.fromEntries(
      [...set.policies.values()].map((p) => [p.id, p.text]),
    );
    const res = cedar.preparsePolicySet(psetId, { staticPolicies });
    if (res.type === 'failure') {
      return createEngine(undefined, { ...opts, loadErrors: res.errors.map((e) => e.message) });
    }
  }
  const hash = set?.hash ?? 'none';
  const staticPolicies = set
    ? Object.fromEntries([...set.policies.values()].map((p) => [p.id, p.text]))
    : {};
  const deny = (policies: readonly string[], reason: string): Decision => ({
    id: newId('dec'),
    outcome: 'deny',
    policies,
    reason,
    policySetHash: hash,
  });
  const info = (id: string): PolicyInfo | undefined => set?.policies.get(id);

  const decide = (req: DecisionRequest): Decision => {
    if (!psetId) {
      return deny(
        [],
        `no valid policy set is loaded (${opts.loadErrors?.[0] ?? 'unknown error'}); every call is denied`,
      );
    }
    const args = toCedarValue(req.args, opts.maxArgDepth);
    if (!args.ok)
      return deny(
        [],
        `arguments refused before policy: ${args.problem.path}: ${args.problem.problem}`,
      );
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized({
        principal: { type: 'Agent', id: req.agent.id },
        action: { type: 'Action', id: CALL_TOOL },
        resource: { type: 'Tool', id: req.tool.id },
        context: { args: args.value },
        preparsedPolicySetId: psetId,
        entities: entitiesFor(req.agent, req.tool),
      });
    } catch (err) {
      return deny(
        [],
        `the policy engine failed (${(err as Error).message}); denied to fail closed`,
      );
    }
    if (answer.type === 'failure') {
      return deny(
        [],
        `the policy request was invalid (${answer.errors.map((e) => e.message).join('; ')}); denied to fail closed`,
      );
    }
    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length > 0) {
      // Cedar skips an erroring policy; a skipped forbid would let the call through, so any error denies.
      const failed = diagnostics.errors.map((e) => e.policyId);
      const detail = diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`).join('; ');
      return deny(failed, `policy evaluation failed (${detail}); denied to fail closed`);
    }
    const ids = diagnostics.reason;
    if (decision === 'allow') {
      return {
        id: newId('dec'),
        outcome: 'allow',
        policies: ids,
        reason: `permitted by ${quoteList(ids)}`,
        policySetHash: hash,
      };
    }
    if (ids.length === 0) {
      return deny(
        [],
        `no policy permits agent "${req.agent.name}" to call ${req.tool.id} with these arguments`,
      );
    }
    const reasons = ids.map((id) => info(id)?.annotations.reason).filter((r): r is string => !!r);
    return deny(ids, reasons.length > 0 ? reasons.join('; ') : `forbidden by ${quoteList(ids)}`);
  };

  // Partial evaluation reparses the set (about 1 ms a tool), and an agent lists its tools again on
  // every session and list_changed: remember answers per agent entity and tool for this policy set.
  const visible = new Map<string, boolean>();
  const evaluateVisibility = (agent: AgentIdentity, tool: ToolRef): boolean => {
    try {
      const answer = cedar.isAuthorizedPartial({
        principal: { type: 'Agent', id: agent.id },
        action: { type: 'Action', id: CALL_TOOL },
        resource: { type: 'Tool', id: tool.id },
        context: { args: { __extn: { fn: 'unknown', arg: 'args' } } },
        policies: { staticPolicies },
        entities: entitiesFor(agent, tool),
      });
      // Hidden only when policy denies whatever the arguments are.
      return answer.type === 'residuals' && answer.response.decision !== 'deny';
    } catch {
      return false;
    }
  };
  const couldAllow = (agent: AgentIdentity, tool: ToolRef): boolean => {
    if (!psetId) return false;
    const key = JSON.stringify([entitiesFor(agent, tool)]);
    const known = visible.get(key);
    if (known !== undefined) return known;
    const answer = evaluateVisibility(agent, tool);
    if (visible.size >= 10_000) visible.clear();
    visible.set(key, answer);
    return answer;
  };

  return { decide, couldAllow, policySetHash: hash };
}
