/**
 * Group commit: appends that arrive in one turn of the event loop are written in one transaction,
 * so a burst of calls costs one WAL sync instead of one each.
 *
 * Without a WalSync the connection commits with `synchronous = FULL`: a commit is on disk when it
 * returns. With one (the server), it commits with `synchronous = NORMAL` and the WalSync syncs on
 * the thread pool, so the event loop never waits for the disk; an append asked to be `durable`
 * resolves only after that sync, one asked to be `written` as soon as it is in the log.
 */
import type { AuditReceipt } from '../entries.js';
import type { WalSync } from './wal-sync.js';

/**
 * How far an append must get before it resolves. `durable`: on disk. `written`: in the log, in
 * order and readable, safe from a crash of this process, and on disk after the next sync.
 */
export type AppendUntil = 'durable' | 'written';

/** What a write resolves to: its receipt, or why it could not be written. */
export type Written =
  | { readonly ok: true; readonly receipt: AuditReceipt }
  | { readonly ok: false; readonly message: string };

interface Pending<T> {
  readonly item: T;
  readonly until: AppendUntil;
  readonly resolve: (r: AuditReceipt) => void;
  readonly reject: (err: Error) => void;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Runs `write` (one transaction) over the batch; if it fails, retries each item in its own
 * transaction so that one bad item does not fail its neighbours.
 */
export function writeEach<T>(
  write: (items: readonly T[]) => AuditReceipt[],
  items: readonly T[],
): Written[] {
  try {
    const receipts = write(items);
    return items.map((_, i) => {
      const receipt = receipts[i];
      return receipt ? { ok: true, receipt } : { ok: false, message: 'no receipt for an append' };
    });
  } catch (err) {
    if (items.length === 1) return [{ ok: false, message: message(err) }];
    return items.map((item) => writeEach(write, [item])[0] as Written);
  }
}

/** Batches appends per turn of the event loop; see the module comment for `wal`. */
export class GroupCommit<T> {
  private queue: Pending<T>[] = [];
  private scheduled = false;
  private closed = false;

  /** `write` runs one transaction for the whole batch and returns one receipt per item, in order. */
  constructor(
    private readonly write: (items: readonly T[]) => AuditReceipt[],
    private readonly wal?: WalSync,
    private readonly maxBatch = 1024,
  ) {}

  submit(item: T, until: AppendUntil = 'durable'): Promise<AuditReceipt> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ item, until, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.commit();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.commit());
      }
    });
  }

  private commit(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 0) return;
    // Nothing more is written once the log cannot be made durable: fail closed.
    const failed = this.wal?.failed;
    if (failed) {
      for (const p of batch) p.reject(failed);
      return;
    }
    const written = writeEach(
      this.write,
      batch.map((p) => p.item),
    );
    const { wal } = this;
    if (wal && written.some((w) => w.ok)) wal.committed();
    let durable: Promise<void> | undefined;
    batch.forEach((p, i) => {
      const w = written[i];
      if (!w?.ok) return p.reject(new Error(w?.message ?? 'the audit log lost an append'));
      if (!wal || p.until === 'written') return p.resolve(w.receipt);
      durable ??= wal.flush();
      durable.then(() => p.resolve(w.receipt), p.reject);
    });
  }

  /** Writes what is queued and waits until it is on disk (or refused); later appends are refused. */
  async close(): Promise<void> {
    this.closed = true;
    this.commit();
    await this.wal?.close();
  }
}
