import { newId } from '../crypto/index.js';
import { isScopeOnly } from './context-use.js';
import { toCedarValue } from './cedar-value.js';
import type { PolicyInfo, PolicySet } from './loader.js';
import { lockdownPolicy, type Lockdown } from './lockdown.js';
import {
  commonContext,
  entitiesFor,
  FRESH_RUN,
  isToolCall,
  kindContext,
  requestUids,
  type DecisionRequest,
  type PolicyAgent,
  type RunContext,
  type ToolRef,
} from './request.js';
import { CALL_TOOL, CREATE_MESSAGE, ELICIT, RESERVED_ACTIONS } from './schema.js';
import { visibility } from './visibility.js';
import { denyVerdict, PolicyVariant, type CedarRequest, type Verdict } from './variant.js';

export type PolicyMode = 'enforce' | 'shadow';

/** One decision: the verdict that was enforced, and what shadowed policies would have said. */
export interface Decision extends Verdict {
  readonly id: string;
  /** Hash of the policy set that decided (lockdowns and shadow mode included); `none` when no valid set is loaded. */
  readonly policySetHash: string;
  /** What the whole set, shadowed policies included, would have decided; present when anything is shadowed. */
  readonly shadow?: Verdict;
}

export interface EngineOptions {
  readonly maxArgDepth: number;
  /** Arguments larger than this (as JSON, in bytes) are refused before evaluation. */
  readonly maxArgBytes: number;
  /** `shadow`: every file policy is evaluated and recorded, none is enforced (lockdowns still are). */
  readonly mode?: PolicyMode;
  readonly lockdowns?: readonly Lockdown[];
  /** Why no valid set is loaded, when `set` is undefined. */
  readonly loadErrors?: readonly string[];
  readonly now?: () => number;
}

export interface PolicyEngine {
  /** Decides one call. Never throws for bad input: anything that cannot be decided is denied. */
  decide(req: DecisionRequest): Decision;
  /** Whether some arguments (with approval, if policy asks for it) could let this agent call this tool. */
  couldAllow(agent: PolicyAgent, tool: ToolRef, run?: RunContext): boolean;
  readonly policySetHash: string;
  /** Every policy in force, lockdowns included; empty when no valid set is loaded. */
  readonly policies: ReadonlyMap<string, PolicyInfo>;
  readonly mode: PolicyMode;
  readonly lockdowns: readonly Lockdown[];
}

const SHADOW_MODE_TEXT = '@id("gatehouse.shadow-mode")\npermit (principal, action, resource);';
const SHADOW_MODE: PolicyInfo = {
  id: 'gatehouse.shadow-mode',
  file: '(shadow mode)',
  line: 0,
  effect: 'permit',
  annotations: {},
  text: SHADOW_MODE_TEXT,
  shadow: false,
  scopeOnly: isScopeOnly(SHADOW_MODE_TEXT),
};

/** A permit Gatehouse puts in every set for one action, as its policy files would say it. */
function builtInPermit(id: string, action: string, condition?: string): PolicyInfo {
  const when = condition ? `\nwhen { ${condition} }` : '';
  const text = `@id("${id}")\npermit (principal, action == Action::"${action}", resource)${when};`;
  return {
    id,
    file: '(built in)',
    line: 0,
    effect: 'permit',
    annotations: { id },
    text,
    shadow: false,
    // What the loader would read from the text: the rule names its action (see variant.ts).
    scope: { actions: [action], resource: { kind: 'all' } },
    scopeOnly: isScopeOnly(text),
  };
}

/**
 * Gatehouse's own rules, in force in every set (a forbid in the set's files still wins).
 * Sampling is an injection route (a server writes what the agent's model is asked), so only
 * servers the config trusts may sample unless a policy permits more. The user answers an
 * elicitation themselves: any server may ask unless a policy forbids it.
 */
const BUILT_IN: readonly PolicyInfo[] = [
  builtInPermit(
    'gatehouse.sampling-trusted-servers',
    CREATE_MESSAGE,
    'resource.trust == "trusted"',
  ),
  builtInPermit('gatehouse.elicitation-any-server', ELICIT),
];

/**
 * A refusal says which arguments came from untrusted content, and from where: the person reading
 * it (or the approver) sees why the call looks like an injection.
 */
function withProvenance(v: Verdict, req: DecisionRequest): Verdict {
  if (v.outcome === 'allow' || !req.argsProvenance) return v;
  const tainted = Object.entries(req.argsProvenance)
    .filter(([, p]) => p.level === 'untrusted')
    .map(
      ([name, p]) => `${JSON.stringify(name.slice(0, 64))} from ${p.source ?? 'untrusted content'}`,
    );
  if (tainted.length === 0) return v;
  return { ...v, reason: `${v.reason} (untrusted arguments: ${tainted.join(', ')})` };
}

function defaultDenyReason(req: DecisionRequest): string {
  const who = `agent "${req.agent.name}"`;
  switch (req.tool.kind ?? 'tool') {
    case 'tool':
      return `no policy permits ${who} to call ${req.tool.id} with these arguments`;
    case 'resource':
      return `no policy permits ${who} to read ${req.tool.id}`;
    case 'prompt':
      return `no policy permits ${who} to get the prompt ${req.tool.id}`;
    case 'sampling':
      return `no policy permits server "${req.tool.server}" (trust ${req.tool.labels.trust ?? 'unknown'}) to ask the model of ${who} to generate text`;
    case 'elicitation':
      return `no policy permits server "${req.tool.server}" (trust ${req.tool.labels.trust ?? 'unknown'}) to ask the user of ${who} for input`;
  }
}

/** The failure-proof engine for a missing or broken policy set: it denies everything. */
function denyingEngine(opts: EngineOptions): PolicyEngine {
  const why = `no valid policy set is loaded (${opts.loadErrors?.[0] ?? 'unknown error'}); every call is denied`;
  return {
    decide: () => ({ id: newId('dec'), ...denyVerdict([], why), policySetHash: 'none' }),
    couldAllow: () => false,
    policySetHash: 'none',
    policies: new Map(),
    mode: opts.mode ?? 'enforce',
    lockdowns: opts.lockdowns ?? [],
  };
}

/**
 * The Cedar engine over one validated policy set plus the active lockdowns. With no valid set
 * (`set` undefined) every call is denied, naming `loadErrors`: failing to load policy must never
 * open the gate.
 * @example const engine = createEngine(loaded.ok ? loaded.set : undefined, { maxArgDepth: 16, maxArgBytes: 262144 });
 */
export function createEngine(set: PolicySet | undefined, opts: EngineOptions): PolicyEngine {
  if (!set) return denyingEngine(opts);
  const mode = opts.mode ?? 'enforce';
  const lockdowns = opts.lockdowns ?? [];
  let locked: PolicyInfo[];
  try {
    locked = lockdowns.map(lockdownPolicy);
  } catch (err) {
    // A lockdown that cannot be expressed safely must not be dropped: nothing passes instead.
    return denyingEngine({ ...opts, loadErrors: [(err as Error).message] });
  }
  const files = [...set.policies.values()];
  const all = new Map([...files, ...BUILT_IN, ...locked].map((p) => [p.id, p]));
  const enforcedList =
    mode === 'shadow'
      ? // The shadow permit names no action, so servers asking back are still decided by the
        // built-in rules (see variant.ts).
        [SHADOW_MODE, ...BUILT_IN, ...locked]
      : [...files.filter((p) => !p.shadow), ...BUILT_IN, ...locked];
  let enforced: PolicyVariant;
  let full: PolicyVariant | undefined;
  try {
    enforced = new PolicyVariant(new Map(enforcedList.map((p) => [p.id, p])));
    const shadowing = mode === 'shadow' || files.some((p) => p.shadow);
    full = shadowing ? new PolicyVariant(all) : undefined;
  } catch (err) {
    return denyingEngine({ ...opts, loadErrors: [(err as Error).message] });
  }
  const hash = full?.hash ?? enforced.hash;
  const now = opts.now ?? Date.now;

  const decide = (req: DecisionRequest): Decision => {
    const id = newId('dec');
    const refuse = (why: string): Decision => ({
      id,
      ...denyVerdict([], why),
      policySetHash: hash,
    });
    // A tool named like one of Gatehouse's own actions would be decided as that action.
    if (isToolCall(req.tool) && RESERVED_ACTIONS.has(req.tool.id))
      return refuse(`"${req.tool.id}" is reserved for Gatehouse's own actions; no tool may use it`);
    let size: number;
    try {
      size = req.argsBytes ?? Buffer.byteLength(JSON.stringify(req.args ?? {}));
    } catch {
      return refuse('arguments refused before policy: they are not plain JSON');
    }
    if (size > opts.maxArgBytes) {
      return refuse(
        `arguments refused before policy: ${size} bytes is more than the ${opts.maxArgBytes}-byte limit`,
      );
    }
    // Only a tool call's arguments reach policy as values; other kinds give policy a summary.
    const args = isToolCall(req.tool)
      ? toCedarValue(req.args, opts.maxArgDepth)
      : ({ ok: true, value: {} } as const);
    if (!args.ok) {
      return refuse(
        `arguments refused before policy: ${args.problem.path}: ${args.problem.problem}`,
      );
    }
    const cedarReq: CedarRequest = {
      ...requestUids(req.agent, req.tool),
      context: {
        ...kindContext(req, args.value),
        ...commonContext(req.agent, req.run ?? FRESH_RUN, req.time ?? now()),
      },
      entities: entitiesFor(req.agent, req.tool),
    };
    const defaultDeny = () => defaultDenyReason(req);
    const verdict = withProvenance(enforced.verdict(req.tool, cedarReq, defaultDeny), req);
    const shadow = full && withProvenance(full.verdict(req.tool, cedarReq, defaultDeny), req);
    return { id, ...verdict, policySetHash: hash, ...(shadow ? { shadow } : {}) };
  };

  const couldAllow = visibility(enforced.liftedTexts(), decide, now);

  return { decide, couldAllow, policySetHash: hash, policies: all, mode, lockdowns };
}

export { CALL_TOOL };
