import {
  ErrorCode,
  McpError,
  type CallToolResult,
  type CreateMessageRequest,
  type ElicitRequest,
  type GetPromptResult,
  type ReadResourceResult,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { scopeAllows, type AgentIdentity } from '../identity/index.js';
import { INPUT_SCHEMA, TOOL_PIN, type Decision, type PolicyService } from '../policy/index.js';
import type { Approvals, HeldCall } from '../approvals/index.js';
import type { RunTracker } from '../provenance/index.js';
import { receiptJson } from '../audit/index.js';
import type { AuditReceipt } from '../store/index.js';
import type { ArgCheck, CatalogEntry, ToolCatalog } from './catalog.js';
import type { ContentTarget } from './content.js';
import { ContentGate } from './content-gate.js';
import type { ToolsConfig } from '../config/index.js';
import type { Decider } from './decider.js';
import type { PinGuard, PinVerdict } from './pins.js';
import { PROVENANCE_META, RECEIPT_META } from './meta.js';
import { provenanceJson, type ResultCall, type ResultRecorder } from './results.js';
import type { CallOwner } from './routing.js';
import type { ServerRequestGate, ServerRequestVerdict } from './server-requests.js';

export interface GateDeps {
  readonly catalog: ToolCatalog;
  /** Whether each tool's presented definition is the approved one. */
  readonly pins: PinGuard;
  readonly policy: PolicyService;
  readonly decider: Decider;
  readonly runs: RunTracker;
  readonly approvals: Approvals;
  /** Records results, labels their provenance and lets the run observe them. */
  readonly results: ResultRecorder;
  /** Trust levels and labels of servers and tools. */
  readonly config: ToolsConfig;
}

function toolError(text: string, meta?: Record<string, unknown>): CallToolResult {
  return { content: [{ type: 'text', text }], isError: true, ...(meta ? { _meta: meta } : {}) };
}

function decisionMeta(
  d: Decision,
  receipt: AuditReceipt,
  more: { approval?: { id: string; status: string }; result?: AuditReceipt } = {},
): Record<string, unknown> {
  const { approval, result } = more;
  return {
    'gatehouse/decision': { id: d.id, outcome: d.outcome, policies: d.policies },
    [RECEIPT_META]: {
      decision: receiptJson(receipt),
      ...(result ? { result: receiptJson(result) } : {}),
    },
    ...(approval ? { 'gatehouse/approval': approval } : {}),
  };
}

function deniedResult(d: Decision, receipt: AuditReceipt): CallToolResult {
  const who = d.policies.length > 0 ? d.policies.join(', ') : 'none (default deny)';
  return toolError(
    `Denied by Gatehouse (decision ${d.id}): ${d.reason}. Deciding policies: ${who}.`,
    decisionMeta(d, receipt),
  );
}

/** What an upstream reports while it works on a call, relayed to a client that asked for it. */
export type UpstreamProgress = (p: {
  readonly progress: number;
  readonly total?: number;
  readonly message?: string;
}) => void;

/** While a call waits for a person: progress for clients that asked for it. */
export type Progress = (elapsedMs: number, message: string) => void;

/**
 * The gate every tool call passes: scope, input schema, policy, record, then upstream.
 * Nothing reaches an upstream unless policy allowed it and the decision is in the log (written;
 * on disk before any answer that carries what the upstream returned). A result reaches the agent
 * once it is recorded: on disk first when it changes what the run would be restored with.
 */
export class Gate implements ServerRequestGate {
  private readonly content: ContentGate;

  constructor(private readonly deps: GateDeps) {
    this.content = new ContentGate(deps);
  }

  /**
   * The tools this agent could call under some arguments (with approval where policy asks), less
   * every tool whose presented definition is not approved.
   */
  async listTools(agent: AgentIdentity): Promise<Tool[]> {
    // Picks up approvals given elsewhere (CLI, API) since the last check: no restart needed.
    await this.deps.pins.refresh();
    const engine = this.deps.policy.current();
    const run = this.deps.runs.get(agent.run);
    const out: Tool[] = [];
    for (const entry of this.deps.catalog.all()) {
      if (
        this.deps.pins.verdict(entry).ok &&
        scopeAllows(agent.scope, entry.ref.id) &&
        engine.couldAllow(agent, entry.ref, run)
      )
        out.push(entry.def);
    }
    return out;
  }

  /** The pin verdict for a call; a refused tool is re-checked once, in case it was just approved. */
  private async admit(entry: CatalogEntry): Promise<PinVerdict> {
    const first = this.deps.pins.verdict(entry);
    if (first.ok) return first;
    await this.deps.pins.refresh();
    return this.deps.pins.verdict(entry);
  }

  /**
   * Decides and, when allowed, forwards one call. Unknown tools are a JSON-RPC error; every other
   * refusal is a tool result with `isError` naming the reason.
   */
  async callTool(
    agent: AgentIdentity,
    name: string,
    rawArgs: Record<string, unknown> | undefined,
    signal?: AbortSignal,
    progress?: Progress,
    relay?: UpstreamProgress,
    owner?: CallOwner,
  ): Promise<CallToolResult> {
    const { catalog } = this.deps;
    const entry = catalog.get(name);
    // As MCP servers answer it (and the conformance suite expects): a result the model can read.
    if (!entry) return toolError(`Unknown tool: ${name.slice(0, 128)}`);
    const args = rawArgs ?? {};
    // A definition that is not approved is refused before anything else: its schema is not trusted
    // either. Then arguments that fail the input schema. Both are recorded like any refusal.
    const pinned = await this.admit(entry);
    const check: ArgCheck = pinned.ok ? catalog.checkArgs(entry, args) : { ok: true };
    const refusal = !pinned.ok
      ? { policy: TOOL_PIN, reason: pinned.reason }
      : check.ok
        ? undefined
        : { policy: INPUT_SCHEMA, reason: `invalid arguments for ${name}: ${check.message}` };
    // The decision need only be in the log before forwarding: its disk sync runs while the
    // upstream works, and the answer (result or failure) reaches the agent only once it is done.
    const decided = await this.deps.decider.decide(agent, entry.ref, args, refusal, {
      forwardOnceWritten: true,
    });
    if (!decided.ok) return toolError(decided.message);
    const { decision, receipt } = decided;
    if (!pinned.ok) return toolError(pinned.reason, decisionMeta(decision, receipt));
    if (!check.ok) {
      return toolError(
        `Invalid arguments for ${name}: ${check.message}`,
        decisionMeta(decision, receipt),
      );
    }
    if (decision.outcome === 'deny') return deniedResult(decision, receipt);
    if (decision.outcome === 'approval_required') {
      const held = await this.holdForApproval(decided.held, receipt, signal, progress);
      if (held) return held;
    }
    const { results } = this.deps;
    const label = results.label(entry.ref, args);
    const call: ResultCall = { decisionId: decision.id, agent, tool: entry.ref, args };
    const record = (r: { status: 'failed'; detail: string }) => results.append(call, label, r);
    // Every answer from here on waits for the decision to be on disk (a durable failure entry
    // covers it); when it cannot be, the agent learns that the call may have acted unrecorded.
    const onDisk = () =>
      decided.onDisk.then(
        () => true,
        () => false,
      );
    const unrecorded = () =>
      toolError(
        `Gatehouse could not record this call, which may have reached upstream server "${entry.ref.server}" (decision ${decision.id}).`,
        decisionMeta(decision, receipt),
      );
    let result: CallToolResult;
    try {
      result = await entry.upstream.callTool(entry.ref.name, args, signal, relay, owner);
    } catch (err) {
      // A JSON-RPC error from the upstream itself is passed through as one, once it is recorded.
      if (
        err instanceof McpError &&
        err.code !== (ErrorCode.RequestTimeout as number) &&
        err.code !== (ErrorCode.ConnectionClosed as number)
      ) {
        const recorded = await record({
          status: 'failed',
          detail: `upstream error ${err.code}: ${err.message}`,
        }).catch(() => undefined);
        if (recorded) throw err;
        if (!(await onDisk())) return unrecorded();
        return toolError(
          `Gatehouse could not record the upstream's error for this call (decision ${decision.id}).`,
          decisionMeta(decision, receipt),
        );
      }
      const why =
        err instanceof McpError && err.code === (ErrorCode.RequestTimeout as number)
          ? `did not answer within the timeout`
          : `failed: ${(err as Error).message}`;
      const failed = await record({ status: 'failed', detail: why }).catch(() => undefined);
      if (!failed && !(await onDisk())) return unrecorded();
      return toolError(
        `Upstream server "${entry.ref.server}" ${why} (decision ${decision.id}).`,
        decisionMeta(decision, receipt, failed ? { result: failed } : {}),
      );
    }
    let resultReceipt: AuditReceipt;
    try {
      // What the upstream returned reaches the agent's context only once it is recorded; then
      // later calls of the run see it.
      const { _meta: _ignored, ...content } = result;
      resultReceipt = await results.record(call, label, content);
    } catch {
      if (!(await onDisk())) return unrecorded();
      // An answer whose record is lost would be an unaudited action reaching the agent.
      return toolError(
        `Gatehouse could not record the result of this call, so it was withheld (decision ${decision.id}).`,
        decisionMeta(decision, receipt),
      );
    }
    if (!(await onDisk())) return unrecorded();
    const meta = decisionMeta(decision, receipt, { result: resultReceipt });
    return {
      ...result,
      _meta: {
        ...result._meta,
        [RECEIPT_META]: meta[RECEIPT_META],
        [PROVENANCE_META]: provenanceJson(label, resultReceipt),
      },
    };
  }

  /**
   * Whether the agent may see a resource, resource template or prompt at all: filters the lists
   * and refuses subscriptions and completions for what it cannot see.
   */
  canSee(agent: AgentIdentity, target: ContentTarget): boolean {
    return this.content.canSee(agent, target);
  }

  /** Decides, records and reads a resource for the agent through the upstream that serves it. */
  readResource(
    agent: AgentIdentity,
    target: ContentTarget,
    owner: CallOwner,
    signal?: AbortSignal,
  ): Promise<ReadResourceResult> {
    return this.content.readResource(
      agent,
      target,
      () => target.upstream.readResource(target.uri ?? target.id, owner, signal),
      signal,
    );
  }

  /** Decides, records and gets a prompt from the upstream that offers it (by its own name). */
  getPrompt(
    agent: AgentIdentity,
    target: ContentTarget,
    args: Record<string, string> | undefined,
    owner: CallOwner,
    signal?: AbortSignal,
  ): Promise<GetPromptResult> {
    return this.content.getPrompt(
      agent,
      target,
      args,
      () => target.upstream.getPrompt(target.name, args, owner, signal),
      signal,
    );
  }

  /** Lets the run read what a completion suggested (see ContentGate.observeCompletion). */
  observeCompletion(agent: AgentIdentity, target: ContentTarget, values: readonly string[]): void {
    this.content.observeCompletion(agent, target, values);
  }

  /** Whether an upstream's sampling request may reach the agent whose call it came during. */
  decideSampling(
    agent: AgentIdentity,
    server: string,
    params: CreateMessageRequest['params'],
  ): Promise<ServerRequestVerdict> {
    return this.content.decideSampling(agent, server, params);
  }

  /** Whether an upstream's elicitation request may reach the user of the agent whose call it serves. */
  decideElicitation(
    agent: AgentIdentity,
    server: string,
    params: ElicitRequest['params'],
  ): Promise<ServerRequestVerdict> {
    return this.content.decideElicitation(agent, server, params);
  }

  /** Holds a call that needs a human; undefined when an approval for exactly this call was used. */
  private async holdForApproval(
    call: HeldCall,
    receipt: AuditReceipt,
    signal: AbortSignal | undefined,
    progress: Progress | undefined,
  ): Promise<CallToolResult | undefined> {
    const { decision } = call;
    try {
      const held = await this.deps.approvals.hold(call, {
        ...(signal ? { signal } : {}),
        ...(progress ? { progress } : {}),
      });
      if (held.kind === 'approved') return undefined;
      const approval = held.approval
        ? { id: held.approval.id, status: held.approval.status }
        : undefined;
      return toolError(
        `${held.message} Deciding policies: ${decision.policies.join(', ')} (decision ${decision.id}).`,
        decisionMeta(decision, receipt, approval ? { approval } : {}),
      );
    } catch (err) {
      // Without the store, nobody can be shown to have approved: refuse.
      return toolError(
        `Gatehouse could not reach its approval records (${(err as Error).message}); the call was not forwarded (decision ${decision.id}).`,
        decisionMeta(decision, receipt),
      );
    }
  }
}
