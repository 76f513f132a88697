import type { Command } from 'commander';
import { configOption } from './shared.js';

/** Loaded only when `up`, `stdio` or `quickstart` runs. */
const serve = () => import('../serve.js');

/** `up`, `stdio` and `quickstart`: run the gateway. */
export function registerServe(program: Command): void {
  program
    .command('up')
    .description(
      'serve the MCP gateway and control plane over HTTP (default http://127.0.0.1:4100/mcp)',
    )
    .addOption(configOption())
    .option('--port <port>', 'listen on this port instead of listen.port (0: any free port)')
    .action(async (o: { config: string; port?: string }) => (await serve()).upCommand(o.config, o));

  program
    .command('stdio')
    .description(
      'serve the MCP gateway over stdio, for MCP clients that launch servers as commands; the agent credential is read from GATEHOUSE_TOKEN',
    )
    .addOption(configOption())
    .action(async (o: { config: string }) => (await serve()).stdioCommand(o.config));

  program
    .command('quickstart')
    .description(
      'run the quickstart (examples/quickstart): demo upstreams, policies, SQLite, and a ready credential for support-bot',
    )
    .option('--port <port>', 'listen on this port instead of 4100 (0: any free port)')
    .action(async (o: { port?: string }) => (await serve()).quickstartCommand(o));
}
