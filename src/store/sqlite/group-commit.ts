/**
 * Group commit: appends that arrive in one turn of the event loop are written in one transaction,
 * so a burst of calls costs one WAL sync instead of one each.
 *
 * Without a WalSync the connection commits with `synchronous = FULL`: a commit is on disk when it
 * returns. With one (the server), it commits with `synchronous = NORMAL` and the WalSync syncs on
 * the thread pool, so the event loop never waits for a sync; an append asked to be `durable`
 * resolves only after that sync, one asked to be `written` as soon as it is in the log.
 */
import type { AuditReceipt } from '../entries.js';
import type { AppendOptions } from '../types.js';
import type { WalSync } from './wal-sync.js';

/** How far an append must get before it resolves (see AppendOptions). */
type AppendUntil = NonNullable<AppendOptions['until']>;

/** What a write resolves to: its receipt, or why it could not be written (`busy`: not yet). */
type Written =
  | { readonly ok: true; readonly receipt: AuditReceipt }
  | { readonly ok: false; readonly message: string; readonly busy?: true };

interface Pending<T> {
  readonly item: T;
  readonly until: AppendUntil;
  /** When it was submitted: it waits for another process's lock at most `busyMs` from then. */
  readonly since: number;
  readonly resolve: (r: AuditReceipt) => void;
  readonly reject: (err: Error) => void;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** SQLite's answer when another connection holds the write lock (busy_timeout ran out). */
const isBusy = (err: unknown) => {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
};

/** How often a batch that found the store locked by another process is tried again. */
const RETRY_MS = 2;

const outcome = (receipt: AuditReceipt | undefined): Written =>
  receipt ? { ok: true, receipt } : { ok: false, message: 'no receipt for an append' };

/**
 * Runs `write` (one transaction) over the batch; if it fails, retries each item in its own
 * transaction so that one bad item does not fail its neighbours. Throws only when the store is
 * locked by another connection: then nothing was written, and the caller may try the batch again.
 */
function writeEach<T>(
  write: (items: readonly T[]) => AuditReceipt[],
  items: readonly T[],
): Written[] {
  try {
    const receipts = write(items);
    return items.map((_, i) => outcome(receipts[i]));
  } catch (err) {
    if (isBusy(err)) throw err;
    if (items.length === 1) return [{ ok: false, message: message(err) }];
    return items.map((item) => writeOne(write, item));
  }
}

/** One item in its own transaction; a locked store leaves it `busy`, to be tried again. */
function writeOne<T>(write: (items: readonly T[]) => AuditReceipt[], item: T): Written {
  try {
    return outcome(write([item])[0]);
  } catch (err) {
    return { ok: false, message: message(err), ...(isBusy(err) ? { busy: true as const } : {}) };
  }
}

export interface GroupCommitOptions {
  /** Makes commits durable (the server); without it every commit is durable when it returns. */
  readonly wal?: WalSync;
  /**
   * How long a batch is tried again while another process holds the write lock before its appends
   * are refused. The write connection should have `busy_timeout = 0`: waiting inside SQLite would
   * stall the event loop, so the waiting happens here, between turns. Default 0: refuse at once.
   */
  readonly busyMs?: number;
}

/** Appends past this many are written at once rather than waiting for the turn to end. */
const MAX_BATCH = 1024;

/** Batches appends per turn of the event loop; see the module comment for `wal`. */
export class GroupCommit<T> {
  private queue: Pending<T>[] = [];
  private scheduled = false;
  private closed = false;
  private readonly wal: WalSync | undefined;
  private readonly busyMs: number;
  private retry: NodeJS.Timeout | undefined;

  /** `write` runs one transaction for the whole batch and returns one receipt per item, in order. */
  constructor(
    private readonly write: (items: readonly T[]) => AuditReceipt[],
    opts: GroupCommitOptions = {},
  ) {
    this.wal = opts.wal;
    this.busyMs = opts.busyMs ?? 0;
  }

  /** Why nothing more can be appended until restart (see WalSync.failed). */
  get failure(): string | undefined {
    return this.wal?.failed?.message;
  }

  /** Resolves once every batch committed so far is on disk (see WalSync.flush). */
  synced(): Promise<void> {
    return this.wal ? this.wal.flush() : Promise.resolve();
  }

  submit(item: T, until: AppendUntil = 'durable'): Promise<AuditReceipt> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ item, until, since: Date.now(), resolve, reject });
      // A batch waiting for the lock takes this one along when it is tried again.
      if (this.retry) return;
      if (this.queue.length >= MAX_BATCH) this.commit();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.commit());
      }
    });
  }

  private commit(): void {
    this.scheduled = false;
    clearTimeout(this.retry);
    this.retry = undefined;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    // Nothing more is written once the log cannot be made durable: fail closed.
    const failed = this.wal?.failed;
    if (failed) {
      for (const p of batch) p.reject(failed);
      return;
    }
    let written: Written[];
    try {
      written = writeEach(
        this.write,
        batch.map((p) => p.item),
      );
    } catch (err) {
      this.waitForLock(batch, message(err));
      return;
    }
    const { wal } = this;
    // Synced soon; at once below if an append of the batch waits for it (see WalSync).
    if (wal && written.some((w) => w.ok)) wal.committed();
    let durable: Promise<void> | undefined;
    const locked: Pending<T>[] = [];
    batch.forEach((p, i) => {
      const w = written[i];
      if (w && !w.ok && w.busy) return void locked.push(p);
      if (!w?.ok) return p.reject(new Error(w?.message ?? 'the audit log lost an append'));
      if (!wal || p.until === 'written') return p.resolve(w.receipt);
      durable ??= wal.flush();
      durable.then(() => p.resolve(w.receipt), p.reject);
    });
    if (locked.length > 0) this.waitForLock(locked, 'database is locked');
  }

  /**
   * Keeps appends that found the store locked, to try again; refuses each one that has waited
   * `busyMs` since it was submitted (a later one keeps its own time).
   */
  private waitForLock(batch: readonly Pending<T>[], why: string): void {
    const now = Date.now();
    const refused = new Error(
      `the audit log could not be written: another process kept the store locked (${why})`,
    );
    const waiting: Pending<T>[] = [];
    for (const p of batch) {
      if (now - p.since < this.busyMs) waiting.push(p);
      else p.reject(refused);
    }
    if (waiting.length === 0) return;
    this.queue = waiting.concat(this.queue);
    this.retry ??= setTimeout(() => this.commit(), RETRY_MS);
  }

  /** Writes what is queued and waits until it is on disk (or refused); later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    this.commit();
    // A batch waiting for the lock is tried until it is written or refused.
    while (this.queue.length > 0) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
      this.commit();
    }
    await this.wal?.close();
  }
}
