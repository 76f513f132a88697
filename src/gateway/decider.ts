import type { Logger } from 'pino';
import { canonicalJson, newId, sha256Hex } from '../crypto/index.js';
import { scopeAllows, type AgentIdentity } from '../identity/index.js';
import {
  CREDENTIAL_SCOPE,
  recordedAction,
  type Decision,
  type PolicyService,
  type RunContext,
  type ToolRef,
} from '../policy/index.js';
import type { HeldCall } from '../approvals/index.js';
import { keptArguments, type KeptArguments } from '../audit/index.js';
import type { ArgumentsRetention } from '../config/index.js';
import type { RunTracker } from '../provenance/index.js';
import type { AgentRef, AuditReceipt, Store } from '../store/index.js';

export interface DeciderDeps {
  readonly policy: PolicyService;
  readonly store: Store;
  readonly runs: RunTracker;
  readonly log: Logger;
  readonly now: () => number;
  /** What records keep of the arguments (`audit.arguments`). */
  readonly retention: ArgumentsRetention;
}

/** The agent as records keep it: what its verified credential said. */
export function agentRef(agent: AgentIdentity): AgentRef {
  return {
    id: agent.id,
    name: agent.name,
    version: agent.version,
    principal: agent.principal,
    run: agent.run,
    credential: agent.credential,
    depth: agent.depth,
    ancestors: agent.ancestors,
  };
}

/**
 * Whether a credential's scope lets the agent act on `tool`. Scope patterns are written for tool
 * names, so a resource (named by its URI) is only in a scope of `*`. A server asking back acts on
 * its own: the agent's scope does not limit it.
 */
export function inScope(scope: readonly string[], tool: ToolRef): boolean {
  switch (tool.kind ?? 'tool') {
    case 'sampling':
    case 'elicitation':
      return true;
    case 'resource':
      return scope.includes('*');
    default:
      return scopeAllows(scope, tool.id);
  }
}

/** A decided and recorded call, or why no decision could be trusted (then nothing may run). */
export type Decided =
  | {
      readonly ok: true;
      readonly decision: Decision;
      readonly run: RunContext;
      /** `sha256:<hex>` of the RFC 8785 canonical arguments, computed once per call. */
      readonly argsDigest: string;
      /** The call as an approval request holds it (agent, tool, arguments as kept, digest). */
      readonly held: HeldCall;
      /** Where the decision's audit entry landed. */
      readonly receipt: AuditReceipt;
      /**
       * Resolves once the decision entry is on disk (already, unless the call was allowed with
       * `forwardOnceWritten`); rejects if it cannot be. The call's answer (its result, or why it
       * failed) may not reach the agent before.
       */
      readonly onDisk: Promise<void>;
    }
  | {
      readonly ok: false;
      /** `invalid`: the request itself is wrong; `unavailable`: Gatehouse could not decide safely. */
      readonly kind: 'invalid' | 'unavailable';
      readonly message: string;
    };

/**
 * The sync of a decision appended `until`. It starts on the next turn of the event loop, once the
 * caller has forwarded the call: waking a thread-pool thread for the sync first delays the forward
 * on a machine with few cores (the woken thread takes the CPU the gateway needs).
 */
function onDisk(store: Store, until: 'written' | 'durable'): Promise<void> {
  if (until === 'durable') return Promise.resolve();
  const synced = new Promise<void>((resolve) => setImmediate(resolve)).then(() => store.synced());
  // Marked handled: a caller that refuses the call anyway never waits for it.
  synced.catch(() => undefined);
  return synced;
}

/**
 * The one decision function: credential scope, then policy, then the record. The gateway and the
 * decision API both call it, so every runtime is decided and recorded the same way.
 */
export class Decider {
  constructor(private readonly deps: DeciderDeps) {}

  /**
   * `refusal` records a call refused before policy (e.g. its arguments fail the input schema) as a
   * deny decision, so that every refusal is in the log too.
   *
   * The decision is on disk when this resolves, except an `allow` with `forwardOnceWritten`: a
   * caller that waits for `onDisk` before it answers (the gateway) may forward the call once the
   * decision is in the log; its disk sync starts on the next turn and runs while the upstream works.
   * @example const d = await decider.decide(agent, tool, { amount: 600 }); if (d.ok) d.decision.outcome
   */
  async decide(
    agent: AgentIdentity,
    tool: ToolRef,
    args: Record<string, unknown>,
    refusal?: { readonly policy: string; readonly reason: string },
    opts: { readonly forwardOnceWritten?: boolean } = {},
  ): Promise<Decided> {
    const { policy, store, runs, log, now, retention } = this.deps;
    try {
      // Lockdowns written by another process take effect on this call.
      await policy.sync();
    } catch (err) {
      log.error({ err: (err as Error).message }, 'cannot read lockdowns; call refused');
      return {
        ok: false,
        kind: 'unavailable',
        message: 'Gatehouse could not check for lockdowns, so the call was refused.',
      };
    }
    const engine = policy.current();
    const run = runs.get(agent.run);
    const argsProvenance = runs.argProvenance(agent.run, args, tool.argNames);
    const time = now();
    // Serialised once per call: the digest, the engine's size limit and what records keep use it.
    const canonical = canonicalJson(args);
    const argsBytes = Buffer.byteLength(canonical);
    const argsDigest = `sha256:${sha256Hex(canonical)}`;
    const before = inScope(agent.scope, tool)
      ? refusal
      : {
          policy: CREDENTIAL_SCOPE,
          reason: `${tool.id} is outside the scope of this credential`,
        };
    const decision: Decision = before
      ? {
          id: newId('dec'),
          outcome: 'deny',
          policies: [before.policy],
          reason: before.reason,
          approvers: [],
          policySetHash: engine.policySetHash,
        }
      : engine.decide({
          agent,
          tool,
          args,
          argsBytes,
          run,
          time,
          ...(argsProvenance ? { argsProvenance } : {}),
        });
    // Arguments refused for their size are kept as a digest only: refusals must not fill the store.
    const kept: KeptArguments =
      argsBytes <= policy.maxArgBytes ? keptArguments(args, retention) : {};
    const ref = agentRef(agent);
    const until = opts.forwardOnceWritten && decision.outcome === 'allow' ? 'written' : 'durable';
    let receipt: AuditReceipt;
    try {
      receipt = await store.appendDecision(
        {
          id: decision.id,
          time,
          agent: ref,
          action: recordedAction(tool),
          tool: tool.id,
          server: tool.server,
          labels: tool.labels,
          argsDigest,
          ...kept,
          run: argsProvenance ? { ...run, args: argsProvenance } : run,
          outcome: decision.outcome,
          policies: decision.policies,
          reason: decision.reason,
          policySetHash: decision.policySetHash,
          ...(decision.shadow
            ? {
                shadow: {
                  outcome: decision.shadow.outcome,
                  policies: decision.shadow.policies,
                  reason: decision.shadow.reason,
                },
              }
            : {}),
        },
        { until },
      );
    } catch (err) {
      log.error(
        { err: (err as Error).message, decision: decision.id },
        'cannot record decision; call refused',
      );
      return {
        ok: false,
        kind: 'unavailable',
        message: `Gatehouse could not record the decision for this call, so it was not forwarded (decision ${decision.id}).`,
      };
    }
    log.info(
      {
        decision: decision.id,
        outcome: decision.outcome,
        tool: tool.id,
        agent: agent.name,
        policies: decision.policies,
        ...(decision.shadow ? { shadow: decision.shadow.outcome } : {}),
      },
      'decision',
    );
    const held: HeldCall = { agent: ref, tool, args: kept.args, argsDigest, decision };
    return { ok: true, decision, run, argsDigest, held, receipt, onDisk: onDisk(store, until) };
  }
}
