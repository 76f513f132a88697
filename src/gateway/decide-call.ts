import type { Approvals } from '../approvals/index.js';
import {
  configuredLabels,
  exposedName,
  runtimeToolArgNames,
  splitToolName,
  type Config,
} from '../config/index.js';
import type { AgentIdentity } from '../identity/index.js';
import { TOOL_PIN, type ToolRef } from '../policy/index.js';
import type { ToolCatalog } from './catalog.js';
import type { Decided, Decider } from './decider.js';
import type { PinGuard } from './pins.js';

/** A tool named as agents see it (`payments__refund`) or by server and upstream name. */
export type ToolSpec = string | { readonly server: string; readonly name: string };

/** An approval request a decision touched: created or found pending, or used for this call. */
export interface ApprovalRef {
  readonly id: string;
  readonly status: 'pending' | 'approved' | 'denied' | 'expired';
  /** True when this call used an approval already given: the runtime may run the tool. */
  readonly used: boolean;
  readonly message?: string;
}

export type DecidedCall =
  | (Extract<Decided, { ok: true }> & { readonly approval?: ApprovalRef })
  | Extract<Decided, { ok: false }>;

export interface DecideCallDeps {
  readonly config: Config;
  readonly catalog: ToolCatalog;
  readonly pins: PinGuard;
  readonly decider: Decider;
  readonly approvals: Approvals;
}

/**
 * Decides a call made outside the MCP gateway (the decision API). A tool the gateway serves is
 * refused while its definition is not approved (recorded), then checked against its input schema;
 * any other tool (an agent runtime's, such as `claude__Bash`) is decided with its labels from config.
 * A call that needs approval opens (or finds) its request without waiting; if an approval for
 * exactly this call was given, it is used now and the call may go ahead.
 */
export async function decideCall(
  deps: DecideCallDeps,
  agent: AgentIdentity,
  spec: ToolSpec,
  args: Record<string, unknown>,
): Promise<DecidedCall> {
  const { catalog, config, decider } = deps;
  // Named as the gateway names it (an upstream with `prefix: false` keeps its tools' own names).
  const id = typeof spec === 'string' ? spec : exposedName(config, spec.server, spec.name);
  let tool: ToolRef;
  const entry = catalog.get(id);
  if (entry) {
    if (!deps.pins.verdict(entry).ok) await deps.pins.refresh();
    const pinned = deps.pins.verdict(entry);
    if (!pinned.ok)
      return decider.decide(agent, entry.ref, args, { policy: TOOL_PIN, reason: pinned.reason });
    const check = catalog.checkArgs(entry, args);
    if (!check.ok)
      return {
        ok: false,
        kind: 'invalid',
        message: `Invalid arguments for ${id}: ${check.message}`,
      };
    tool = entry.ref;
  } else {
    const split = typeof spec === 'string' ? splitToolName(spec) : spec;
    if (!split)
      return {
        ok: false,
        kind: 'invalid',
        message: `"${id}" is not a known tool; name it as <server>__<tool> or { server, name }`,
      };
    const labels = configuredLabels(config, split.server, split.name) ?? {};
    // A runtime's built-in (claude__Bash) declares its arguments: each gets args_provenance.
    const argNames = runtimeToolArgNames(split.server, split.name);
    tool = {
      id,
      server: split.server,
      name: split.name,
      labels,
      ...(argNames ? { argNames } : {}),
    };
  }
  const decided = await decider.decide(agent, tool, args);
  if (!decided.ok || decided.decision.outcome !== 'approval_required') return decided;
  try {
    const held = await deps.approvals.hold(decided.held, { waitMs: 0 });
    if (held.kind === 'approved')
      return { ...decided, approval: { id: held.approval.id, status: 'approved', used: true } };
    const a = held.approval;
    return a
      ? { ...decided, approval: { id: a.id, status: a.status, used: false, message: held.message } }
      : decided;
  } catch {
    return {
      ok: false,
      kind: 'unavailable',
      message: 'Gatehouse could not reach its approval records.',
    };
  }
}
