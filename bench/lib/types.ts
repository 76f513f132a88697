/**
 * Shared types of the gateway benchmark. They live apart so that the setup, measurement, stats
 * and report modules can all name the same shapes without importing one another.
 */

import type { WarmupPlan } from './warmup.js';

export type GatewayMode = 'inproc' | 'child';
/** `proxy`: a bare node:http proxy in front of the upstream, the floor of one more hop. */
export type Target = 'direct' | 'proxy' | 'gateway';
/** Every target, in the order the first round measures them. */
export const TARGETS: readonly Target[] = ['direct', 'proxy', 'gateway'];

export interface Options {
  readonly calls: number;
  readonly callsConcurrent: number;
  readonly warmup: WarmupPlan;
  readonly rounds: number;
  readonly concurrency: readonly number[];
  readonly textBytes: number;
  readonly json: boolean;
  readonly gateway: GatewayMode;
}

/** Process ids of the children, for CPU accounting. */
export interface Procs {
  readonly upstream: number | undefined;
  /** Set only when Gatehouse runs as a child; in-process, its CPU is part of this process. */
  readonly gateway: number | undefined;
  readonly proxy: number | undefined;
}

export interface Endpoint {
  readonly url: string;
  readonly tool: string;
  readonly headers: Record<string, string>;
}

export interface Result {
  readonly target: Target;
  readonly concurrency: number;
  readonly calls: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  readonly maxMs: number;
  readonly callsPerSec: number;
  readonly elapsedMs: number;
  /** p50 of each measured round, in order: drift during the measurement shows here. */
  readonly roundP50Ms: readonly number[];
  /** CPU time per call of each process; undefined where it cannot be measured or does not apply. */
  readonly cpuMsPerCall: {
    readonly bench: number;
    readonly upstream: number | undefined;
    readonly proxy: number | undefined;
    readonly gateway: number | undefined;
  };
}

/** What one hop in front of the upstream adds over calling it directly. */
export interface Added {
  /** The hop: Gatehouse, or the bare proxy that shows what any hop costs on this machine. */
  readonly via: 'gateway' | 'proxy';
  readonly concurrency: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly meanMs: number;
  /** Extra CPU per call summed over all processes (undefined when a child's CPU is unknown). */
  readonly cpuMsPerCall: number | undefined;
  readonly throughputRatio: number;
}
