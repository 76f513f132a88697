/**
 * Child processes of the gateway benchmark: spawning them, watching their stderr for warnings
 * and last words, and making sure they (and temp dirs, and in-process servers) go away at exit,
 * on error and on Ctrl-C. Kept in one place because start-up, monitoring and cleanup share state.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const START_TIMEOUT_MS = 20_000;
/** Extra node flags for child processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof". */
export const CHILD_NODE_ARGS = (process.env.BENCH_CHILD_NODE_ARGS ?? '')
  .split(/\s+/)
  .filter(Boolean);

const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();
const closers: (() => Promise<void>)[] = [];

/** What a child process said on stderr: Node process warnings by kind, and the recent tail. */
interface ChildReport {
  readonly label: string;
  readonly warnings: Map<string, number>;
  readonly tail: string[];
  /** Set when the child died while the benchmark still needed it. */
  died?: string;
}

const reports: ChildReport[] = [];
let stopping = false;

function killChildren(): void {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
  }
}

function removeTempDirs(): void {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

/** Creates a temp dir that cleanup() (or, failing that, process exit) removes. */
export function makeTempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Registers an async close step for cleanup(); steps run in reverse order of registration. */
export function onCleanup(close: () => Promise<void>): void {
  closers.push(close);
}

/** Runs the close steps, stops the children (SIGKILL after 3 s) and removes the temp dirs. */
export async function cleanup(): Promise<void> {
  stopping = true;
  for (const close of closers.splice(0).reverse()) {
    await close().catch(() => undefined);
  }
  killChildren();
  await Promise.all(
    [...children].map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          const t = setTimeout(() => {
            console.error(`child ${c.pid} did not stop within 3 s of SIGTERM; killing it`);
            c.kill('SIGKILL');
            resolve();
          }, 3000);
          c.once('exit', () => {
            clearTimeout(t);
            resolve();
          });
        }),
    ),
  );
  children.clear();
  removeTempDirs();
}

/** Cleans up on SIGINT / SIGTERM, and synchronously (children, temp dirs) on any exit. */
export function installCleanupHandlers(): void {
  process.once('exit', () => {
    stopping = true;
    // Last resort (e.g. process.exit elsewhere): synchronous only.
    killChildren();
    removeTempDirs();
  });
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
}

/** Spawns `node <args>` and resolves with the first stdout match of `ready`. */
export function spawnNode(
  label: string,
  args: readonly string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; match: RegExpMatchArray }> {
  const child = spawn(process.execPath, [...CHILD_NODE_ARGS, ...args], {
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    env,
  });
  children.add(child);
  const report: ChildReport = { label, warnings: new Map(), tail: [] };
  reports.push(report);
  const errLines = createInterface({ input: child.stderr! });
  errLines.on('line', (line) => {
    report.tail.push(line);
    if (report.tail.length > 40) report.tail.shift();
    const kind = /^\(node:\d+\) (\w*Warning)\b/.exec(line)?.[1];
    if (kind) report.warnings.set(kind, (report.warnings.get(kind) ?? 0) + 1);
  });
  child.once('exit', (code, signal) => {
    if (!stopping) report.died = `exited (${signal ?? `code ${String(code)}`})`;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label} did not start within ${START_TIMEOUT_MS} ms`)),
      START_TIMEOUT_MS,
    );
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(timer);
      // Give the stderr reader a moment to collect the last words.
      setTimeout(() => {
        reject(
          new Error(
            `${label} exited during start-up (${signal ?? `code ${String(code)}`}):\n${report.tail.join('\n')}`,
          ),
        );
      }, 50);
    };
    child.once('exit', onExit);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    const lines = createInterface({ input: child.stdout! });
    lines.on('line', (line) => {
      const match = ready.exec(line);
      if (!match) return;
      clearTimeout(timer);
      child.off('exit', onExit);
      lines.close();
      child.stdout?.resume(); // keep draining so the child never blocks on a full pipe
      resolve({ child, match });
    });
  });
}

/**
 * Runs a benchmark's main: children and temp dirs are cleaned up either way, and a failure is
 * printed with the last words of any child that died, and sets a non-zero exit code.
 */
export async function runBench(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (err) {
    console.error(
      `benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
    );
    const dead = deadChildren();
    if (dead) console.error(dead);
    process.exitCode = 1;
  }
  await cleanup();
}

/** Children that died mid-run, with their last stderr lines (for error messages). */
export function deadChildren(): string {
  return reports
    .filter((r) => r.died !== undefined)
    .map((r) => `${r.label} ${r.died}; its last stderr lines:\n  ${r.tail.join('\n  ')}`)
    .join('\n');
}

/** Node process warnings the children printed, e.g. "gatehouse up: 12 MaxListenersExceededWarning". */
export function childWarnings(): string {
  const out: string[] = [];
  for (const r of reports) {
    for (const [kind, n] of r.warnings) out.push(`${r.label}: ${n} x ${kind}`);
  }
  return out.length > 0 ? out.join('; ') : 'none';
}
