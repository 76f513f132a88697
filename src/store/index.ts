export type {
  AdminEvent,
  AdminKeyRecord,
  ApprovalAnswer,
  ApprovalRecord,
  ApprovalStatus,
  AgentRef,
  DecisionQuery,
  DecisionRecord,
  LockdownRecord,
  Outcome,
  PersonRole,
  Revocation,
  RevocationKind,
  RunRecord,
  Store,
  VerdictRecord,
} from './types.js';
export { openSqliteStore, type StoreErrorCode } from './sqlite/index.js';
