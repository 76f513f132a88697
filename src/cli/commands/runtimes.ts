import type { Command } from 'commander';
import { describeError } from '../../errors/index.js';
import type { HookOptions, InitOptions } from '../hook.js';
import { configOption, type CommandContext } from './shared.js';

/** Loaded only when `hook` or `init` runs. */
const hookImpl = () => import('../hook.js');

/**
 * `hook claude-code` fails closed even when its implementation cannot be loaded (a broken install):
 * exit 2 with the reason, as every other hook failure, never 1 (Claude Code would run the tool).
 */
async function runHook(o: HookOptions): Promise<number> {
  let impl: Awaited<ReturnType<typeof hookImpl>>;
  try {
    impl = await hookImpl();
  } catch (err) {
    process.stderr.write(`Gatehouse blocked this: cannot load the hook (${describeError(err)})\n`);
    return 2;
  }
  return impl.hookClaudeCodeCommand(o);
}

/** `hook claude-code` and `init claude-code`: Gatehouse inside agent runtimes. */
export function registerRuntimes(program: Command, ctx: CommandContext): void {
  const hook = program
    .command('hook')
    .description('answer an agent runtime hook (reads the event on stdin)');
  hook
    .command('claude-code')
    .description(
      'answer one Claude Code hook event (PreToolUse, PostToolUse, PostToolUseFailure, UserPromptSubmit) read as JSON on stdin: against a running Gatehouse (--url or GATEHOUSE_URL, credential in GATEHOUSE_TOKEN) or standalone from --config. Exit 0 with the answer on stdout, or 2 (blocked) with the reason on stderr; never 1',
    )
    .addOption(configOption())
    .option('--url <base>', 'a running Gatehouse (default: GATEHOUSE_URL; standalone when unset)')
    .option(
      '--wait <duration>',
      "wait this long for a Gatehouse approval instead of asking Claude Code's user (e.g. 2m)",
    )
    .option('--timeout <duration>', 'block when no answer is ready within this (default 25s)')
    .option(
      '--state-dir <dir>',
      'where the hook keeps session state (default: GATEHOUSE_HOOK_STATE_DIR, beside the store, or ~/.local/state/gatehouse/claude-code)',
    )
    .option('--agent <name>', 'standalone: the agent name of each session', 'claude-code')
    .option('--agent-version <version>', 'standalone: the agent version', '1.0.0')
    .option(
      '--principal <user:id>',
      'standalone: the human sessions act for (default: user:<login>)',
    )
    .option(
      '--gateway-server <name>',
      'the MCP server name Claude Code reaches the Gatehouse gateway under: its tools are decided and recorded by the gateway, not again here',
    )
    .action(async (o: HookOptions) => {
      ctx.setExit(await runHook(o));
    });

  const init = program.command('init').description('install Gatehouse into an agent runtime');
  init
    .command('claude-code')
    .description(
      'merge the Gatehouse hook into .claude/settings.json (keeps every other setting and hook; running it again changes nothing)',
    )
    .addOption(configOption())
    .option(
      '--url <base>',
      'use a running Gatehouse instead of the config (credential from GATEHOUSE_TOKEN)',
    )
    .option('--settings <file>', 'the settings file to change', '.claude/settings.json')
    .option('--wait <duration>', 'wait this long for a Gatehouse approval instead of asking')
    .option(
      '--gateway-server <name>',
      'the MCP server name Claude Code reaches the Gatehouse gateway under (its tools are decided there)',
    )
    .action(async (o: InitOptions) => (await hookImpl()).initClaudeCodeCommand(o));
}
