/**
 * Reads a file of `\n`-terminated lines in chunks of whole lines, so a log of many gigabytes never
 * has to fit in memory. Each chunk is a fresh buffer (it can be handed to a worker thread) laid out
 * as [scratch byte, line, \n, line, \n, …]: every line has one byte before it (the scratch byte or
 * the previous newline) where a leaf hash can put its 0x00 prefix.
 */
import { open } from 'node:fs/promises';

const CHUNK_BYTES = 1 << 20;
const NEWLINE = 0x0a;

/** How the file ended: on a newline, in the middle of a line, or at a line over the limit. */
export type ReadEnd = 'complete' | 'cut_off' | 'too_long';

/**
 * Calls `onChunk(chunk)` with each run of complete lines (layout above; the chunk's ArrayBuffer is
 * its own, so it may be transferred). Waits for each call. Throws on read errors.
 * @example await forEachChunk('entries.jsonl', 1 << 24, (chunk) => eachLine(chunk, onLine))
 */
export async function forEachChunk(
  path: string,
  maxLineBytes: number,
  onChunk: (chunk: Buffer) => void | Promise<void>,
  chunkBytes = CHUNK_BYTES,
): Promise<ReadEnd> {
  const handle = await open(path, 'r');
  const fresh = (size: number): Buffer => {
    const buf = Buffer.allocUnsafeSlow(size);
    buf[0] = NEWLINE;
    return buf;
  };
  try {
    let buf = fresh(chunkBytes + 1);
    let filled = 1;
    for (;;) {
      if (filled === buf.length) {
        // No newline in a full buffer: one long line, so grow it (up to the limit, checked below).
        const bigger = fresh(Math.min(buf.length * 2, maxLineBytes + 2));
        buf.copy(bigger, 0, 0, filled);
        buf = bigger;
      }
      const { bytesRead } = await handle.read(buf, filled, buf.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      const last = buf.lastIndexOf(NEWLINE, filled - 1);
      if (last > 0) {
        const rest = filled - last - 1;
        const next = fresh(Math.max(chunkBytes + 1, Math.min(2 * (rest + 1), maxLineBytes + 2)));
        buf.copy(next, 1, last + 1, filled);
        await onChunk(buf.subarray(0, last + 1));
        buf = next;
        filled = 1 + rest;
      }
      if (filled - 1 > maxLineBytes) return 'too_long';
    }
    return filled > 1 ? 'cut_off' : 'complete';
  } finally {
    await handle.close();
  }
}

/** Calls `onLine(view)` for each line of a chunk, `view` = [byte before, …line]. */
export function eachLine(chunk: Buffer, onLine: (view: Buffer) => void): void {
  let start = 1;
  for (let nl = chunk.indexOf(NEWLINE, start); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
    onLine(chunk.subarray(start - 1, nl));
    start = nl + 1;
  }
}

/** Number of lines in a chunk, and the view of its last line (for its leaf hash). */
export function countLines(chunk: Buffer): { count: number; last: Buffer | undefined } {
  let count = 0;
  let start = 1;
  let last: Buffer | undefined;
  for (let nl = chunk.indexOf(NEWLINE, start); nl >= 0; nl = chunk.indexOf(NEWLINE, start)) {
    count += 1;
    if (nl === chunk.length - 1) last = chunk.subarray(start - 1, nl);
    start = nl + 1;
  }
  return { count, last };
}
