import { spawnSync } from 'node:child_process';
import { BIN } from './gatehouse.js';

export interface CliResult {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
}

/** Runs `gatehouse ARGS` in a child process with a minimal environment. */
export function runCli(args: readonly string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync('node', [BIN, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
    timeout: 20_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
