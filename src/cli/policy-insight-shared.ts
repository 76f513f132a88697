/** What `policy explain` and `policy replay` share: the policy set on disk, and where output goes. */
import { existsSync } from 'node:fs';
import type { Config } from '../config/index.js';
import { createEngine, loadPolicyDir, type PolicyEngine } from '../policy/index.js';
import { openSqliteStore, type Store } from '../store/index.js';
import { bad } from './common.js';

/** Where a command writes its output; the process's stdout by default. */
export interface InsightIo {
  readonly write?: (text: string) => void;
}

export const stdoutWrite = (text: string): void => {
  process.stdout.write(text);
};

/**
 * The engine the gate would use now: the folder's policy set (with the config's shadow files,
 * mode and limits) plus the lockdowns in `store`. A folder that does not load is an error here,
 * never a silent deny-all.
 */
export async function engineFor(config: Config, store: Store | undefined): Promise<PolicyEngine> {
  const dir = config.policies.dir;
  const loaded = loadPolicyDir(dir, { shadowFiles: config.policies.shadow });
  if (!loaded.ok) throw bad(`policies in ${dir} do not load:\n${loaded.errors.join('\n')}`);
  const lockdowns = store ? await store.listLockdowns() : [];
  const engine = createEngine(loaded.set, {
    maxArgDepth: config.limits.max_arg_depth,
    maxArgBytes: config.limits.max_arg_bytes,
    mode: config.policies.mode,
    lockdowns,
  });
  if (engine.policySetHash === 'none')
    throw bad(`policies in ${dir} load, but Cedar could not prepare them for evaluation`);
  return engine;
}

/** The store named by the config, only when it already exists: these commands create nothing. */
export function existingStore(config: Config): Store | undefined {
  const path = config.store.sqlite;
  return path !== ':memory:' && existsSync(path) ? openSqliteStore(path) : undefined;
}
