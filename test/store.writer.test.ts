import assert from 'node:assert/strict';
import { it } from 'node:test';
import { prepareEntry } from '../src/store/index.js';
import { WorkerCommit } from '../src/store/sqlite/worker-commit.js';
import { tempDir } from './helpers/gatehouse.js';

const append = () => ({
  entry: prepareEntry({ type: 'event', time: 0, fields: { kind: 'test' } }),
});

/** A writer thread that dies fails its appends (the gate then refuses the call); it never hangs. */
it('rejects every pending append when the writer thread cannot run, and keeps failing closed', async () => {
  // A folder is not a database: the worker fails as it opens it.
  const commit = new WorkerCommit(tempDir('gatehouse-writer-'));
  const results = await Promise.allSettled([commit.submit(append()), commit.submit(append())]);
  for (const r of results) {
    assert.equal(r.status, 'rejected');
    assert.match(String(r.reason), /the audit log writer stopped/);
  }
  await assert.rejects(
    commit.submit(append()),
    /the audit log writer stopped/,
    'a new writer fails too',
  );
  await commit.close();
  await assert.rejects(commit.submit(append()), /the store is closed/);
});
