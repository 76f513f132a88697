import { decodeJwt } from 'jose';
import { loadConfig } from '../config/index.js';
import { GatehouseError } from '../errors/index.js';
import {
  agentName,
  agentVersion,
  buildDigest,
  principalId,
  rootOf,
  runId,
  SCOPE_PATTERN,
  type AgentIdentity,
} from '../identity/index.js';
import { JWT_TOKEN_TYPE, openLocalAdmin, TOKEN_EXCHANGE_GRANT } from '../server/index.js';
import { adminKeyFromEnv, OptionCheck, remoteCall, type CliErrorCode } from './common.js';

const scopePattern = {
  safeParse: (v: unknown) => ({
    success: Array.isArray(v) && v.every((p) => typeof p === 'string' && SCOPE_PATTERN.test(p)),
    error: { issues: [{ message: 'patterns may hold only letters, digits, "_", "-" and "*"' }] },
  }),
};

interface AgentOptions {
  agent: string;
  agentVersion: string;
  agentDigest?: string;
  scope?: string[];
}

/** Starts an option check with the agent fields every credential command takes. */
function checkAgent(o: AgentOptions): OptionCheck {
  return new OptionCheck()
    .field('--agent', agentName, o.agent)
    .field('--agent-version', agentVersion, o.agentVersion)
    .field('--agent-digest', buildDigest, o.agentDigest)
    .field('--scope', scopePattern, o.scope);
}

function agentOf(o: AgentOptions): { name: string; version: string; digest?: string } {
  return {
    name: o.agent,
    version: o.agentVersion,
    ...(o.agentDigest ? { digest: o.agentDigest } : {}),
  };
}

export interface MintOptions {
  config: string;
  agent: string;
  agentVersion: string;
  agentDigest?: string;
  principal: string;
  ttl?: string;
  run?: string;
  scope?: string[];
  url?: string;
}

export async function mintCommand(o: MintOptions): Promise<void> {
  const check = checkAgent(o)
    .field('--principal', principalId, o.principal)
    .field('--run', runId, o.run);
  const ttlMs = check.duration('--ttl', o.ttl);
  check.done();
  const agent = agentOf(o);
  if (o.url) {
    const res = await remoteCall(
      o.url,
      'v1/token/mint',
      {
        agent,
        principal: o.principal,
        ...(ttlMs !== undefined ? { ttl_seconds: Math.floor(ttlMs / 1000) } : {}),
        ...(o.run !== undefined ? { run: o.run } : {}),
        ...(o.scope !== undefined ? { scope: o.scope } : {}),
      },
      { adminKey: adminKeyFromEnv() },
    );
    process.stdout.write(`${String(res.access_token)}\n`);
    return;
  }
  const admin = await openLocalAdmin(loadConfig(o.config));
  try {
    const { token } = await admin.authority.mint({
      agent,
      principal: o.principal,
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      ...(o.run !== undefined ? { run: o.run } : {}),
      ...(o.scope !== undefined ? { scope: o.scope } : {}),
    });
    process.stdout.write(`${token}\n`);
  } finally {
    await admin.close();
  }
}

export interface ExchangeOptions {
  config: string;
  token?: string;
  agent: string;
  agentVersion: string;
  agentDigest?: string;
  scope?: string[];
  ttl?: string;
  url?: string;
}

export async function exchangeCommand(o: ExchangeOptions): Promise<void> {
  const subject = o.token ?? process.env.GATEHOUSE_TOKEN;
  const check = checkAgent(o);
  if (!subject) check.problem('give the parent credential with --token or GATEHOUSE_TOKEN');
  const ttlMs = check.duration('--ttl', o.ttl);
  check.done();
  const agent = agentOf(o);
  if (o.url) {
    const res = await remoteCall(
      o.url,
      'v1/token/exchange',
      {
        grant_type: TOKEN_EXCHANGE_GRANT,
        subject_token: subject ?? '',
        subject_token_type: JWT_TOKEN_TYPE,
        agent_name: agent.name,
        agent_version: agent.version,
        ...(agent.digest ? { agent_digest: agent.digest } : {}),
        ...(o.scope ? { scope: o.scope.join(' ') } : {}),
        ...(ttlMs !== undefined ? { requested_ttl: String(Math.floor(ttlMs / 1000)) } : {}),
      },
      { form: true },
    );
    process.stdout.write(`${String(res.access_token)}\n`);
    return;
  }
  const admin = await openLocalAdmin(loadConfig(o.config));
  try {
    const res = await admin.authority.exchange({
      subjectToken: subject ?? '',
      agent,
      ...(o.scope ? { scope: o.scope } : {}),
      ...(ttlMs !== undefined ? { ttlMs } : {}),
    });
    if (!res.ok)
      throw new GatehouseError<CliErrorCode>(
        'BAD_OPTION',
        `token exchange refused (${res.error}): ${res.message}`,
      );
    process.stdout.write(`${res.token}\n`);
  } finally {
    await admin.close();
  }
}

function lineageTree(id: AgentIdentity): string {
  const chain = [...id.ancestors].reverse().concat(id.id);
  return chain
    .map(
      (a, i) =>
        `${'   '.repeat(i)}${i === 0 ? '' : '└─ '}${a}${a === id.id ? '   <- this credential' : ''}`,
    )
    .join('\n');
}

export async function inspectCommand(
  token: string,
  o: { config: string; json?: boolean },
): Promise<void> {
  const admin = await openLocalAdmin(loadConfig(o.config));
  try {
    const res = await admin.authority.verify(token.trim());
    if (!res.ok)
      throw new GatehouseError<CliErrorCode>(
        'NOT_VALID',
        `the credential is not valid: ${res.message} (${res.code})`,
      );
    const id = res.identity;
    if (o.json) {
      process.stdout.write(
        `${JSON.stringify({ identity: id, claims: decodeJwt(token) }, null, 2)}\n`,
      );
      return;
    }
    const left = Math.round((id.expiresAt - Date.now()) / 1000);
    const rows: [string, string][] = [
      ['Valid', 'yes (signature, issuer, audience, lifetime, lineage, not revoked)'],
      ['Agent', `${id.name} ${id.version}${id.digest ? ` (${id.digest})` : ''}`],
      ['Agent id', id.id],
      ['Acting for', id.principal],
      ['Run', id.run],
      ['Credential', id.credential],
      ['Depth', `${id.depth}${id.depth === 0 ? ' (root orchestrator)' : ` (root ${rootOf(id)})`}`],
      ['Scope', id.scope.join(' ')],
      ['Expires', `${new Date(id.expiresAt).toISOString()} (in ${left} s)`],
    ];
    const w = Math.max(...rows.map(([k]) => k.length));
    process.stdout.write(
      `${rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`).join('\n')}\n\nLineage\n${lineageTree(id)}\n`,
    );
  } finally {
    await admin.close();
  }
}
