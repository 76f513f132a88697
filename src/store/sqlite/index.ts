import type { Store } from '../types.js';
import { approvalOps } from './approvals.js';
import { controlOps } from './control.js';
import { openDb } from './db.js';
import { decisionOps } from './decisions.js';
import { ledgerOps, ledgerWriter } from './ledger.js';
import { pinOps } from './pins.js';
import { appendBatchWriter, type Append } from './append-batch.js';
import { InlineCommit, type Committer } from './group-commit.js';
import { WorkerCommit } from './worker-commit.js';

export type { StoreErrorCode } from './db.js';

export interface SqliteStoreOptions {
  /**
   * Write decisions and results (with their audit entries) from a worker thread, so that the WAL
   * sync never blocks this thread: what a server wants. Ignored for `:memory:`.
   */
  readonly appendWorker?: boolean;
}

/** SQLite store (WAL). @example const store = openSqliteStore('.gatehouse/gatehouse.db') */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): Store {
  const db = openDb(path);
  const append = ledgerWriter(db);
  const commit: Committer<Append> =
    opts.appendWorker && path !== ':memory:'
      ? new WorkerCommit(path)
      : new InlineCommit(appendBatchWriter(db));
  return {
    ...decisionOps(db, commit),
    ...controlOps(db, append),
    ...approvalOps(db, append),
    ...pinOps(db, append),
    ...ledgerOps(db),
    async close() {
      // Appends still queued were promised durability: write them before closing.
      await commit.close();
      db.close();
    },
  };
}
