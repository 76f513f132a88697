import { realpathSync } from 'node:fs';
import type { Store } from '../types.js';
import { approvalOps } from './approvals.js';
import { controlOps } from './control.js';
import { openDb } from './db.js';
import { decisionOps } from './decisions.js';
import { ledgerOps, ledgerWriter } from './ledger.js';
import { pinOps } from './pins.js';
import { appendBatchWriter } from './append-batch.js';
import { GroupCommit } from './group-commit.js';
import { WalSync, type SyncFile } from './wal-sync.js';

export type { StoreErrorCode } from './db.js';

/** How long appends wait for another process's write lock, as every connection does (db.ts). */
const BUSY_MS = 5000;
export type { SyncFile } from './wal-sync.js';

export interface SqliteStoreOptions {
  /**
   * Commit decisions and results without waiting for the disk on this thread, and sync the WAL on
   * the thread pool right after (group commit): what a server wants. An append still resolves only
   * once it is on disk unless the caller asks for `written`. Ignored for `:memory:`.
   */
  readonly backgroundSync?: boolean;
  /** The disk sync of the background sync (default: fs.fdatasync); tests make it wait or fail. */
  readonly syncFile?: SyncFile;
}

/** SQLite store (WAL). @example const store = openSqliteStore('.gatehouse/gatehouse.db') */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): Store {
  const db = openDb(path);
  const background = opts.backgroundSync === true && path !== ':memory:';
  // Appends get their own connection so that only they commit without syncing; every other
  // change (revocations, approvals, keys) stays durable when its transaction returns.
  const appendDb = background ? openDb(path) : db;
  if (background) {
    appendDb.pragma('synchronous = NORMAL');
    // GroupCommit waits for another process's lock between turns of the event loop, not in SQLite.
    appendDb.pragma('busy_timeout = 0');
  }
  // SQLite keeps the WAL next to the real file, following symlinks; the absolute path also keeps
  // working if the process changes its directory.
  const commit = new GroupCommit(
    appendBatchWriter(appendDb),
    background
      ? { wal: new WalSync(`${realpathSync(path)}-wal`, opts.syncFile), busyMs: BUSY_MS }
      : {},
  );
  const append = ledgerWriter(db);
  return {
    ...decisionOps(db, commit),
    ...controlOps(db, append),
    ...approvalOps(db, append),
    ...pinOps(db, append),
    ...ledgerOps(db),
    async close() {
      // Appends still queued were promised durability: write and sync them before closing.
      try {
        await commit.close();
      } finally {
        if (appendDb !== db) appendDb.close();
        db.close();
      }
    },
  };
}
