export type {
  AdminEvent,
  AdminKeyRecord,
  AgentRef,
  DecisionQuery,
  DecisionRecord,
  Outcome,
  PersonRole,
  Revocation,
  RevocationKind,
  Store,
} from './types.js';
export { openSqliteStore, type StoreErrorCode } from './sqlite/index.js';
