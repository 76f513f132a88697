/**
 * The hot-path write: decisions and call results with their audit entries, one transaction per
 * batch, run by GroupCommit.
 */
import {
  decisionEntry,
  prepareEntry,
  resultEntry,
  type AuditReceipt,
  type PreparedEntry,
} from '../entries.js';
import type { DecisionRecord, ResultRecord } from '../types.js';
import type { Db } from './db.js';
import { ledgerWriter, writeTx } from './ledger.js';

/** The decisions row that indexes a decision entry: id, time, agent name, run, tool, outcome. */
type DecisionRow = readonly [string, number, string, string, string, string];

/** One append as posted to the writer: the prepared entry and, for a decision, its index row. */
export interface Append {
  readonly entry: PreparedEntry;
  readonly decision?: DecisionRow;
  /** For a result: the decision it answers (one result per decision). */
  readonly resultOf?: string;
}

/** The message of an append refused because its decision already has a result. */
export const RESULT_EXISTS = 'the decision already has a recorded result';

/** Prepares a decision for the writer (on the caller's thread: the costly serialisation). */
export function decisionAppend(d: DecisionRecord): Append {
  return {
    entry: prepareEntry(decisionEntry(d)),
    decision: [d.id, d.time, d.agent.name, d.agent.run, d.tool, d.outcome],
  };
}

export function resultAppend(r: ResultRecord): Append {
  return { entry: prepareEntry(resultEntry(r)), resultOf: r.decisionId };
}

/** A batch writer over `db`: entries placed in order, decision rows indexed by their entry. */
export function appendBatchWriter(db: Db): (items: readonly Append[]) => AuditReceipt[] {
  const appendEntries = ledgerWriter(db);
  const insert = db.prepare(
    `INSERT INTO decisions (id, time_ms, agent_name, run_id, tool, outcome, audit_index)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const result = db.prepare(
    'INSERT OR IGNORE INTO results (decision_id, audit_index) VALUES (?, ?)',
  );
  return writeTx(db, (items: readonly Append[]) => {
    const receipts = appendEntries(items.map((a) => a.entry));
    items.forEach((a, i) => {
      const receipt = receipts[i];
      if (!receipt) throw new Error('an audit entry is missing from the batch');
      if (a.decision) insert.run(...a.decision, receipt.index);
      // A second result for one decision fails its transaction (and only it: see writeEach).
      if (a.resultOf !== undefined && result.run(a.resultOf, receipt.index).changes === 0)
        throw new Error(RESULT_EXISTS);
    });
    return receipts;
  });
}
