/**
 * `gatehouse hook claude-code` (one hook event on stdin, the answer on stdout, exit 0 or 2) and
 * `gatehouse init claude-code` (installs it in `.claude/settings.json`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  handleHookEvent,
  HookState,
  MAX_EVENT_BYTES,
  mergeHookSettings,
  type HookAnswer,
  type HookBackend,
} from '../adapters/claude-code/index.js';
import { GatehouseClient } from '../client/index.js';
import { loadConfig, serverName, type Config } from '../config/index.js';
import { describeError } from '../errors/index.js';
import { principalId, runId } from '../identity/index.js';
import type { InProcessGatehouse } from '../server/index.js';
import { bad, OptionCheck } from './common.js';

export interface HookOptions {
  config: string;
  url?: string;
  wait?: string;
  timeout?: string;
  stateDir?: string;
  agent: string;
  agentVersion: string;
  principal?: string;
  gatewayServer?: string;
}

/** How long the hook may take in all, unless --timeout says otherwise: under Claude Code's own. */
const DEFAULT_DEADLINE_MS = 25_000;
/** A standalone session credential is minted again when less than this is left of it. */
const MAX_RENEW_MS = 10 * 60_000;

/** Ends the process with exit 2 and the reason: the hook never fails open. */
function blockNow(reason: string): never {
  process.stderr.write(`Gatehouse blocked this: ${reason}\n`);
  process.exit(2);
}

/** Reads stdin, refusing more than `max` bytes. */
async function readStdin(max: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of process.stdin) {
    const b = chunk as Buffer;
    total += b.length;
    if (total > max) throw new Error(`the hook event is larger than ${max} bytes`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The run a Claude Code session acts in (standalone): named after the session. */
export function sessionRun(sessionId: string): string {
  const named = `claude-code:${sessionId}`;
  if (runId.safeParse(named).success) return named;
  return `claude-code:${createHash('sha256').update(sessionId).digest('hex').slice(0, 32)}`;
}

function defaultPrincipal(): string {
  let name = 'local';
  try {
    name = userInfo().username.replace(/[^A-Za-z0-9._@+-]/g, '-') || 'local';
  } catch {
    /* no user name: local */
  }
  return `user:${name}`;
}

function xdgStateDir(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'gatehouse', 'claude-code');
}

/** Reads the claims of a credential without verifying it (Gatehouse verifies it on every call). */
function peekClaims(token: string): { run: string; version: string } {
  try {
    const payload = JSON.parse(
      Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
    ) as { run?: unknown; agent?: { version?: unknown } };
    if (typeof payload.run === 'string' && typeof payload.agent?.version === 'string')
      return { run: payload.run, version: payload.agent.version };
  } catch {
    /* refused below */
  }
  throw bad('GATEHOUSE_TOKEN is not a Gatehouse agent credential');
}

/** Against a running Gatehouse: the session acts with the credential in GATEHOUSE_TOKEN. */
function serverBackend(url: string, token: string, timeoutMs: number): HookBackend {
  const claims = peekClaims(token);
  return {
    keepsPrompts: false,
    client: (t) => new GatehouseClient({ url, token: t, timeoutMs }),
    sessionCredential: () => Promise.resolve({ token, ...claims }),
  };
}

/**
 * Standalone: the config's store and policies opened in this process; each session gets its own
 * credential, minted for the run named after it and kept in the state folder, and the session's
 * prompts are registered again (run provenance from before comes back from the audit log).
 */
function standaloneBackend(
  gh: InProcessGatehouse,
  config: Config,
  agent: { name: string; version: string },
  principal: string,
  timeoutMs: number,
): HookBackend {
  const ttl = config.identity.default_ttl;
  const renew = Math.min(MAX_RENEW_MS, ttl / 2);
  const registered = new Set<string>();
  return {
    keepsPrompts: true,
    client: (t) => new GatehouseClient({ url: gh.url, fetch: gh.fetch, token: t, timeoutMs }),
    async sessionCredential(sessionId, session) {
      const run = sessionRun(sessionId);
      if (!registered.has(run)) {
        registered.add(run);
        for (const prompt of session.prompts()) gh.rt.runs.registerInput(run, prompt);
      }
      const now = gh.rt.now();
      const held = session.credential('root');
      if (held && held.expiresAt - renew > now)
        return { token: held.token, run, version: agent.version };
      const { token, claims } = await gh.rt.authority.mint({ agent, principal, run, ttlMs: ttl });
      session.saveCredential('root', { token, expiresAt: claims.exp * 1000 });
      return { token, run, version: agent.version };
    },
  };
}

interface ParsedHookOptions {
  readonly deadlineMs: number;
  readonly waitMs: number | undefined;
  readonly principal: string;
  readonly gatewayServer: string | undefined;
}

function parseHookOptions(o: HookOptions): ParsedHookOptions {
  const check = new OptionCheck();
  const waitMs = check.duration('--wait', o.wait);
  const timeoutMs = check.duration('--timeout', o.timeout);
  const principal = o.principal ?? defaultPrincipal();
  check.field('--principal', principalId, principal);
  if (o.gatewayServer !== undefined) check.field('--gateway-server', serverName, o.gatewayServer);
  check.done();
  return {
    deadlineMs: timeoutMs ?? DEFAULT_DEADLINE_MS + (waitMs ?? 0),
    waitMs,
    principal,
    gatewayServer: o.gatewayServer,
  };
}

function write(answer: HookAnswer): number {
  if (answer.stdout) process.stdout.write(`${JSON.stringify(answer.stdout)}\n`);
  if (answer.stderr) process.stderr.write(`${answer.stderr}\n`);
  return answer.exitCode;
}

/**
 * `gatehouse hook claude-code`: answers one Claude Code hook event. Exit 0 with Claude Code's JSON
 * on stdout, or exit 2 with the reason on stderr; never 1 (Claude Code would run the tool).
 */
export async function hookClaudeCodeCommand(o: HookOptions): Promise<number> {
  // Whatever happens from here on, a failure blocks: also a throw nobody catches, and a hang.
  process.on('uncaughtException', (err) => blockNow(`unexpected error: ${describeError(err)}`));
  process.on('unhandledRejection', (err) => blockNow(`unexpected error: ${describeError(err)}`));
  let opts: ParsedHookOptions;
  try {
    opts = parseHookOptions(o);
  } catch (err) {
    return write({ exitCode: 2, stderr: `Gatehouse blocked this: ${describeError(err)}` });
  }
  const watchdog = setTimeout(
    () => blockNow(`Gatehouse did not answer within ${opts.deadlineMs} ms`),
    opts.deadlineMs,
  );
  let gh: InProcessGatehouse | undefined;
  try {
    let raw: unknown;
    try {
      raw = JSON.parse(await readStdin(MAX_EVENT_BYTES));
    } catch (err) {
      return write({
        exitCode: 2,
        stderr: `Gatehouse blocked this: the hook event on stdin is not readable JSON (${describeError(err)})`,
      });
    }
    const requestMs = Math.max(1000, Math.min(10_000, opts.deadlineMs - 2000));
    const url = o.url ?? process.env.GATEHOUSE_URL;
    let backend: HookBackend;
    let stateDir = o.stateDir ?? process.env.GATEHOUSE_HOOK_STATE_DIR;
    if (url) {
      const token = process.env.GATEHOUSE_TOKEN;
      if (!token) throw bad('set GATEHOUSE_TOKEN to the agent credential of this Claude Code');
      backend = serverBackend(url, token, requestMs);
      stateDir ??= xdgStateDir();
    } else {
      const config = loadConfig(o.config);
      // Only standalone needs the server (policy engine, store); against --url it is never loaded.
      const [{ openInProcess }, { silentLogger }] = await Promise.all([
        import('../server/index.js'),
        import('../log/index.js'),
      ]);
      gh = await openInProcess(config, silentLogger());
      backend = standaloneBackend(
        gh,
        config,
        { name: o.agent, version: o.agentVersion },
        opts.principal,
        requestMs,
      );
      stateDir ??=
        config.store.sqlite === ':memory:'
          ? xdgStateDir()
          : join(dirname(config.store.sqlite), 'claude-code');
    }
    const answer = await handleHookEvent(raw, backend, new HookState(stateDir), {
      ...(opts.waitMs !== undefined ? { waitMs: opts.waitMs } : {}),
      ...(opts.gatewayServer !== undefined ? { gatewayServer: opts.gatewayServer } : {}),
    });
    return write(answer);
  } catch (err) {
    return write({ exitCode: 2, stderr: `Gatehouse blocked this: ${describeError(err)}` });
  } finally {
    clearTimeout(watchdog);
    await gh?.close().catch(() => undefined);
  }
}

export interface InitOptions {
  config: string;
  url?: string;
  settings: string;
  wait?: string;
  gatewayServer?: string;
}

/** A shell word in single quotes. */
function quote(s: string): string {
  return /^[A-Za-z0-9_./:@=-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `gatehouse init claude-code`: merges the hook into `.claude/settings.json` (other settings and
 * hooks are kept; running it again changes nothing), written atomically.
 */
export function initClaudeCodeCommand(o: InitOptions): void {
  const check = new OptionCheck();
  const waitMs = check.duration('--wait', o.wait);
  if (o.gatewayServer !== undefined) check.field('--gateway-server', serverName, o.gatewayServer);
  check.done();
  const bin = resolve(dirname(fileURLToPath(import.meta.url)), '../../../bin/gatehouse.js');
  const args = ['node', bin, 'hook', 'claude-code'];
  if (o.url) args.push('--url', o.url);
  else {
    const config = resolve(o.config);
    if (!existsSync(config)) throw bad(`no config file at ${config}; pass --config FILE or --url`);
    loadConfig(config);
    args.push('--config', config);
  }
  if (waitMs !== undefined) args.push('--wait', `${waitMs}ms`);
  if (o.gatewayServer !== undefined) args.push('--gateway-server', o.gatewayServer);
  // `|| exit 2`: even a Gatehouse that cannot start (not built, node missing) blocks the call.
  const command = `${args.map(quote).join(' ')} || exit 2`;
  const timeoutSeconds = Math.ceil((DEFAULT_DEADLINE_MS + (waitMs ?? 0)) / 1000) + 5;
  const file = resolve(o.settings);
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw bad(`cannot read ${file}: ${describeError(err)}`);
  }
  const merged = mergeHookSettings(text, command, timeoutSeconds, file);
  if (!merged.changed) {
    process.stdout.write(`${file} already runs the Gatehouse hook; nothing changed.\n`);
    return;
  }
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const mode = text === undefined ? 0o644 : statSync(file).mode & 0o777;
  writeFileSync(tmp, merged.text, { mode });
  renameSync(tmp, file);
  process.stdout.write(
    `Wrote the Gatehouse hook into ${file} (PreToolUse, PostToolUse, PostToolUseFailure, UserPromptSubmit).\n` +
      (o.url
        ? 'Start Claude Code with GATEHOUSE_TOKEN set to an agent credential (gatehouse token mint).\n'
        : `Standalone: decisions use ${o.config} in each hook process.\n`),
  );
}
