import { loadConfig } from '../config/index.js';
import {
  CREATE_MESSAGE,
  ELICIT,
  GET_PROMPT,
  loadPolicyDir,
  READ_RESOURCE,
} from '../policy/index.js';
import { openSqliteStore, type DecisionRecord } from '../store/index.js';
import { bad } from './common.js';
import { table } from './output.js';

/** What a decision was about, for people: a tool, or a read, prompt or sampling request. */
function subject(r: Pick<DecisionRecord, 'action' | 'tool' | 'server'>): string {
  switch (r.action) {
    case READ_RESOURCE:
      return `read ${r.tool}`;
    case GET_PROMPT:
      return `prompt ${r.tool}`;
    case CREATE_MESSAGE:
      return `sampling by ${r.server}`;
    case ELICIT:
      return `elicitation by ${r.server}`;
    default:
      return r.tool;
  }
}

export async function decisionsCommand(
  configPath: string,
  o: { limit: string; tool?: string; agent?: string; run?: string; json?: boolean },
): Promise<void> {
  const limit = Number(o.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
    throw bad('--limit must be a whole number from 1 to 10000');
  const config = loadConfig(configPath);
  const store = openSqliteStore(config.store.sqlite);
  try {
    const rows = await store.listDecisions({
      limit,
      ...(o.tool !== undefined ? { tool: o.tool } : {}),
      ...(o.agent !== undefined ? { agentName: o.agent } : {}),
      ...(o.run !== undefined ? { run: o.run } : {}),
    });
    if (o.json) {
      for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
      return;
    }
    if (rows.length === 0) {
      process.stdout.write('No decisions recorded yet.\n');
      return;
    }
    process.stdout.write(
      `${table(
        ['TIME', 'OUTCOME', 'AGENT', 'DEPTH', 'PRINCIPAL', 'WHAT', 'POLICIES', 'DECISION'],
        rows.map((r) => [
          new Date(r.time).toISOString().replace('T', ' ').slice(0, 19),
          r.outcome.toUpperCase(),
          `${r.agent.name}@${r.agent.version}`,
          String(r.agent.depth),
          r.agent.principal,
          subject(r),
          r.policies.join(',') || '-',
          r.id,
        ]),
      )}\n`,
    );
  } finally {
    await store.close();
  }
}

export function configCheckCommand(configPath: string): void {
  const config = loadConfig(configPath);
  const policies = loadPolicyDir(config.policies.dir, { shadowFiles: config.policies.shadow });
  if (!policies.ok)
    throw bad(`policies in ${config.policies.dir} do not load:\n${policies.errors.join('\n')}`);
  process.stdout.write(
    `${configPath} is valid: ${Object.keys(config.upstreams).length} upstream(s), ${policies.set.policies.size} policies (${policies.set.hash}).\n`,
  );
}
