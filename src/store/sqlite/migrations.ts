/**
 * The SQLite schema, as the ordered migrations that build it: a store at version N has run the
 * first N, and openDb runs the rest in one transaction. Never edit a shipped entry.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE decisions (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     time_ms INTEGER NOT NULL,
     agent_id TEXT NOT NULL,
     agent_name TEXT NOT NULL,
     agent_version TEXT NOT NULL,
     principal TEXT NOT NULL,
     run_id TEXT NOT NULL,
     credential_id TEXT NOT NULL,
     action TEXT NOT NULL,
     tool TEXT NOT NULL,
     server TEXT NOT NULL,
     args_digest TEXT NOT NULL,
     outcome TEXT NOT NULL CHECK (outcome IN ('allow', 'deny')),
     policies TEXT NOT NULL,
     reason TEXT NOT NULL,
     policy_set_hash TEXT NOT NULL
   );
   CREATE INDEX decisions_tool ON decisions (tool, seq);
   CREATE INDEX decisions_agent ON decisions (agent_name, seq);`,
  `ALTER TABLE decisions ADD COLUMN depth INTEGER NOT NULL DEFAULT 0;
   ALTER TABLE decisions ADD COLUMN parent_id TEXT;
   ALTER TABLE decisions ADD COLUMN root_id TEXT;
   ALTER TABLE decisions ADD COLUMN ancestors TEXT NOT NULL DEFAULT '[]';
   CREATE INDEX decisions_run ON decisions (run_id, seq);
   CREATE TABLE revocations (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     kind TEXT NOT NULL CHECK (kind IN ('jti', 'agent', 'run', 'subtree')),
     value TEXT NOT NULL,
     reason TEXT NOT NULL,
     time_ms INTEGER NOT NULL,
     actor TEXT NOT NULL,
     UNIQUE (kind, value)
   );
   CREATE TABLE admin_keys (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL UNIQUE,
     role TEXT NOT NULL CHECK (role IN ('admin', 'approver')),
     secret_hash TEXT NOT NULL,
     created_ms INTEGER NOT NULL
   );
   CREATE TABLE events (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     time_ms INTEGER NOT NULL,
     kind TEXT NOT NULL,
     actor TEXT NOT NULL,
     detail TEXT NOT NULL
   );`,
  // Approval becomes an outcome (the CHECK changes, so the table is rebuilt); decisions keep what
  // replaying them needs: arguments, tool labels, the run's provenance and any shadowed verdict.
  `CREATE TABLE decisions_v3 (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     time_ms INTEGER NOT NULL,
     agent_id TEXT NOT NULL,
     agent_name TEXT NOT NULL,
     agent_version TEXT NOT NULL,
     principal TEXT NOT NULL,
     run_id TEXT NOT NULL,
     credential_id TEXT NOT NULL,
     depth INTEGER NOT NULL DEFAULT 0,
     parent_id TEXT,
     root_id TEXT,
     ancestors TEXT NOT NULL DEFAULT '[]',
     action TEXT NOT NULL,
     tool TEXT NOT NULL,
     server TEXT NOT NULL,
     labels TEXT NOT NULL DEFAULT '{}',
     args_digest TEXT NOT NULL,
     args TEXT,
     run_trust TEXT NOT NULL DEFAULT 'trusted',
     run_sources TEXT NOT NULL DEFAULT '[]',
     outcome TEXT NOT NULL CHECK (outcome IN ('allow', 'deny', 'approval_required')),
     policies TEXT NOT NULL,
     reason TEXT NOT NULL,
     policy_set_hash TEXT NOT NULL,
     shadow TEXT
   );
   INSERT INTO decisions_v3 (seq, id, time_ms, agent_id, agent_name, agent_version, principal,
     run_id, credential_id, depth, parent_id, root_id, ancestors, action, tool, server, args_digest,
     outcome, policies, reason, policy_set_hash)
   SELECT seq, id, time_ms, agent_id, agent_name, agent_version, principal, run_id, credential_id,
     depth, parent_id, root_id, ancestors, action, tool, server, args_digest, outcome, policies,
     reason, policy_set_hash FROM decisions;
   DROP TABLE decisions;
   ALTER TABLE decisions_v3 RENAME TO decisions;
   CREATE INDEX decisions_tool ON decisions (tool, seq);
   CREATE INDEX decisions_agent ON decisions (agent_name, seq);
   CREATE INDEX decisions_run ON decisions (run_id, seq);
   CREATE INDEX decisions_time ON decisions (time_ms);
   CREATE TABLE lockdowns (
     pattern TEXT PRIMARY KEY,
     reason TEXT NOT NULL,
     actor TEXT NOT NULL,
     time_ms INTEGER NOT NULL
   );`,
  `ALTER TABLE admin_keys ADD COLUMN groups TEXT NOT NULL DEFAULT '[]';
   CREATE TABLE approvals (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     decision_id TEXT NOT NULL,
     created_ms INTEGER NOT NULL,
     expires_ms INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
     run_id TEXT NOT NULL,
     tool TEXT NOT NULL,
     args_digest TEXT NOT NULL,
     request TEXT NOT NULL,
     decided_by TEXT,
     decided_ms INTEGER,
     decision_reason TEXT,
     used_ms INTEGER,
     used_by_decision TEXT
   );
   CREATE INDEX approvals_binding ON approvals (run_id, tool, args_digest, seq);
   CREATE INDEX approvals_status ON approvals (status, seq);`,
  // The audit log: every decision, result and event as an RFC 6962 leaf (its canonical JSON bytes,
  // hash-chained by `prev`), and the signed checkpoints issued over it. A decision's entry becomes
  // its one full copy: the decisions table keeps only what queries filter on plus the entry index.
  // Decisions recorded before the log existed keep their columns as one JSON document (`legacy`).
  // `change_marker` counts shared-state changes (every event); it replaces PRAGMA data_version,
  // which the log's own appends (from their own connection) would change on every call.
  `CREATE TABLE audit_entries (
     idx INTEGER PRIMARY KEY,
     time_ms INTEGER NOT NULL,
     type TEXT NOT NULL,
     leaf BLOB NOT NULL,
     hash BLOB NOT NULL
   );
   CREATE TABLE audit_checkpoints (
     size INTEGER PRIMARY KEY,
     time_ms INTEGER NOT NULL,
     note TEXT NOT NULL
   );
   CREATE TABLE decisions_v5 (
     seq INTEGER PRIMARY KEY AUTOINCREMENT,
     id TEXT NOT NULL UNIQUE,
     time_ms INTEGER NOT NULL,
     agent_name TEXT NOT NULL,
     run_id TEXT NOT NULL,
     tool TEXT NOT NULL,
     outcome TEXT NOT NULL CHECK (outcome IN ('allow', 'deny', 'approval_required')),
     audit_index INTEGER,
     legacy TEXT,
     CHECK ((audit_index IS NULL) <> (legacy IS NULL))
   );
   INSERT INTO decisions_v5 (seq, id, time_ms, agent_name, run_id, tool, outcome, legacy)
   SELECT seq, id, time_ms, agent_name, run_id, tool, outcome, json_object(
     'id', id, 'time', time_ms,
     'agent', json_object('id', agent_id, 'name', agent_name, 'version', agent_version,
       'principal', principal, 'run', run_id, 'credential', credential_id, 'depth', depth,
       'ancestors', json(ancestors)),
     'action', action, 'tool', tool, 'server', server, 'labels', json(labels),
     'argsDigest', args_digest, 'args', json(args),
     'run', json_object('lowestTrust', run_trust, 'sources', json(run_sources)),
     'outcome', outcome, 'policies', json(policies), 'reason', reason,
     'policySetHash', policy_set_hash, 'shadow', json(shadow))
   FROM decisions;
   DROP TABLE decisions;
   ALTER TABLE decisions_v5 RENAME TO decisions;
   CREATE INDEX decisions_tool ON decisions (tool, seq);
   CREATE INDEX decisions_agent ON decisions (agent_name, seq);
   CREATE INDEX decisions_run ON decisions (run_id, seq);
   CREATE INDEX decisions_time ON decisions (time_ms);
   CREATE TABLE change_marker (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
   INSERT INTO change_marker (id, seq) VALUES (1, 0);`,
  // Pinned tool definitions: the approved one and, while held, the one presented instead. The
  // CHECKs tie the columns to the state: only a held tool has a pending definition, and only a
  // tool never approved lacks an approved one.
  `CREATE TABLE tool_pins (
     tool TEXT PRIMARY KEY,
     server TEXT NOT NULL,
     name TEXT NOT NULL,
     state TEXT NOT NULL CHECK (state IN ('approved', 'changed', 'new_pending')),
     approved_hash TEXT,
     approved_definition TEXT,
     pending_hash TEXT,
     pending_definition TEXT,
     first_seen_ms INTEGER NOT NULL,
     updated_ms INTEGER NOT NULL,
     approved_by TEXT,
     approved_ms INTEGER,
     CHECK ((state = 'approved') = (pending_hash IS NULL)),
     CHECK ((state = 'new_pending') = (approved_hash IS NULL)),
     CHECK ((approved_hash IS NULL) = (approved_definition IS NULL)),
     CHECK ((pending_hash IS NULL) = (pending_definition IS NULL))
   );`,
  // One result per call: the result entry of each decision, found without scanning the log (a
  // runtime reporting results itself, POST /v1/results, must not record a second one). Results
  // already in the log are indexed; the first one of a decision wins.
  `CREATE TABLE results (
     decision_id TEXT PRIMARY KEY,
     audit_index INTEGER NOT NULL
   );
   INSERT OR IGNORE INTO results (decision_id, audit_index)
   SELECT json_extract(CAST(leaf AS TEXT), '$.decision'), idx FROM audit_entries
   WHERE type = 'result' AND json_extract(CAST(leaf AS TEXT), '$.decision') IS NOT NULL
   ORDER BY idx;
   CREATE INDEX approvals_used_by ON approvals (used_by_decision);`,
  // Fewer pages per call (each written page is one WAL frame of every commit): decisions number
  // their rows without AUTOINCREMENT, which wrote sqlite_sequence on every decision (no row is
  // ever deleted, so no number is used twice), and results are keyed by their decision alone
  // (WITHOUT ROWID: no second b-tree for the key).
  `CREATE TABLE decisions_v8 (
     seq INTEGER PRIMARY KEY,
     id TEXT NOT NULL UNIQUE,
     time_ms INTEGER NOT NULL,
     agent_name TEXT NOT NULL,
     run_id TEXT NOT NULL,
     tool TEXT NOT NULL,
     outcome TEXT NOT NULL CHECK (outcome IN ('allow', 'deny', 'approval_required')),
     audit_index INTEGER,
     legacy TEXT,
     CHECK ((audit_index IS NULL) <> (legacy IS NULL))
   );
   INSERT INTO decisions_v8 (seq, id, time_ms, agent_name, run_id, tool, outcome, audit_index, legacy)
   SELECT seq, id, time_ms, agent_name, run_id, tool, outcome, audit_index, legacy FROM decisions;
   DROP TABLE decisions;
   ALTER TABLE decisions_v8 RENAME TO decisions;
   CREATE INDEX decisions_tool ON decisions (tool, seq);
   CREATE INDEX decisions_agent ON decisions (agent_name, seq);
   CREATE INDEX decisions_run ON decisions (run_id, seq);
   CREATE INDEX decisions_time ON decisions (time_ms);
   CREATE TABLE results_v8 (
     decision_id TEXT PRIMARY KEY,
     audit_index INTEGER NOT NULL
   ) WITHOUT ROWID;
   INSERT INTO results_v8 (decision_id, audit_index) SELECT decision_id, audit_index FROM results;
   DROP TABLE results;
   ALTER TABLE results_v8 RENAME TO results;`,
];
