/**
 * The hot-path write: decisions and call results with their audit entries, one transaction per
 * batch. Used on the main thread (InlineCommit) and in the append worker (WorkerCommit).
 */
import { decisionEntry, resultEntry, type AuditReceipt } from '../entries.js';
import type { DecisionRecord, ResultRecord } from '../types.js';
import type { Db } from './db.js';
import { ledgerWriter, writeTx } from './ledger.js';

export type Append =
  | { readonly kind: 'decision'; readonly record: DecisionRecord }
  | { readonly kind: 'result'; readonly record: ResultRecord };

/** A batch writer over `db`: entries placed in order, decision rows indexed by their entry. */
export function appendBatchWriter(db: Db): (items: readonly Append[]) => AuditReceipt[] {
  const appendEntries = ledgerWriter(db);
  const insert = db.prepare(
    `INSERT INTO decisions (id, time_ms, agent_name, run_id, tool, outcome, audit_index)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  return writeTx(db, (items: readonly Append[]) => {
    const receipts = appendEntries(
      items.map((a) => (a.kind === 'decision' ? decisionEntry(a.record) : resultEntry(a.record))),
    );
    items.forEach((a, i) => {
      const receipt = receipts[i];
      if (!receipt) throw new Error('an audit entry is missing from the batch');
      if (a.kind !== 'decision') return;
      const d = a.record;
      insert.run(d.id, d.time, d.agent.name, d.agent.run, d.tool, d.outcome, receipt.index);
    });
    return receipts;
  });
}
