export type { AgentRef, DecisionQuery, DecisionRecord, Outcome, Store } from './types.js';
export { openSqliteStore, type StoreErrorCode } from './sqlite.js';
