/**
 * Compares the latency two commits add, in alternating runs of the gateway benchmark: on a shared
 * or virtual machine one run's figure drifts by more than most changes are worth, so only runs of
 * both builds taken turn about, minutes apart, say which is faster.
 *
 * Usage:  node dist/bench/compare.js <rev-a> <rev-b> [--pairs N]
 *
 * Each revision is checked out into a temporary git worktree (sharing this checkout's
 * node_modules) and built there; then `dist/bench/gateway.bench.js --json` runs for a, b, a, b, ...
 * `--pairs` times each (default 6), at the concurrency levels of BENCH_CONCURRENCY (default "1").
 * Every run's added p50 and gateway CPU per call are printed as they come, then the medians
 * (nearest rank) and how often b was faster. Other BENCH_* settings pass through to every run.
 * Both revisions must have a gateway benchmark with `--json` (any commit since 2026-11).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './lib/stats.js';
import type { Added, Result } from './lib/types.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

interface Run {
  readonly rev: string;
  /** Added p50 (ms) by concurrency level. */
  readonly added: ReadonlyMap<number, number>;
  /** The gateway's CPU per call (ms) at the first level. */
  readonly cpuMs: number | undefined;
}

function parseArgs(argv: readonly string[]): { revs: [string, string]; pairs: number } {
  const revs: string[] = [];
  let pairs = 6;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--pairs') {
      pairs = Number(argv[++i]);
      if (!Number.isInteger(pairs) || pairs <= 0)
        throw new Error('--pairs takes a positive integer');
    } else if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
    else revs.push(arg);
  }
  const [a, b] = revs;
  if (revs.length !== 2 || a === undefined || b === undefined)
    throw new Error('usage: node dist/bench/compare.js <rev-a> <rev-b> [--pairs N]');
  return { revs: [a, b], pairs };
}

/** Runs git in this checkout; a failure throws with git's own message. */
function git(...args: string[]): string {
  const out = spawnSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`git ${args[0] ?? ''} failed: ${out.stderr.trim()}`);
  return out.stdout.trim();
}

/** A built worktree of `rev` in `dir`; throws with git's or tsc's own message. */
function checkout(rev: string, dir: string): void {
  git('worktree', 'add', '--detach', '--quiet', dir, rev);
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const built = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`${rev} does not build:\n${built.stdout}${built.stderr}`);
}

function runBench(rev: string, dir: string): Run {
  const env = { ...process.env, BENCH_CONCURRENCY: process.env.BENCH_CONCURRENCY ?? '1' };
  const out = spawnSync(process.execPath, [join(dir, 'dist/bench/gateway.bench.js'), '--json'], {
    cwd: dir,
    env,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (out.status !== 0)
    throw new Error(`the benchmark of ${rev} failed:\n${out.stderr.slice(-2000)}`);
  const report = JSON.parse(out.stdout) as { added: Added[]; results: Result[] };
  const added = new Map<number, number>();
  for (const a of report.added) if (a.via === 'gateway') added.set(a.concurrency, a.p50Ms);
  const gateway = report.results.find((r) => r.target === 'gateway');
  return { rev, added, cpuMs: gateway?.cpuMsPerCall.gateway };
}

/** Nearest-rank, as the benchmark reports p50: the lower middle of an even count. */
const median = (xs: readonly number[]) => percentile(Float64Array.from(xs).sort(), 0.5);
const ms = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(3));

function summary(revs: readonly [string, string], runs: readonly Run[]): string {
  const levels = [...(runs[0]?.added.keys() ?? [])];
  const lines = ['', 'level  rev            added p50 median   each run'];
  for (const level of levels) {
    const of = (rev: string) =>
      runs.filter((r) => r.rev === rev).map((r) => r.added.get(level) ?? NaN);
    for (const rev of revs)
      lines.push(
        `c=${String(level).padEnd(4)} ${rev.padEnd(14)} ${ms(median(of(rev))).padStart(16)}   ${of(rev).map(ms).join(' ')}`,
      );
    const [a, b] = revs.map(of) as [number[], number[]];
    const wins = a.filter((v, i) => (b[i] ?? Infinity) < v).length;
    lines.push(
      `c=${String(level).padEnd(4)} ${revs[1]} was faster in ${wins} of ${a.length} pairs`,
    );
  }
  return lines.join('\n');
}

function main(): void {
  const { revs, pairs } = parseArgs(process.argv.slice(2));
  const base = mkdtempSync(join(tmpdir(), 'gatehouse-compare-'));
  const builds = revs.map((rev, i) => ({ rev, dir: join(base, String(i)) }));
  try {
    for (const { rev, dir } of builds) {
      process.stderr.write(`building ${rev} ...\n`);
      checkout(rev, dir);
    }
    const runs: Run[] = [];
    for (let p = 1; p <= pairs; p++) {
      for (const { rev, dir } of builds) {
        const run = runBench(rev, dir);
        runs.push(run);
        const added = [...run.added].map(([c, v]) => `c=${c} +${ms(v)} ms`).join(', ');
        process.stderr.write(
          `pair ${p}/${pairs}  ${rev.padEnd(14)} added p50 ${added}; gateway CPU ${ms(run.cpuMs)} ms/call\n`,
        );
      }
    }
    console.log(summary(revs, runs));
  } finally {
    // Best effort, so that a failure here never hides why the comparison stopped; a worktree
    // that was never added is simply not there to remove.
    for (const { dir } of builds)
      spawnSync('git', ['-C', ROOT, 'worktree', 'remove', '--force', dir]);
    spawnSync('git', ['-C', ROOT, 'worktree', 'prune']);
    rmSync(base, { recursive: true, force: true });
  }
}

// Ctrl-C reaches the benchmark run too, which then fails: the worktrees are still removed.
process.on('SIGINT', () => undefined);
try {
  main();
} catch (err) {
  console.error((err as Error).message);
  process.exitCode = 1;
}
