import type { Command } from 'commander';
import type { ToolsOptions } from '../tools.js';
import { configOption, urlOption } from './shared.js';

/** Loaded only when a `tools` command runs. */
const tools = () => import('../tools.js');

/** `tools`: pinned tool definitions, and re-approving a tool whose definition changed. */
export function registerTools(program: Command): void {
  const toolsCmd = program
    .command('tools')
    .description(
      'pinned tool definitions: a tool whose definition changed (or a new one, under tools.new: approve) is held until approved',
    );
  toolsCmd
    .command('list')
    .description('list every tool seen, with its state (approved, changed, new_pending) and hash')
    .addOption(configOption())
    .addOption(urlOption())
    .option('--json', 'one JSON object per line')
    .action(async (o: ToolsOptions) => (await tools()).toolsListCommand(o));
  toolsCmd
    .command('diff')
    .description('show how the definition a held tool presents differs from the approved one')
    .argument('<tool>', 'the tool as agents see it, e.g. payments__refund')
    .addOption(configOption())
    .addOption(urlOption())
    .option('--json', 'print the pin with both definitions as JSON')
    .action(async (tool: string, o: ToolsOptions) => (await tools()).toolsDiffCommand(tool, o));
  toolsCmd
    .command('approve')
    .description(
      'approve the definition a held tool presents now; agents can list and call it again without a restart',
    )
    .argument('<tool>', 'the tool as agents see it, e.g. payments__refund')
    .addOption(configOption())
    .option(
      '--hash <sha256:hex>',
      'approve only if the presented definition still has this hash (as tools diff printed it)',
    )
    .addOption(urlOption())
    .action(async (tool: string, o: ToolsOptions & { hash?: string }) =>
      (await tools()).toolsApproveCommand(tool, o),
    );
}
