import type { Command } from 'commander';
import type { DecideOptions } from '../decide.js';
import type { LockdownOptions } from '../lockdown.js';
import type { PolicyExplainOptions } from '../policy-explain.js';
import type { PolicyReplayOptions } from '../policy-replay.js';
import { configOption, EXPLAIN_DEFAULTS, urlOption, type CommandContext } from './shared.js';

/** Each loaded only when its command runs. */
const decide = () => import('../decide.js');
const lockdown = () => import('../lockdown.js');
const policySchema = () => import('../policy-schema.js');
const policyExplain = () => import('../policy-explain.js');
const policyReplay = () => import('../policy-replay.js');
const policyTest = () => import('../policy-test.js');

/**
 * `policy` (schema, reload, test, explain, replay), `lockdown` and `decide`. `decide`, `policy test`
 * and `policy replay` report their exit status through `ctx.setExit`.
 */
export function registerPolicy(program: Command, ctx: CommandContext): void {
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
    .action(async (o: { config: string; out?: string; check?: boolean }) =>
      (await policySchema()).policySchemaCommand(o),
    );
  policy
    .command('reload')
    .description(
      'make a running Gatehouse re-read its policy folder now (needs GATEHOUSE_ADMIN_KEY); an invalid set is refused and the last good one keeps serving',
    )
    .addOption(configOption())
    .option('--url <base>', 'the Gatehouse to reload (default: the listen address in the config)')
    .action(async (o: { config: string; url?: string }) =>
      (await policySchema()).policyReloadCommand(o),
    );
  policy
    .command('test')
    .description(
      'run the YAML cases in <dir>/tests/ against a policy folder; exit 1 when any case fails or a test file or the policies are invalid',
    )
    .argument('[dir]', "the policy folder (default: the config's policies.dir)")
    .addOption(configOption())
    .option('--json', 'print the results as JSON')
    .action(async (dir: string | undefined, o: { config: string; json?: boolean }) => {
      ctx.setExit(await (await policyTest()).policyTestCommand(dir, o));
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
    .action(async (o: PolicyExplainOptions) => (await policyExplain()).policyExplainCommand(o));
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
      ctx.setExit(await (await policyReplay()).policyReplayCommand(o));
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
    .action(async (p: string | undefined, o: LockdownOptions) =>
      (await lockdown()).lockdownCommand(p, o),
    );

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
      ctx.setExit(await (await decide()).decideCommand(o));
    });
}
