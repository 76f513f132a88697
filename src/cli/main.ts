import { Command, CommanderError } from 'commander';
import { describeError, GatehouseError } from '../errors/index.js';
import { VERSION } from '../version.js';
import {
  registerApprovals,
  registerAudit,
  registerConfig,
  registerDecisions,
  registerIdentity,
  registerPolicy,
  registerRuntimes,
  registerServe,
  registerTools,
  type CommandContext,
  type RegisterCommands,
} from './commands/index.js';
import { printError } from './output.js';

/** In the order `--help` lists the commands. */
const AREAS: readonly RegisterCommands[] = [
  registerServe, // up, stdio, quickstart
  registerIdentity, // token, keys, revoke, admin
  registerDecisions, // decisions
  registerPolicy, // policy, lockdown, decide
  registerApprovals, // approvals
  registerTools, // tools
  registerAudit, // audit
  registerConfig, // config
  registerRuntimes, // hook, init
];

function buildProgram(ctx: CommandContext): Command {
  const program = new Command('gatehouse')
    .description(
      'Zero-trust runtime for AI agents: every tool call passes one gate that knows the agent, asks Cedar policy, and records the decision.',
    )
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of AREAS) register(program, ctx);
  return program;
}

/** Runs the CLI; returns the process exit code. Errors are one clear sentence, never a stack trace. */
export async function main(argv: readonly string[]): Promise<number> {
  /** Set by commands whose exit status carries an outcome (e.g. `decide`). */
  let outcomeExit = 0;
  // A runtime hook fails closed: for Claude Code, exit 1 would let the tool run; 2 blocks it.
  const failure = argv[2] === 'hook' ? 2 : 1;
  const program = buildProgram({
    setExit: (code) => {
      outcomeExit = code;
    },
  });
  try {
    await program.parseAsync([...argv]);
    return outcomeExit;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander already printed help, version or its own error message.
      return err.exitCode === 0 ? 0 : failure;
    }
    if (err instanceof GatehouseError) {
      printError(err.message);
      return failure;
    }
    printError(`unexpected error: ${describeError(err)}`);
    if (process.env.GATEHOUSE_DEBUG) console.error(err);
    return failure;
  }
}
