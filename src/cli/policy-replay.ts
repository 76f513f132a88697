import { loadConfig } from '../config/index.js';
import { replay, type ReplayedCall, type ReplayReport } from '../policy/replay.js';
import type { DecisionRecord } from '../store/index.js';
import { OptionCheck } from './common.js';
import { table } from './output.js';
import { engineFor, existingStore, stdoutWrite, type InsightIo } from './policy-insight-shared.js';

const DEFAULT_REPLAY_LIMIT = 100_000;
const MAX_REPLAY_LIMIT = 1_000_000;

export interface PolicyReplayOptions {
  config: string;
  since: string;
  limit?: string;
  json?: boolean;
}

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

/**
 * `gatehouse policy replay`: re-decides the calls recorded in the last `--since` with the policy
 * set on disk (and the lockdowns in force) and lists every call whose outcome would change.
 * A report: the exit status is 0 whether or not anything would change.
 */
export async function policyReplayCommand(
  o: PolicyReplayOptions,
  io: InsightIo = {},
): Promise<number> {
  const write = io.write ?? stdoutWrite;
  const check = new OptionCheck();
  const sinceMs = check.duration('--since', o.since);
  const limit = o.limit === undefined ? DEFAULT_REPLAY_LIMIT : Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_REPLAY_LIMIT)
    check.problem(`--limit must be a whole number from 1 to ${MAX_REPLAY_LIMIT}`);
  check.done();
  const config = loadConfig(o.config);
  const since = Date.now() - (sinceMs ?? 0);
  const store = existingStore(config);
  let report: ReplayReport;
  let records: DecisionRecord[] = [];
  try {
    const engine = await engineFor(config, store);
    if (store) records = await store.listDecisions({ limit, since });
    report = replay(engine, records);
  } finally {
    await store?.close();
  }
  const limited = records.length >= limit;
  if (o.json) {
    write(`${JSON.stringify(replayJson(report, since, limited))}\n`);
    return 0;
  }
  const out: string[] = [
    `Replayed the calls recorded since ${when(since)} UTC against ${config.policies.dir} (policy set ${report.policySetHash}).`,
  ];
  if (limited)
    out.push(`Only the newest ${limit} calls were replayed; raise --limit to replay more.`);
  if (report.changed.length > 0) {
    out.push(
      '',
      table(
        ['TIME', 'AGENT', 'TOOL', 'WAS', 'WOULD BE', 'POLICIES NOW', 'DECISION'],
        report.changed.map((c) => [
          when(c.record.time),
          `${c.record.agent.name}@${c.record.agent.version}`,
          c.record.tool,
          c.record.outcome.toUpperCase(),
          c.now.outcome.toUpperCase(),
          c.now.policies.join(',') || '-',
          c.record.id,
        ]),
      ),
    );
  }
  if (report.policiesChanged.length > 0) {
    out.push(
      '',
      'Same outcome, decided by other policies:',
      table(
        ['TIME', 'AGENT', 'TOOL', 'OUTCOME', 'POLICIES THEN', 'POLICIES NOW', 'DECISION'],
        report.policiesChanged.map((c) => [
          when(c.record.time),
          `${c.record.agent.name}@${c.record.agent.version}`,
          c.record.tool,
          c.record.outcome.toUpperCase(),
          c.record.policies.join(',') || '-',
          c.now.policies.join(',') || '-',
          c.record.id,
        ]),
      ),
    );
  }
  out.push('', replaySummary(report));
  write(`${out.join('\n')}\n`);
  return 0;
}

/** `N calls replayed, M would change, K could not be replayed (arguments not kept)`. */
export function replaySummary(r: ReplayReport): string {
  const noArgs = r.skipped.filter((s) => s.why === 'args_not_kept').length;
  const byScope = r.skipped.length - noArgs; // credential scope, input schema or tool pin
  const why =
    byScope === 0
      ? 'arguments not kept'
      : noArgs === 0
        ? 'refused before policy: credential scope, input schema or tool pin'
        : `${noArgs} arguments not kept, ${byScope} refused before policy`;
  const calls = (n: number) => `${n} call${n === 1 ? '' : 's'}`;
  return `${calls(r.replayed)} replayed, ${r.changed.length} would change, ${r.skipped.length} could not be replayed (${why})`;
}

function callJson(c: ReplayedCall): Record<string, unknown> {
  const r = c.record;
  return {
    decision_id: r.id,
    time: new Date(r.time).toISOString(),
    agent: {
      id: r.agent.id,
      name: r.agent.name,
      version: r.agent.version,
      principal: r.agent.principal,
    },
    tool: r.tool,
    was: { outcome: r.outcome, policies: r.policies, reason: r.reason },
    would_be: {
      outcome: c.now.outcome,
      policies: c.now.policies,
      reason: c.now.reason,
      ...(c.now.outcome === 'approval_required' ? { approvers: c.now.approvers } : {}),
    },
  };
}

function replayJson(r: ReplayReport, since: number, limited: boolean): Record<string, unknown> {
  return {
    since: new Date(since).toISOString(),
    policy_set_hash: r.policySetHash,
    replayed: r.replayed,
    limit_reached: limited,
    changed: r.changed.map(callJson),
    policies_changed: r.policiesChanged.map(callJson),
    skipped: r.skipped.map((s) => ({
      decision_id: s.record.id,
      time: new Date(s.record.time).toISOString(),
      tool: s.record.tool,
      why: s.why,
    })),
  };
}
