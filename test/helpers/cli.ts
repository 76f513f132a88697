import assert from 'node:assert/strict';
import { tempDir } from './gatehouse.js';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
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

/**
 * Like `runCli`, without blocking the event loop: for commands that talk to a Gatehouse running in
 * this test process.
 */
export function runCliAsync(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 20_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, out, err }));
  });
}

/** Runs `gatehouse audit export` for a config into a fresh folder; fails the test on error. */
export async function exportAudit(configPath: string): Promise<{ out: string; result: CliResult }> {
  const out = join(tempDir('gatehouse-export-'), 'bundle');
  const result = await runCliAsync(['audit', 'export', '--config', configPath, '--out', out]);
  assert.equal(result.code, 0, result.err);
  return { out, result };
}
