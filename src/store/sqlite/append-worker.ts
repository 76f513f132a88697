/**
 * The append worker: its own connection to the store, writing batches posted by WorkerCommit and
 * answering with one outcome per item once the transaction is durable.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Append } from './append-batch.js';
import { appendBatchWriter } from './append-batch.js';
import { openDb } from './db.js';
import { writeEach } from './group-commit.js';

const port = parentPort;
if (!port) throw new Error('append-worker runs as a worker thread');
const db = openDb((workerData as { path: string }).path);
const write = appendBatchWriter(db);
port.on('message', (items: readonly Append[]) => {
  port.postMessage(writeEach(write, items));
});
port.once('close', () => db.close());
