/**
 * What the Claude Code hook keeps between its processes, per session: the decision each tool use
 * was let through by (PreToolUse → PostToolUse, keyed by `tool_use_id`), credentials it holds for
 * the session and its subagents, results it could not record yet, and (standalone) the prompts.
 * Files are the user's own: folders 0700, files 0600, written atomically; names are hashes, so no
 * input chooses a path.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chmodSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { GatehouseError } from '../../errors/index.js';
import type { ResultReport } from '../../client/index.js';

export type HookStateErrorCode = 'HOOK_STATE_UNSAFE';

function hashName(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

/** A folder only this user can read: created 0700, and refused when another user owns it. */
function privateDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  const uid = process.getuid?.();
  if (!st.isDirectory() || (uid !== undefined && st.uid !== uid))
    throw new GatehouseError<HookStateErrorCode>(
      'HOOK_STATE_UNSAFE',
      `the hook state folder ${dir} is not a folder owned by this user`,
    );
  if (uid !== undefined && (st.mode & 0o077) !== 0) chmodSync(dir, 0o700);
  return dir;
}

function readJson<T>(file: string): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

function writeJson(file: string, value: unknown): void {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(tmp, JSON.stringify(value), { mode: 0o600 });
  renameSync(tmp, file);
}

/** A credential the hook holds for a session or a subagent, until shortly before it expires. */
export interface HeldCredential {
  readonly token: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
}

/** What PreToolUse leaves for PostToolUse: the decision and the credential it was made for. */
export interface CallRecord {
  readonly decision_id: string;
  readonly tool: string;
  readonly token: string;
  /** The call needed approval and was put to Claude Code's user (`ask`). */
  readonly asked?: boolean;
}

/** A result that could not be recorded yet, with the credential to record it with. */
export interface PendingResult {
  readonly token: string;
  readonly tool: string;
  readonly report: ResultReport;
}

/** The most prompt text kept per session for the standalone hook (older prompts are dropped). */
const MAX_PROMPTS_BYTES = 1024 * 1024;

/** One session's state. */
export class SessionState {
  readonly dir: string;

  constructor(root: string, sessionId: string) {
    this.dir = privateDir(join(root, 'sessions', hashName(sessionId)));
  }

  private sub(name: string): string {
    return privateDir(join(this.dir, name));
  }

  credential(key: string): HeldCredential | undefined {
    const c = readJson<HeldCredential>(join(this.sub('credentials'), hashName(key)));
    return c && typeof c.token === 'string' && typeof c.expiresAt === 'number' ? c : undefined;
  }

  saveCredential(key: string, c: HeldCredential): void {
    writeJson(join(this.sub('credentials'), hashName(key)), c);
  }

  saveCall(toolUseId: string, call: CallRecord): void {
    writeJson(join(this.sub('calls'), hashName(toolUseId)), call);
  }

  call(toolUseId: string): CallRecord | undefined {
    const c = readJson<CallRecord>(join(this.sub('calls'), hashName(toolUseId)));
    return c && typeof c.decision_id === 'string' && typeof c.token === 'string' ? c : undefined;
  }

  dropCall(toolUseId: string): void {
    rmSync(join(this.sub('calls'), hashName(toolUseId)), { force: true });
  }

  savePending(toolUseId: string, p: PendingResult): void {
    writeJson(join(this.sub('pending'), hashName(toolUseId)), p);
  }

  /** Results not recorded yet, by file name. */
  pending(): { name: string; result: PendingResult }[] {
    const dir = this.sub('pending');
    const out: { name: string; result: PendingResult }[] = [];
    for (const name of readdirSync(dir)
      .filter((n) => !n.endsWith('.tmp'))
      .sort()) {
      const result = readJson<PendingResult>(join(dir, name));
      if (result && typeof result.token === 'string' && result.report) out.push({ name, result });
    }
    return out;
  }

  dropPending(name: string): void {
    rmSync(join(this.sub('pending'), name), { force: true });
  }

  /** Keeps a prompt (standalone: each hook process registers the session's prompts again). */
  addPrompt(text: string): void {
    const file = join(this.dir, 'prompts.jsonl');
    appendFileSync(file, `${JSON.stringify(text)}\n`, { mode: 0o600 });
  }

  /** The session's prompts, newest last, at most MAX_PROMPTS_BYTES of them. */
  prompts(): string[] {
    let text: string;
    try {
      text = readFileSync(join(this.dir, 'prompts.jsonl'), 'utf8');
    } catch {
      return [];
    }
    const out: string[] = [];
    let bytes = 0;
    for (const line of text.split('\n').reverse()) {
      if (!line) continue;
      try {
        const p: unknown = JSON.parse(line);
        if (typeof p !== 'string') continue;
        bytes += Buffer.byteLength(p);
        if (bytes > MAX_PROMPTS_BYTES) break;
        out.push(p);
      } catch {
        /* a torn line is skipped */
      }
    }
    return out.reverse();
  }
}

/** The hook's state folder. @example new HookState(dir).session(event.session_id).call(id) */
export class HookState {
  constructor(readonly root: string) {
    privateDir(root);
  }

  session(sessionId: string): SessionState {
    return new SessionState(this.root, sessionId);
  }
}
