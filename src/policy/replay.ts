import { splitToolName } from '../config/index.js';
import { CREDENTIAL_SCOPE, INPUT_SCHEMA, TOOL_PIN } from './schema.js';
import type { DecisionRecord } from '../store/index.js';
import type { Decision, PolicyEngine } from './engine.js';
import { kindOfAction, targets, type DecisionRequest, type ToolRef } from './request.js';

/** A recorded call and what the engine decides for it now. */
export interface ReplayedCall {
  readonly record: DecisionRecord;
  /** The decision of the engine replayed against (its `id` is fresh and recorded nowhere). */
  readonly now: Decision;
}

/**
 * Why a recorded call could not be replayed: its arguments were not kept, or it was refused before
 * policy was asked (the credential's scope, the input schema, or a tool definition not approved),
 * which the record alone cannot re-check.
 */
export type SkipReason = 'args_not_kept' | 'credential_scope' | 'input_schema' | 'tool_pin';

export interface ReplaySkip {
  readonly record: DecisionRecord;
  readonly why: SkipReason;
}

/** What the policy set on disk would have decided for recorded calls, compared with what was enforced. */
export interface ReplayReport {
  /** Hash of the policy set replayed against. */
  readonly policySetHash: string;
  /** How many records were re-decided (skipped ones excluded). */
  readonly replayed: number;
  /** Calls whose outcome would change, in the order of the records given. */
  readonly changed: readonly ReplayedCall[];
  /** Calls with the same outcome but other deciding policies (e.g. a policy was renamed or split). */
  readonly policiesChanged: readonly ReplayedCall[];
  readonly skipped: readonly ReplaySkip[];
}

/** Why a call was refused before policy was asked (see gateway/decider.ts), if it was. */
function refusedBeforePolicy(r: DecisionRecord): SkipReason | undefined {
  if (r.outcome !== 'deny' || r.policies.length !== 1) return undefined;
  if (r.policies[0] === CREDENTIAL_SCOPE) return 'credential_scope';
  if (r.policies[0] === TOOL_PIN) return 'tool_pin';
  return r.policies[0] === INPUT_SCHEMA ? 'input_schema' : undefined;
}

/** What a record was about, as the decision saw it (a resource is named by its URI). */
function recordTarget(r: DecisionRecord): ToolRef {
  const kind = kindOfAction(r.action);
  const name = splitToolName(r.tool)?.name ?? r.tool;
  switch (kind) {
    case 'resource':
      return targets.resource(r.server, r.tool);
    case 'sampling':
    case 'elicitation':
      // The trust the server had then, as recorded in its labels.
      return targets.asker(kind, r.server, r.labels.trust ?? 'untrusted');
    case 'prompt':
      return targets.prompt(r.server, r.tool, name);
    case 'tool':
      return {
        id: r.tool,
        server: r.server,
        name,
        labels: r.labels,
        ...(r.run.args ? { argNames: Object.keys(r.run.args) } : {}),
      };
  }
}

/** The request a record was decided on: its agent, tool, labels, arguments, run provenance and time. */
export function recordRequest(r: DecisionRecord): DecisionRequest {
  return {
    agent: {
      id: r.agent.id,
      name: r.agent.name,
      version: r.agent.version,
      principal: r.agent.principal,
      run: r.agent.run,
      depth: r.agent.depth,
      ancestors: r.agent.ancestors,
    },
    tool: recordTarget(r),
    args: r.args,
    run: { lowestTrust: r.run.lowestTrust, sources: r.run.sources },
    // Where each argument came from, as recorded: a re-decision must see what the decision saw.
    ...(r.run.args ? { argsProvenance: r.run.args } : {}),
    time: r.time,
  };
}

function samePolicies(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((id, i) => id === y[i]);
}

/**
 * Re-decides recorded calls with `engine` (each with its recorded agent, tool, labels, arguments,
 * run provenance and time) and compares with the recorded enforced outcome. Pure: nothing is
 * printed or written. Records without arguments cannot be replayed and are reported as skipped.
 * @example const report = replay(engine, await store.listDecisions({ limit: 1000, since })); report.changed.length
 */
export function replay(engine: PolicyEngine, records: readonly DecisionRecord[]): ReplayReport {
  const changed: ReplayedCall[] = [];
  const policiesChanged: ReplayedCall[] = [];
  const skipped: ReplaySkip[] = [];
  let replayed = 0;
  for (const record of records) {
    const before = refusedBeforePolicy(record);
    if (before) {
      skipped.push({ record, why: before });
      continue;
    }
    if (record.args === undefined) {
      skipped.push({ record, why: 'args_not_kept' });
      continue;
    }
    replayed++;
    const now = engine.decide(recordRequest(record));
    if (now.outcome !== record.outcome) changed.push({ record, now });
    else if (!samePolicies(now.policies, record.policies)) policiesChanged.push({ record, now });
  }
  return { policySetHash: engine.policySetHash, replayed, changed, policiesChanged, skipped };
}
