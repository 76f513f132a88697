import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { GatehouseError } from '../../errors/index.js';
import { MIGRATIONS } from './migrations.js';

export type StoreErrorCode = 'STORE_OPEN_FAILED' | 'STORE_CORRUPT' | 'STORE_RESULT_EXISTS';
export type Db = Database.Database;

/** How long a connection waits for another's write lock before SQLITE_BUSY. */
export const BUSY_MS = 5000;

/** Opens a SQLite file in WAL mode and brings its schema up to date. */
export function openDb(path: string): Db {
  let db: Db | undefined;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk when acknowledged (the audit log promises it); group commit keeps
    // this to one WAL sync per batch of calls.
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${BUSY_MS}`);
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof GatehouseError) throw err;
    throw new GatehouseError<StoreErrorCode>(
      'STORE_OPEN_FAILED',
      `cannot open the SQLite store at ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new GatehouseError<StoreErrorCode>(
      'STORE_CORRUPT',
      `the store has schema version ${current}, newer than this Gatehouse (${MIGRATIONS.length}); upgrade Gatehouse`,
    );
  }
  db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v] as string);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}

/** Runs synchronous SQLite work behind the async interface; a failure becomes a rejection, never a sync throw. */
export function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
