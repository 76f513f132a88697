/**
 * Group commit with the sync off the event loop: appends commit with `synchronous = NORMAL` and a
 * WalSync makes them durable. The disk sync is injected (it wraps the real fdatasync) so that the
 * tests can hold it back or make it fail; everything else is a real SQLite file.
 */
import assert from 'node:assert/strict';
import {
  fdatasync,
  fstatSync,
  mkdirSync,
  renameSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore, prepareEntry } from '../src/store/index.js';
import { appendBatchWriter, type Append } from '../src/store/sqlite/append-batch.js';
import { openDb, type Db } from '../src/store/sqlite/db.js';
import { GroupCommit } from '../src/store/sqlite/group-commit.js';
import { syncWalFile, WalSync, type SyncFile } from '../src/store/sqlite/wal-sync.js';
import { eventually, settlesWithin, tempDir } from './helpers/gatehouse.js';

const append = (i: number): Append => ({
  entry: prepareEntry({ type: 'event', time: i, fields: { kind: 'test', i } }),
});

/** A sync that waits for `release()`; each call is recorded with the inode it was given. */
function heldSync(fail?: NodeJS.ErrnoException) {
  const waiting: (() => void)[] = [];
  const inodes: number[] = [];
  const sync: SyncFile = (fd, done) => {
    inodes.push(fstatSync(fd).ino);
    waiting.push(() => (fail ? done(fail) : fdatasync(fd, done)));
  };
  return {
    sync,
    inodes,
    pending: () => waiting.length,
    release: () => {
      for (const go of waiting.splice(0)) go();
    },
  };
}

function openLog(sync: SyncFile): { db: Db; commit: GroupCommit<Append>; path: string } {
  const path = join(tempDir(), 'gh.db');
  const db = openDb(path);
  db.pragma('synchronous = NORMAL');
  return {
    db,
    path,
    commit: new GroupCommit(appendBatchWriter(db), { wal: new WalSync(`${path}-wal`, sync) }),
  };
}

const entries = (db: Db) => db.prepare('SELECT COUNT(*) FROM audit_entries').pluck().get();

describe('group commit with a background WAL sync', () => {
  it('resolves a written append at commit and a durable one only after the sync that covers it', async () => {
    const disk = heldSync();
    const { db, commit } = openLog(disk.sync);
    const written = commit.submit(append(1), 'written');
    const durable = commit.submit(append(2));
    assert.deepEqual(await written, { index: 0, leafHash: (await written).leafHash });
    assert.equal(entries(db), 2, 'both are in the log at once');
    assert.equal(disk.pending(), 1, 'a sync started as soon as they were committed');
    assert.equal(await settlesWithin(durable, 50), false, 'the durable append waits for the disk');
    disk.release();
    assert.equal((await durable).index, 1);
    await commit.close();
    db.close();
  });

  it('syncs appends nobody waits for within a few milliseconds, and at once when someone waits', async () => {
    const disk = heldSync();
    const { db, commit } = openLog(disk.sync);
    await commit.submit(append(1), 'written');
    assert.equal(disk.pending(), 0, 'no sync at once for an append only written');
    await eventually(() => disk.pending() === 1, 1000);
    disk.release();
    await commit.synced();
    await commit.submit(append(2), 'written');
    assert.equal(disk.pending(), 0);
    const synced = commit.synced();
    assert.equal(disk.pending(), 1, 'a caller waiting for the disk starts the sync at once');
    disk.release();
    await synced;
    await commit.close();
    db.close();
  });

  it('covers a commit made during a sync with the next sync, never with the running one', async () => {
    const disk = heldSync();
    const { db, commit } = openLog(disk.sync);
    const first = commit.submit(append(1));
    await new Promise((r) => setImmediate(r));
    const second = commit.submit(append(2));
    await new Promise((r) => setImmediate(r));
    assert.equal(disk.pending(), 1, 'one sync at a time');
    disk.release();
    await first;
    assert.equal(
      await settlesWithin(second, 50),
      false,
      'the first sync started before the second commit',
    );
    assert.equal(disk.pending(), 1, 'a second sync followed at once');
    disk.release();
    await second;
    await commit.close();
    db.close();
  });

  it('leaves a commit nobody waits for, made during a sync, to its lazy sync', async () => {
    const disk = heldSync();
    const { db, commit } = openLog(disk.sync);
    const first = commit.submit(append(1));
    await new Promise((r) => setImmediate(r));
    await commit.submit(append(2), 'written');
    disk.release();
    await first;
    assert.equal(disk.pending(), 0, 'no sync at once when the running one ends');
    await eventually(() => disk.pending() === 1, 1000);
    disk.release();
    await commit.close();
    db.close();
  });

  it('refuses waiting and later appends once a sync failed, and writes nothing more', async () => {
    const eio = Object.assign(new Error('i/o error'), { code: 'EIO' });
    const disk = heldSync(eio);
    const { db, commit } = openLog(disk.sync);
    const durable = commit.submit(append(1));
    await new Promise((r) => setImmediate(r));
    disk.release();
    await assert.rejects(durable, /could not be synced to disk \(EIO\); Gatehouse refuses calls/);
    const before = entries(db);
    await assert.rejects(commit.submit(append(2), 'written'), /could not be synced to disk/);
    assert.equal(entries(db), before, 'nothing was written after the failure');
    await commit.close();
    await assert.rejects(commit.submit(append(3)), /the store is closed/);
    db.close();
  });

  it('syncs the file now at the WAL path when it was replaced, and fails closed when it is gone', async () => {
    const path = join(tempDir(), 'plain-wal');
    writeFileSync(path, 'a');
    const disk = heldSync();
    const wal = new WalSync(path, disk.sync);
    const synced = () => {
      wal.committed();
      const flushed = wal.flush();
      disk.release();
      return flushed;
    };
    await synced();
    renameSync(path, `${path}.old`);
    writeFileSync(path, 'b');
    await synced();
    assert.deepEqual(disk.inodes, [statSync(`${path}.old`).ino, statSync(path).ino]);
    renameSync(path, `${path}.gone`);
    wal.committed();
    await assert.rejects(wal.flush(), /could not be synced to disk \(ENOENT\)/);
  });

  it('syncs the WAL of the real file when the store is opened through a symlink', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'data'));
    const real = join(dir, 'data', 'gh.db');
    await openSqliteStore(real).close();
    symlinkSync(real, join(dir, 'link.db'));
    const store = openSqliteStore(join(dir, 'link.db'), { backgroundSync: true });
    const event = { time: 1, kind: 'test', actor: 't', detail: {} };
    await store.recordEvent(event);
    const r = await store.appendResult({
      time: 2,
      decisionId: 'dec_1',
      agent: { id: 'a', run: 'r' },
      tool: 'x__y',
      server: 'x',
      status: 'ok',
      trust: 'internal',
    });
    assert.equal(r.index, 1, 'the durable append was synced, not refused');
    await store.close();
  });

  it('syncs the WAL file as it is, whoever wrote it, and fails closed when it cannot', async () => {
    const dir = tempDir();
    const wal = join(dir, 'gh.db-wal');
    const synced: number[] = [];
    const noting: SyncFile = (fd, done) => {
      synced.push(fstatSync(fd).ino);
      done(null);
    };
    await syncWalFile(wal, noting);
    assert.equal(synced.length, 0, 'no WAL, nothing to sync');
    writeFileSync(wal, 'frames');
    await syncWalFile(wal, noting);
    assert.deepEqual(synced, [statSync(wal).ino], 'the file at the WAL path');
    const store = openSqliteStore(join(dir, 'store.db'), { backgroundSync: true });
    await store.recordEvent({ time: 1, kind: 'test', actor: 't', detail: {} });
    await store.syncAll();
    await store.close();
    mkdirSync(join(dir, 'dir-wal'));
    await assert.rejects(syncWalFile(join(dir, 'dir-wal')), /EISDIR/);
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    await assert.rejects(
      syncWalFile(wal, (_fd, done) => done(eio)),
      /EIO/,
    );
  });
});
