/**
 * Worker thread for ./verify-entries.ts: checks and hashes one chunk of entries.jsonl at a time
 * (see `checkChunk`) and sends back its problems and its leaves as compact ranges.
 */
import { parentPort } from 'node:worker_threads';
import type { ChunkJob, ChunkResult } from './verify-entries.js';
import { checkChunk } from './verify-line.js';

const port = parentPort;
if (port) {
  port.on('message', (job: ChunkJob) => {
    const chunk = Buffer.from(job.buffer, 0, job.length);
    const result: ChunkResult = {
      id: job.id,
      ...checkChunk(chunk, job.start, job.prevLeaf, job.stops),
    };
    port.postMessage(result);
  });
}
