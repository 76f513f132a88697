/**
 * Appends while another connection holds the store's write lock, as another Gatehouse process or a
 * CLI command would: the server's appends wait between turns of the event loop, never inside
 * SQLite, and are refused once the lock was held too long. Real SQLite files throughout.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { openSqliteStore, prepareEntry, type ResultRecord } from '../src/store/index.js';
import { appendBatchWriter, type Append } from '../src/store/sqlite/append-batch.js';
import { openDb, type Db } from '../src/store/sqlite/db.js';
import { GroupCommit } from '../src/store/sqlite/group-commit.js';
import { settlesWithin, tempDir } from './helpers/gatehouse.js';

const result = (i: number): ResultRecord => ({
  time: i,
  decisionId: `dec_${i}`,
  agent: { id: 'a', run: 'r' },
  tool: 'x__y',
  server: 'x',
  status: 'ok',
  trust: 'internal',
});

const event = (i: number): Append => ({
  entry: prepareEntry({ type: 'event', time: i, fields: { kind: 'test' } }),
});

/** Counts timer turns for `ms`: how often the event loop got to run meanwhile. */
/**
 * A log whose appends wait up to `busyMs` for the lock, as the server's do, while `other` (another
 * connection, as another process would) holds the write lock.
 */
function lockedLog(busyMs: number): {
  db: Db;
  commit: GroupCommit<Append>;
  other: Database.Database;
} {
  const path = join(tempDir(), 'gh.db');
  const db = openDb(path);
  db.pragma('busy_timeout = 0');
  const commit = new GroupCommit<Append>(appendBatchWriter(db), { busyMs });
  const other = new Database(path);
  other.exec('BEGIN IMMEDIATE');
  return { db, commit, other };
}

async function turnsDuring(ms: number): Promise<number> {
  let turns = 0;
  const timer = setInterval(() => (turns += 1), 1);
  await new Promise((resolve) => setTimeout(resolve, ms));
  clearInterval(timer);
  return turns;
}

describe('appends while another process holds the write lock', () => {
  it('wait without stalling the event loop, then are written in order', async () => {
    const path = join(tempDir(), 'gh.db');
    const store = openSqliteStore(path, { backgroundSync: true });
    await store.appendResult(result(0));
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const first = store.appendResult(result(1));
    const second = store.appendResult(result(2), { until: 'written' });
    assert.ok((await turnsDuring(60)) >= 20, 'the event loop kept running');
    other.exec('COMMIT');
    assert.deepEqual([(await first).index, (await second).index], [1, 2]);
    other.close();
    await store.close();
  });

  it('are refused once the lock was held too long, and nothing is written', async () => {
    const { db, commit, other } = lockedLog(40);
    await assert.rejects(
      commit.submit(event(1)),
      /the audit log could not be written: another process kept the store locked \(database is locked\)/,
    );
    other.exec('COMMIT');
    assert.equal(db.prepare('SELECT COUNT(*) FROM audit_entries').pluck().get(), 0);
    assert.equal((await commit.submit(event(2))).index, 0, 'the next append, unlocked, is written');
    await commit.close();
    other.close();
    db.close();
  });

  it('gives an append that joins a waiting batch its own full wait', async () => {
    const { db, commit, other } = lockedLog(150);
    const first = commit.submit(event(1));
    await turnsDuring(100);
    const late = commit.submit(event(2));
    await assert.rejects(first, /another process kept the store locked/);
    assert.equal(await settlesWithin(late, 0), false, 'the later append still waits');
    other.exec('COMMIT');
    assert.equal((await late).index, 0);
    await commit.close();
    other.close();
    db.close();
  });

  it('tries again, rather than refuses, an item that meets the lock after its batch was split', async () => {
    // A batch that fails as a whole (one bad item) is written item by item; another process may
    // take the lock between two of those writes.
    let busyOnce = true;
    const busy = Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    let next = 0;
    const commit = new GroupCommit<string>(
      (items) => {
        if (items.includes('bad')) throw new Error('constraint failed');
        if (items.length === 1 && items[0] === 'late' && busyOnce) {
          busyOnce = false;
          throw busy;
        }
        return items.map(() => ({ index: next++, leafHash: 'x' }));
      },
      { busyMs: 1000 },
    );
    const results = await Promise.allSettled([
      commit.submit('good'),
      commit.submit('bad'),
      commit.submit('late'),
    ]);
    assert.deepEqual(
      results.map((r) => r.status),
      ['fulfilled', 'rejected', 'fulfilled'],
    );
    await commit.close();
  });

  it('closes the store only after a waiting append was written', async () => {
    const path = join(tempDir(), 'gh.db');
    const store = openSqliteStore(path, { backgroundSync: true });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const waiting = store.appendResult(result(1));
    await turnsDuring(10); // it has found the store locked
    setTimeout(() => other.exec('COMMIT'), 30);
    await store.close();
    assert.equal((await waiting).index, 0);
    other.close();
  });
});
