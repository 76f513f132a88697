import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditLog, verifyBundle, writeBundle, openLogKey } from '../src/audit/index.js';
import { openSqliteStore } from '../src/store/index.js';
import { REPO_ROOT, tempDir } from './helpers/gatehouse.js';

const APPENDER = join(REPO_ROOT, 'dist/test/fixtures/audit-appender.js');

/** Runs the appender until it has acknowledged `count` entries, then kills it with SIGKILL. */
function appendThenKill(db: string, count: number): Promise<Map<number, string>> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [APPENDER, db], { stdio: ['ignore', 'pipe', 'inherit'] });
    const acked = new Map<number, string>();
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [index, hash] = line.split(' ');
        acked.set(Number(index), hash ?? '');
      }
      if (acked.size >= count && !child.killed) child.kill('SIGKILL');
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the appender exited early (${code})`));
      else resolve(acked);
    });
  });
}

test('every acknowledged entry survives SIGKILL, and the log still verifies', async () => {
  const dir = tempDir('gatehouse-crash-');
  const db = join(dir, 'gatehouse.db');
  const first = await appendThenKill(db, 3000);
  // A second run appends after the crash: the chain must continue from what is on disk.
  const second = await appendThenKill(db, 1000);

  const store = openSqliteStore(db);
  try {
    const size = await store.auditSize();
    const acked = new Map([...first, ...second]);
    assert.ok(acked.size >= 4000);
    const entries = await store.auditEntries(0, size);
    assert.equal(entries.length, size);
    for (const [index, hash] of acked) {
      const e = entries[index];
      assert.ok(e, `acknowledged entry ${index} is on disk`);
      assert.equal(Buffer.from(e.hash).toString('hex'), hash, `entry ${index} is unchanged`);
    }
    const key = openLogKey(join(dir, 'keys', 'audit-log.key'), 'crash.test/log');
    const log = new AuditLog({ store, key, now: Date.now });
    await log.checkpoint();
    const out = join(dir, 'bundle');
    await writeBundle(out, {
      entries: entries.map((e) => e.leaf),
      checkpoints: (await store.listCheckpoints()).map((c) => c.note),
      vkey: key.vkey,
    });
    const report = await verifyBundle(out, { key: key.vkey });
    assert.ok(report.ok, JSON.stringify(report));
    assert.equal(report.entries, size);
  } finally {
    await store.close();
  }
});
