import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../config/index.js';
import { createLogger } from '../log/index.js';
import { openRuntime, serveStdio, startHttpServer, type Runtime } from '../server/index.js';
import { bad } from './common.js';

/** SIGHUP re-reads the policy folder, as daemons conventionally re-read their configuration. */
function reloadOnHangup(rt: Runtime): () => void {
  const onHup = () => void rt.policy.reload('SIGHUP', 'local').catch(() => undefined);
  process.on('SIGHUP', onHup);
  return () => process.off('SIGHUP', onHup);
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
  banner: (url: string, mint: () => Promise<string>) => Promise<string>,
): Promise<void> {
  const log = createLogger();
  const rt = await openRuntime(config, log);
  const stopHup = reloadOnHangup(rt);
  try {
    // Settled first: a start refused (two upstreams offering one tool name) never listens.
    await rt.gateway.whenSettled();
    const http = await startHttpServer(rt, port === undefined ? {} : { port });
    const mint = async () =>
      (
        await rt.authority.mint({
          agent: { name: 'support-bot', version: '1.4.0' },
          principal: 'user:alice',
          ttlMs: config.identity.max_ttl,
        })
      ).token;
    process.stdout.write(await banner(http.url, mint));
    const sig = await untilSignal();
    log.info({ signal: sig }, 'shutting down');
    await http.close();
  } finally {
    stopHup();
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
  await serveHttp(config, port, async (url, mint) => {
    const token = await mint();
    const ttlMin = Math.round(config.identity.max_ttl / 60_000);
    return [
      '',
      'Gatehouse quickstart is running.',
      '',
      `  MCP endpoint  ${url}`,
      `  Approvals     ${url.replace(/\/mcp$/, '')}/console/approvals (log in with an approver key: gatehouse admin key create --role approver)`,
      `  Credential    agent support-bot 1.4.0 acting for user:alice (valid ${ttlMin} min)`,
      '',
      `export GATEHOUSE_TOKEN=${token}`,
      '',
      'In another terminal, after the export line above:',
      '  node dist/examples/quickstart/client.js                    # the tools support-bot may call',
      `  node dist/examples/quickstart/client.js payments__refund '{"customer":"c-1001","amount":120}'   # allowed`,
      `  node dist/examples/quickstart/client.js payments__refund '{"customer":"c-1001","amount":900}'   # waits for an approver: gatehouse approvals list`,
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
  const stopHup = reloadOnHangup(rt);
  try {
    const { closed } = await serveStdio(rt, process.env.GATEHOUSE_TOKEN);
    await Promise.race([closed, untilSignal()]);
  } finally {
    stopHup();
    await rt.close();
  }
}
