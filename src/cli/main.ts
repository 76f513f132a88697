import { Command, CommanderError, Option } from 'commander';
import { describeError, GatehouseError } from '../errors/index.js';
import {
  configCheckCommand,
  decisionsCommand,
  mintCommand,
  quickstartCommand,
  stdioCommand,
  upCommand,
  type MintOptions,
} from './commands.js';
import { printError } from './output.js';

const configOption = () =>
  new Option('-c, --config <file>', 'the Gatehouse config file').default('./gatehouse.yaml');

function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description(
      'Zero-trust runtime for AI agents: every tool call passes one gate that knows the agent, asks Cedar policy, and records the decision.',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('up')
    .description('serve the MCP gateway over Streamable HTTP (default http://127.0.0.1:4100/mcp)')
    .addOption(configOption())
    .option('--port <port>', 'listen on this port instead of listen.port (0: any free port)')
    .action(async (o: { config: string; port?: string }) => upCommand(o.config, o));

  program
    .command('stdio')
    .description(
      'serve the MCP gateway over stdio, for MCP clients that launch servers as commands; the agent credential is read from GATEHOUSE_TOKEN',
    )
    .addOption(configOption())
    .action(async (o: { config: string }) => stdioCommand(o.config));

  program
    .command('quickstart')
    .description(
      'run the quickstart (examples/quickstart): demo upstreams, policies, SQLite, and a ready credential for support-bot',
    )
    .option('--port <port>', 'listen on this port instead of 4100 (0: any free port)')
    .action(async (o: { port?: string }) => quickstartCommand(o));

  const token = program.command('token').description('agent credentials');
  token
    .command('mint')
    .description('print a short-lived agent credential (JWT) to stdout')
    .addOption(configOption())
    .requiredOption('--agent <name>', 'agent name, e.g. support-bot')
    .requiredOption('--agent-version <version>', 'agent version, e.g. 1.4.0')
    .requiredOption('--principal <user:id>', 'the human the agent acts for, e.g. user:alice')
    .option(
      '--ttl <duration>',
      'lifetime such as 15m (default identity.default_ttl, at most identity.max_ttl)',
    )
    .option('--run <id>', 'run (transaction) id; a new one is generated when omitted')
    .option(
      '--scope <patterns...>',
      'tool-name patterns the credential may reach, e.g. "payments__*" (default: all)',
    )
    .action(async (o: MintOptions & { config: string }) => mintCommand(o.config, o));

  program
    .command('decisions')
    .description('list recorded decisions, newest first')
    .addOption(configOption())
    .option('-n, --limit <n>', 'how many to show', '20')
    .option('--tool <name>', 'only decisions on this tool (exposed name, e.g. payments__refund)')
    .option('--agent <name>', 'only decisions for this agent name')
    .option('--json', 'one JSON object per line instead of a table')
    .action(
      async (o: { config: string; limit: string; tool?: string; agent?: string; json?: boolean }) =>
        decisionsCommand(o.config, o),
    );

  const config = program.command('config').description('configuration');
  config
    .command('check')
    .description('validate the config file and load its policies, reporting every problem')
    .addOption(configOption())
    .action((o: { config: string }) => configCheckCommand(o.config));

  return program;
}

/** Runs the CLI; returns the process exit code. Errors are one clear sentence, never a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed help, version or its own error message.
      return err.exitCode;
    }
    if (err instanceof GatehouseError) {
      printError(err.message);
      return 1;
    }
    printError(`unexpected error: ${describeError(err)}`);
    if (process.env.GATEHOUSE_DEBUG) console.error(err);
    return 1;
  }
}
