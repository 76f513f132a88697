import type { AuditReceipt, PlacedEntry } from './entries.js';
import type {
  ApproveToolRequest,
  ApproveToolResult,
  ObserveOptions,
  ToolObservation,
  ToolPinRecord,
} from './pin-types.js';

/** Identity of the agent behind a recorded decision, copied from its verified credential. */
export interface AgentRef {
  /** SPIFFE-style agent id (`client_id`). */
  readonly id: string;
  readonly name: string;
  readonly version: string;
  /** The human principal, e.g. `user:alice`. */
  readonly principal: string;
  readonly run: string;
  /** Credential id (`jti`). */
  readonly credential: string;
  /** 0 for a root orchestrator. */
  readonly depth: number;
  /** Agent ids of the ancestors, parent first, root orchestrator last. */
  readonly ancestors: readonly string[];
}

export type Outcome = 'allow' | 'deny' | 'approval_required';

/** What policy said, recorded for a shadowed evaluation. */
export interface VerdictRecord {
  readonly outcome: Outcome;
  readonly policies: readonly string[];
  readonly reason: string;
}

/** What the run had read when the call was decided. */
export interface RunRecord {
  readonly lowestTrust: 'trusted' | 'internal' | 'untrusted';
  readonly sources: readonly string[];
  /** Where each argument's value came from, when the run had read anything. */
  readonly args?: Readonly<
    Record<
      string,
      { readonly level: 'trusted' | 'untrusted' | 'unknown'; readonly source?: string }
    >
  >;
}

/** One decision of the gate, as stored. */
export interface DecisionRecord {
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly time: number;
  readonly agent: AgentRef;
  readonly action: string;
  /** Exposed tool name, `<server>__<tool>`. */
  readonly tool: string;
  readonly server: string;
  /** The tool's labels when it was decided. */
  readonly labels: Readonly<Record<string, string>>;
  /** `sha256:<hex>` of the RFC 8785 canonical arguments. */
  readonly argsDigest: string;
  /** The arguments as the agent sent them, minus redacted fields; absent when they were not kept. */
  readonly args?: unknown;
  /** Paths of the argument fields replaced by `[redacted]` before storage (`audit.arguments`). */
  readonly argsRedacted?: readonly string[];
  readonly run: RunRecord;
  /** The enforced outcome. */
  readonly outcome: Outcome;
  /** Stable ids of the deciding policies. */
  readonly policies: readonly string[];
  readonly reason: string;
  readonly policySetHash: string;
  /** What the set with its shadowed policies would have decided, when anything was shadowed. */
  readonly shadow?: VerdictRecord;
}

/** What an upstream answered to an allowed call (never its content: a digest of it). */
export interface ResultRecord {
  readonly time: number;
  /** The decision that let the call through. */
  readonly decisionId: string;
  readonly agent: Pick<AgentRef, 'id' | 'run'>;
  readonly tool: string;
  readonly server: string;
  /** `ok`: a result; `error`: a result flagged `isError`; `failed`: no result (timeout, transport). */
  readonly status: 'ok' | 'error' | 'failed';
  /** `sha256:<hex>` of the RFC 8785 canonical result, when there was one. */
  readonly resultDigest?: string;
  /** Why there was no result, for `failed`. */
  readonly detail?: string;
  /** The trust level of what reached the agent's context. */
  readonly trust: 'trusted' | 'internal' | 'untrusted';
  /** Where it came from, as run provenance names it (e.g. `web__fetch forum.example.net`). */
  readonly source?: string;
  /**
   * `runtime`: the agent runtime reported the result itself (POST /v1/results: a Claude Code hook,
   * an SDK guard); absent when the gateway saw it come back from the upstream.
   */
  readonly origin?: 'runtime';
  /**
   * The call needed a Gatehouse approval and ran after the runtime's own user approved it instead
   * (Claude Code's `ask`): the runtime says so when it reports the result.
   */
  readonly approvedInRuntime?: true;
}

/** A signed checkpoint as issued. */
export interface CheckpointRecord {
  readonly size: number;
  readonly time: number;
  /** The C2SP signed note text. */
  readonly note: string;
}

export interface DecisionQuery {
  /** At most this many, newest first. */
  readonly limit: number;
  readonly tool?: string;
  readonly agentName?: string;
  readonly run?: string;
  /** Only decisions at or after this time, ms since the epoch. */
  readonly since?: number;
}

/**
 * What a revocation names: one credential (`jti`), a compromised release (`agent`, `name@version`),
 * a whole run (`run`), or an agent or credential and every descendant (`subtree`).
 */
export type RevocationKind = 'jti' | 'agent' | 'run' | 'subtree';

export interface Revocation {
  readonly kind: RevocationKind;
  readonly value: string;
  readonly reason: string;
  /** ms since the epoch. */
  readonly time: number;
  /** Who revoked: an admin key name, or `local` for the host's administrator. */
  readonly by: string;
}

export type PersonRole = 'admin' | 'approver';

/** A person's API key, as stored: only a hash of its secret. */
export interface AdminKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly role: PersonRole;
  /** SHA-256 hex of the secret part. */
  readonly secretHash: string;
  readonly createdAt: number;
  /** Groups the person belongs to; `@approvers("finance")` policies are matched against them. */
  readonly groups: readonly string[];
}

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';

/**
 * A request for a human to lift an `@approval` forbid for exactly one call: bound to the run, the
 * tool and the digest of the arguments, used at most once, and expiring.
 */
export interface ApprovalRecord {
  readonly id: string;
  /** The decision (outcome `approval_required`) that asked for it. */
  readonly decisionId: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly status: ApprovalStatus;
  readonly agent: AgentRef;
  /** Exposed tool name. */
  readonly tool: string;
  readonly server: string;
  readonly args: unknown;
  readonly argsDigest: string;
  readonly policies: readonly string[];
  readonly reason: string;
  /** Groups that may approve; empty: any approver. */
  readonly approvers: readonly string[];
  /** Who approved or denied, and why. */
  readonly decidedBy?: string;
  readonly decidedAt?: number;
  readonly decisionReason?: string;
  /** When an approved request was used, and by which decision. */
  readonly usedAt?: number;
  readonly usedByDecision?: string;
}

/** What an approver's answer changes. */
export interface ApprovalAnswer {
  readonly status: 'approved' | 'denied';
  readonly by: string;
  readonly reason: string;
  readonly time: number;
}

/** A lockdown as stored (see policy/lockdown). */
export interface LockdownRecord {
  readonly pattern: string;
  readonly reason: string;
  readonly by: string;
  readonly time: number;
}

/** A recorded administrative change (key rotation, revocation, admin key creation, ...). */
export interface AdminEvent {
  readonly time: number;
  readonly kind: string;
  readonly actor: string;
  readonly detail: Readonly<Record<string, unknown>>;
}

/** How far an append must get before it resolves. */
export interface AppendOptions {
  /**
   * `durable` (the default): on disk. `written`: in the log, in order and readable by everyone,
   * safe from a crash of this process, and on disk after the sync that follows at once; a later
   * `durable` append of the same store covers it. For a caller that makes a later append durable
   * before anything depends on this one being on disk.
   */
  readonly until?: 'durable' | 'written';
}

/**
 * Storage behind the gate. Every operation is async so that a networked database (PostgreSQL)
 * can implement the same interface; callers make no assumption about SQLite.
 */
export interface Store {
  /**
   * Stores a decision and appends its audit entry in one transaction, batched with concurrent
   * appends (group commit); resolves once both are durable, or only written (see AppendOptions).
   */
  appendDecision(record: DecisionRecord, opts?: AppendOptions): Promise<AuditReceipt>;
  /**
   * Appends the audit entry of a call's result (group commit, durable when resolved unless
   * `until: 'written'`). A decision has at most one result: a second is refused
   * (`STORE_RESULT_EXISTS`).
   */
  appendResult(record: ResultRecord, opts?: AppendOptions): Promise<AuditReceipt>;
  /** Where the result of a decision was recorded; undefined when it has none yet. */
  resultOf(decisionId: string): Promise<AuditReceipt | undefined>;
  listDecisions(query: DecisionQuery): Promise<DecisionRecord[]>;
  getDecision(id: string): Promise<DecisionRecord | undefined>;

  /** Adds a revocation and records the event in one transaction; false when it already existed. */
  addRevocation(r: Revocation): Promise<boolean>;
  /** Revocations with a sequence number above `afterSeq`, oldest first. */
  listRevocations(afterSeq: number): Promise<{ seq: number; revocation: Revocation }[]>;

  createAdminKey(k: AdminKeyRecord): Promise<void>;
  getAdminKey(id: string): Promise<AdminKeyRecord | undefined>;
  listAdminKeys(): Promise<AdminKeyRecord[]>;

  /** Stores a new pending request and records the event in one transaction. */
  createApproval(a: ApprovalRecord): Promise<void>;
  getApproval(id: string): Promise<ApprovalRecord | undefined>;
  /** Newest first. */
  listApprovals(q: { status?: ApprovalStatus; limit: number }): Promise<ApprovalRecord[]>;
  /** Pending or approved-and-unused requests for this run, tool and argument digest, newest first. */
  findApprovals(run: string, tool: string, argsDigest: string): Promise<ApprovalRecord[]>;
  /** Approves or denies a pending, unexpired request (recorded); undefined when it was not pending. */
  answerApproval(id: string, answer: ApprovalAnswer): Promise<ApprovalRecord | undefined>;
  /** The approval request used by decision `decisionId`, if one was. */
  approvalUsedBy(decisionId: string): Promise<ApprovalRecord | undefined>;
  /** Marks an approved, unexpired request used by `decisionId` (recorded); false when it cannot be used. */
  consumeApproval(id: string, decisionId: string, time: number): Promise<boolean>;
  /** Expires pending requests past their time (recorded); returns their ids. */
  expireApprovals(time: number): Promise<string[]>;

  /** Adds a lockdown and records the event in one transaction; false when the pattern is already locked. */
  addLockdown(l: LockdownRecord): Promise<boolean>;
  /** Lifts a lockdown and records the event in one transaction; false when the pattern was not locked. */
  liftLockdown(pattern: string, by: string, time: number): Promise<boolean>;
  listLockdowns(): Promise<LockdownRecord[]>;

  /**
   * Checks tool definitions against their pins, in order, in one transaction with the events it
   * records: pins a tool seen for the first time (`tool.pin`), marks a different definition as
   * changed (`tool.change`, once per distinct definition), and changes nothing when it matches.
   */
  observeTools(list: readonly ToolObservation[], opts: ObserveOptions): Promise<ToolPinRecord[]>;
  /** Tool pins, by tool id. */
  listToolPins(): Promise<ToolPinRecord[]>;
  getToolPin(tool: string): Promise<ToolPinRecord | undefined>;
  /** Approves the presented definition of a held tool and records who did (`tool.approve`). */
  approveTool(tool: string, req: ApproveToolRequest): Promise<ApproveToolResult>;

  /** Records an event and appends its audit entry in one transaction. */
  recordEvent(e: AdminEvent): Promise<AuditReceipt>;
  listEvents(limit: number): Promise<AdminEvent[]>;

  /** Number of audit entries. */
  auditSize(): Promise<number>;
  /** Leaf hashes of entries [from, to), concatenated (32 bytes each). */
  auditLeafHashes(from: number, to: number): Promise<Uint8Array>;
  /** At most `limit` entries from index `from`, in order. */
  auditEntries(from: number, limit: number): Promise<PlacedEntry[]>;
  /** Stores a checkpoint; false when one of that size exists already. */
  addCheckpoint(c: CheckpointRecord): Promise<boolean>;
  /** Every checkpoint issued, smallest first. */
  listCheckpoints(): Promise<CheckpointRecord[]>;
  latestCheckpoint(): Promise<CheckpointRecord | undefined>;

  /**
   * A number that changes whenever shared state changed (revocations, keys, lockdowns: every
   * event), in any process; audit appends do not change it. Cheap enough to call on every request.
   */
  changeMarker(): Promise<number>;
  /**
   * Why the store can no longer record anything until Gatehouse restarts (a failed disk sync of
   * the audit log), or undefined while it can. No I/O: it reports a state already known.
   */
  failure(): string | undefined;
  /**
   * Resolves once every append that has resolved so far is on disk (at once if it already is);
   * rejects if that cannot be. For a caller that took a `written` append and must not let anything
   * depend on it before it is durable.
   * @example const decided = await store.appendDecision(d, { until: 'written' }); const onDisk = store.synced();
   */
  synced(): Promise<void>;
  /**
   * Resolves once everything in the log, whichever process wrote it, is on disk; rejects if it
   * cannot be. For a reader that will rely on what it read: runs restored at start.
   */
  syncAll(): Promise<void>;
  close(): Promise<void>;
}
