import type {
  DecisionQuery,
  DecisionRecord,
  Outcome,
  RunRecord,
  Store,
  VerdictRecord,
} from '../types.js';
import { settle, type Db } from './db.js';

interface DecisionRow {
  id: string;
  time_ms: number;
  agent_id: string;
  agent_name: string;
  agent_version: string;
  principal: string;
  run_id: string;
  credential_id: string;
  depth: number;
  ancestors: string;
  action: string;
  tool: string;
  server: string;
  labels: string;
  args_digest: string;
  args: string | null;
  run_trust: RunRecord['lowestTrust'];
  run_sources: string;
  outcome: Outcome;
  policies: string;
  reason: string;
  policy_set_hash: string;
  shadow: string | null;
}

function toRecord(r: DecisionRow): DecisionRecord {
  return {
    id: r.id,
    time: r.time_ms,
    agent: {
      id: r.agent_id,
      name: r.agent_name,
      version: r.agent_version,
      principal: r.principal,
      run: r.run_id,
      credential: r.credential_id,
      depth: r.depth,
      ancestors: JSON.parse(r.ancestors) as string[],
    },
    action: r.action,
    tool: r.tool,
    server: r.server,
    labels: JSON.parse(r.labels) as Record<string, string>,
    argsDigest: r.args_digest,
    ...(r.args !== null ? { args: JSON.parse(r.args) as unknown } : {}),
    run: { lowestTrust: r.run_trust, sources: JSON.parse(r.run_sources) as string[] },
    outcome: r.outcome,
    policies: JSON.parse(r.policies) as string[],
    reason: r.reason,
    policySetHash: r.policy_set_hash,
    ...(r.shadow !== null ? { shadow: JSON.parse(r.shadow) as VerdictRecord } : {}),
  };
}

type DecisionOps = Pick<Store, 'appendDecision' | 'listDecisions' | 'getDecision'>;

/** Decision records in SQLite. */
export function decisionOps(db: Db): DecisionOps {
  const insert = db.prepare(
    `INSERT INTO decisions (id, time_ms, agent_id, agent_name, agent_version, principal, run_id,
       credential_id, depth, parent_id, root_id, ancestors, action, tool, server, labels, args_digest,
       args, run_trust, run_sources, outcome, policies, reason, policy_set_hash, shadow)
     VALUES (@id, @time_ms, @agent_id, @agent_name, @agent_version, @principal, @run_id,
       @credential_id, @depth, @parent_id, @root_id, @ancestors, @action, @tool, @server, @labels,
       @args_digest, @args, @run_trust, @run_sources, @outcome, @policies, @reason, @policy_set_hash,
       @shadow)`,
  );
  const byId = db.prepare<[string], DecisionRow>('SELECT * FROM decisions WHERE id = ?');
  return {
    appendDecision: (d) =>
      settle(() => {
        insert.run({
          id: d.id,
          time_ms: d.time,
          agent_id: d.agent.id,
          agent_name: d.agent.name,
          agent_version: d.agent.version,
          principal: d.agent.principal,
          run_id: d.agent.run,
          credential_id: d.agent.credential,
          depth: d.agent.depth,
          parent_id: d.agent.ancestors[0] ?? null,
          root_id: d.agent.ancestors.at(-1) ?? d.agent.id,
          ancestors: JSON.stringify(d.agent.ancestors),
          action: d.action,
          tool: d.tool,
          server: d.server,
          labels: JSON.stringify(d.labels),
          args_digest: d.argsDigest,
          args: d.args === undefined ? null : JSON.stringify(d.args),
          run_trust: d.run.lowestTrust,
          run_sources: JSON.stringify(d.run.sources),
          outcome: d.outcome,
          policies: JSON.stringify(d.policies),
          reason: d.reason,
          policy_set_hash: d.policySetHash,
          shadow: d.shadow ? JSON.stringify(d.shadow) : null,
        });
      }),
    listDecisions: (q: DecisionQuery) =>
      settle(() => {
        const where: string[] = [];
        const params: Record<string, unknown> = { limit: q.limit };
        if (q.tool !== undefined) {
          where.push('tool = @tool');
          params.tool = q.tool;
        }
        if (q.agentName !== undefined) {
          where.push('agent_name = @agent');
          params.agent = q.agentName;
        }
        if (q.run !== undefined) {
          where.push('run_id = @run');
          params.run = q.run;
        }
        if (q.since !== undefined) {
          where.push('time_ms >= @since');
          params.since = q.since;
        }
        const sql = `SELECT * FROM decisions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
        return (db.prepare(sql).all(params) as DecisionRow[]).map(toRecord);
      }),
    getDecision: (id) =>
      settle(() => {
        const row = byId.get(id);
        return row ? toRecord(row) : undefined;
      }),
  };
}
