import type * as cedar from './cedar.js';
import type { AgentIdentity } from '../identity/index.js';
import { CALL_TOOL, CREATE_MESSAGE, ELICIT, GET_PROMPT, READ_RESOURCE } from './schema.js';

/** The agent as policy sees it: what its verified credential says. */
export type PolicyAgent = Pick<
  AgentIdentity,
  'id' | 'name' | 'version' | 'principal' | 'run' | 'depth' | 'ancestors'
>;

/**
 * What a request acts on: a tool (an agent calls it), a resource (an agent reads it), a prompt (an
 * agent gets it) or a server asking back through the agent: `sampling` (the agent's model is to
 * generate text) or `elicitation` (the agent's user is asked for input).
 */
export type TargetKind = 'tool' | 'resource' | 'prompt' | 'sampling' | 'elicitation';

/** A tool as policy sees it, or (with `kind`) a resource, a prompt or a server asking back. */
export interface ToolRef {
  /**
   * Exposed name, `<server>__<tool>`, also the tool's own Cedar action; a resource's URI; a
   * prompt's exposed name; the server's name for sampling and elicitation.
   */
  readonly id: string;
  readonly server: string;
  /** The upstream's own tool or prompt name; a resource's URI; the server's name. */
  readonly name: string;
  /** Labels from config; for a server asking back, `trust` (the server's trust level). */
  readonly labels: Readonly<Record<string, string>>;
  /** The arguments its input schema declares; each gets `context.args_provenance` even when absent. */
  readonly argNames?: readonly string[];
  /** A tool when absent. */
  readonly kind?: TargetKind;
}

/** Whether a request is a tool call (the default kind). */
export function isToolCall(tool: Pick<ToolRef, 'kind'>): boolean {
  return tool.kind === undefined || tool.kind === 'tool';
}

/**
 * What policy sees of each kind that is not a tool, made in one place: the gateway, replay and
 * policy tests must describe a request the same way, or they would decide it differently.
 */
export const targets = {
  /** A resource, named by its URI. */
  resource: (server: string, uri: string): ToolRef => ({
    kind: 'resource',
    id: uri,
    server,
    name: uri,
    labels: {},
  }),
  /** A prompt: its exposed name, and the upstream's own name. */
  prompt: (server: string, exposed: string, name: string): ToolRef => ({
    kind: 'prompt',
    id: exposed,
    server,
    name,
    labels: {},
  }),
  /** A server asking back through the agent, with its configured trust as a label. */
  asker: (kind: 'sampling' | 'elicitation', server: string, trust: string): ToolRef => ({
    kind,
    id: server,
    server,
    name: server,
    labels: { trust },
  }),
};

interface TargetShape {
  /** The Cedar action of the request. */
  readonly action: string;
  /** The Cedar entity type of the resource. */
  readonly type: string;
}

const SHAPES: Readonly<Record<Exclude<TargetKind, 'tool'>, TargetShape>> = {
  resource: { action: READ_RESOURCE, type: 'Resource' },
  prompt: { action: GET_PROMPT, type: 'Prompt' },
  sampling: { action: CREATE_MESSAGE, type: 'Server' },
  elicitation: { action: ELICIT, type: 'Server' },
};

/** The action a request is decided (and recorded) as: a tool's own action, or the kind's. */
export function actionOf(tool: ToolRef): string {
  return !tool.kind || tool.kind === 'tool' ? tool.id : SHAPES[tool.kind].action;
}

/** The action a record names for the group of its kind (`call_tool` for every tool call). */
export function recordedAction(tool: ToolRef): string {
  return !tool.kind || tool.kind === 'tool' ? CALL_TOOL : SHAPES[tool.kind].action;
}

/** The kind of target a recorded action was about. */
export function kindOfAction(action: string): TargetKind {
  const found = Object.entries(SHAPES).find(([, s]) => s.action === action);
  return found ? (found[0] as TargetKind) : 'tool';
}

function resourceUid(tool: ToolRef): cedar.TypeAndId {
  return {
    type: !tool.kind || tool.kind === 'tool' ? 'Tool' : SHAPES[tool.kind].type,
    id: tool.id,
  };
}

/** The Cedar principal, action and resource of a request. */
export function requestUids(
  agent: PolicyAgent,
  tool: ToolRef,
): { principal: cedar.TypeAndId; action: cedar.TypeAndId; resource: cedar.TypeAndId } {
  return {
    principal: { type: 'Agent', id: agent.id },
    action: { type: 'Action', id: actionOf(tool) },
    resource: resourceUid(tool),
  };
}

function count(v: unknown): number {
  return Array.isArray(v) ? v.length : 0;
}

/**
 * `context.sampling` of a sampling request, from its parameters (attacker-controlled: an upstream
 * server wrote them; only their shape is read, never trusted).
 */
export function samplingContext(params: unknown): Record<string, cedar.CedarValueJson> {
  const p = (params !== null && typeof params === 'object' ? params : {}) as Record<
    string,
    unknown
  >;
  const maxTokens = p.maxTokens;
  const include = p.includeContext;
  return {
    max_tokens: typeof maxTokens === 'number' && Number.isSafeInteger(maxTokens) ? maxTokens : -1,
    messages: count(p.messages),
    include_context: typeof include === 'string' ? include.slice(0, 32) : 'none',
    has_system_prompt: typeof p.systemPrompt === 'string' && p.systemPrompt.length > 0,
    tools: count(p.tools),
  };
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

/** At most this many requested field names reach policy, each at most this long (the gate refuses more). */
export const MAX_ELICITATION_FIELDS = 64;
export const MAX_FIELD_NAME = 128;

/**
 * `context.elicitation` of an elicitation request: the names of the fields it asks the user for
 * (attacker-controlled: an upstream server wrote them; bounded, never trusted).
 */
export function elicitationContext(params: unknown): Record<string, cedar.CedarValueJson> {
  const p = (params !== null && typeof params === 'object' ? params : {}) as Record<
    string,
    unknown
  >;
  const schema = p.requestedSchema;
  const props =
    schema !== null && typeof schema === 'object'
      ? (schema as Record<string, unknown>).properties
      : undefined;
  const fields =
    props !== null && typeof props === 'object'
      ? Object.keys(props)
          .slice(0, MAX_ELICITATION_FIELDS)
          .map((k) => k.slice(0, MAX_FIELD_NAME))
      : [];
  return { fields, mode: typeof p.mode === 'string' ? p.mode.slice(0, 16) : 'form' };
}

/** The resource entity of a request: its attributes, and its server and labels as groups. */
function targetEntity(tool: ToolRef): cedar.EntityJson {
  const labels = Object.entries(tool.labels).map(([k, v]) => ({ type: 'Label', id: `${k}:${v}` }));
  // Every kind has name, server and exposed_name, so a rule over all of them still validates.
  const attrs: Record<string, cedar.CedarValueJson> = {
    name: tool.name,
    server: tool.server,
    exposed_name: tool.id,
  };
  if (tool.kind === 'resource') attrs.uri = tool.id;
  const asksBack = tool.kind === 'sampling' || tool.kind === 'elicitation';
  if (asksBack) attrs.trust = tool.labels.trust ?? 'untrusted';
  return {
    uid: resourceUid(tool),
    attrs,
    // Grouping by server and label lets one rule cover a class of tools: `resource in Label::"blast_radius:high"`.
    parents: asksBack ? labels : [{ type: 'Server', id: tool.server }, ...labels],
    tags: { ...tool.labels },
  };
}

/** The agent (its ancestors as parents) and its human. */
export function agentEntities(agent: PolicyAgent): cedar.EntityJson[] {
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
  ];
}

/** The entities of one request: the agent and its lineage, its human, the target and its action. */
export function entitiesFor(agent: PolicyAgent, tool: ToolRef): cedar.EntityJson[] {
  const isTool = isToolCall(tool);
  return [
    ...agentEntities(agent),
    targetEntity(tool),
    // Each tool is its own action in the `call_tool` group.
    ...(isTool
      ? [
          {
            uid: { type: 'Action', id: tool.id },
            attrs: {},
            parents: [{ type: 'Action', id: CALL_TOOL }],
          },
        ]
      : []),
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

/** The context a request of this kind carries besides time and run. */
export function kindContext(
  req: DecisionRequest,
  args: cedar.CedarValueJson,
): Record<string, cedar.CedarValueJson> {
  switch (req.tool.kind ?? 'tool') {
    case 'tool':
      return {
        args,
        args_provenance: provenanceContext(req.tool, req.args, req.argsProvenance),
      };
    case 'sampling':
      return { sampling: samplingContext(req.args) };
    case 'elicitation':
      return { elicitation: elicitationContext(req.args) };
    default:
      return {};
  }
}
