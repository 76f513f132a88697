import type { Command } from 'commander';
import { configOption, urlOption, type CommandContext } from './shared.js';

/** Loaded only when an `audit` command runs. */
const impl = () => import('../audit.js');

/** `audit`: the tamper-evident log — checkpoints, export, offline verification, attestations, tail. */
export function registerAudit(program: Command, ctx: CommandContext): void {
  const audit = program
    .command('audit')
    .description('the signed, tamper-evident audit log: export, verify, attest, tail');
  audit
    .command('checkpoint')
    .description('sign a checkpoint over every entry now and print it (C2SP signed note)')
    .addOption(configOption())
    .addOption(urlOption())
    .action(async (o: { config: string; url?: string }) =>
      (await impl()).auditCheckpointCommand(o),
    );
  audit
    .command('export')
    .description('write entries, checkpoints and the verifier key to a folder anyone can verify')
    .addOption(configOption())
    .requiredOption('-o, --out <dir>', 'the folder to create')
    .option('--force', 'write into an existing, non-empty folder')
    .action(async (o: { config: string; out: string; force?: boolean }) =>
      (await impl()).auditExportCommand(o),
    );
  audit
    .command('verify')
    .argument('<dir>', 'a folder written by "gatehouse audit export"')
    .description(
      'check an exported log offline: every entry, checkpoint signature and consistency; exit 1 naming the first bad entry',
    )
    .option(
      '--key <vkey>',
      'the verifier key you trust (a key string or a file), e.g. log.vkey obtained out of band',
    )
    .option('--json', 'print the report as JSON')
    .action(async (dir: string, o: { key?: string; json?: boolean }) =>
      (await impl()).auditVerifyCommand(dir, o, (code) => ctx.setExit(code)),
    );
  audit
    .command('attest')
    .argument('<index>', 'the entry index (from a receipt or "gatehouse audit tail")')
    .description(
      'print a DSSE envelope with an in-toto Statement v1 for one entry, signed with the log key',
    )
    .addOption(configOption())
    .action(async (index: string, o: { config: string }) =>
      (await impl()).auditAttestCommand(index, o),
    );
  audit
    .command('tail')
    .description('print the latest entries; --follow keeps printing new ones as they land')
    .addOption(configOption())
    .addOption(urlOption())
    .option('-n, --lines <n>', 'how many of the latest entries to start with', '20')
    .option('-f, --follow', 'keep printing new entries')
    .option('--json', 'one JSON object per line: index, leaf_hash and the entry (for SIEMs)')
    .action(
      async (o: {
        config: string;
        url?: string;
        lines: string;
        follow?: boolean;
        json?: boolean;
      }) => (await impl()).auditTailCommand(o),
    );
}
