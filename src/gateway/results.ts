/**
 * Recording what a tool returned, for every enforcement point: the gateway (it saw the upstream
 * answer) and agent runtimes that ran the tool themselves and report it (POST /v1/results: the
 * Claude Code hook, the SDK guard). Both append the result entry, label its provenance and let
 * the run observe it the same way, so that later calls of the run are decided with it.
 */
import type { Logger } from 'pino';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson, jsonDigest, sha256Hex } from '../crypto/index.js';
import { splitToolName, type ToolsConfig, type TrustLevel } from '../config/index.js';
import { isGatehouseError } from '../errors/index.js';
import type { AgentIdentity } from '../identity/index.js';
import type { ToolRef } from '../policy/index.js';
import {
  labelResult,
  leafStrings,
  lowerTrust,
  resultTexts,
  type ResultLabel,
  type RunTracker,
} from '../provenance/index.js';
import type {
  AppendOptions,
  AuditReceipt,
  DecisionRecord,
  ResultRecord,
  Store,
} from '../store/index.js';

export interface ResultRecorderDeps {
  readonly config: ToolsConfig;
  readonly store: Store;
  readonly runs: RunTracker;
  readonly now: () => number;
  readonly log: Logger;
}

/** The call a result answers. */
export interface ResultCall {
  readonly decisionId: string;
  readonly agent: { readonly id: string; readonly run: string };
  readonly tool: Pick<ToolRef, 'id' | 'server' | 'name' | 'labels'>;
  /** The arguments the call sent: they label URL-fetching tools and are not evidence later. */
  readonly args: Readonly<Record<string, unknown>>;
}

/** What a tool returned, in MCP's shape (`content`, `structuredContent`, `isError`). */
export type ToolOutput = Pick<CallToolResult, 'content' | 'structuredContent' | 'isError'>;

/** The provenance label of a result as callers see it: source, trust level and audit entry. */
export interface ProvenanceJson {
  readonly trust: TrustLevel;
  readonly source: string;
  readonly server: string;
  readonly tool: string;
  readonly domain?: string;
  readonly entry: number;
}

export function provenanceJson(label: ResultLabel, entry: AuditReceipt): ProvenanceJson {
  return {
    trust: label.trust,
    source: label.source,
    server: label.server,
    tool: label.tool,
    ...(label.domain ? { domain: label.domain } : {}),
    entry: entry.index,
  };
}

/**
 * Appends result entries, labels results and lets the run observe them: the one way a result
 * becomes part of a run's provenance.
 */
export class ResultRecorder {
  constructor(private readonly deps: ResultRecorderDeps) {}

  /** Where `tool`'s result for `args` comes from and how far it is trusted (from config). */
  label(tool: ResultCall['tool'], args: Readonly<Record<string, unknown>>): ResultLabel {
    return labelResult(this.deps.config, tool, args);
  }

  /**
   * Appends the result entry of `call`, resolving once it is on disk (or only `written`); rejects
   * when it cannot be recorded.
   */
  append(
    call: ResultCall,
    label: ResultLabel,
    r: Pick<ResultRecord, 'status' | 'resultDigest' | 'detail' | 'origin' | 'approvedInRuntime'>,
    opts?: AppendOptions,
  ): Promise<AuditReceipt> {
    return this.deps.store.appendResult(
      {
        ...r,
        time: this.deps.now(),
        decisionId: call.decisionId,
        agent: { id: call.agent.id, run: call.agent.run },
        tool: call.tool.id,
        server: call.tool.server,
        trust: label.trust,
        source: label.source,
      },
      opts,
    );
  }

  /**
   * Records a result that reached the agent and lets its run observe the content: values the call
   * sent are not evidence for later calls. Rejects when the entry cannot be appended; with
   * `observeOnFailure` the run observes the content even then (the agent has it already).
   */
  async record(
    call: ResultCall,
    label: ResultLabel,
    output: ToolOutput,
    opts: Partial<Pick<ResultRecord, 'status' | 'detail' | 'origin' | 'approvedInRuntime'>> = {},
    observeOnFailure = false,
    /** Only part of the content was given: its untrusted values are not all known. */
    incomplete = false,
  ): Promise<AuditReceipt> {
    return this.commit(call, label, {
      entry: {
        status: opts.status ?? (output.isError === true ? 'error' : 'ok'),
        resultDigest: jsonDigest(output),
        ...(opts.detail !== undefined ? { detail: opts.detail } : {}),
        ...(opts.origin ? { origin: opts.origin } : {}),
        ...(opts.approvedInRuntime ? { approvedInRuntime: true } : {}),
      },
      texts: outputTexts(output),
      observeOnFailure,
      incomplete,
    });
  }

  /**
   * Records content other than a tool result that reached the agent's context (a resource read, a
   * prompt, what a server asked the model in a sampling request): digest of `raw`, `texts` observed.
   */
  recordContent(
    call: ResultCall,
    label: ResultLabel,
    raw: unknown,
    texts: readonly string[],
  ): Promise<AuditReceipt> {
    return this.commit(call, label, {
      entry: { status: 'ok', resultDigest: jsonDigest(raw) },
      texts,
      observeOnFailure: false,
      incomplete: false,
    });
  }

  private async commit(
    call: ResultCall,
    label: ResultLabel,
    what: {
      entry: Parameters<ResultRecorder['append']>[2];
      texts: readonly string[];
      observeOnFailure: boolean;
      incomplete: boolean;
    },
  ): Promise<AuditReceipt> {
    const observe = () => {
      this.deps.runs.observe(call.agent.run, label.trust, label.source, {
        texts: [...what.texts],
        echoed: call.args,
      });
      // Fail closed: a value of the missing part could be anywhere, so none is known clean.
      if (what.incomplete && label.trust === 'untrusted')
        this.deps.runs.distrustUnvouched(call.agent.run);
    };
    // Content that changes what a restart would restore of the run must be on disk before the
    // agent reads it; any other entry a power loss could drop restores the run just the same.
    const news = this.deps.runs.isNews(call.agent.run, label.trust, label.source);
    let receipt: AuditReceipt;
    try {
      receipt = await this.append(call, label, what.entry, { until: news ? 'durable' : 'written' });
    } catch (err) {
      // A second report of one result is the caller's mistake, answered as such; anything else
      // is the store failing, which operators must hear about.
      if (!isGatehouseError(err, 'STORE_RESULT_EXISTS'))
        this.deps.log.error(
          { err: (err as Error).message, decision: call.decisionId },
          'cannot record a result',
        );
      if (what.observeOnFailure) observe();
      throw err;
    }
    // On disk now: a restart would restore the run with it.
    if (news) this.deps.runs.logged(call.agent.run, label.trust, label.source);
    observe();
    return receipt;
  }
}

/**
 * The text a result puts in the agent's context: `resultTexts` (content, and structured content as
 * JSON), plus the string values of structured content on their own, since JSON escaping can hide a
 * value written inside quotes.
 */
function outputTexts(output: ToolOutput): string[] {
  const texts = resultTexts({ ...output, content: output.content ?? [] });
  if (output.structuredContent !== undefined) texts.push(...leafStrings(output.structuredContent));
  return texts;
}

/** A result a runtime reports for a call it ran itself (POST /v1/results). */
export interface ReportedResult {
  readonly decisionId: string;
  readonly status: ResultRecord['status'];
  readonly output: ToolOutput;
  readonly detail?: string;
  /** The call's arguments, when the decision record did not keep them (`audit.arguments`). */
  readonly args?: Record<string, unknown>;
  /**
   * The runtime's own user approved a call that needed approval (Claude Code's `ask`): its result
   * is recorded as such. A report can only add to what the run has read, so this loosens nothing.
   */
  readonly runtimeApproval?: boolean;
  /**
   * The runtime reported only part of what the tool returned (it was too large): for untrusted
   * content, every value nobody vouched for then counts as untrusted in the run.
   */
  readonly truncated?: boolean;
}

export type ReportOutcome =
  | { readonly ok: true; readonly receipt: AuditReceipt; readonly provenance: ProvenanceJson }
  | {
      readonly ok: false;
      readonly status: 400 | 403 | 404 | 409 | 503;
      readonly error: string;
      readonly message: string;
    };

export interface ReportDeps {
  readonly store: Store;
  readonly recorder: ResultRecorder;
}

/** In-process guard: one report per decision at a time, before the store's own uniqueness check. */
const inFlight = new Set<string>();

/**
 * Records the result of a call a runtime ran itself. The decision must exist, be the caller's own
 * (same agent and run), have let the call go ahead (allowed, or approved and used for exactly it;
 * or, said so by the runtime, approved by the runtime's own user), and have no result yet. The
 * label comes from config for the decided tool and its recorded arguments, never from the caller;
 * a reported result is never trusted above `internal` (it can taint the run, never vouch for a
 * value). The run observes the content even when it cannot be recorded: the agent has read it
 * either way.
 * @example const r = await reportResult(deps, agent, { decisionId, status: 'ok', output: { content } });
 */
export async function reportResult(
  deps: ReportDeps,
  agent: Pick<AgentIdentity, 'id' | 'run'>,
  report: ReportedResult,
): Promise<ReportOutcome> {
  const fail = (
    status: 400 | 403 | 404 | 409 | 503,
    error: string,
    message: string,
  ): ReportOutcome => ({ ok: false, status, error, message });
  const { store, recorder } = deps;
  const id = report.decisionId;
  let decision: DecisionRecord | undefined;
  try {
    decision = await store.getDecision(id);
  } catch {
    return fail(503, 'temporarily_unavailable', 'Gatehouse cannot read its decisions right now');
  }
  if (!decision) return fail(404, 'not_found', `no decision ${id}`);
  if (decision.agent.id !== agent.id || decision.agent.run !== agent.run)
    return fail(403, 'insufficient_scope', `decision ${id} was made for another agent`);
  if (decision.action !== 'call_tool') return fail(409, 'not_allowed', `${id} is not a tool call`);
  let approvedInRuntime = false;
  if (decision.outcome !== 'allow') {
    let used = false;
    try {
      used =
        decision.outcome === 'approval_required' &&
        (await store.approvalUsedBy(id))?.status === 'approved';
    } catch {
      return fail(503, 'temporarily_unavailable', 'Gatehouse cannot read its approvals right now');
    }
    approvedInRuntime =
      !used && decision.outcome === 'approval_required' && report.runtimeApproval === true;
    if (!used && !approvedInRuntime)
      return fail(
        409,
        'not_allowed',
        `decision ${id} did not allow the call (${decision.outcome.replace('_', ' ')}); a refused call has no result`,
      );
  }
  const args = argumentsOf(decision, report.args);
  if (!args.ok) return fail(400, 'invalid_request', args.message);
  if (inFlight.has(id)) return fail(409, 'conflict', `decision ${id} already has a result`);
  inFlight.add(id);
  try {
    try {
      if (await store.resultOf(id))
        return fail(409, 'conflict', `decision ${id} already has a result`);
    } catch {
      return fail(503, 'temporarily_unavailable', 'Gatehouse cannot read its records right now');
    }
    const name = splitToolName(decision.tool)?.name ?? decision.tool;
    const tool = { id: decision.tool, server: decision.server, name, labels: decision.labels };
    const configured = recorder.label(tool, args.value);
    // Only what the gateway itself saw may vouch for a value: a report can add taint, never remove it.
    const label: ResultLabel = { ...configured, trust: lowerTrust(configured.trust, 'internal') };
    const call: ResultCall = { decisionId: id, agent, tool, args: args.value };
    try {
      const receipt = await recorder.record(
        call,
        label,
        report.output,
        {
          status: report.status,
          ...(report.detail !== undefined ? { detail: report.detail } : {}),
          origin: 'runtime',
          ...(approvedInRuntime ? { approvedInRuntime: true } : {}),
        },
        true,
        report.truncated === true,
      );
      return { ok: true, receipt, provenance: provenanceJson(label, receipt) };
    } catch (err) {
      if (isGatehouseError(err, 'STORE_RESULT_EXISTS'))
        return fail(409, 'conflict', `decision ${id} already has a result`);
      return fail(
        503,
        'temporarily_unavailable',
        `Gatehouse could not record the result of decision ${id}; the run counts its content as read`,
      );
    }
  } finally {
    inFlight.delete(id);
  }
}

/**
 * The arguments a result is labelled with: those the decision kept, or those the caller sends
 * when the record kept less (a digest only, or redacted fields), provided they are exactly the
 * decided ones (same digest). Arguments sent for a decision that kept them whole must match too.
 */
function argumentsOf(
  decision: DecisionRecord,
  sent: Record<string, unknown> | undefined,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  if (sent !== undefined) {
    let digest: string;
    try {
      digest = `sha256:${sha256Hex(canonicalJson(sent))}`;
    } catch {
      return { ok: false, message: 'arguments: not plain JSON' };
    }
    if (digest !== decision.argsDigest)
      return { ok: false, message: 'arguments: not the arguments of the decided call' };
    return { ok: true, value: sent };
  }
  const kept = decision.args;
  return {
    ok: true,
    value: kept !== null && typeof kept === 'object' && !Array.isArray(kept) ? { ...kept } : {},
  };
}
