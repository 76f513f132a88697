import { GatehouseError } from '../../errors/index.js';
import { decisionFromEntry, type AuditReceipt, type DecisionEntryJson } from '../entries.js';
import type { DecisionQuery, DecisionRecord, Store } from '../types.js';
import { decisionAppend, RESULT_EXISTS, resultAppend, type Append } from './append-batch.js';
import { settle, type Db, type StoreErrorCode } from './db.js';
import type { GroupCommit } from './group-commit.js';

/** A decisions row joined with its audit entry: the entry is the record's one full copy. */
interface DecisionRow {
  leaf: Buffer | null;
  legacy: string | null;
}

/** Pre-log rows keep JSON `null` for absent optional fields. */
type LegacyJson = Omit<DecisionRecord, 'args' | 'shadow'> & { args: unknown; shadow: unknown };

function toRecord(r: DecisionRow): DecisionRecord {
  if (r.leaf) return decisionFromEntry(JSON.parse(r.leaf.toString('utf8')) as DecisionEntryJson);
  const { args, shadow, ...rest } = JSON.parse(r.legacy ?? 'null') as LegacyJson;
  return {
    ...rest,
    ...(args !== null ? { args } : {}),
    ...(shadow !== null ? { shadow: shadow as DecisionRecord['shadow'] } : {}),
  };
}

const SELECT = `SELECT d.legacy AS legacy, e.leaf AS leaf FROM decisions d
  LEFT JOIN audit_entries e ON e.idx = d.audit_index`;

type DecisionOps = Pick<
  Store,
  'appendDecision' | 'appendResult' | 'resultOf' | 'listDecisions' | 'getDecision'
>;

/** Decisions and call results: appended through `commit`, read back from their audit entries. */
export function decisionOps(db: Db, commit: GroupCommit<Append>): DecisionOps {
  const byId = db.prepare<[string], DecisionRow>(`${SELECT} WHERE d.id = ?`);
  const result = db.prepare<[string], { idx: number; hash: Buffer }>(
    `SELECT e.idx AS idx, e.hash AS hash FROM results r JOIN audit_entries e ON e.idx = r.audit_index
     WHERE r.decision_id = ?`,
  );
  return {
    appendDecision: (record, opts) =>
      settle(() => decisionAppend(record)).then((a) => commit.submit(a, opts?.until)),
    appendResult: (record, opts) =>
      settle(() => resultAppend(record))
        .then((a) => commit.submit(a, opts?.until))
        .catch((err: unknown) => {
          if (err instanceof Error && err.message === RESULT_EXISTS)
            throw new GatehouseError<StoreErrorCode>('STORE_RESULT_EXISTS', RESULT_EXISTS);
          throw err;
        }),
    resultOf: (decisionId) =>
      settle((): AuditReceipt | undefined => {
        const row = result.get(decisionId);
        return row ? { index: row.idx, leafHash: row.hash.toString('hex') } : undefined;
      }),
    listDecisions: (q: DecisionQuery) =>
      settle(() => {
        const where: string[] = [];
        const params: Record<string, unknown> = { limit: q.limit };
        if (q.tool !== undefined) {
          where.push('d.tool = @tool');
          params.tool = q.tool;
        }
        if (q.agentName !== undefined) {
          where.push('d.agent_name = @agent');
          params.agent = q.agentName;
        }
        if (q.run !== undefined) {
          where.push('d.run_id = @run');
          params.run = q.run;
        }
        if (q.since !== undefined) {
          where.push('d.time_ms >= @since');
          params.since = q.since;
        }
        const sql = `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY d.seq DESC LIMIT @limit`;
        return (db.prepare(sql).all(params) as DecisionRow[]).map(toRecord);
      }),
    getDecision: (id) =>
      settle(() => {
        const row = byId.get(id);
        return row ? toRecord(row) : undefined;
      }),
  };
}
