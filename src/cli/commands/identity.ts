import type { Command } from 'commander';
import type { RevokeOptions } from '../admin.js';
import type { ExchangeOptions, MintOptions } from '../tokens.js';
import { configOption, urlOption } from './shared.js';

/** Loaded only when the command that needs them runs. */
const admin = () => import('../admin.js');
const tokens = () => import('../tokens.js');

/** `token`, `keys`, `revoke` and `admin`: agent credentials, signing keys and people's keys. */
export function registerIdentity(program: Command): void {
  const token = program
    .command('token')
    .description('agent credentials: mint, delegate to subagents, inspect');
  token
    .command('mint')
    .description('print a short-lived root agent credential (JWT) to stdout')
    .addOption(configOption())
    .requiredOption('--agent <name>', 'agent name, e.g. support-bot')
    .requiredOption('--agent-version <version>', 'agent version, e.g. 1.4.0')
    .option('--agent-digest <sha256:hex>', 'build digest of the agent')
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
    .addOption(urlOption())
    .action(async (o: MintOptions) => (await tokens()).mintCommand(o));
  token
    .command('exchange')
    .description(
      'exchange a credential for a narrower one for a subagent (RFC 8693); prints the new credential',
    )
    .addOption(configOption())
    .option('--token <jwt>', 'the parent credential (default: GATEHOUSE_TOKEN)')
    .requiredOption('--agent <name>', "the subagent's name")
    .requiredOption('--agent-version <version>', "the subagent's version")
    .option('--agent-digest <sha256:hex>', "the subagent's build digest")
    .option('--scope <patterns...>', "a subset of the parent's scope (default: the parent's)")
    .option('--ttl <duration>', "lifetime, no later than the parent's expiry")
    .option('--url <base>', 'exchange at a remote Gatehouse (POST /v1/token/exchange)')
    .action(async (o: ExchangeOptions) => (await tokens()).exchangeCommand(o));
  token
    .command('inspect')
    .description('verify a credential and print who it is, for whom, its lineage, scope and expiry')
    .argument('<token>', 'the credential (JWT)')
    .addOption(configOption())
    .option('--json', 'print the verified identity and claims as JSON')
    .action(async (t: string, o: { config: string; json?: boolean }) =>
      (await tokens()).inspectCommand(t, o),
    );

  const keys = program
    .command('keys')
    .description('credential signing keys (JWKS at /.well-known/jwks.json)');
  keys
    .command('list')
    .description('list signing keys and their state')
    .addOption(configOption())
    .action(async (o: { config: string }) => (await admin()).keysListCommand(o));
  keys
    .command('rotate')
    .description('add a new signing key; older keys keep verifying until retired')
    .addOption(configOption())
    .addOption(urlOption())
    .action(async (o: { config: string; url?: string }) => (await admin()).keysRotateCommand(o));
  keys
    .command('retire')
    .description('stop a key from verifying: credentials it signed are refused from the next call')
    .argument('<kid>', 'key id, from "gatehouse keys list"')
    .addOption(configOption())
    .addOption(urlOption())
    .action(async (kid: string, o: { config: string; url?: string }) =>
      (await admin()).keysRetireCommand(kid, o),
    );

  program
    .command('revoke')
    .description(
      'revoke credentials: one, a release, a run, or an agent and all its descendants; effective on the next call',
    )
    .addOption(configOption())
    .option('--jti <id>', 'one credential, by its id')
    .option('--agent <name@version>', 'every credential of a release, e.g. support-bot@1.4.0')
    .option('--run <id>', 'every credential of a run')
    .option('--subtree <id>', 'an agent id (spiffe://...) or credential id, and every descendant')
    .requiredOption('--reason <text>', 'why (recorded)')
    .addOption(urlOption())
    .action(async (o: RevokeOptions) => (await admin()).revokeCommand(o));

  const adminCmd = program
    .command('admin')
    .description('people who administer Gatehouse or approve calls');
  const adminKey = adminCmd.command('key').description("people's API keys");
  adminKey
    .command('create')
    .description('create a key for a person (shown once, stored hashed)')
    .addOption(configOption())
    .requiredOption('--name <name>', 'who holds the key, e.g. alice')
    .requiredOption('--role <role>', 'admin or approver')
    .option(
      '--groups <names>',
      'comma-separated groups, matched against @approvers("…") in policy, e.g. finance,ops',
    )
    .action(async (o: { config: string; name: string; role: string; groups?: string }) =>
      (await admin()).adminKeyCreateCommand(o),
    );
  adminKey
    .command('list')
    .description('list people and their roles')
    .addOption(configOption())
    .action(async (o: { config: string }) => (await admin()).adminKeyListCommand(o));
}
