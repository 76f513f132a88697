/**
 * Latency statistics of the gateway benchmark: percentiles and per-target summaries of the
 * measured calls, and what the gateway adds over the direct path. Pure functions, no I/O.
 */
import { minus } from './cpu.js';
import type { Added, Result, Target } from './types.js';

/** Latencies and totals gathered for one target at one concurrency level. */
export interface Accumulator {
  readonly latencies: Float64Array;
  offset: number;
  /** Where each measured round's latencies end in `latencies`, in order. */
  readonly roundEnds: number[];
  elapsedMs: number;
  cpu: {
    bench: number;
    upstream: number | undefined;
    proxy: number | undefined;
    gateway: number | undefined;
  };
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: Float64Array, q: number): number {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1]!;
}

/** Latency percentiles, mean, throughput and CPU per call of one target's measured calls. */
export function summarize(target: Target, concurrency: number, acc: Accumulator): Result {
  const sorted = acc.latencies.slice().sort();
  const n = sorted.length;
  let sum = 0;
  for (const v of sorted) sum += v;
  const perCall = (v: number | undefined) => (v === undefined ? undefined : v / n);
  return {
    target,
    concurrency,
    calls: n,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    meanMs: sum / n,
    maxMs: sorted[n - 1] ?? 0,
    callsPerSec: (n / acc.elapsedMs) * 1000,
    elapsedMs: acc.elapsedMs,
    roundP50Ms: acc.roundEnds.map((end, i) =>
      percentile(acc.latencies.slice(acc.roundEnds[i - 1] ?? 0, end).sort(), 0.5),
    ),
    cpuMsPerCall: {
      bench: acc.cpu.bench / n,
      upstream: perCall(acc.cpu.upstream),
      proxy: perCall(acc.cpu.proxy),
      gateway: perCall(acc.cpu.gateway),
    },
  };
}

/**
 * What a hop (`h`: the gateway or the bare proxy) adds over the direct path at one concurrency
 * level. `gatewayIsChild`: the gateway's CPU is its own process's, so the total is unknown without it.
 */
export function addedBy(d: Result, h: Result, gatewayIsChild: boolean): Added {
  const total = (r: Result) => {
    const { bench, upstream, proxy, gateway } = r.cpuMsPerCall;
    if (upstream === undefined) return undefined;
    if (gatewayIsChild && gateway === undefined) return undefined;
    // No proxy in the run (stdio): it costs nothing.
    return bench + upstream + (proxy ?? 0) + (gateway ?? 0);
  };
  return {
    via: h.target === 'proxy' ? 'proxy' : 'gateway',
    concurrency: d.concurrency,
    p50Ms: h.p50Ms - d.p50Ms,
    p99Ms: h.p99Ms - d.p99Ms,
    meanMs: h.meanMs - d.meanMs,
    cpuMsPerCall: minus(total(h), total(d)),
    throughputRatio: h.callsPerSec / d.callsPerSec,
  };
}
