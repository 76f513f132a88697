import type { Config } from '../config/index.js';
import { openFileKeyStore } from '../crypto/index.js';
import { createGateway, type Gateway } from '../gateway/index.js';
import { Authority, type IdentitySettings } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import { createEngine, loadPolicyDir, type PolicyEngine } from '../policy/index.js';
import { openSqliteStore, type Store } from '../store/index.js';

/** Everything one Gatehouse process needs, built from a config. */
export interface Runtime {
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  readonly authority: Authority;
  readonly engine: () => PolicyEngine;
  readonly gateway: Gateway;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Injected clock, ms since the epoch. */
  readonly now?: () => number;
}

export function identitySettings(config: Config): IdentitySettings {
  return {
    issuer: config.identity.issuer,
    audience: config.identity.audience,
    trustDomain: config.identity.trust_domain,
    defaultTtlMs: config.identity.default_ttl,
    maxTtlMs: config.identity.max_ttl,
    maxDepth: config.identity.max_depth,
  };
}

/** The store and the identity authority named by a config: what host-side admin commands need. */
export interface LocalAdmin {
  readonly store: Store;
  readonly authority: Authority;
  close(): Promise<void>;
}

/** @example const admin = await openLocalAdmin(loadConfig('gatehouse.yaml')); */
export async function openLocalAdmin(
  config: Config,
  opts: RuntimeOptions = {},
): Promise<LocalAdmin> {
  const now = opts.now ?? Date.now;
  const keys = await openFileKeyStore(config.keys.dir, 'credential', {
    now,
    alg: config.identity.algorithm,
  });
  const store = openSqliteStore(config.store.sqlite);
  try {
    const authority = await Authority.open(store, keys, identitySettings(config), now);
    return { store, authority, close: () => store.close() };
  } catch (err) {
    await store.close();
    throw err;
  }
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
  const { store, authority } = await openLocalAdmin(config, { now });
  const engine = openEngine(config, log);
  const gateway = createGateway({ config, store, engine: () => engine, log, now });
  return {
    config,
    log,
    store,
    authority,
    engine: () => engine,
    gateway,
    async close() {
      await gateway.close();
      await store.close();
    },
  };
}
