/**
 * Streams entries.jsonl once, in chunks of whole lines: each line is checked and hashed as a leaf
 * (./verify-line.ts), and the leaves are appended in order to a frontier tree whose root is compared
 * with every signed checkpoint as its size is reached. Memory stays at a few chunks, the frontier
 * and a few proof hashes, whatever the size of the log.
 *
 * Checking and leaf hashing are most of the work and need nothing but a chunk, its first index and
 * the leaf hash of the line before it (hashed here, one line per chunk), so large files are checked
 * by worker threads, chunks in flight on every core, while this thread builds the tree in order.
 */
import { availableParallelism } from 'node:os';
import { stat } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { describeError } from '../errors/index.js';
import {
  MAX_ENTRY_PROBLEMS,
  at,
  checkChunk,
  type ChunkOutcome,
  type EntryAnomaly,
} from './verify-line.js';
import { countLines, forEachChunk, type ReadEnd } from './verify-read.js';
import { CompactRange, consistent, leafHashInPlace } from './verify-tree.js';

export { MAX_ENTRY_PROBLEMS, type EntryAnomaly, type EntryProblemCode } from './verify-line.js';

/** The longest line accepted; a longer one stops the check (it cannot be a log entry). */
export const MAX_ENTRY_BYTES = 16 << 20;
/** Below this size entries.jsonl is checked in this thread: starting workers would cost more. */
const WORKERS_FROM_BYTES = 8 << 20;
const MAX_WORKERS = 4;
/** The link before entry 0: 32 zero bytes, as a latin1 hash string. */
const ZERO_HASH = '\0'.repeat(32);

/** A verified checkpoint, to be compared with the rebuilt tree. */
export interface SignedSize {
  readonly size: number;
  readonly file: string;
  readonly rootHash: Uint8Array;
}

export interface EntriesReport {
  /** Complete (newline-terminated) lines read. */
  readonly count: number;
  readonly anomalies: readonly EntryAnomaly[];
  /** Anomalies past MAX_ENTRY_PROBLEMS, counted only. */
  readonly moreAnomalies: number;
  /** Checkpoints whose root matched, up to the first mismatch: entries below this are as signed. */
  readonly matchedPrefix: number;
  readonly firstMismatch?: { readonly checkpoint: SignedSize; readonly root: Uint8Array };
  /** Checkpoint files whose consistency proof from the previous checkpoint failed. */
  readonly inconsistent: readonly SignedSize[];
  readonly readError?: string;
  /** The stream stopped early (a line over MAX_ENTRY_BYTES): later checks were not run. */
  readonly stopped: boolean;
}

/** A chunk for a worker: lines [start, start + count), the line before hashing to `prevLeaf`. */
export interface ChunkJob {
  readonly id: number;
  readonly buffer: ArrayBuffer;
  readonly length: number;
  readonly start: number;
  readonly prevLeaf: string;
  /** Checkpoint sizes inside the chunk, where its leaves' ranges must be cut. */
  readonly stops: readonly number[];
}

export interface ChunkResult extends ChunkOutcome {
  readonly id: number;
}

export interface CheckEntriesOptions {
  /** Worker threads; default: one per core (up to 4) for files over 8 MiB, else none. */
  readonly threads?: number;
  /** Read size (tests use small ones to cross chunk boundaries). */
  readonly chunkBytes?: number;
}

const equalBytes = (a: Uint8Array, b: Uint8Array): boolean =>
  a.length === b.length && a.every((x, i) => x === b[i]);

/** The ordered side: chunks' ranges joined into the tree, roots against checkpoints, problems. */
class TreeCheck {
  readonly tree = new CompactRange(0);
  readonly anomalies: EntryAnomaly[] = [];
  moreAnomalies = 0;
  matchedPrefix = 0;
  firstMismatch: EntriesReport['firstMismatch'];
  readonly inconsistent: SignedSize[] = [];
  private next = 0;
  /** The last checkpoint reached, if its root matched, with the tree as it was then. */
  private lastMatched: { checkpoint: SignedSize; tree: CompactRange } | undefined;
  /** The leaves since the last checkpoint reached. */
  private since = new CompactRange(0);

  constructor(private readonly signed: readonly SignedSize[]) {
    this.reachCheckpoints();
  }

  get size(): number {
    return this.tree.end;
  }

  /** Checkpoint sizes strictly inside (start, end). */
  stopsWithin(start: number, end: number): number[] {
    const stops: number[] = [];
    for (let i = this.next; i < this.signed.length; i++) {
      const size = (this.signed[i] as SignedSize).size;
      if (size >= end) break;
      if (size > start) stops.push(size);
    }
    return stops;
  }

  chunk(outcome: ChunkOutcome): void {
    for (const segment of outcome.segments) {
      this.tree.appendRange(segment);
      this.since.appendRange(segment);
      if (this.tree.end === this.signed[this.next]?.size) this.reachCheckpoints();
    }
    for (const a of outcome.anomalies) this.record(a);
    this.moreAnomalies += outcome.moreAnomalies;
  }

  record(anomaly: EntryAnomaly): void {
    if (this.anomalies.length < MAX_ENTRY_PROBLEMS) this.anomalies.push(anomaly);
    else this.moreAnomalies += 1;
  }

  /** Compares the tree with each checkpoint of the current size (size 0 before any line). */
  private reachCheckpoints(): void {
    for (let cp = this.signed[this.next]; cp?.size === this.tree.end; cp = this.signed[this.next]) {
      this.next += 1;
      const root = this.tree.root();
      const since = this.since;
      this.since = new CompactRange(cp.size);
      if (!equalBytes(root, cp.rootHash)) {
        this.firstMismatch ??= { checkpoint: cp, root };
        this.lastMatched = undefined;
        continue;
      }
      const last = this.lastMatched;
      if (last && last.checkpoint.size > 0) {
        if (!consistent(last.tree, since, last.checkpoint.rootHash, cp.rootHash)) {
          this.inconsistent.push(cp);
        }
      }
      if (this.firstMismatch === undefined) this.matchedPrefix = cp.size;
      this.lastMatched = { checkpoint: cp, tree: this.tree.copy() };
    }
  }
}

/** Checks every chunk in this thread. */
async function checkHere(path: string, sink: TreeCheck, chunkBytes?: number) {
  let prevLeaf = ZERO_HASH;
  const onChunk = (chunk: Buffer) => {
    const start = sink.size;
    // A chunk of n bytes holds at most n / 2 lines.
    const stops = sink.stopsWithin(start, start + chunk.length);
    const outcome = checkChunk(chunk, start, prevLeaf, stops);
    prevLeaf = outcome.lastLeaf;
    sink.chunk(outcome);
  };
  return forEachChunk(path, MAX_ENTRY_BYTES, onChunk, chunkBytes);
}

/** A worker thread failed (could not start, crashed): the check is run again in this thread. */
class WorkerFailure extends Error {}

/** A worker with its pending jobs, answered in the order they were sent. */
class ChunkWorker {
  private readonly worker = new Worker(new URL('./verify-worker.js', import.meta.url));
  private readonly pending = new Map<number, (r: ChunkResult | Error) => void>();

  constructor() {
    this.worker.on('message', (r: ChunkResult) => this.settle(r.id, r));
    this.worker.on('error', (err) => this.failAll(new WorkerFailure(err.message)));
    this.worker.on('exit', () => this.failAll(new WorkerFailure('a verification worker stopped')));
  }

  run(job: ChunkJob): Promise<ChunkResult> {
    return new Promise<ChunkResult>((resolve, reject) => {
      this.pending.set(job.id, (r) => (r instanceof Error ? reject(r) : resolve(r)));
      this.worker.postMessage(job, [job.buffer]);
    });
  }

  private settle(id: number, r: ChunkResult | Error): void {
    const done = this.pending.get(id);
    this.pending.delete(id);
    done?.(r);
  }

  private failAll(err: Error): void {
    for (const id of [...this.pending.keys()]) this.settle(id, err);
  }

  stop(): Promise<number> {
    return this.worker.terminate();
  }
}

/** Checks chunks on `threads` workers, several in flight, joining the results in order. */
async function checkOnWorkers(path: string, sink: TreeCheck, threads: number, chunkBytes?: number) {
  const workers = Array.from({ length: threads }, () => new ChunkWorker());
  const inFlight: { result: Promise<ChunkResult>; count: number }[] = [];
  const joinOldest = async (): Promise<void> => {
    const oldest = inFlight.shift();
    if (!oldest) return;
    const result = await oldest.result;
    if (result.count !== oldest.count) throw new WorkerFailure('a verification worker lost lines');
    sink.chunk(result);
  };
  let start = 0;
  let prevLeaf = ZERO_HASH;
  let id = 0;
  try {
    const onChunk = async (chunk: Buffer) => {
      const { count, last } = countLines(chunk);
      const stops = sink.stopsWithin(start, start + count);
      // forEachChunk allocates every chunk on its own ArrayBuffer (never a SharedArrayBuffer).
      const buffer = chunk.buffer as ArrayBuffer;
      const job: ChunkJob = { id, buffer, length: chunk.length, start, prevLeaf, stops };
      // The next chunk's first line links to this one's last: hash it here, before handing over.
      if (last) prevLeaf = leafHashInPlace(last);
      const result = (workers[id % threads] as ChunkWorker).run(job);
      result.catch(() => undefined); // awaited in order by joinOldest; this only marks it handled
      inFlight.push({ result, count });
      id += 1;
      start += count;
      if (inFlight.length >= 2 * threads) await joinOldest();
    };
    const end = await forEachChunk(path, MAX_ENTRY_BYTES, onChunk, chunkBytes);
    while (inFlight.length > 0) await joinOldest();
    return end;
  } finally {
    // Settle whatever is still running before stopping (an early error leaves jobs behind).
    await Promise.allSettled(inFlight.map((f) => f.result));
    await Promise.all(workers.map((w) => w.stop()));
  }
}

async function defaultThreads(path: string): Promise<number> {
  const info = await stat(path);
  if (info.size < WORKERS_FROM_BYTES) return 0;
  return Math.max(1, Math.min(MAX_WORKERS, availableParallelism()));
}

/**
 * Streams and checks an entries file against verified checkpoints (sorted by size, distinct).
 * Never throws: read errors are reported in `readError`.
 * @example const r = await checkEntries('bundle/entries.jsonl', signed); r.anomalies[0]?.index
 */
export async function checkEntries(
  path: string,
  signed: readonly SignedSize[],
  options: CheckEntriesOptions = {},
): Promise<EntriesReport> {
  let sink = new TreeCheck(signed);
  let readError: string | undefined;
  let stopped = false;
  try {
    const wanted = options.threads ?? (await defaultThreads(path));
    const threads = Number.isSafeInteger(wanted) ? Math.min(Math.max(wanted, 0), 16) : 0;
    let end: ReadEnd;
    try {
      end =
        threads > 0
          ? await checkOnWorkers(path, sink, threads, options.chunkBytes)
          : await checkHere(path, sink, options.chunkBytes);
    } catch (err) {
      if (!(err instanceof WorkerFailure)) throw err;
      sink = new TreeCheck(signed);
      end = await checkHere(path, sink, options.chunkBytes);
    }
    const i = sink.size;
    const damaged = (code: 'entry_too_large' | 'unterminated', message: string) =>
      sink.record({ index: i, code, message, lineBad: true, prevBad: false });
    if (end === 'too_long') {
      stopped = true;
      damaged(
        'entry_too_large',
        `${at(i)} is longer than ${MAX_ENTRY_BYTES} bytes; the check stopped there.`,
      );
    } else if (end === 'cut_off') {
      damaged(
        'unterminated',
        `${at(i)} is cut off: the file does not end with a newline, so the log was truncated or that entry damaged.`,
      );
    }
  } catch (err) {
    readError = `entries.jsonl cannot be read: ${describeError(err)}.`;
  }
  return {
    count: sink.size,
    anomalies: sink.anomalies,
    moreAnomalies: sink.moreAnomalies,
    matchedPrefix: sink.matchedPrefix,
    ...(sink.firstMismatch ? { firstMismatch: sink.firstMismatch } : {}),
    inconsistent: sink.inconsistent,
    ...(readError === undefined ? {} : { readError }),
    stopped,
  };
}
