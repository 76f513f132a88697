import type { Config } from '../config/index.js';
import { openFileKeyStore, type KeyStore } from '../crypto/index.js';
import { createGateway, type Gateway } from '../gateway/index.js';
import { cachedVerifier, type IdentityDeps, type VerifyResult } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import { createEngine, loadPolicyDir, type PolicyEngine } from '../policy/index.js';
import { openSqliteStore, type Store } from '../store/index.js';

/** Everything one Gatehouse process needs, built from a config. */
export interface Runtime {
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  readonly keys: KeyStore;
  readonly identity: IdentityDeps;
  readonly verify: (token: string) => Promise<VerifyResult>;
  readonly engine: () => PolicyEngine;
  readonly gateway: Gateway;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  readonly now?: () => number;
  readonly keys?: KeyStore;
}

/** Identity settings derived from the config (shared by the runtime and `token mint`). */
export async function openIdentity(
  config: Config,
  opts: RuntimeOptions = {},
): Promise<IdentityDeps> {
  const now = opts.now ?? Date.now;
  const keys = opts.keys ?? (await openFileKeyStore(config.keys.dir, 'credential', { now }));
  return {
    keys,
    now,
    settings: {
      issuer: config.identity.issuer,
      audience: config.identity.audience,
      trustDomain: config.identity.trust_domain,
      defaultTtlMs: config.identity.default_ttl,
      maxTtlMs: config.identity.max_ttl,
    },
  };
}

/** Loads policies once; a set that fails to load yields an engine that denies everything. */
export function openEngine(config: Config, log: Logger): PolicyEngine {
  const loaded = loadPolicyDir(config.policies.dir);
  if (!loaded.ok) {
    log.error(
      { errors: loaded.errors },
      'POLICY SET FAILED TO LOAD: every call will be denied until it is fixed',
    );
    return createEngine(undefined, {
      maxArgDepth: config.limits.max_arg_depth,
      loadErrors: loaded.errors,
    });
  }
  log.info({ policies: loaded.set.policies.size, hash: loaded.set.hash }, 'policies loaded');
  return createEngine(loaded.set, { maxArgDepth: config.limits.max_arg_depth });
}

/**
 * Opens the store, keys, policies and upstream connections named by a config.
 * @example const rt = await openRuntime(loadConfig('gatehouse.yaml'), createLogger());
 */
export async function openRuntime(
  config: Config,
  log: Logger,
  opts: RuntimeOptions = {},
): Promise<Runtime> {
  const now = opts.now ?? Date.now;
  const identity = await openIdentity(config, opts);
  const store = openSqliteStore(config.store.sqlite);
  const engine = openEngine(config, log);
  const gateway = createGateway({ config, store, engine: () => engine, log, now });
  return {
    config,
    log,
    store,
    keys: identity.keys,
    identity,
    verify: cachedVerifier(identity),
    engine: () => engine,
    gateway,
    async close() {
      await gateway.close();
      await store.close();
    },
  };
}
