import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, REPO_ROOT } from './gatehouse.js';

/** Recorded Claude Code hook payloads (test/fixtures/claude-code/*.json). */
export const HOOK_FIXTURES = join(REPO_ROOT, 'test/fixtures/claude-code');

/** A recorded hook event, with fields replaced (a session id per test keeps tests apart). */
export function hookEvent(
  name: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  const event = JSON.parse(readFileSync(join(HOOK_FIXTURES, `${name}.json`), 'utf8')) as Record<
    string,
    unknown
  >;
  return { ...event, ...overrides };
}

export interface HookRun {
  readonly code: number | null;
  readonly out: string;
  readonly err: string;
  /** stdout parsed as JSON (undefined when empty). */
  readonly json: Record<string, unknown> | undefined;
}

/** The PreToolUse answer: permissionDecision and its reason. */
export function permission(run: HookRun): { decision: string; reason: string } {
  const out = run.json?.hookSpecificOutput as
    { permissionDecision?: string; permissionDecisionReason?: string } | undefined;
  return { decision: out?.permissionDecision ?? '', reason: out?.permissionDecisionReason ?? '' };
}

/** The decision id a hook answer names. */
export function decisionIdOf(run: HookRun): string {
  return /Decision (dec_[A-Za-z0-9_-]+)/.exec(permission(run).reason)?.[1] ?? '';
}

/**
 * Runs the real `gatehouse hook claude-code` process with `stdin` (an event, or raw text) and a
 * minimal environment; resolves with its exit code, stdout and stderr.
 */
export function runHook(
  stdin: unknown,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<HookRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('node', [BIN, 'hook', 'claude-code', ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: 60_000,
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      let json: Record<string, unknown> | undefined;
      try {
        json = out.trim() ? (JSON.parse(out) as Record<string, unknown>) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code, out, err, json });
    });
    child.stdin.on('error', () => undefined); // a process that exits early closes its stdin
    child.stdin.end(typeof stdin === 'string' ? stdin : JSON.stringify(stdin));
  });
}
