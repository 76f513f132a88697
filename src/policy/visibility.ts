/**
 * What an agent may see in its lists: the tools it could call under some arguments, the resources
 * and prompts it could read now. Visibility is a convenience (every call is decided again), but a
 * hidden tool must never be one the agent could call, and listing must stay cheap for long lists.
 */
import * as cedar from './cedar.js';
import type { Decision } from './engine.js';
import {
  actionOf,
  agentEntities,
  commonContext,
  entitiesFor,
  FRESH_RUN,
  requestUids,
  type DecisionRequest,
  type PolicyAgent,
  type RunContext,
  type ToolRef,
} from './request.js';

/** Whether some request could let `agent` use `tool`; see PolicyEngine.couldAllow. */
export type CouldAllow = (agent: PolicyAgent, tool: ToolRef, run?: RunContext) => boolean;

const unknown = (name: string): cedar.CedarValueJson => ({ __extn: { fn: 'unknown', arg: name } });

/** Per-entry answers of resources and prompts were decided at one time, which policy may read. */
const ENTRY_TTL_MS = 60_000;
const MAX_REMEMBERED = 10_000;

function remember<T>(map: Map<string, T>, key: string, value: T): T {
  if (map.size >= MAX_REMEMBERED) map.clear();
  map.set(key, value);
  return value;
}

/**
 * The visibility function of one engine. `staticPolicies` are the enforced set's texts with every
 * liftable forbid lifted (approval counts as possible); `decide` is the engine's own.
 */
export function visibility(
  staticPolicies: Record<string, string>,
  decide: (req: DecisionRequest) => Decision,
  now: () => number,
): CouldAllow {
  const partial = (
    call: Omit<cedar.PartialAuthorizationCall, 'policies'>,
  ): 'allow' | 'deny' | 'depends' => {
    try {
      const answer = cedar.isAuthorizedPartial({ ...call, policies: { staticPolicies } });
      if (answer.type !== 'residuals') return 'deny';
      const d = answer.response.decision;
      return d === 'deny' ? 'deny' : d === 'allow' ? 'allow' : 'depends';
    } catch {
      return 'deny';
    }
  };
  const run = (agent: PolicyAgent, r: RunContext) => commonContext(agent, r, 0).run ?? {};

  // Partial evaluation reparses the set (about 1 ms a tool), and an agent lists its tools again on
  // every session and list_changed: remember answers per agent entity, tool and run trust.
  const answers = new Map<string, boolean>();
  const toolVisible = (agent: PolicyAgent, tool: ToolRef, r: RunContext): boolean => {
    const key = JSON.stringify([tool.kind ?? 'tool', entitiesFor(agent, tool), r]);
    const known = answers.get(key);
    if (known !== undefined) return known;
    const perKind: Record<string, cedar.CedarValueJson> =
      tool.kind === 'sampling'
        ? { sampling: unknown('sampling') }
        : tool.kind === 'elicitation'
          ? { elicitation: unknown('elicitation') }
          : { args: unknown('args'), args_provenance: unknown('args_provenance') };
    const answer = partial({
      ...requestUids(agent, tool),
      context: { ...perKind, time: unknown('time'), run: run(agent, r) },
      entities: entitiesFor(agent, tool),
    });
    // Hidden only when policy denies whatever the arguments are.
    return remember(answers, key, answer !== 'deny');
  };

  // A resource or prompt: first one answer for every entry of its kind (the resource unknown),
  // which settles most lists in one evaluation; else each entry as a read would be decided now.
  const broad = new Map<string, 'allow' | 'deny' | 'depends'>();
  const entries = new Map<string, { visible: boolean; until: number }>();
  const contentVisible = (agent: PolicyAgent, tool: ToolRef, r: RunContext): boolean => {
    const people = agentEntities(agent);
    const broadKey = JSON.stringify([tool.kind, people, r]);
    const any =
      broad.get(broadKey) ??
      remember(
        broad,
        broadKey,
        partial({
          principal: { type: 'Agent', id: agent.id },
          action: { type: 'Action', id: actionOf(tool) },
          resource: null,
          context: { time: unknown('time'), run: run(agent, r) },
          entities: people,
        }),
      );
    if (any !== 'depends') return any === 'allow';
    const t = now();
    const key = JSON.stringify([tool.kind, entitiesFor(agent, tool), r]);
    const known = entries.get(key);
    if (known && known.until > t) return known.visible;
    // Shown only when a read would be allowed (a read is never held for approval).
    const ok = decide({ agent, tool, args: {}, run: r, time: t }).outcome === 'allow';
    return remember(entries, key, { visible: ok, until: t + ENTRY_TTL_MS }).visible;
  };

  return (agent, tool, r = FRESH_RUN) =>
    tool.kind === 'resource' || tool.kind === 'prompt'
      ? contentVisible(agent, tool, r)
      : toolVisible(agent, tool, r);
}
