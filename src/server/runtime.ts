import { join } from 'node:path';
import { AuditLog, openLogKey } from '../audit/index.js';
import { listenUrl, type Config } from '../config/index.js';
import { openFileKeyStore } from '../crypto/index.js';
import { createGateway, type Gateway } from '../gateway/index.js';
import { Authority, type IdentitySettings } from '../identity/index.js';
import type { Logger } from '../log/index.js';
import { Approvals, webhookAnnouncer } from '../approvals/index.js';
import { PolicyService } from '../policy/index.js';
import { restoreRuns, RunTracker } from '../provenance/index.js';
import { openSqliteStore, type Store, type SyncFile } from '../store/index.js';

/** Everything one Gatehouse process needs, built from a config. */
export interface Runtime {
  readonly config: Config;
  readonly log: Logger;
  readonly store: Store;
  readonly authority: Authority;
  readonly policy: PolicyService;
  readonly approvals: Approvals;
  readonly audit: AuditLog;
  readonly gateway: Gateway;
  /** What each run has read, and the inputs its human registered (provenance). */
  readonly runs: RunTracker;
  /** The clock every record uses, ms since the epoch. */
  readonly now: () => number;
  close(): Promise<void>;
}

export interface RuntimeOptions {
  /** Injected clock, ms since the epoch. */
  readonly now?: () => number;
  /**
   * Sync the audit log's appends on the thread pool (servers: yes; one-shot CLI commands, which
   * wait for every append anyway: no). See SqliteStoreOptions.backgroundSync.
   */
  readonly backgroundSync?: boolean;
  /** The audit log's disk sync (default: fs.fdatasync), injected by tests of disk faults. */
  readonly syncFile?: SyncFile;
}

export interface OpenRuntimeOptions extends RuntimeOptions {
  /**
   * A short-lived process that decides and records calls made elsewhere (the standalone Claude
   * Code hook): no upstream connections, no policy watch, no background sync, and no audit-tree
   * catch-up or checkpoint signing (a server or `gatehouse audit checkpoint` signs its entries).
   */
  readonly standalone?: boolean;
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
  const store = openSqliteStore(config.store.sqlite, {
    backgroundSync: opts.backgroundSync === true,
    ...(opts.syncFile ? { syncFile: opts.syncFile } : {}),
  });
  try {
    const authority = await Authority.open(store, keys, identitySettings(config), now);
    return { store, authority, close: () => store.close() };
  } catch (err) {
    await store.close();
    throw err;
  }
}

/** Opens the policy service: the folder's set (or deny-all when it is invalid) plus lockdowns. */
export function openPolicy(
  config: Config,
  store: Store,
  log: Logger,
  now: () => number,
): Promise<PolicyService> {
  return PolicyService.open({
    dir: config.policies.dir,
    mode: config.policies.mode,
    shadowFiles: config.policies.shadow,
    maxArgDepth: config.limits.max_arg_depth,
    maxArgBytes: config.limits.max_arg_bytes,
    store,
    log,
    now,
  });
}

/** The audit log's signing key file, beside the credential keys but never among them. */
export function logKeyPath(config: Config): string {
  return join(config.keys.dir, 'audit-log.key');
}

/**
 * The audit log over a store: its key (created on first use), its tree caught up with the store,
 * and a check that the stored log still matches its last signed checkpoint.
 * @example const audit = await openAuditLog(config, store, log, Date.now);
 */
export async function openAuditLog(
  config: Config,
  store: Store,
  log: Logger | undefined,
  now: () => number,
): Promise<AuditLog> {
  const key = openLogKey(logKeyPath(config), config.audit.origin);
  const audit = new AuditLog({
    store,
    key,
    now,
    intervalMs: config.audit.checkpoint_interval,
    ...(log ? { log } : {}),
  });
  await audit.sync();
  return audit;
}

/** Where approvers open the inbox: `approvals.public_url`, or the listen address. */
export function inboxUrl(config: Config): string {
  const { host, port } = config.listen;
  const base = config.approvals.public_url ?? listenUrl(host, port);
  return `${base.replace(/\/$/, '')}/console/approvals`;
}

/** Approval requests over the store, announced by the configured webhook. */
export function openApprovals(
  config: Config,
  store: Store,
  log: Logger,
  now: () => number,
): Approvals {
  const { webhook, ttl, wait } = config.approvals;
  const announce = webhook
    ? webhookAnnouncer({ url: webhook, inboxUrl: inboxUrl(config), log })
    : undefined;
  const approvals = new Approvals({
    store,
    log,
    now,
    ttlMs: ttl,
    waitMs: wait,
    ...(announce ? { announce } : {}),
  });
  approvals.startSweeper();
  return approvals;
}

/**
 * Opens the store, keys, policies and upstream connections named by a config.
 * @example const rt = await openRuntime(loadConfig('gatehouse.yaml'), createLogger());
 */
export async function openRuntime(
  config: Config,
  log: Logger,
  opts: OpenRuntimeOptions = {},
): Promise<Runtime> {
  const now = opts.now ?? Date.now;
  const standalone = opts.standalone === true;
  const { store, authority } = await openLocalAdmin(config, {
    now,
    backgroundSync: !standalone,
    ...(opts.syncFile ? { syncFile: opts.syncFile } : {}),
  });
  let audit: AuditLog;
  const runs = new RunTracker({ now, retainMs: config.identity.max_ttl });
  try {
    audit = standalone
      ? new AuditLog({ store, key: openLogKey(logKeyPath(config), config.audit.origin), now, log })
      : await openAuditLog(config, store, log, now);
    // What runs still able to call had read before a restart: a restart must not clean a run.
    const restored = await restoreRuns(store, runs, now() - config.identity.max_ttl);
    // What was restored may be entries another process committed but has not synced yet: later
    // results are judged news or not against it, so it must be on disk first.
    await store.syncAll();
    if (restored > 0) log.info({ runs: restored }, 'run provenance restored from the audit log');
  } catch (err) {
    await store.close();
    throw err;
  }
  if (!standalone) audit.start();
  const policy = await openPolicy(config, store, log, now);
  if (config.policies.watch && !standalone) policy.watch();
  const approvals = openApprovals(config, store, log, now);
  const gateway = createGateway({
    config,
    store,
    policy,
    approvals,
    runs,
    log,
    now,
    connect: !standalone,
  });
  policy.onSwap(() => gateway.notifyToolsChanged());
  return {
    config,
    log,
    store,
    authority,
    policy,
    approvals,
    audit,
    gateway,
    runs,
    now,
    async close() {
      policy.close();
      // Parked calls answer now (the request stays pending in the store and can be retried).
      approvals.close();
      await gateway.close();
      // A last checkpoint covers every entry appended by this process.
      if (!standalone)
        await audit.close().catch((err: unknown) => {
          log.error({ err: (err as Error).message }, 'cannot sign the closing audit checkpoint');
        });
      await store.close();
    },
  };
}
