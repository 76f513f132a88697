/**
 * Gatehouse for in-process TypeScript agents (`gatehouse/agent-sdk`): a `canUseTool` callback for
 * the Claude Agent SDK, and `guard()` for any async tool function. Both ask the same decision
 * function as the gateway and the hook (`POST /v1/decide`), and fail closed.
 */
import {
  decideWaitingForApproval,
  type ContentBlock,
  type DecideRequest,
  type DecisionAnswer,
  type GatehouseClient,
  type ResultAnswer,
  type ResultReport,
} from '../client/index.js';
import { describeError, GatehouseError } from '../errors/index.js';
import { claudeToolName } from './tool-names.js';

/** What the Claude Agent SDK expects back from `canUseTool`. */
export type PermissionResult =
  | {
      readonly behavior: 'allow';
      readonly updatedInput: Record<string, unknown>;
      readonly updatedPermissions?: unknown[];
    }
  | { readonly behavior: 'deny'; readonly message: string; readonly interrupt?: boolean };

/** The third argument the SDK passes to `canUseTool`. */
export interface CanUseToolContext {
  readonly signal: AbortSignal;
  readonly suggestions?: unknown;
  readonly toolUseID?: string;
}

/** The Claude Agent SDK's `canUseTool` callback. */
export type CanUseTool = (
  toolName: string,
  input: Record<string, unknown>,
  options: CanUseToolContext,
) => Promise<PermissionResult>;

export interface GatehouseCanUseToolOptions {
  /** A client holding the agent's credential. */
  readonly client: GatehouseClient;
  /** Wait this long for a Gatehouse approval (then allow), instead of denying at once. */
  readonly waitForApprovalMs?: number;
  /** How often to ask again while waiting (default 2 s). */
  readonly pollMs?: number;
  /** Called with every decision (logging, metrics). */
  readonly onDecision?: (tool: string, decision: DecisionAnswer) => void;
}

function policiesOf(d: DecisionAnswer): string {
  return d.policies.length > 0 ? d.policies.join(', ') : 'none (default deny)';
}

function decide(
  client: GatehouseClient,
  req: DecideRequest,
  waitMs: number | undefined,
  pollMs: number | undefined,
  signal: AbortSignal | undefined,
): Promise<DecisionAnswer> {
  if (waitMs === undefined || waitMs <= 0) return client.decide(req, signal);
  return decideWaitingForApproval(client, req, {
    waitMs,
    ...(pollMs !== undefined ? { pollMs } : {}),
    ...(signal ? { signal } : {}),
  });
}

/**
 * A `canUseTool` callback for the Claude Agent SDK: every tool call is decided by Gatehouse as
 * Claude Code's are (`Bash` → `claude__Bash`, `mcp__s__t` → `s__t`). Allow lets the call run with
 * its input unchanged; deny and approval-required deny it with a message naming the deciding
 * policies and the decision (and the open approval request); any error denies (fail closed).
 * @example
 * const client = new GatehouseClient({ url: 'http://127.0.0.1:4100', token: process.env.GATEHOUSE_TOKEN });
 * for await (const m of query({ prompt, options: { canUseTool: gatehouseCanUseTool({ client }) } })) console.log(m);
 */
export function gatehouseCanUseTool(opts: GatehouseCanUseToolOptions): CanUseTool {
  return async (toolName, input, options) => {
    const mapped = claudeToolName(toolName);
    if (!mapped.ok) return { behavior: 'deny', message: `Gatehouse: ${mapped.reason}.` };
    let d: DecisionAnswer;
    try {
      d = await decide(
        opts.client,
        { tool: mapped.tool, arguments: input },
        opts.waitForApprovalMs,
        opts.pollMs,
        options?.signal,
      );
    } catch (err) {
      return {
        behavior: 'deny',
        message: `Gatehouse could not decide ${mapped.tool}, so it was refused: ${describeError(err)}`,
      };
    }
    try {
      opts.onDecision?.(mapped.tool, d);
    } catch {
      /* an observer never changes the decision */
    }
    const who = `Deciding policies: ${policiesOf(d)} (decision ${d.decision_id}).`;
    if (d.outcome === 'allow') return { behavior: 'allow', updatedInput: input };
    if (d.outcome === 'deny')
      return { behavior: 'deny', message: `Gatehouse denied ${mapped.tool}: ${d.reason}. ${who}` };
    const a = d.approval;
    const open = a
      ? ` Approval request ${a.id} is ${a.status}; retry the same call once a person approves it.`
      : '';
    return {
      behavior: 'deny',
      message: `Gatehouse: ${mapped.tool} needs a human approval: ${d.reason}.${open} ${who}`,
    };
  };
}

/**
 * - `GUARD_DENIED`: policy denied the call; the function was not called.
 * - `GUARD_APPROVAL_REQUIRED`: a person must approve this exact call first (`approvalId`).
 * - `GUARD_UNAVAILABLE`: Gatehouse could not decide; the function was not called.
 * - `GUARD_UNRECORDED`: the function ran but its result could not be recorded, so it is withheld.
 */
export type GuardErrorCode =
  'GUARD_DENIED' | 'GUARD_APPROVAL_REQUIRED' | 'GUARD_UNAVAILABLE' | 'GUARD_UNRECORDED';

/**
 * Why a guarded call did not return.
 * @example catch (err) { if (err instanceof GuardError && err.code === 'GUARD_APPROVAL_REQUIRED') notify(err.approvalId); }
 */
export class GuardError extends GatehouseError<GuardErrorCode> {
  constructor(
    code: GuardErrorCode,
    message: string,
    readonly decisionId?: string,
    readonly policies: readonly string[] = [],
    readonly approvalId?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/** What a guarded function's result is reported as. */
export type ReportedOutput = Pick<ResultReport, 'content' | 'text' | 'structured'> & {
  readonly status?: 'ok' | 'error';
};

export interface GuardOptions<R> {
  /** The tool as policy names it: `<server>__<tool>` or `{ server, name }`. */
  readonly tool: string | { readonly server: string; readonly name: string };
  /** A client holding the agent's credential. */
  readonly client: GatehouseClient;
  /** Wait this long for a Gatehouse approval before giving up with GUARD_APPROVAL_REQUIRED. */
  readonly waitForApprovalMs?: number;
  readonly pollMs?: number;
  /** How the result is reported (default: strings as text, MCP results as content, else JSON). */
  readonly toOutput?: (result: R) => ReportedOutput;
  /** Called with the recorded result's receipt and provenance. */
  readonly onRecorded?: (answer: ResultAnswer) => void;
}

/**
 * A result as it is reported: strings as text, MCP tool results as content, anything else as JSON.
 * @example defaultOutput({ balance: 100 }) // { structured: { balance: 100 } }
 */
export function defaultOutput(result: unknown): ReportedOutput {
  if (typeof result === 'string') return { text: result };
  if (result === undefined || result === null) return { text: '' };
  if (typeof result === 'object' && Array.isArray((result as { content?: unknown }).content)) {
    const r = result as { content: ContentBlock[]; structuredContent?: unknown; isError?: unknown };
    return {
      content: r.content,
      ...(r.structuredContent !== undefined ? { structured: r.structuredContent } : {}),
      ...(r.isError === true ? { status: 'error' } : {}),
    };
  }
  return { structured: result };
}

/**
 * Wraps an async tool function with the gate: decided before it runs (a denied, unapproved or
 * undecidable call throws a GuardError and never calls it), recorded after (its result's
 * provenance reaches the run), and withheld if the record fails (GUARD_UNRECORDED).
 * @example
 * const refund = guard(async (a: { customer: string; amount: number }) => payments.refund(a), { tool: 'payments__refund', client });
 * await refund({ customer: 'c-1001', amount: 120 }); // throws GuardError('GUARD_APPROVAL_REQUIRED') for 900
 */
export function guard<A extends Record<string, unknown>, R>(
  fn: (args: A) => Promise<R> | R,
  opts: GuardOptions<R>,
): (args: A) => Promise<R> {
  const name = typeof opts.tool === 'string' ? opts.tool : `${opts.tool.server}__${opts.tool.name}`;
  return async (args: A): Promise<R> => {
    let d: DecisionAnswer;
    try {
      d = await decide(
        opts.client,
        { tool: opts.tool, arguments: args },
        opts.waitForApprovalMs,
        opts.pollMs,
        undefined,
      );
    } catch (err) {
      throw new GuardError(
        'GUARD_UNAVAILABLE',
        `Gatehouse could not decide ${name}, so it was not called: ${describeError(err)}`,
        undefined,
        [],
        undefined,
        { cause: err },
      );
    }
    const who = `Deciding policies: ${policiesOf(d)} (decision ${d.decision_id}).`;
    if (d.outcome === 'deny')
      throw new GuardError(
        'GUARD_DENIED',
        `Gatehouse denied ${name}: ${d.reason}. ${who}`,
        d.decision_id,
        d.policies,
      );
    if (d.outcome === 'approval_required') {
      const a = d.approval;
      throw new GuardError(
        'GUARD_APPROVAL_REQUIRED',
        `Gatehouse: ${name} needs a human approval: ${d.reason}.${a ? ` Approval request ${a.id} is ${a.status}; call again with the same arguments once it is approved.` : ''} ${who}`,
        d.decision_id,
        d.policies,
        a?.id,
      );
    }
    let result: R;
    try {
      result = await fn(args);
    } catch (err) {
      // The failure is recorded (best effort); the caller gets the function's own error.
      await opts.client
        .recordResult({
          decision_id: d.decision_id,
          status: 'failed',
          detail: describeError(err).slice(0, 1000),
        })
        .catch(() => undefined);
      throw err;
    }
    let out: ReportedOutput;
    try {
      out = (opts.toOutput ?? defaultOutput)(result);
    } catch (err) {
      throw new GuardError(
        'GUARD_UNRECORDED',
        `the result of ${name} could not be turned into a record: ${describeError(err)}`,
        d.decision_id,
        d.policies,
        undefined,
        { cause: err },
      );
    }
    const { status, ...content } = out;
    try {
      const recorded = await opts.client.recordResult({
        decision_id: d.decision_id,
        status: status ?? 'ok',
        ...content,
      });
      opts.onRecorded?.(recorded);
    } catch (err) {
      throw new GuardError(
        'GUARD_UNRECORDED',
        `${name} ran but Gatehouse could not record its result, so it is withheld: ${describeError(err)}`,
        d.decision_id,
        d.policies,
        undefined,
        { cause: err },
      );
    }
    return result;
  };
}
