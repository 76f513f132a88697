/**
 * The audit log's public surface: RFC 6962 / RFC 9162 Merkle proofs, C2SP signed notes and
 * checkpoints, the log service (tree, checkpoints, proofs), its key, and argument redaction.
 */
export {
  leafHash,
  nodeHash,
  rootOf,
  inclusionProof,
  verifyInclusion,
  consistencyProof,
  verifyConsistency,
  type LeafSource,
  type SubtreeHash,
} from './merkle.js';
export {
  MAX_NOTE_BYTES,
  MAX_NOTE_SIGNATURES,
  isValidKeyName,
  noteKeyId,
  noteSigner,
  noteVerifier,
  openNote,
  parseVerifierKey,
  signNote,
  verifierKey,
  type KeyProblem,
  type NoteProblem,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  type ParsedKey,
} from './note.js';
export {
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  type Checkpoint,
  type CheckpointProblem,
  type CheckpointProblemCode,
  type OpenedCheckpoint,
  type ParsedCheckpoint,
} from './checkpoint.js';
export { MerkleTree } from './tree.js';
export {
  AuditLog,
  receiptJson,
  type AuditLogDeps,
  type AuditLogErrorCode,
  type ProvenEntry,
} from './log.js';
export { openLogKey, parseSignerKey, type LogKey, type LogKeyErrorCode } from './log-key.js';
export { keptArguments, REDACTED, type KeptArguments } from './redact.js';
export {
  ATTESTATION_PAYLOAD_TYPE,
  AUDIT_ENTRY_PREDICATE_TYPE,
  MAX_ENVELOPE_BYTES,
  STATEMENT_TYPE,
  attestEntry,
  attestationSubject,
  pae,
  type AttestInput,
  type AttestationProblem,
  type AuditEntryPredicate,
  type AuditEntryStatement,
  type DsseEnvelope,
  type DsseSignature,
  type VerifiedAttestation,
} from './attest.js';
export { verifyAttestation } from './attest-verify.js';
export {
  readBundle,
  writeBundle,
  type AuditErrorCode,
  type Bundle,
  type ReadBundleResult,
  type WriteBundleInput,
  type WriteBundleResult,
} from './bundle.js';
export {
  verifyBundle,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyProblemCode,
  type VerifyReport,
} from './verify.js';
