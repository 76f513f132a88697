import type * as cedar from './cedar.js';
import type { AgentIdentity } from '../identity/index.js';
import { CALL_TOOL } from './schema.js';

/** The agent as policy sees it: what its verified credential says. */
export type PolicyAgent = Pick<
  AgentIdentity,
  'id' | 'name' | 'version' | 'principal' | 'run' | 'depth' | 'ancestors'
>;

/** A tool as policy sees it. */
export interface ToolRef {
  /** Exposed name, `<server>__<tool>`; also the tool's own Cedar action. */
  readonly id: string;
  readonly server: string;
  /** The upstream's own tool name. */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The arguments its input schema declares; each gets `context.args_provenance` even when absent. */
  readonly argNames?: readonly string[];
}

export type TrustLevel = 'trusted' | 'internal' | 'untrusted';

/** What the run has read so far through Gatehouse. */
export interface RunContext {
  readonly lowestTrust: TrustLevel;
  /** The sources that brought content of the lowest trust. */
  readonly sources: readonly string[];
}

/** Where one argument's value came from in the run (see provenance/runs.ts). */
export interface ArgProvenance {
  /** `trusted`: the human gave it; `untrusted`: it came from untrusted content; `unknown`: neither. */
  readonly level: 'trusted' | 'untrusted' | 'unknown';
  /** What brought it: `input` for the human's own input, or the untrusted source. */
  readonly source?: string;
}

/** The provenance of each argument of one call, by argument name. */
export type ArgsProvenance = Readonly<Record<string, ArgProvenance>>;

/** A run that has read nothing yet. */
export const FRESH_RUN: RunContext = { lowestTrust: 'trusted', sources: [] };

export interface DecisionRequest {
  readonly agent: PolicyAgent;
  readonly tool: ToolRef;
  /** Attacker-controlled: the tool arguments exactly as the agent sent them. */
  readonly args: unknown;
  /**
   * Size of the arguments as JSON, when the caller has already serialised them (the gateway does,
   * for their digest): the engine then does not serialise them again.
   */
  readonly argsBytes?: number;
  /** Provenance of the run; a run with no recorded reads when absent. */
  readonly run?: RunContext;
  /** Where each argument came from; every argument `unknown` when absent. */
  readonly argsProvenance?: ArgsProvenance;
  /** When the call is decided, ms since the epoch; the engine's clock when absent. */
  readonly time?: number;
}

function userUid(principal: string): cedar.TypeAndId {
  return { type: 'User', id: principal.replace(/^user:/, '') };
}

/** The entities of one request: the agent and its lineage, its human, the tool and its action. */
export function entitiesFor(agent: PolicyAgent, tool: ToolRef): cedar.EntityJson[] {
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
      attrs: { name: tool.name, server: tool.server, exposed_name: tool.id },
      // Grouping by server and label lets one rule cover a class of tools: `resource in Label::"blast_radius:high"`.
      parents: [
        { type: 'Server', id: tool.server },
        ...Object.entries(tool.labels).map(([k, v]) => ({ type: 'Label', id: `${k}:${v}` })),
      ],
      tags: { ...tool.labels },
    },
    // Each tool is its own action in the `call_tool` group.
    {
      uid: { type: 'Action', id: tool.id },
      attrs: {},
      parents: [{ type: 'Action', id: CALL_TOOL }],
    },
  ];
}

/** `context.time` and `context.run`, the parts of the context every call has. */
export function commonContext(
  agent: PolicyAgent,
  run: RunContext,
  timeMs: number,
): Record<string, cedar.CedarValueJson> {
  const d = new Date(timeMs);
  return {
    time: {
      now: { __extn: { fn: 'datetime', arg: d.toISOString() } },
      hour_utc: d.getUTCHours(),
      weekday_utc: d.getUTCDay(),
    },
    run: { id: agent.run, lowest_trust: run.lowestTrust, sources: [...run.sources] },
  };
}

/** `context.args_provenance`: each argument's provenance level, `unknown` where none is known. */
export function provenanceContext(
  tool: ToolRef,
  args: unknown,
  known: ArgsProvenance | undefined,
): Record<string, cedar.CedarValueJson> {
  const out: Record<string, cedar.CedarValueJson> = {};
  for (const name of tool.argNames ?? []) out[name] = known?.[name]?.level ?? 'unknown';
  if (args !== null && typeof args === 'object' && !Array.isArray(args))
    for (const name of Object.keys(args)) out[name] = known?.[name]?.level ?? 'unknown';
  return out;
}
