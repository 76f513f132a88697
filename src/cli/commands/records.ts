import type { Command } from 'commander';
import { configOption } from './shared.js';

/** Loaded only when `decisions` or `config check` runs. */
const records = () => import('../records.js');

/** `decisions`: the decision record. */
export function registerDecisions(program: Command): void {
  program
    .command('decisions')
    .description('list recorded decisions, newest first')
    .addOption(configOption())
    .option('-n, --limit <n>', 'how many to show', '20')
    .option('--tool <name>', 'only decisions on this tool (exposed name, e.g. payments__refund)')
    .option('--agent <name>', 'only decisions for this agent name')
    .option('--run <id>', 'only decisions of this run')
    .option('--json', 'one JSON object per line instead of a table')
    .action(
      async (o: {
        config: string;
        limit: string;
        tool?: string;
        agent?: string;
        run?: string;
        json?: boolean;
      }) => (await records()).decisionsCommand(o.config, o),
    );
}

/** `config check`: the configuration. */
export function registerConfig(program: Command): void {
  const config = program.command('config').description('configuration');
  config
    .command('check')
    .description('validate the config file and load its policies, reporting every problem')
    .addOption(configOption())
    .action(async (o: { config: string }) => (await records()).configCheckCommand(o.config));
}
