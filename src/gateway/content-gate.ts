/**
 * The gate for what is not a tool call but still carries content or authority across Gatehouse:
 * resource reads and prompts (an agent asks), and sampling requests (an upstream server asks the
 * agent's model to write). Each is decided by policy under its own action, recorded, and what it
 * brings into the agent's context is labelled for the run's provenance like a tool result.
 */
import {
  ErrorCode,
  McpError,
  type CreateMessageRequest,
  type ElicitRequest,
  type GetPromptResult,
  type ReadResourceResult,
} from '@modelcontextprotocol/sdk/types.js';
import { receiptJson } from '../audit/index.js';
import { serverTrust, type ToolsConfig } from '../config/index.js';
import type { AgentIdentity } from '../identity/index.js';
import {
  MAX_ELICITATION_FIELDS,
  MAX_FIELD_NAME,
  recordedAction,
  targets,
  type Decision,
  type PolicyService,
  type ToolRef,
} from '../policy/index.js';
import {
  labelContent,
  lowerTrust,
  promptTexts,
  resourceTexts,
  resultTexts,
  type RunTracker,
} from '../provenance/index.js';
import type { AuditReceipt } from '../store/index.js';
import { inScope, type Decided, type Decider } from './decider.js';
import type { Approvals } from '../approvals/index.js';
import { PROVENANCE_META, RECEIPT_META } from './meta.js';
import { provenanceJson, type ResultCall, type ResultRecorder } from './results.js';

/** JSON-RPC error code of a request Gatehouse refused (policy, scope, lockdown). */
export const DENIED_CODE = -32003;

/** A resource or prompt of an upstream, as the gate needs it. */
export interface GatedContent {
  readonly kind: 'resource' | 'prompt';
  readonly server: string;
  /** The resource's URI, or the prompt's exposed name. */
  readonly id: string;
  /** The upstream's own prompt name (a resource is named by its URI). */
  readonly name: string;
}

export interface ContentGateDeps {
  readonly config: ToolsConfig;
  readonly policy: PolicyService;
  readonly decider: Decider;
  readonly runs: RunTracker;
  readonly results: ResultRecorder;
  readonly approvals: Approvals;
}

/** What policy sees of a resource or prompt. */
export function contentRef(target: GatedContent): ToolRef {
  return target.kind === 'resource'
    ? targets.resource(target.server, target.id)
    : targets.prompt(target.server, target.id, target.name);
}

/** What policy sees of a server asking back through the agent: its name, its trust as a label. */
export function askerRef(
  config: ToolsConfig,
  server: string,
  kind: 'sampling' | 'elicitation',
): ToolRef {
  return targets.asker(kind, server, serverTrust(config, server));
}

function decisionData(d: Decision, receipt: AuditReceipt): Record<string, unknown> {
  return {
    'gatehouse/decision': { id: d.id, outcome: d.outcome, policies: d.policies },
    [RECEIPT_META]: { decision: receiptJson(receipt) },
  };
}

/** Why a decision that is not `allow` refuses the request, for the one who asked. */
function refusal(d: Decision): string {
  const who = d.policies.length > 0 ? d.policies.join(', ') : 'none (default deny)';
  return `Denied by Gatehouse (decision ${d.id}): ${d.reason}. Deciding policies: ${who}.`;
}

/** The texts of a sampling request's messages (content may be one block or a list of them). */
function samplingTexts(params: CreateMessageRequest['params']): string[] {
  const blocks = params.messages.flatMap((m) =>
    Array.isArray(m.content) ? (m.content as unknown[]) : [m.content],
  );
  const texts = resultTexts({ content: blocks as never });
  if (typeof params.systemPrompt === 'string') texts.push(params.systemPrompt);
  return texts;
}

/** The deciding "policy" of an elicitation request refused for its shape before policy. */
export const ELICITATION_SHAPE = 'gatehouse.elicitation-shape';

/** Why policy could not see an elicitation request whole (too many or too long field names). */
function elicitationProblem(params: ElicitRequest['params']): string | undefined {
  const schema = (params as { requestedSchema?: unknown }).requestedSchema;
  const props =
    schema !== null && typeof schema === 'object'
      ? (schema as { properties?: unknown }).properties
      : undefined;
  if (props === undefined || props === null || typeof props !== 'object') return undefined;
  const names = Object.keys(props);
  if (names.length > MAX_ELICITATION_FIELDS)
    return `the request asks for ${names.length} fields, more than the ${MAX_ELICITATION_FIELDS} policy reads`;
  if (names.some((n) => n.length > MAX_FIELD_NAME))
    return `the request names a field longer than ${MAX_FIELD_NAME} characters`;
  return undefined;
}

/** Policy, records and provenance for resources, prompts and sampling. */
export class ContentGate {
  constructor(private readonly deps: ContentGateDeps) {}

  /** Whether `agent` may see `target` in a list: its scope and policy could let it read it. */
  canSee(agent: AgentIdentity, target: GatedContent): boolean {
    const ref = contentRef(target);
    return (
      inScope(agent.scope, ref) &&
      this.deps.policy.current().couldAllow(agent, ref, this.deps.runs.get(agent.run))
    );
  }

  /**
   * Decides and records a resource read, then reads it with `forward` and records what came back
   * before the agent sees it. Refusals are JSON-RPC errors (code DENIED_CODE).
   */
  readResource(
    agent: AgentIdentity,
    target: GatedContent,
    forward: () => Promise<ReadResourceResult>,
    signal?: AbortSignal,
  ): Promise<ReadResourceResult> {
    return this.fetch(agent, target, { uri: target.id }, forward, resourceTexts, signal);
  }

  /** Decides and records getting a prompt, as `readResource` does. */
  getPrompt(
    agent: AgentIdentity,
    target: GatedContent,
    args: Readonly<Record<string, string>> | undefined,
    forward: () => Promise<GetPromptResult>,
    signal?: AbortSignal,
  ): Promise<GetPromptResult> {
    return this.fetch(
      agent,
      target,
      { name: target.name, arguments: args ?? {} },
      forward,
      promptTexts,
      signal,
    );
  }

  /**
   * What a completion brings into the agent's context: its suggestions, read by the run at the
   * server's trust but never above `internal` (they may echo what the agent typed). Not recorded:
   * a completion is asked for per keystroke, and what it may complete was checked by canSee.
   */
  observeCompletion(agent: AgentIdentity, target: GatedContent, values: readonly string[]): void {
    const label = labelContent(this.deps.config, target);
    this.deps.runs.observe(
      agent.run,
      lowerTrust(label.trust, 'internal'),
      `${label.source} (completion)`,
      { texts: values.slice(0, 100) },
    );
  }

  /**
   * Decides a sampling request `server` sent while serving `agent`, and records it. When allowed,
   * what the server wrote reaches the agent's model: the run reads it at the server's trust, but
   * never above `internal`. A server may quote values the agent sent it, so its request can add
   * taint and never vouch for a value.
   */
  async decideSampling(
    agent: AgentIdentity,
    server: string,
    params: CreateMessageRequest['params'],
  ): Promise<{ ok: true } | { ok: false; message: string }> {
    const ref = askerRef(this.deps.config, server, 'sampling');
    const decided = await this.deps.decider.decide(agent, ref, params);
    if (!decided.ok) return { ok: false, message: decided.message };
    const refused = await this.admit(decided, ref);
    if (refused) return { ok: false, message: refused };
    const configured = labelContent(this.deps.config, { kind: 'sampling', id: server, server });
    const label = { ...configured, trust: lowerTrust(configured.trust, 'internal') };
    try {
      await this.deps.results.recordContent(
        this.call(agent, decided.decision.id, ref, {}),
        label,
        params,
        samplingTexts(params),
      );
    } catch {
      return {
        ok: false,
        message: `Gatehouse could not record the sampling request, so it was refused (decision ${decided.decision.id}).`,
      };
    }
    return { ok: true };
  }

  /**
   * Decides an elicitation request `server` sent while serving `agent`, and records it with what
   * it asks for. The user answers it; the answer goes to the server, not into the agent's context.
   */
  async decideElicitation(
    agent: AgentIdentity,
    server: string,
    params: ElicitRequest['params'],
  ): Promise<{ ok: true } | { ok: false; message: string }> {
    const shape = elicitationProblem(params);
    const ref = askerRef(this.deps.config, server, 'elicitation');
    const decided = await this.deps.decider.decide(
      agent,
      ref,
      params,
      // Policy reads the field names; a request it could not read whole is refused, not cut short.
      shape ? { policy: ELICITATION_SHAPE, reason: shape } : undefined,
    );
    if (!decided.ok) return { ok: false, message: decided.message };
    const refused = await this.admit(decided, ref);
    return refused ? { ok: false, message: refused } : { ok: true };
  }

  /**
   * Undefined when a decided request may go ahead: allowed, or needing approval and approved by a
   * person (now, while it waits, or before, for exactly this request); else why it may not.
   */
  private async admit(
    decided: Extract<Decided, { ok: true }>,
    ref: ToolRef,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const { decision } = decided;
    if (decision.outcome === 'allow') return undefined;
    if (decision.outcome === 'deny') return refusal(decision);
    // Named by action and target: no tool name has a space, so an approval given for a read, a
    // prompt or a server's request can never be used for a tool call, nor the other way round.
    const tool = { ...decided.held.tool, id: `${recordedAction(ref)} ${ref.id}` };
    try {
      const held = await this.deps.approvals.hold(
        { ...decided.held, tool },
        signal ? { signal } : {},
      );
      if (held.kind === 'approved') return undefined;
      return `${held.message} Deciding policies: ${decision.policies.join(', ')} (decision ${decision.id}).`;
    } catch (err) {
      // Without the store, nobody can be shown to have approved: refuse.
      return `Gatehouse could not reach its approval records (${(err as Error).message}); the request was refused (decision ${decision.id}).`;
    }
  }

  private call(
    agent: AgentIdentity,
    decisionId: string,
    ref: ToolRef,
    args: Readonly<Record<string, unknown>>,
  ): ResultCall {
    return { decisionId, agent, tool: ref, args };
  }

  private async fetch<T extends ReadResourceResult | GetPromptResult>(
    agent: AgentIdentity,
    target: GatedContent,
    args: Record<string, unknown>,
    forward: () => Promise<T>,
    texts: (r: T) => string[],
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const ref = contentRef(target);
    const decided = await this.deps.decider.decide(agent, ref, args);
    if (!decided.ok) throw new McpError(ErrorCode.InternalError, decided.message);
    const { decision, receipt } = decided;
    const refused = await this.admit(decided, ref, signal);
    if (refused) throw new McpError(DENIED_CODE, refused, decisionData(decision, receipt));
    const label = labelContent(this.deps.config, target);
    const call = this.call(agent, decision.id, ref, args);
    let result: T;
    try {
      result = await forward();
    } catch (err) {
      const detail =
        err instanceof McpError
          ? `upstream error ${err.code}: ${err.message}`
          : (err as Error).message;
      // Recorded, then passed on as it came: the agent sees the upstream's own error.
      const recorded = await this.deps.results
        .append(call, label, { status: 'failed', detail: detail.slice(0, 500) })
        .catch(() => undefined);
      if (recorded) throw err;
      throw new McpError(
        ErrorCode.InternalError,
        `Gatehouse could not record the upstream's error for this request (decision ${decision.id}).`,
        decisionData(decision, receipt),
      );
    }
    let entry: AuditReceipt;
    try {
      const { _meta: _ignored, ...content } = result;
      entry = await this.deps.results.recordContent(call, label, content, texts(result));
    } catch {
      // Content whose record is lost would be unaudited content in the agent's context.
      throw new McpError(
        ErrorCode.InternalError,
        `Gatehouse could not record what ${target.server} returned, so it was withheld (decision ${decision.id}).`,
      );
    }
    return {
      ...result,
      _meta: {
        ...result._meta,
        [RECEIPT_META]: { decision: receiptJson(receipt), result: receiptJson(entry) },
        [PROVENANCE_META]: provenanceJson(label, entry),
      },
    };
  }
}
