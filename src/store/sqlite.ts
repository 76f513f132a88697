import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { GatehouseError } from '../errors/index.js';
import type { DecisionQuery, DecisionRecord, Store } from './types.js';

export type StoreErrorCode = 'STORE_OPEN_FAILED' | 'STORE_CORRUPT';

/** Ordered schema migrations; index + 1 is the schema version. Never edit a shipped entry. */
const MIGRATIONS: readonly string[] = [
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
];

interface DecisionRow {
  id: string;
  time_ms: number;
  agent_id: string;
  agent_name: string;
  agent_version: string;
  principal: string;
  run_id: string;
  credential_id: string;
  action: string;
  tool: string;
  server: string;
  args_digest: string;
  outcome: 'allow' | 'deny';
  policies: string;
  reason: string;
  policy_set_hash: string;
}

function toRecord(r: DecisionRow): DecisionRecord {
  return {
    id: r.id,
    time: r.time_ms,
    agent: {
      id: r.agent_id,
      name: r.agent_name,
      version: r.agent_version,
      principal: r.principal,
      run: r.run_id,
      credential: r.credential_id,
    },
    action: r.action,
    tool: r.tool,
    server: r.server,
    argsDigest: r.args_digest,
    outcome: r.outcome,
    policies: JSON.parse(r.policies) as string[],
    reason: r.reason,
    policySetHash: r.policy_set_hash,
  };
}

/** Runs synchronous SQLite work behind the async interface; a failure becomes a rejection, never a sync throw. */
function settle<T>(work: () => T): Promise<T> {
  try {
    return Promise.resolve(work());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

/** SQLite store (WAL). @example const store = openSqliteStore('.gatehouse/gatehouse.db') */
export function openSqliteStore(path: string): Store {
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    migrate(db);
  } catch (err) {
    throw new GatehouseError<StoreErrorCode>(
      'STORE_OPEN_FAILED',
      `cannot open the SQLite store at ${path}: ${(err as Error).message}`,
      { cause: err },
    );
  }
  const insert = db.prepare(
    `INSERT INTO decisions (id, time_ms, agent_id, agent_name, agent_version, principal, run_id,
       credential_id, action, tool, server, args_digest, outcome, policies, reason, policy_set_hash)
     VALUES (@id, @time_ms, @agent_id, @agent_name, @agent_version, @principal, @run_id,
       @credential_id, @action, @tool, @server, @args_digest, @outcome, @policies, @reason, @policy_set_hash)`,
  );
  const byId = db.prepare<[string], DecisionRow>('SELECT * FROM decisions WHERE id = ?');
  return {
    appendDecision(d) {
      return settle(() => {
        insert.run({
          id: d.id,
          time_ms: d.time,
          agent_id: d.agent.id,
          agent_name: d.agent.name,
          agent_version: d.agent.version,
          principal: d.agent.principal,
          run_id: d.agent.run,
          credential_id: d.agent.credential,
          action: d.action,
          tool: d.tool,
          server: d.server,
          args_digest: d.argsDigest,
          outcome: d.outcome,
          policies: JSON.stringify(d.policies),
          reason: d.reason,
          policy_set_hash: d.policySetHash,
        });
      });
    },
    listDecisions(q: DecisionQuery) {
      const where: string[] = [];
      const params: Record<string, unknown> = { limit: q.limit };
      if (q.tool !== undefined) {
        where.push('tool = @tool');
        params.tool = q.tool;
      }
      if (q.agentName !== undefined) {
        where.push('agent_name = @agent');
        params.agent = q.agentName;
      }
      const sql = `SELECT * FROM decisions ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT @limit`;
      return settle(() => (db.prepare(sql).all(params) as DecisionRow[]).map(toRecord));
    },
    getDecision(id) {
      return settle(() => {
        const row = byId.get(id);
        return row ? toRecord(row) : undefined;
      });
    },
    close() {
      return settle(() => {
        db.close();
      });
    },
  };
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new GatehouseError<StoreErrorCode>(
      'STORE_CORRUPT',
      `the store has schema version ${current}, newer than this Gatehouse (${MIGRATIONS.length}); upgrade Gatehouse`,
    );
  }
  const apply = db.transaction(() => {
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.exec(MIGRATIONS[v] as string);
    }
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  });
  apply();
}
