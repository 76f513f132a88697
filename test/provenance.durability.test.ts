/**
 * Which result entries must be on disk before the agent reads the result: exactly those that
 * change what a restart restores of the run (RunTracker.isNews). The proof is a simulated power
 * loss: every entry that was only `written` is dropped from the log, and the runs restored from
 * what is left must be the runs as they were.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sha256Hex } from '../src/crypto/index.js';
import { silentLogger } from '../src/log/index.js';
import { ResultRecorder } from '../src/gateway/index.js';
import { parseConfig, type TrustLevel } from '../src/config/index.js';
import { RunTracker, restoreRuns, type ResultLabel } from '../src/provenance/index.js';
import { openSqliteStore, type Store } from '../src/store/index.js';
import { tempDir } from './helpers/gatehouse.js';

const TRUST: readonly TrustLevel[] = ['trusted', 'internal', 'untrusted'];
// More sources than a run keeps (32), so that which ones it keeps is tested too.
const SOURCES = Array.from({ length: 40 }, (_, i) => `web__fetch site-${i}.example.net`);
const RUNS = ['run-a', 'run-b'];

/** A seeded sequence in [0, 1) from SHA-256, so that a failure can be replayed. */
function random(seed: number): () => number {
  let n = 0;
  return () => parseInt(sha256Hex(`${seed}:${n++}`).slice(0, 8), 16) / 2 ** 32;
}

const pick = <T>(next: () => number, from: readonly T[]): T =>
  from[Math.floor(next() * from.length)] as T;

/** The run as policy sees it, sources in a fixed order (restore reads the log newest first). */
function seen(runs: RunTracker, run: string) {
  const r = runs.get(run);
  return { lowestTrust: r.lowestTrust, sources: [...r.sources].sort() };
}

describe('result entries a power loss may drop', () => {
  it('isNews: only content below trusted that lowers what is logged of the run or adds a source at its level', () => {
    const runs = new RunTracker({ retainMs: 60_000, now: () => 0 });
    assert.equal(
      runs.isNews('r', 'trusted', 'files__read'),
      false,
      'restore ignores trusted content',
    );
    assert.equal(runs.isNews('r', 'internal', 'files__read'), true, 'a fresh run');
    runs.logged('r', 'internal', 'files__read');
    assert.equal(runs.isNews('r', 'internal', 'files__read'), false);
    assert.equal(
      runs.isNews('r', 'internal', 'notes__get'),
      true,
      'a new source at the lowest level',
    );
    assert.equal(runs.isNews('r', 'untrusted', 'files__read'), true, 'lower trust');
    runs.logged('r', 'untrusted', 'web__fetch');
    assert.equal(runs.isNews('r', 'internal', 'notes__get'), false, 'above the lowest level');
    assert.equal(runs.isNews('r', 'untrusted', 'web__fetch'), false);
    assert.equal(runs.isNews('other', 'untrusted', 'web__fetch'), true, 'runs are separate');
  });

  for (const seed of [1, 2, 3]) {
    it(`restores every run as from the whole log after losing every entry that was only written (seed ${seed})`, async () => {
      const store = openSqliteStore(join(tempDir(), 'gh.db'), { backgroundSync: true });
      const writtenOnly = new Set<number>();
      let durable = 0;
      // The real store, noting which result entries were appended without waiting for the disk.
      const noting: Store = {
        ...store,
        appendResult: async (record, opts) => {
          const receipt = await store.appendResult(record, opts);
          if (opts?.until === 'written') writtenOnly.add(receipt.index);
          else durable += 1;
          return receipt;
        },
      };
      const runs = new RunTracker({ retainMs: 3_600_000 });
      const recorder = new ResultRecorder({
        config: parseConfig('upstreams: {}\n', '/x/gatehouse.yaml'),
        store: noting,
        runs,
        now: Date.now,
        log: silentLogger(),
      });
      const next = random(seed);
      let i = 0;
      const one = async (): Promise<void> => {
        const n = i++;
        const run = pick(next, RUNS);
        const source = pick(next, SOURCES);
        // Half untrusted, so that a run meets more sources at its lowest level than it keeps.
        const trust = next() < 0.5 ? 'untrusted' : pick(next, TRUST);
        // Content that reaches a run without an entry (a completion): it must not stand in for one.
        if (next() < 0.1) return runs.observe(run, trust, `${source} (completion)`);
        const tool = source.split(' ')[0] as string;
        const label: ResultLabel = { trust, source, server: 'web', tool };
        const call = {
          decisionId: `dec_${seed}_${n}`,
          agent: { id: 'agent', run },
          tool: { id: tool, server: 'web', name: 'fetch', labels: {} },
          args: {},
        };
        await recorder.recordContent(call, label, { n }, [`value ${n}`]);
      };
      // Four results at a time: results of one run race each other as concurrent calls do.
      while (i < 600) await Promise.all([one(), one(), one(), one()]);
      assert.ok(writtenOnly.size > 300, `most results changed nothing (${writtenOnly.size})`);
      assert.ok(durable > 40, `many results were news (${durable})`);

      const since = Date.now() - 60_000;
      const whole = new RunTracker({ retainMs: 3_600_000 });
      await restoreRuns(store, whole, since);
      for (const run of RUNS)
        assert.equal(seen(whole, run).sources.length, 32, 'the run met more sources than it keeps');
      // The power loss: every entry not synced before its answer is gone.
      const survived: Store = {
        ...store,
        auditEntries: async (from, limit) =>
          (await store.auditEntries(from, limit)).filter((e) => !writtenOnly.has(e.index)),
      };
      const restored = new RunTracker({ retainMs: 3_600_000 });
      await restoreRuns(survived, restored, since);
      for (const run of RUNS) assert.deepEqual(seen(restored, run), seen(whole, run), run);
      await store.close();
    });
  }
});
