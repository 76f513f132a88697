export type {
  AdminEvent,
  AdminKeyRecord,
  ApprovalAnswer,
  ApprovalRecord,
  ApprovalStatus,
  AgentRef,
  CheckpointRecord,
  DecisionQuery,
  DecisionRecord,
  LockdownRecord,
  Outcome,
  PersonRole,
  Revocation,
  ResultRecord,
  RevocationKind,
  RunRecord,
  Store,
  VerdictRecord,
} from './types.js';
export { openSqliteStore, type SqliteStoreOptions, type StoreErrorCode } from './sqlite/index.js';
export {
  ENTRY_VERSION,
  GENESIS_PREV,
  placeEntry,
  type AuditReceipt,
  type EntryBody,
  type PlacedEntry,
} from './entries.js';
