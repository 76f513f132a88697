/**
 * The benchmarks' warm-up rule: batches until the p50 stops improving, bounded both ways. The
 * latencies of each batch are scripted around a chosen p50, so the rule is checked exactly, not
 * timed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hasSettled, warmUp, type WarmupPlan } from '../bench/lib/warmup.js';

/**
 * n latencies whose nearest-rank p50 is `p50`, spread and shuffled so that neither the mean nor
 * the first value equals it: a rule reading anything but the p50 would go wrong.
 */
function around(p50: number, n: number, seed: number): Float64Array {
  const rank = Math.ceil(n / 2);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = i < rank - 1 ? p50 * 0.5 : i === rank - 1 ? p50 : p50 * 3;
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A run function whose k-th batch has p50 p50s[k] (the last one repeats). */
function scripted(p50s: readonly number[]): {
  run: (out: Float64Array) => Promise<void>;
  sizes: number[];
} {
  const sizes: number[] = [];
  return {
    sizes,
    run: (out) => {
      const v = p50s[Math.min(sizes.length, p50s.length - 1)]!;
      sizes.push(out.length);
      out.set(around(v, out.length, sizes.length));
      return Promise.resolve();
    },
  };
}

const plan: WarmupPlan = { min: 2000, max: 8000, batch: 500 };

describe('bench warm-up', () => {
  it('stops once the minimum is made and the p50 no longer improves', async () => {
    const s = scripted([1]);
    // Flat from the start: settled after four batches, but the minimum asks for six.
    const w = await warmUp('gateway', 1, { ...plan, min: 3000 }, s.run);
    assert.equal(w.calls, 3000);
    assert.equal(w.settled, true);
    assert.deepEqual(w.batchP50Ms, [1, 1, 1, 1, 1, 1]);
  });

  it('goes on while the p50 keeps improving a few % per batch', async () => {
    // 2.5% per batch: under 5% from one batch to the next, but 7% over three.
    const falling = Array.from({ length: 9 }, (_, i) => Number((2 * 0.975 ** i).toFixed(4)));
    const s = scripted([...falling, falling.at(-1)!]);
    const w = await warmUp('gateway', 1, plan, s.run);
    // The first batches that no longer beat the best before them by 5% end it.
    assert.ok(w.calls > falling.length * 500, `stopped at ${w.calls} while still improving`);
    assert.deepEqual(w.batchP50Ms.slice(0, falling.length), falling);
    assert.equal(w.settled, true);
  });

  it('one slow batch does not end the warm-up', () => {
    // Still improving, then one batch 10% slower than the one before it.
    assert.equal(hasSettled([2, 1.8, 1.6, 1.45, 1.6]), false);
    assert.equal(hasSettled([2, 1.8, 1.6, 1.45, 1.6, 1.44, 1.45]), true);
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
    assert.equal(w.calls, 4 * 512);
  });
});
