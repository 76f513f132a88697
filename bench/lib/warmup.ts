/**
 * Warm-up of the benchmarks: calls in batches until the latency stops improving, so that what is
 * measured is the steady state of a long-running process and not V8 still optimizing it. A fresh
 * Gatehouse needs a couple of thousand calls before its p50 settles (its code paths are many and
 * each is optimized on its own budget), so a fixed short warm-up measured mostly the JIT. Every
 * batch's p50 is kept and printed: how slow the first calls after a start are stays visible.
 */
import { positiveInt } from './env.js';
import { percentile } from './stats.js';

/** The warm-up of one target at one concurrency level. */
export interface WarmupCurve {
  readonly target: string;
  readonly concurrency: number;
  /** Warm-up calls made in all. */
  readonly calls: number;
  /** Calls per batch. */
  readonly batch: number;
  /** p50 latency (ms) of each batch, in order. */
  readonly batchP50Ms: readonly number[];
  /** False when the cap was reached while the p50 was still improving. */
  readonly settled: boolean;
}

export interface WarmupPlan {
  /** Calls made before the p50 is trusted to have settled, at least. */
  readonly min: number;
  /** Calls made at most, settled or not. */
  readonly max: number;
  /** Calls per batch at concurrency 1; more clients get proportionally larger batches. */
  readonly batch: number;
}

/**
 * Settled: the best (lowest) batch p50 of the last SETTLED_SPAN batches is less than
 * SETTLED_WITHIN below the best of every batch before them, i.e. 1,500 more calls (at concurrency
 * 1) no longer bought a 5% faster batch. Best against best, so that one slow batch (noise) does
 * not end the warm-up early, and over three batches, because a fresh Gatehouse improves gradually,
 * a few % per 500 calls, for thousands of calls.
 */
export const SETTLED_WITHIN = 0.05;
/** How many of the latest batches are weighed against all the batches before them. */
export const SETTLED_SPAN = 3;

/** The warm-up plan from BENCH_WARMUP (the minimum), BENCH_WARMUP_MAX and BENCH_WARMUP_BATCH. */
export function warmupPlan(): WarmupPlan {
  const min = positiveInt('BENCH_WARMUP', 3000);
  const max = Math.max(min, positiveInt('BENCH_WARMUP_MAX', 10_000));
  return { min, max, batch: positiveInt('BENCH_WARMUP_BATCH', 500) };
}

/** Whether the batch p50s so far show no more improvement (see SETTLED_WITHIN). */
export function hasSettled(p50s: readonly number[]): boolean {
  if (p50s.length <= SETTLED_SPAN) return false;
  const cut = p50s.length - SETTLED_SPAN;
  const bestBefore = Math.min(...p50s.slice(0, cut));
  const bestRecent = Math.min(...p50s.slice(cut));
  return bestRecent >= bestBefore * (1 - SETTLED_WITHIN);
}

/**
 * Runs batches of calls until at least `plan.min` calls are made and the batches have settled
 * (hasSettled), or `plan.max` calls are made. `run(out)` makes `out.length` calls and writes
 * their latencies (ms) into `out`.
 */
export async function warmUp(
  target: string,
  concurrency: number,
  plan: WarmupPlan,
  run: (out: Float64Array) => Promise<unknown>,
): Promise<WarmupCurve> {
  const batch = Math.max(plan.batch, concurrency * 16);
  const p50s: number[] = [];
  let calls = 0;
  let settled = false;
  while (calls < plan.max) {
    const n = Math.min(batch, plan.max - calls);
    const latencies = new Float64Array(n);
    await run(latencies);
    calls += n;
    p50s.push(percentile(latencies.slice().sort(), 0.5));
    if (calls >= plan.min && hasSettled(p50s)) {
      settled = true;
      break;
    }
  }
  return { target, concurrency, calls, batch, batchP50Ms: p50s, settled };
}

/** The plan in words, for the report's `method` line. */
export function describePlan(plan: WarmupPlan): string {
  return `warm-up per target and level in batches of ${plan.batch}+ calls until the best p50 of the last ${SETTLED_SPAN} batches is less than ${SETTLED_WITHIN * 100}% below the best before them (at least ${plan.min}, at most ${plan.max} calls)`;
}
