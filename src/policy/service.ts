import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import type { Store } from '../store/index.js';
import { createEngine, type PolicyEngine, type PolicyMode } from './engine.js';
import { loadPolicyDir, type PolicySet } from './loader.js';
import { lockdownProblem, type Lockdown } from './lockdown.js';

export interface PolicyServiceOptions {
  readonly dir: string;
  readonly mode: PolicyMode;
  readonly shadowFiles: readonly string[];
  readonly maxArgDepth: number;
  readonly maxArgBytes: number;
  readonly store: Store;
  readonly log: Logger;
  readonly now: () => number;
}

/** What a reload did: swapped in a new set, or kept the last good one. */
export type ReloadResult =
  | {
      readonly ok: true;
      readonly hash: string;
      readonly policies: number;
      readonly changed: boolean;
    }
  | { readonly ok: false; readonly errors: readonly string[]; readonly serving: string };

export type LockdownResult =
  | { readonly ok: true; readonly changed: boolean; readonly policySetHash: string }
  | { readonly ok: false; readonly error: string };

/**
 * The policy in force for one Gatehouse process: the last good set from the policy folder plus
 * the lockdowns in the store. Swaps are atomic (one reference); a set that fails validation is
 * refused loudly and the last good set keeps serving; with no good set at all, every call is denied.
 */
export class PolicyService {
  private set: PolicySet | undefined;
  private loadErrors: readonly string[] = [];
  private lockdowns: readonly Lockdown[] = [];
  private engine: PolicyEngine;
  private marker = -1;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners: (() => void)[] = [];

  private constructor(private readonly opts: PolicyServiceOptions) {
    this.engine = this.build();
  }

  /** Loads the folder and the lockdowns. @example const policy = await PolicyService.open({ ...}); */
  static async open(opts: PolicyServiceOptions): Promise<PolicyService> {
    const service = new PolicyService(opts);
    await service.reload('start', 'local');
    await service.sync();
    return service;
  }

  /** Called after every swap of the engine (reload, lockdown), e.g. to announce tool list changes. */
  onSwap(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Tool arguments larger than this (as JSON, in bytes) are refused before policy. */
  get maxArgBytes(): number {
    return this.opts.maxArgBytes;
  }

  /** The engine in force now; callers take it per decision so a swap is seen at once. */
  current(): PolicyEngine {
    return this.engine;
  }

  /** Re-reads the folder, validates it and swaps it in, or keeps the last good set. Recorded either way. */
  async reload(trigger: string, actor: string): Promise<ReloadResult> {
    const { log, store, now } = this.opts;
    const loaded = loadPolicyDir(this.opts.dir, { shadowFiles: this.opts.shadowFiles });
    if (!loaded.ok) {
      const serving = this.set ? this.engine.policySetHash : 'none (every call is denied)';
      if (!this.set) {
        this.loadErrors = loaded.errors;
        this.swap();
      }
      log.error(
        { errors: loaded.errors, trigger, serving },
        this.set
          ? 'POLICY RELOAD REFUSED: the new set is invalid; the last good set keeps serving'
          : 'POLICY SET FAILED TO LOAD: every call will be denied until it is fixed',
      );
      await store.recordEvent({
        time: now(),
        kind: 'policy.reload',
        actor,
        detail: { ok: false, trigger, errors: loaded.errors.slice(0, 50), serving },
      });
      return { ok: false, errors: loaded.errors, serving };
    }
    const changed = loaded.set.hash !== this.set?.hash;
    this.set = loaded.set;
    this.loadErrors = [];
    this.swap();
    log.info(
      {
        trigger,
        files: loaded.set.hash,
        policySetHash: this.engine.policySetHash,
        policies: loaded.set.policies.size,
        changed,
      },
      'policies loaded',
    );
    await store.recordEvent({
      time: now(),
      kind: 'policy.reload',
      actor,
      detail: {
        ok: true,
        trigger,
        hash: this.engine.policySetHash,
        policies: loaded.set.policies.size,
        changed,
      },
    });
    return {
      ok: true,
      hash: this.engine.policySetHash,
      policies: loaded.set.policies.size,
      changed,
    };
  }

  /** Locks every tool matching `pattern` for every agent, from the next call on. */
  async lockdown(pattern: string, reason: string, by: string): Promise<LockdownResult> {
    const problem = lockdownProblem(pattern, reason);
    if (problem) return { ok: false, error: problem };
    const changed = await this.opts.store.addLockdown({
      pattern,
      reason: reason.trim(),
      by,
      time: this.opts.now(),
    });
    await this.refreshLockdowns();
    return { ok: true, changed, policySetHash: this.engine.policySetHash };
  }

  async lift(pattern: string, by: string): Promise<LockdownResult> {
    const changed = await this.opts.store.liftLockdown(pattern, by, this.opts.now());
    await this.refreshLockdowns();
    return { ok: true, changed, policySetHash: this.engine.policySetHash };
  }

  /** Picks up lockdowns another process (the CLI) wrote; cheap enough for every call. */
  async sync(): Promise<void> {
    const marker = await this.opts.store.changeMarker();
    if (marker === this.marker) return;
    await this.refreshLockdowns();
    // Only once the lockdowns are read: a failed read must be retried on the next call.
    this.marker = marker;
  }

  /** Reloads when a file of the folder changes (debounced: editors write in several steps). */
  watch(): void {
    if (this.watcher) return;
    try {
      this.watcher = watch(this.opts.dir, () => {
        clearTimeout(this.timer);
        this.timer = setTimeout(
          () =>
            void this.reload('file change', 'local').catch((err: Error) =>
              this.opts.log.error({ err: err.message }, 'policy reload after a file change failed'),
            ),
          150,
        );
      });
      this.watcher.on('error', (err) =>
        this.opts.log.warn({ err: err.message }, 'policy folder watch stopped'),
      );
    } catch (err) {
      this.opts.log.warn(
        { err: (err as Error).message },
        'cannot watch the policy folder; reload with SIGHUP or the API',
      );
    }
  }

  close(): void {
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }

  private async refreshLockdowns(): Promise<void> {
    const rows = await this.opts.store.listLockdowns();
    const same =
      rows.length === this.lockdowns.length &&
      rows.every(
        (r, i) =>
          r.pattern === this.lockdowns[i]?.pattern && r.reason === this.lockdowns[i]?.reason,
      );
    if (same) return;
    this.lockdowns = rows;
    this.swap();
    this.opts.log.warn(
      { lockdowns: rows.map((l) => l.pattern), policySetHash: this.engine.policySetHash },
      'lockdowns changed',
    );
  }

  private swap(): void {
    this.engine = this.build();
    for (const l of this.listeners) {
      try {
        l();
      } catch {
        /* a listener's failure must not undo a swap */
      }
    }
  }

  private build(): PolicyEngine {
    return createEngine(this.set, {
      maxArgDepth: this.opts.maxArgDepth,
      maxArgBytes: this.opts.maxArgBytes,
      mode: this.opts.mode,
      lockdowns: this.lockdowns,
      loadErrors: this.loadErrors,
      now: this.opts.now,
    });
  }
}
