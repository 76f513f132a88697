/**
 * Group commit from a worker thread. One batch is in flight at a time; whatever arrives meanwhile
 * becomes the next batch, so batches grow with load and the WAL sync never blocks this thread.
 * If the worker dies, every pending append is rejected (the caller refuses the call) and the next
 * append starts a new worker.
 */
import { Worker } from 'node:worker_threads';
import type { AuditReceipt } from '../entries.js';
import type { Append } from './append-batch.js';
import { settleAll, type Committer, type Pending, type Written } from './group-commit.js';

const MAX_BATCH = 1024;

export class WorkerCommit implements Committer<Append> {
  private queue: Pending<Append>[] = [];
  private inFlight: Pending<Append>[] | undefined;
  private scheduled = false;
  private worker: Worker | undefined;
  private closed = false;
  private idle: (() => void)[] = [];

  constructor(private readonly path: string) {}

  submit(item: Append): Promise<AuditReceipt> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight || this.queue.length === 0) return;
    this.scheduled = true;
    // Wait one turn so that everything submitted in this turn rides in the same batch.
    setImmediate(() => {
      this.scheduled = false;
      this.send();
    });
  }

  private send(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    this.inFlight = batch;
    this.ensureWorker().postMessage(batch.map((p) => p.item));
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./append-worker.js', import.meta.url), {
      workerData: { path: this.path },
    });
    worker.on('message', (written: Written[]) => {
      const batch = this.inFlight ?? [];
      this.inFlight = undefined;
      settleAll(batch, written);
      this.afterBatch();
    });
    const fail = (why: string) => {
      if (this.worker !== worker) return;
      this.worker = undefined;
      const lost = [...(this.inFlight ?? []), ...this.queue];
      this.inFlight = undefined;
      this.queue = [];
      for (const p of lost) p.reject(new Error(`the audit log writer stopped: ${why}`));
      this.afterBatch();
    };
    worker.on('error', (err) => fail(err.message));
    worker.on('exit', (code) => fail(`exit code ${code}`));
    this.worker = worker;
    return worker;
  }

  private afterBatch(): void {
    if (this.queue.length > 0) this.schedule();
    else if (!this.inFlight) for (const done of this.idle.splice(0)) done();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight || this.queue.length > 0 || this.scheduled) {
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
