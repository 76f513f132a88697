import { realpathSync } from 'node:fs';
import type { Store } from '../types.js';
import { approvalOps } from './approvals.js';
import { controlOps } from './control.js';
import { BUSY_MS, openDb } from './db.js';
import { decisionOps } from './decisions.js';
import { ledgerOps, ledgerWriter } from './ledger.js';
import { pinOps } from './pins.js';
import { appendBatchWriter, type Append } from './append-batch.js';
import { GroupCommit } from './group-commit.js';
import { syncWalFile, WalSync, type SyncFile } from './wal-sync.js';

export type { StoreErrorCode } from './db.js';
export type { SyncFile } from './wal-sync.js';

export interface SqliteStoreOptions {
  /**
   * Commit decisions and results without waiting for the disk on this thread, and sync the WAL on
   * the thread pool right after (group commit): what a server wants. An append still resolves only
   * once it is on disk unless the caller asks for `written`. Ignored for `:memory:`.
   */
  readonly backgroundSync?: boolean;
  /**
   * The disk sync of the background sync and of syncAll (default: fs.fdatasync); tests make it wait
   * or fail.
   */
  readonly syncFile?: SyncFile;
}

/** SQLite store (WAL). @example const store = openSqliteStore('.gatehouse/gatehouse.db') */
export function openSqliteStore(path: string, opts: SqliteStoreOptions = {}): Store {
  const db = openDb(path);
  let appends: ReturnType<typeof backgroundAppends>;
  try {
    appends =
      opts.backgroundSync === true && path !== ':memory:'
        ? backgroundAppends(path, opts.syncFile)
        : { commit: new GroupCommit(appendBatchWriter(db)), close: () => undefined };
  } catch (err) {
    db.close();
    throw err;
  }
  const append = ledgerWriter(db);
  return {
    ...decisionOps(db, appends.commit),
    ...controlOps(db, append),
    ...approvalOps(db, append),
    ...pinOps(db, append),
    ...ledgerOps(db),
    failure: () => appends.commit.failure,
    synced: () => appends.commit.synced(),
    // Once, at start: a synchronous fdatasync of the WAL as it is, whoever wrote it.
    syncAll: async () => {
      if (path !== ':memory:') await syncWalFile(`${realpathSync(path)}-wal`, opts.syncFile);
    },
    async close() {
      // Appends still queued were promised durability: write and sync them before closing.
      try {
        await appends.commit.close();
      } finally {
        appends.close();
        db.close();
      }
    },
  };
}

/**
 * A server's appends: their own connection, so that only they commit without syncing (every other
 * change, such as a revocation, stays durable when its transaction returns), synced on the thread
 * pool (WalSync): the event loop never waits for the disk sync, nor for another process's lock
 * (GroupCommit retries between turns).
 */
function backgroundAppends(
  path: string,
  syncFile: SyncFile | undefined,
): { commit: GroupCommit<Append>; close(): void } {
  // SQLite keeps the WAL next to the real file, following symlinks; the absolute path also keeps
  // working if the process changes its directory.
  const wal = new WalSync(`${realpathSync(path)}-wal`, syncFile);
  const appendDb = openDb(path);
  appendDb.pragma('synchronous = NORMAL');
  appendDb.pragma('busy_timeout = 0');
  return {
    // As long as any connection waits for the lock (db.ts), but between turns of the event loop.
    commit: new GroupCommit<Append>(appendBatchWriter(appendDb), { wal, busyMs: BUSY_MS }),
    close: () => appendDb.close(),
  };
}
