import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listenUrl, loadConfig } from '../config/index.js';
import { Approvals } from '../approvals/index.js';
import { decideCall, Decider, takeInventory, ToolCatalog } from '../gateway/index.js';
import { createLogger, silentLogger } from '../log/index.js';
import {
  loadPolicyDir,
  lockdownProblem,
  toolActionsSchema,
  type Decision,
} from '../policy/index.js';
import { RunTracker } from '../provenance/index.js';
import { decisionJson, openLocalAdmin, openPolicy } from '../server/index.js';
import { adminKeyFromEnv, bad, remoteCall } from './common.js';
import { table } from './output.js';

const SCHEMA_FILE = 'tools.cedarschema';

/** `gatehouse policy schema`: types each tool's arguments for policy from the upstreams' input schemas. */
export async function policySchemaCommand(o: {
  config: string;
  out?: string;
  check?: boolean;
}): Promise<void> {
  const config = loadConfig(o.config);
  const out = o.out ?? join(config.policies.dir, SCHEMA_FILE);
  process.stderr.write(
    `Listing the tools of ${Object.keys(config.upstreams).length} upstream(s)...\n`,
  );
  const inv = await takeInventory(
    config,
    process.env.GATEHOUSE_DEBUG ? createLogger() : silentLogger(),
  );
  if (inv.unreachable.length > 0) {
    const names = inv.unreachable.map((u) => `${u.name} (${u.lastError ?? u.state})`).join(', ');
    throw bad(`cannot list the tools of ${names}; a schema without them would drop their actions`);
  }
  const generated = toolActionsSchema(inv.tools);
  for (const note of generated.notes) process.stderr.write(`note: ${note}\n`);
  if (o.check) {
    let current = '';
    try {
      current = readFileSync(out, 'utf8');
    } catch {
      /* a missing file is out of date */
    }
    if (current !== generated.text)
      throw bad(
        `${out} is out of date with the upstreams' tools; run: gatehouse policy schema --config ${o.config}`,
      );
    process.stdout.write(`${out} is up to date (${inv.tools.length} tools).\n`);
    return;
  }
  writeFileSync(out, generated.text);
  process.stdout.write(`Wrote ${out}: ${inv.tools.length} tool actions.\n`);
  const loaded = loadPolicyDir(config.policies.dir, { shadowFiles: config.policies.shadow });
  if (!loaded.ok)
    throw bad(`the policies do not validate against the new schema:\n${loaded.errors.join('\n')}`);
  process.stdout.write(`The ${loaded.set.policies.size} policies validate against it.\n`);
}

/** `gatehouse policy reload`: asks a running Gatehouse to re-read its policy folder. */
export async function policyReloadCommand(o: { config: string; url?: string }): Promise<void> {
  const url = o.url ?? localUrl(o.config);
  const res = await remoteCall(
    url,
    'v1/policies/reload',
    {},
    { adminKey: adminKeyFromEnv() },
  ).catch((err: Error) => {
    throw bad(err.message);
  });
  process.stdout.write(
    `Reloaded at ${url}: ${String(res.policies)} policies, policy set ${String(res.hash)}.\n`,
  );
}

function localUrl(configPath: string): string {
  const { host, port } = loadConfig(configPath).listen;
  return listenUrl(host, port);
}

export interface LockdownOptions {
  config: string;
  reason?: string;
  lift?: boolean;
  list?: boolean;
  url?: string;
}

/** `gatehouse lockdown`: stops every matching tool for every agent from the next call on. */
export async function lockdownCommand(
  pattern: string | undefined,
  o: LockdownOptions,
): Promise<void> {
  if (o.list || pattern === undefined) return lockdownList(o);
  if (o.lift) {
    if (o.url) {
      await remoteCall(o.url, 'v1/lockdowns/lift', { pattern }, { adminKey: adminKeyFromEnv() });
    } else {
      const admin = await openLocalAdmin(loadConfig(o.config));
      try {
        if (!(await admin.store.liftLockdown(pattern, 'local', Date.now())))
          throw bad(`no lockdown on "${pattern}" (see: gatehouse lockdown --list)`);
      } finally {
        await admin.close();
      }
    }
    process.stdout.write(
      `Lifted the lockdown on ${pattern}; policy decides these tools again from the next call.\n`,
    );
    return;
  }
  if (o.reason === undefined) throw bad('--reason is required: say why, for the record');
  const problem = lockdownProblem(pattern, o.reason);
  if (problem) throw bad(problem);
  if (o.url) {
    await remoteCall(
      o.url,
      'v1/lockdowns',
      { pattern, reason: o.reason },
      { adminKey: adminKeyFromEnv() },
    );
  } else {
    const admin = await openLocalAdmin(loadConfig(o.config));
    try {
      const added = await admin.store.addLockdown({
        pattern,
        reason: o.reason.trim(),
        by: 'local',
        time: Date.now(),
      });
      if (!added) process.stdout.write(`${pattern} was already locked down.\n`);
    } finally {
      await admin.close();
    }
  }
  process.stdout.write(
    `Locked down ${pattern}: every matching tool is denied to every agent from the next call.\n`,
  );
}

async function lockdownList(o: LockdownOptions): Promise<void> {
  let rows: { pattern: string; reason: string; by: string; time: number }[];
  if (o.url) {
    const res = await remoteCall(o.url, 'v1/lockdowns', undefined, {
      adminKey: adminKeyFromEnv(),
      method: 'GET',
    });
    rows = res.lockdowns as typeof rows;
  } else {
    const admin = await openLocalAdmin(loadConfig(o.config));
    try {
      rows = await admin.store.listLockdowns();
    } finally {
      await admin.close();
    }
  }
  if (rows.length === 0) {
    process.stdout.write('No lockdowns.\n');
    return;
  }
  const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
  process.stdout.write(
    `${table(
      ['PATTERN', 'SINCE', 'BY', 'REASON'],
      rows.map((l) => [l.pattern, when(l.time), l.by, l.reason]),
    )}\n`,
  );
}

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
    const deps = {
      config,
      // No upstream is contacted here: tools are decided with their labels from the config.
      catalog: new ToolCatalog(config, log),
      decider: new Decider({
        policy,
        store: admin.store,
        runs: new RunTracker(),
        log,
        now: Date.now,
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
