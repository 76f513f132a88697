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
    argsDigest: `sha256:${'0'.repeat(64)}`,
    outcome: i % 2 ? 'allow' : 'deny',
    policies: [`p${i}`],
    reason: 'because',
    policySetHash: 'sha256:abc',
  };
}

/** The SQLite store, on a real file. */
describe('sqlite store', () => {
  it('appends, lists newest first with filters, and reads back exactly', async () => {
    const path = join(tempDir(), 'sub', 'gh.db');
    const store = openSqliteStore(path);
    for (let i = 1; i <= 5; i++)
      await store.appendDecision(record(i, i === 5 ? 'files__read' : 'payments__refund'));
    assert.deepEqual(await store.getDecision('dec_3'), record(3));
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

  it('refuses a store written by a newer Gatehouse', () => {
    const path = join(tempDir(), 'gh.db');
    const raw = new Database(path);
    raw.pragma('user_version = 999');
    raw.close();
    assert.throws(() => openSqliteStore(path), /schema version 999, newer than this Gatehouse/);
  });
});
