import { Command, CommanderError, Option } from 'commander';
import { describeError, GatehouseError } from '../errors/index.js';
import {
  adminKeyCreateCommand,
  adminKeyListCommand,
  keysListCommand,
  keysRetireCommand,
  keysRotateCommand,
  revokeCommand,
  type RevokeOptions,
} from './admin.js';
import { VERSION } from '../version.js';
import { printError } from './output.js';
import {
  decideCommand,
  lockdownCommand,
  policyReloadCommand,
  policySchemaCommand,
  type DecideOptions,
  type LockdownOptions,
} from './policy.js';
import {
  EXPLAIN_DEFAULTS,
  policyExplainCommand,
  policyReplayCommand,
  type PolicyExplainOptions,
  type PolicyReplayOptions,
} from './policy-insight.js';
import { policyTestCommand } from './policy-test.js';
import { configCheckCommand, decisionsCommand } from './records.js';
import { quickstartCommand, stdioCommand, upCommand } from './serve.js';
import {
  exchangeCommand,
  inspectCommand,
  mintCommand,
  type ExchangeOptions,
  type MintOptions,
} from './tokens.js';

const configOption = () =>
  new Option('-c, --config <file>', 'the Gatehouse config file').default('./gatehouse.yaml');
const urlOption = () =>
  new Option(
    '--url <base>',
    'act on a remote Gatehouse (e.g. http://127.0.0.1:4100) with the person key in GATEHOUSE_ADMIN_KEY',
  );

/** Set by commands whose exit status carries an outcome (e.g. `decide`). */
let outcomeExit = 0;

function buildProgram(): Command {
  const program = new Command('gatehouse')
    .description(
      'Zero-trust runtime for AI agents: every tool call passes one gate that knows the agent, asks Cedar policy, and records the decision.',
    )
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  program
    .command('up')
    .description(
      'serve the MCP gateway and control plane over HTTP (default http://127.0.0.1:4100/mcp)',
    )
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
    .action(async (o: MintOptions) => mintCommand(o));
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
    .action(async (o: ExchangeOptions) => exchangeCommand(o));
  token
    .command('inspect')
    .description('verify a credential and print who it is, for whom, its lineage, scope and expiry')
    .argument('<token>', 'the credential (JWT)')
    .addOption(configOption())
    .option('--json', 'print the verified identity and claims as JSON')
    .action(async (t: string, o: { config: string; json?: boolean }) => inspectCommand(t, o));

  const keys = program
    .command('keys')
    .description('credential signing keys (JWKS at /.well-known/jwks.json)');
  keys
    .command('list')
    .description('list signing keys and their state')
    .addOption(configOption())
    .action(async (o: { config: string }) => keysListCommand(o));
  keys
    .command('rotate')
    .description('add a new signing key; older keys keep verifying until retired')
    .addOption(configOption())
    .addOption(urlOption())
    .action(async (o: { config: string; url?: string }) => keysRotateCommand(o));
  keys
    .command('retire')
    .description('stop a key from verifying: credentials it signed are refused from the next call')
    .argument('<kid>', 'key id, from "gatehouse keys list"')
    .addOption(configOption())
    .addOption(urlOption())
    .action(async (kid: string, o: { config: string; url?: string }) => keysRetireCommand(kid, o));

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
    .action(async (o: RevokeOptions) => revokeCommand(o));

  const admin = program
    .command('admin')
    .description('people who administer Gatehouse or approve calls');
  const adminKey = admin.command('key').description("people's API keys");
  adminKey
    .command('create')
    .description('create a key for a person (shown once, stored hashed)')
    .addOption(configOption())
    .requiredOption('--name <name>', 'who holds the key, e.g. alice')
    .requiredOption('--role <role>', 'admin or approver')
    .action(async (o: { config: string; name: string; role: string }) => adminKeyCreateCommand(o));
  adminKey
    .command('list')
    .description('list people and their roles')
    .addOption(configOption())
    .action(async (o: { config: string }) => adminKeyListCommand(o));

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
      }) => decisionsCommand(o.config, o),
    );

  const policy = program
    .command('policy')
    .description('Cedar policy: typed tool schema, reload, tests, replay, explanations');
  policy
    .command('schema')
    .description(
      "type each tool's arguments for policy from the upstreams' input schemas (writes <policies>/tools.cedarschema)",
    )
    .addOption(configOption())
    .option('--out <file>', 'write here instead of <policies dir>/tools.cedarschema')
    .option('--check', 'only check that the file is up to date (for CI); exit 1 when it is not')
    .action(async (o: { config: string; out?: string; check?: boolean }) => policySchemaCommand(o));
  policy
    .command('reload')
    .description(
      'make a running Gatehouse re-read its policy folder now (needs GATEHOUSE_ADMIN_KEY); an invalid set is refused and the last good one keeps serving',
    )
    .addOption(configOption())
    .option('--url <base>', 'the Gatehouse to reload (default: the listen address in the config)')
    .action(async (o: { config: string; url?: string }) => policyReloadCommand(o));
  policy
    .command('test')
    .description(
      'run the YAML cases in <dir>/tests/ against a policy folder; exit 1 when any case fails or a test file or the policies are invalid',
    )
    .argument('[dir]', "the policy folder (default: the config's policies.dir)")
    .addOption(configOption())
    .option('--json', 'print the results as JSON')
    .action(async (dir: string | undefined, o: { config: string; json?: boolean }) => {
      outcomeExit = await policyTestCommand(dir, o);
    });
  policy
    .command('explain')
    .description(
      'explain how the policy set on disk decides one call: the outcome, the deciding policies (file:line), and every other policy and why it did or did not apply; nothing is recorded. Without --tool, reads a JSON request on stdin: {"agent": {"name", "version", "principal"}, "tool", "args", "run": {"lowest_trust", "sources"}}',
    )
    .addOption(configOption())
    .option(
      '--tool <name>',
      'the tool as agents see it, e.g. payments__refund (labels come from the config)',
    )
    .option('--args <json>', 'the arguments as a JSON object (default {})')
    .option('--agent <name>', `agent name (default ${EXPLAIN_DEFAULTS.agent})`)
    .option('--agent-version <version>', `agent version (default ${EXPLAIN_DEFAULTS.agentVersion})`)
    .option(
      '--principal <user:id>',
      `the human the agent acts for (default ${EXPLAIN_DEFAULTS.principal})`,
    )
    .option('--untrusted', 'as if the run had already read untrusted content')
    .option('--json', 'print the explanation as JSON')
    .action(async (o: PolicyExplainOptions) => policyExplainCommand(o));
  policy
    .command('replay')
    .description(
      're-decide recorded calls with the policy set on disk (and the lockdowns in force) and list every call whose outcome would change: what deploying this change would do',
    )
    .addOption(configOption())
    .option('--since <duration>', 'how far back, e.g. 24h or 7d', '24h')
    .option('-n, --limit <n>', 'replay at most this many of the newest calls (default 100000)')
    .option('--json', 'print the report as JSON')
    .action(async (o: PolicyReplayOptions) => {
      outcomeExit = await policyReplayCommand(o);
    });

  program
    .command('lockdown')
    .description(
      'make every tool matching PATTERN (names agents see, e.g. "payments__*") unavailable to every agent from the next call, without a restart',
    )
    .argument('[pattern]', 'tool-name pattern; * matches any run of characters')
    .addOption(configOption())
    .option('--reason <text>', 'why (recorded, and shown to agents)')
    .option('--lift', 'lift the lockdown on PATTERN')
    .option('--list', 'list the lockdowns in force')
    .addOption(urlOption())
    .action(async (p: string | undefined, o: LockdownOptions) => lockdownCommand(p, o));

  program
    .command('decide')
    .description(
      'decide one tool call for an agent and record it, as the gateway would (exit status: 0 allow, 2 deny, 3 approval required, 1 error)',
    )
    .addOption(configOption())
    .requiredOption('--tool <name>', 'the tool as agents see it, e.g. payments__refund')
    .option('--args <json>', 'the arguments as a JSON object', '{}')
    .option('--token <jwt>', 'the agent credential (default: GATEHOUSE_TOKEN)')
    .option('--url <base>', 'ask a remote Gatehouse (POST /v1/decide) instead of deciding locally')
    .option('--json', 'print the decision as JSON')
    .action(async (o: DecideOptions) => {
      outcomeExit = await decideCommand(o);
    });

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
  outcomeExit = 0;
  try {
    await program.parseAsync([...argv]);
    return outcomeExit;
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
