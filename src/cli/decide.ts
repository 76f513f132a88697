import { Approvals } from '../approvals/index.js';
import { loadConfig } from '../config/index.js';
import { decideCall, Decider, PinGuard, ToolCatalog } from '../gateway/index.js';
import { silentLogger } from '../log/index.js';
import type { Decision } from '../policy/index.js';
import { RunTracker } from '../provenance/index.js';
import { decisionJson, openLocalAdmin, openPolicy } from '../server/index.js';
import { bad, remoteCall } from './common.js';

export interface DecideOptions {
  config: string;
  tool: string;
  args?: string;
  token?: string;
  url?: string;
  json?: boolean;
}

/** Exit status of `gatehouse decide`, so scripts can branch on the outcome. */
const OUTCOME_EXIT: Record<Decision['outcome'], number> = {
  allow: 0,
  deny: 2,
  approval_required: 3,
};

/** `gatehouse decide`: one decision, recorded, through the same function as the gateway. */
export async function decideCommand(o: DecideOptions): Promise<number> {
  const token = o.token ?? process.env.GATEHOUSE_TOKEN;
  if (!token) throw bad('give the agent credential with --token or GATEHOUSE_TOKEN');
  let args: unknown = {};
  if (o.args !== undefined) {
    try {
      args = JSON.parse(o.args);
    } catch {
      throw bad('--args must be a JSON object, e.g. \'{"amount": 600}\'');
    }
  }
  if (typeof args !== 'object' || args === null || Array.isArray(args))
    throw bad('--args must be a JSON object');
  const body = o.url
    ? await remoteCall(o.url, 'v1/decide', { tool: o.tool, arguments: args }, { bearer: token })
    : await decideLocally(o.config, token, o.tool, args as Record<string, unknown>);
  if (o.json) process.stdout.write(`${JSON.stringify(body)}\n`);
  else printDecision(o.tool, body);
  return OUTCOME_EXIT[body.outcome as Decision['outcome']] ?? 1;
}

async function decideLocally(
  configPath: string,
  token: string,
  tool: string,
  args: Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const config = loadConfig(configPath);
  const admin = await openLocalAdmin(config);
  const log = silentLogger();
  try {
    const v = await admin.authority.verify(token);
    if (!v.ok) throw bad(`the credential is not valid: ${v.message}`);
    const policy = await openPolicy(config, admin.store, log, Date.now);
    // No upstream is contacted here: tools are decided with their labels from the config.
    const catalog = new ToolCatalog(config, log);
    const deps = {
      config,
      catalog,
      pins: new PinGuard({
        entries: () => catalog.all(),
        store: admin.store,
        newTools: config.tools.new,
        log,
        now: Date.now,
        onChange: () => undefined,
      }),
      decider: new Decider({
        policy,
        store: admin.store,
        runs: new RunTracker({ retainMs: config.identity.max_ttl }),
        log,
        now: Date.now,
        retention: config.audit.arguments,
      }),
      approvals: new Approvals({
        store: admin.store,
        log,
        now: Date.now,
        ttlMs: config.approvals.ttl,
        waitMs: 0,
      }),
    };
    const d = await decideCall(deps, v.identity, tool, args);
    if (!d.ok) throw bad(d.message);
    return decisionJson(d.decision, d.approval);
  } finally {
    await admin.close();
  }
}

function printDecision(tool: string, b: Record<string, unknown>): void {
  const outcome = String(b.outcome).replace('_', ' ').toUpperCase();
  const policies = (b.policies as string[] | undefined)?.join(', ') || 'none (default deny)';
  const lines = [
    `${outcome}  ${tool}`,
    `  reason      ${String(b.reason)}`,
    `  policies    ${policies}`,
    `  decision    ${String(b.decision_id)}`,
    `  policy set  ${String(b.policy_set_hash)}`,
  ];
  const approval = b.approval as { id: string; status: string; used: boolean } | undefined;
  if (approval)
    lines.push(
      `  approval    ${approval.id} ${approval.used ? 'approved and used for this call' : approval.status}`,
    );
  const shadow = b.shadow as { outcome: string; reason: string } | undefined;
  if (shadow)
    lines.push(`  shadow      would ${shadow.outcome.replace('_', ' ')}: ${shadow.reason}`);
  process.stdout.write(`${lines.join('\n')}\n`);
}
