/**
 * The benchmarks' warm-up rule: batches until the p50 stops improving, bounded both ways. The
 * "latency" of each batch is scripted, so the rule is checked exactly, not timed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { warmUp, type WarmupPlan } from '../bench/lib/warmup.js';

/** A run function whose k-th batch has every latency equal to p50s[k] (the last one repeats). */
function scripted(p50s: readonly number[]): {
  run: (n: number) => Promise<Float64Array>;
  sizes: number[];
} {
  const sizes: number[] = [];
  return {
    sizes,
    run: (n) => {
      const v = p50s[Math.min(sizes.length, p50s.length - 1)]!;
      sizes.push(n);
      return Promise.resolve(new Float64Array(n).fill(v));
    },
  };
}

const plan: WarmupPlan = { min: 2000, max: 6000, batch: 500 };

describe('bench warm-up', () => {
  it('stops once the minimum is made and the p50 is flat over two batches', async () => {
    const s = scripted([1]);
    const w = await warmUp('gateway', 1, plan, s.run);
    assert.equal(w.calls, 2000);
    assert.equal(w.settled, true);
    assert.deepEqual(w.batchP50Ms, [1, 1, 1, 1]);
  });

  it('goes on while the p50 keeps improving a few % per batch', async () => {
    // 4% per batch is less than the 5% rule next to the batch before, but 8% over two batches.
    const falling = [2, 1.92, 1.84, 1.77, 1.7, 1.63, 1.6, 1.6];
    const s = scripted(falling);
    const w = await warmUp('gateway', 1, plan, s.run);
    assert.deepEqual(w.batchP50Ms, falling);
    assert.equal(w.calls, falling.length * 500);
    assert.equal(w.settled, true);
  });

  it('stops at the maximum and says it did not settle', async () => {
    const s = scripted(Array.from({ length: 20 }, (_, i) => 10 * 0.9 ** i));
    const w = await warmUp('gateway', 1, { min: 1000, max: 2200, batch: 500 }, s.run);
    assert.deepEqual(s.sizes, [500, 500, 500, 500, 200]);
    assert.equal(w.calls, 2200);
    assert.equal(w.settled, false);
  });

  it('makes batches of at least 16 calls per client', async () => {
    const s = scripted([1]);
    const w = await warmUp('proxy', 32, { min: 1, max: 10_000, batch: 500 }, s.run);
    assert.equal(w.batch, 512);
    assert.ok(s.sizes.every((n) => n === 512));
    assert.equal(w.calls, 3 * 512);
  });
});
