import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listenUrl, loadConfig, runtimeToolsForSchema } from '../config/index.js';
import { takeInventory } from '../gateway/index.js';
import { createLogger, silentLogger } from '../log/index.js';
import { loadPolicyDir, toolActionsSchema } from '../policy/index.js';
import { adminKeyFromEnv, bad, remoteCall } from './common.js';

const SCHEMA_FILE = 'tools.cedarschema';

/**
 * `gatehouse policy schema`: types each tool's arguments for policy from the upstreams' input
 * schemas, and those of agent runtimes' tools (Claude Code's built-ins) from their known schemas.
 */
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
  // Agent runtimes' own tools (Claude Code's built-ins, runtime_tools) are decided too: type them.
  const runtimeTools = runtimeToolsForSchema(config);
  const generated = toolActionsSchema([...inv.tools, ...runtimeTools]);
  const count = inv.tools.length + runtimeTools.length;
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
    process.stdout.write(`${out} is up to date (${count} tools).\n`);
    return;
  }
  writeFileSync(out, generated.text);
  process.stdout.write(`Wrote ${out}: ${count} tool actions.\n`);
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
