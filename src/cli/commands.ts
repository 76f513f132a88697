import { fileURLToPath } from 'node:url';
import { loadConfig, parseDuration, type Config } from '../config/index.js';
import { GatehouseError } from '../errors/index.js';
import { agentName, agentVersion, mintAgentToken, principalId, runId } from '../identity/index.js';
import { createLogger } from '../log/index.js';
import { loadPolicyDir } from '../policy/index.js';
import { openIdentity, openRuntime, serveStdio, startHttpServer } from '../server/index.js';
import { openSqliteStore } from '../store/index.js';
import { table } from './output.js';

export type CliErrorCode = 'BAD_OPTION';

function bad(message: string): GatehouseError<CliErrorCode> {
  return new GatehouseError<CliErrorCode>('BAD_OPTION', message);
}

/** Resolves on SIGINT/SIGTERM. */
function untilSignal(): Promise<string> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}

export const QUICKSTART_CONFIG = fileURLToPath(
  new URL('../../../examples/quickstart/gatehouse.yaml', import.meta.url),
);

export interface MintOptions {
  agent: string;
  agentVersion: string;
  principal: string;
  ttl?: string;
  run?: string;
  scope?: string[];
}

/** Validates `token mint` options, reporting every bad one. */
function checkMint(o: MintOptions): { ttlMs?: number } {
  const problems: string[] = [];
  const check = (
    flag: string,
    schema: {
      safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } };
    },
    v: unknown,
  ) => {
    const r = schema.safeParse(v);
    if (!r.success) problems.push(`${flag} ${r.error?.issues[0]?.message ?? 'is invalid'}`);
  };
  check('--agent', agentName, o.agent);
  check('--agent-version', agentVersion, o.agentVersion);
  check('--principal', principalId, o.principal);
  if (o.run !== undefined) check('--run', runId, o.run);
  let ttlMs: number | undefined;
  if (o.ttl !== undefined) {
    ttlMs = parseDuration(o.ttl);
    if (ttlMs === undefined)
      problems.push(`--ttl "${o.ttl}" is not a duration such as 30s, 15m or 1h`);
  }
  if (problems.length) throw bad(problems.join('; '));
  return ttlMs === undefined ? {} : { ttlMs };
}

export async function mintCommand(configPath: string, o: MintOptions): Promise<void> {
  const { ttlMs } = checkMint(o);
  const config = loadConfig(configPath);
  const identity = await openIdentity(config);
  const { token } = await mintAgentToken(identity, {
    agent: { name: o.agent, version: o.agentVersion },
    principal: o.principal,
    ...(ttlMs !== undefined ? { ttlMs } : {}),
    ...(o.run !== undefined ? { run: o.run } : {}),
    ...(o.scope !== undefined ? { scope: o.scope } : {}),
  });
  process.stdout.write(`${token}\n`);
}

/** Parses a `--port` option: a whole number from 0 (any free port) to 65535. */
function parsePort(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const port = Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw bad('--port must be a whole number from 0 to 65535');
  return port;
}

async function serveHttp(
  config: Config,
  port: number | undefined,
  banner: (url: string) => Promise<string>,
): Promise<void> {
  const log = createLogger();
  const rt = await openRuntime(config, log);
  try {
    const http = await startHttpServer(rt, port === undefined ? {} : { port });
    await rt.gateway.whenSettled();
    process.stdout.write(await banner(http.url));
    const sig = await untilSignal();
    log.info({ signal: sig }, 'shutting down');
    await http.close();
  } finally {
    await rt.close();
  }
}

export async function upCommand(configPath: string, o: { port?: string }): Promise<void> {
  const port = parsePort(o.port);
  const config = loadConfig(configPath);
  await serveHttp(config, port, (url) =>
    Promise.resolve(
      `Gatehouse is serving MCP at ${url}\nAgents authenticate with "Authorization: Bearer <credential>"; mint one with: gatehouse token mint --config ${configPath} --agent NAME --agent-version V --principal user:ID\n`,
    ),
  );
}

export async function quickstartCommand(o: { port?: string }): Promise<void> {
  const port = parsePort(o.port);
  const config = loadConfig(QUICKSTART_CONFIG);
  await serveHttp(config, port, async (url) => {
    const identity = await openIdentity(config);
    const { token } = await mintAgentToken(identity, {
      agent: { name: 'support-bot', version: '1.4.0' },
      principal: 'user:alice',
      ttlMs: config.identity.max_ttl,
    });
    const ttlMin = Math.round(config.identity.max_ttl / 60_000);
    return [
      '',
      'Gatehouse quickstart is running.',
      '',
      `  MCP endpoint  ${url}`,
      `  Credential    agent support-bot 1.4.0 acting for user:alice (valid ${ttlMin} min)`,
      '',
      `export GATEHOUSE_TOKEN=${token}`,
      '',
      'In another terminal, after the export line above:',
      '  node dist/examples/quickstart/client.js                    # the tools support-bot may call',
      `  node dist/examples/quickstart/client.js payments__refund '{"customer":"c-1001","amount":120}'   # allowed`,
      `  node dist/examples/quickstart/client.js payments__refund '{"customer":"c-1001","amount":900}'   # denied`,
      '',
      'or with the MCP Inspector CLI:',
      `  npx -y @modelcontextprotocol/inspector@latest --cli ${url} --transport http --header "Authorization: Bearer $GATEHOUSE_TOKEN" --method tools/list`,
      '',
      'Every decision is recorded: node bin/gatehouse.js decisions --config examples/quickstart/gatehouse.yaml',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n');
  });
}

export async function stdioCommand(configPath: string): Promise<void> {
  const config = loadConfig(configPath);
  const log = createLogger();
  const rt = await openRuntime(config, log);
  try {
    const { closed } = await serveStdio(rt, process.env.GATEHOUSE_TOKEN);
    await Promise.race([closed, untilSignal()]);
  } finally {
    await rt.close();
  }
}

export async function decisionsCommand(
  configPath: string,
  o: { limit: string; tool?: string; agent?: string; json?: boolean },
): Promise<void> {
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw bad('--limit must be a whole number from 1 to 10000');
  const config = loadConfig(configPath);
  const store = openSqliteStore(config.store.sqlite);
  try {
    const rows = await store.listDecisions({
      limit,
      ...(o.tool !== undefined ? { tool: o.tool } : {}),
      ...(o.agent !== undefined ? { agentName: o.agent } : {}),
    });
    if (o.json) {
      for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    if (rows.length === 0) {
      process.stdout.write('No decisions recorded yet.\n');
      return;
    }
    process.stdout.write(
      `${table(
        ['TIME', 'OUTCOME', 'AGENT', 'PRINCIPAL', 'TOOL', 'POLICIES', 'DECISION'],
        rows.map((r) => [
          new Date(r.time).toISOString().replace('T', ' ').slice(0, 19),
          r.outcome.toUpperCase(),
          `${r.agent.name}@${r.agent.version}`,
          r.agent.principal,
          r.tool,
          r.policies.join(',') || '-',
          r.id,
        ]),
      )}\n`,
    );
  } finally {
    await store.close();
  }
}

export function configCheckCommand(configPath: string): void {
  const config = loadConfig(configPath);
  const policies = loadPolicyDir(config.policies.dir);
  if (!policies.ok)
    throw bad(`policies in ${config.policies.dir} do not load:\n${policies.errors.join('\n')}`);
  process.stdout.write(
    `${configPath} is valid: ${Object.keys(config.upstreams).length} upstream(s), ${policies.set.policies.size} policies (${policies.set.hash}).\n`,
  );
}
