import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { AuditLog, openLogKey, openCheckpoint } from '../src/audit/index.js';
import { isGatehouseError } from '../src/errors/index.js';
import { openSqliteStore } from '../src/store/index.js';
import { tempDir } from './helpers/gatehouse.js';

async function logWith(entries: number) {
  const dir = tempDir('gatehouse-log-');
  const path = join(dir, 'gatehouse.db');
  const store = openSqliteStore(path);
  for (let i = 0; i < entries; i++) {
    await store.recordEvent({ time: i, kind: 'test', actor: 'me', detail: { i } });
  }
  const key = openLogKey(join(dir, 'keys', 'audit-log.key'), 'test.example/log');
  return { dir, path, store, key, log: new AuditLog({ store, key, now: () => 1000 }) };
}

describe('audit log service', () => {
  it('signs a checkpoint only when the log grew, and one the log key verifies', async () => {
    const { store, key, log } = await logWith(5);
    const first = await log.checkpoint();
    assert.equal(first.size, 5);
    const opened = openCheckpoint(first.note, [key.verifier], 'test.example/log');
    assert.ok(opened.ok);
    assert.equal((await log.checkpoint()).note, first.note, 'nothing new: the same checkpoint');
    await store.recordEvent({ time: 9, kind: 'test', actor: 'me', detail: {} });
    assert.equal((await log.checkpoint()).size, 6);
    assert.equal((await store.listCheckpoints()).length, 2);
    await store.close();
  });

  it('refuses to extend a stored log that no longer matches its last checkpoint', async () => {
    const { path, store, key, log } = await logWith(8);
    await log.checkpoint();
    await store.close();
    const raw = new Database(path);
    raw.prepare('UPDATE audit_entries SET hash = zeroblob(32) WHERE idx = 3').run();
    raw.close();
    const reopened = openSqliteStore(path);
    const again = new AuditLog({ store: reopened, key, now: Date.now });
    await assert.rejects(again.sync(), (err: unknown) =>
      isGatehouseError(err, 'AUDIT_LOG_TAMPERED'),
    );
    await assert.rejects(again.checkpoint(), (err: unknown) =>
      isGatehouseError(err, 'AUDIT_LOG_TAMPERED'),
    );
    await reopened.close();
  });

  it('keeps one origin per log key', () => {
    const dir = tempDir('gatehouse-log-');
    const path = join(dir, 'audit-log.key');
    const key = openLogKey(path, 'a.example/log');
    assert.equal(openLogKey(path, 'a.example/log').vkey, key.vkey, 'the same key on reopening');
    assert.throws(
      () => openLogKey(path, 'b.example/log'),
      (err: unknown) => isGatehouseError(err, 'LOG_ORIGIN_MISMATCH'),
    );
  });

  it('answers proofs only for entries and sizes that exist', async () => {
    const { store, log } = await logWith(4);
    await assert.rejects(log.prove(4), (err: unknown) => isGatehouseError(err, 'AUDIT_NO_ENTRY'));
    await assert.rejects(log.consistency(3, 5), (err: unknown) =>
      isGatehouseError(err, 'AUDIT_BAD_RANGE'),
    );
    const p = await log.prove(2);
    assert.equal(p.treeSize, 4, 'a checkpoint was signed to cover the entry');
    await store.close();
  });
});
