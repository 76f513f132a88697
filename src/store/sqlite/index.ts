import type { Store } from '../types.js';
import { approvalOps } from './approvals.js';
import { controlOps } from './control.js';
import { openDb, settle } from './db.js';
import { decisionOps } from './decisions.js';

export type { StoreErrorCode } from './db.js';

/** SQLite store (WAL). @example const store = openSqliteStore('.gatehouse/gatehouse.db') */
export function openSqliteStore(path: string): Store {
  const db = openDb(path);
  return {
    ...decisionOps(db),
    ...controlOps(db),
    ...approvalOps(db),
    close: () =>
      settle(() => {
        db.close();
      }),
  };
}
