import type { Command } from 'commander';
import type { ApprovalsListOptions } from '../approvals.js';
import { configOption } from './shared.js';

/** Loaded only when an `approvals` command runs. */
const impl = () => import('../approvals.js');

const personUrl = '--url <base>';
const personUrlHelp =
  'act on a remote Gatehouse (e.g. http://127.0.0.1:4100) with the approver or admin key in GATEHOUSE_ADMIN_KEY';

/** `approvals`: what people see and answer when policy says a human must approve a call. */
export function registerApprovals(program: Command): void {
  const approvals = program
    .command('approvals')
    .description(
      'calls waiting for a human: list, show, approve, deny (approve and deny need an approver or admin key in GATEHOUSE_ADMIN_KEY)',
    );
  approvals
    .command('list')
    .description('list approval requests, newest first')
    .addOption(configOption())
    .option('--status <status>', 'pending, approved, denied, expired or all', 'pending')
    .option(personUrl, personUrlHelp)
    .option('--json', 'one JSON object per line')
    .action(async (o: ApprovalsListOptions) => (await impl()).approvalsListCommand(o));
  approvals
    .command('show')
    .description(
      'show one request: agent, lineage, principal, tool, arguments, reason, who may approve',
    )
    .argument('<id>', 'approval id (apr_…)')
    .addOption(configOption())
    .option(personUrl, personUrlHelp)
    .option('--json', 'print it as JSON')
    .action(async (id: string, o: { config: string; url?: string; json?: boolean }) =>
      (await impl()).approvalsShowCommand(id, o),
    );
  approvals
    .command('approve')
    .description(
      'approve one request: the waiting call goes ahead, or its identical retry passes once',
    )
    .argument('<id>', 'approval id (apr_…)')
    .addOption(configOption())
    .option('--reason <text>', 'why (recorded)')
    .option(personUrl, personUrlHelp)
    .action(async (id: string, o: { config: string; url?: string; reason?: string }) =>
      (await impl()).approvalsAnswerCommand('approve', id, o),
    );
  approvals
    .command('deny')
    .description('deny one request; the agent is told the reason')
    .argument('<id>', 'approval id (apr_…)')
    .addOption(configOption())
    .requiredOption('--reason <text>', 'why (recorded, and shown to the agent)')
    .option(personUrl, personUrlHelp)
    .action(async (id: string, o: { config: string; url?: string; reason?: string }) =>
      (await impl()).approvalsAnswerCommand('deny', id, o),
    );
}
