/**
 * Group commit: appends that arrive together are written in one transaction, so a burst of calls
 * costs one WAL sync instead of one each. Every caller's promise resolves only after its batch
 * committed (synchronous = FULL), so an acknowledged entry is on disk.
 *
 * Two committers share this contract: `InlineCommit` writes on this thread (CLI, tests, `:memory:`);
 * `WorkerCommit` (./worker-commit.ts) writes from a worker thread so that hashing, inserts and the
 * WAL sync never block the gateway's event loop.
 */
import type { AuditReceipt } from '../entries.js';

/** What an append resolves to: its receipt, or why it could not be written. */
export type Written =
  | { readonly ok: true; readonly receipt: AuditReceipt }
  | { readonly ok: false; readonly message: string };

export interface Committer<T> {
  submit(item: T): Promise<AuditReceipt>;
  /** Writes what is queued, then stops accepting work. */
  close(): Promise<void>;
}

export interface Pending<T> {
  readonly item: T;
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

/** Settles each pending append with its outcome. */
export function settleAll<T>(batch: readonly Pending<T>[], written: readonly Written[]): void {
  batch.forEach((p, i) => {
    const w = written[i];
    if (w?.ok) p.resolve(w.receipt);
    else p.reject(new Error(w?.message ?? 'the audit log lost an append'));
  });
}

/** Writes on this thread; batches what arrives within one turn of the event loop. */
export class InlineCommit<T> implements Committer<T> {
  private queue: Pending<T>[] = [];
  private scheduled = false;

  /** `write` runs one transaction for the whole batch and returns one receipt per item, in order. */
  constructor(
    private readonly write: (items: readonly T[]) => AuditReceipt[],
    private readonly maxBatch = 1024,
  ) {}

  submit(item: T): Promise<AuditReceipt> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    if (batch.length > 0) {
      settleAll(
        batch,
        writeEach(
          this.write,
          batch.map((p) => p.item),
        ),
      );
    }
  }

  close(): Promise<void> {
    this.flush();
    return Promise.resolve();
  }
}
