import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore, type DecisionRecord } from '../src/store/index.js';
import { tempDir } from './helpers/gatehouse.js';

function record(i: number, tool = 'payments__refund'): DecisionRecord {
  return {
    id: `dec_${i}`,
    time: 1_700_000_000_000 + i,
    agent: {
      id: 'spiffe://t/agent/a/1',
      name: i % 2 ? 'a' : 'b',
      version: '1',
      principal: 'user:alice',
      run: 'r',
      credential: 'c',
      depth: 1,
      ancestors: ['spiffe://t/agent/o/1'],
    },
    action: 'call_tool',
    tool,
    server: 'payments',
    labels: { blast_radius: 'high' },
    argsDigest: `sha256:${'0'.repeat(64)}`,
    ...(i % 3 ? { args: { amount: i, note: 'ok' } } : {}),
    run:
      i % 2
        ? { lowestTrust: 'trusted', sources: [] }
        : { lowestTrust: 'untrusted', sources: ['web__fetch'] },
    outcome: (['allow', 'deny', 'approval_required'] as const)[i % 3] ?? 'deny',
    policies: [`p${i}`],
    reason: 'because',
    policySetHash: 'sha256:abc',
    ...(i % 2 ? {} : { shadow: { outcome: 'deny', policies: ['s'], reason: 'would deny' } }),
  };
}

/** The SQLite store, on a real file. */
describe('sqlite store', () => {
  it('appends, lists newest first with filters, and reads back exactly', async () => {
    const path = join(tempDir(), 'sub', 'gh.db');
    const store = openSqliteStore(path);
    for (let i = 1; i <= 5; i++)
      await store.appendDecision(record(i, i === 5 ? 'files__read' : 'payments__refund'));
    for (let i = 1; i <= 4; i++) assert.deepEqual(await store.getDecision(`dec_${i}`), record(i));
    assert.deepEqual(
      (await store.listDecisions({ limit: 10, since: 1_700_000_000_004 })).map((r) => r.id),
      ['dec_5', 'dec_4'],
    );
    assert.deepEqual(
      (await store.listDecisions({ limit: 2 })).map((r) => r.id),
      ['dec_5', 'dec_4'],
    );
    assert.deepEqual(
      (await store.listDecisions({ limit: 10, tool: 'files__read' })).map((r) => r.id),
      ['dec_5'],
    );
    assert.deepEqual(
      (await store.listDecisions({ limit: 10, agentName: 'b' })).map((r) => r.id),
      ['dec_4', 'dec_2'],
    );
    assert.equal(await store.getDecision('dec_404'), undefined);
    await store.close();

    const reopened = openSqliteStore(path);
    assert.equal(
      (await reopened.listDecisions({ limit: 100 })).length,
      5,
      'decisions survive a restart',
    );
    await reopened.close();
    const raw = new Database(path, { readonly: true });
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
    raw.close();
  });

  it('refuses a duplicate decision id and keeps the first', async () => {
    const store = openSqliteStore(join(tempDir(), 'gh.db'));
    await store.appendDecision(record(1));
    await assert.rejects(store.appendDecision({ ...record(1), reason: 'other' }));
    assert.equal((await store.getDecision('dec_1'))?.reason, 'because');
    await store.close();
  });

  it('keeps lockdowns and records each change as an event', async () => {
    const store = openSqliteStore(join(tempDir(), 'gh.db'));
    const l = { pattern: 'payments__*', reason: 'incident 42', by: 'alice', time: 5 };
    assert.equal(await store.addLockdown(l), true);
    assert.equal(await store.addLockdown({ ...l, reason: 'again' }), false, 'already locked');
    assert.deepEqual(await store.listLockdowns(), [l]);
    assert.equal(await store.liftLockdown('payments__*', 'bob', 6), true);
    assert.equal(await store.liftLockdown('payments__*', 'bob', 7), false);
    assert.deepEqual(await store.listLockdowns(), []);
    assert.deepEqual(
      (await store.listEvents(10)).map((e) => [e.kind, e.actor]),
      [
        ['lockdown.lift', 'bob'],
        ['lockdown.add', 'alice'],
      ],
    );
    await store.close();
  });

  it('upgrades a version-2 store and keeps its decisions', async () => {
    const path = join(tempDir(), 'gh.db');
    const raw = new Database(path);
    raw.exec(`CREATE TABLE decisions (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
      time_ms INTEGER NOT NULL, agent_id TEXT NOT NULL, agent_name TEXT NOT NULL,
      agent_version TEXT NOT NULL, principal TEXT NOT NULL, run_id TEXT NOT NULL,
      credential_id TEXT NOT NULL, action TEXT NOT NULL, tool TEXT NOT NULL, server TEXT NOT NULL,
      args_digest TEXT NOT NULL, outcome TEXT NOT NULL, policies TEXT NOT NULL, reason TEXT NOT NULL,
      policy_set_hash TEXT NOT NULL, depth INTEGER NOT NULL DEFAULT 0, parent_id TEXT, root_id TEXT,
      ancestors TEXT NOT NULL DEFAULT '[]');
      CREATE TABLE revocations (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
      value TEXT NOT NULL, reason TEXT NOT NULL, time_ms INTEGER NOT NULL, actor TEXT NOT NULL,
      UNIQUE (kind, value));
      CREATE TABLE admin_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, role TEXT NOT NULL,
      secret_hash TEXT NOT NULL, created_ms INTEGER NOT NULL);
      CREATE TABLE events (seq INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL,
      kind TEXT NOT NULL, actor TEXT NOT NULL, detail TEXT NOT NULL);
      INSERT INTO decisions (id, time_ms, agent_id, agent_name, agent_version, principal, run_id,
      credential_id, action, tool, server, args_digest, outcome, policies, reason, policy_set_hash)
      VALUES ('dec_old', 1, 'a', 'bot', '1', 'user:x', 'r', 'c', 'call_tool', 't__x', 't', 'sha256:0',
      'deny', '[]', 'old', 'sha256:p');`);
    raw.pragma('user_version = 2');
    raw.close();
    const store = openSqliteStore(path);
    const old = await store.getDecision('dec_old');
    assert.equal(old?.reason, 'old');
    assert.equal(old.args, undefined, 'arguments were not kept before version 3');
    assert.deepEqual(old, {
      id: 'dec_old',
      time: 1,
      agent: {
        id: 'a',
        name: 'bot',
        version: '1',
        principal: 'user:x',
        run: 'r',
        credential: 'c',
        depth: 0,
        ancestors: [],
      },
      action: 'call_tool',
      tool: 't__x',
      server: 't',
      labels: {},
      argsDigest: 'sha256:0',
      run: { lowestTrust: 'trusted', sources: [] },
      outcome: 'deny',
      policies: [],
      reason: 'old',
      policySetHash: 'sha256:p',
    });
    await store.appendDecision(record(2));
    assert.deepEqual(await store.getDecision('dec_2'), record(2), 'a new record round-trips');
    await store.close();
  });

  it('upgrades a version-7 store and keeps its decisions and results', async () => {
    const path = join(tempDir(), 'gh.db');
    const result = {
      time: 2,
      decisionId: 'dec_1',
      agent: { id: 'a', run: 'r' },
      tool: 'payments__refund',
      server: 'payments',
      status: 'ok' as const,
      trust: 'internal' as const,
    };
    const first = openSqliteStore(path);
    await first.appendDecision(record(1));
    const receipt = await first.appendResult(result);
    await first.close();
    // Back to version 7's tables: decisions numbered with AUTOINCREMENT, results with a rowid.
    const raw = new Database(path);
    raw.exec(`CREATE TABLE d7 (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
      time_ms INTEGER NOT NULL, agent_name TEXT NOT NULL, run_id TEXT NOT NULL, tool TEXT NOT NULL,
      outcome TEXT NOT NULL, audit_index INTEGER, legacy TEXT);
      INSERT INTO d7 SELECT * FROM decisions; DROP TABLE decisions; ALTER TABLE d7 RENAME TO decisions;
      CREATE TABLE r7 (decision_id TEXT PRIMARY KEY, audit_index INTEGER NOT NULL);
      INSERT INTO r7 SELECT * FROM results; DROP TABLE results; ALTER TABLE r7 RENAME TO results;`);
    raw.pragma('user_version = 7');
    raw.close();
    const store = openSqliteStore(path);
    assert.deepEqual(await store.getDecision('dec_1'), record(1));
    assert.deepEqual(await store.resultOf('dec_1'), receipt);
    await assert.rejects(store.appendResult(result), 'still one result per decision');
    await store.appendDecision(record(2));
    assert.deepEqual(
      (await store.listDecisions({ limit: 10 })).map((d) => d.id),
      ['dec_2', 'dec_1'],
      'new decisions are numbered after the kept ones',
    );
    const check = new Database(path, { readonly: true });
    const schema = check
      .prepare("SELECT sql FROM sqlite_master WHERE name IN ('decisions', 'results')")
      .pluck()
      .all()
      .join('\n');
    check.close();
    assert.doesNotMatch(schema, /AUTOINCREMENT/);
    assert.match(schema, /WITHOUT ROWID/);
    await store.close();
  });

  it('changes its marker for shared-state changes only, never for audit appends', async () => {
    const path = join(tempDir(), 'gh.db');
    // Two connections, as in a server: appends come from their own connection.
    const store = openSqliteStore(path, { backgroundSync: true });
    const other = openSqliteStore(path);
    const before = await other.changeMarker();
    await store.appendDecision(record(1));
    await store.appendResult({
      time: 2,
      decisionId: 'dec_1',
      agent: { id: 'a', run: 'r' },
      tool: 'payments__refund',
      server: 'payments',
      status: 'ok',
      trust: 'internal',
    });
    assert.equal(await other.changeMarker(), before, 'a call does not make others reload');
    await store.addRevocation({ kind: 'jti', value: 'x', reason: 'leak', time: 3, by: 'me' });
    assert.notEqual(await other.changeMarker(), before, 'a revocation is seen by others');
    await other.close();
    await store.close();
  });

  it('refuses a store written by a newer Gatehouse', () => {
    const path = join(tempDir(), 'gh.db');
    const raw = new Database(path);
    raw.pragma('user_version = 999');
    raw.close();
    assert.throws(() => openSqliteStore(path), /schema version 999, newer than this Gatehouse/);
  });
});
